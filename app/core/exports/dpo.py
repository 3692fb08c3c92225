"""Pairwise votes as DPO preference pairs, one JSON object per line.

Each line is the conversational preference format TRL's DPOTrainer reads:
`{"prompt": [messages], "chosen": [assistant message], "rejected": [assistant message]}`,
plus a `metadata` object (vote id, case, variants, whether the vote was blind, the note).
The prompt is the messages the runs were sent. When the two runs come from profiles with
different system messages, the prompt is the shared conversation without them, and
`metadata.system_differs` says so. Ties, "both bad" votes and votes on failed or empty runs
are skipped and counted in the summary.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from app.core.exports import BuildMessages, ExportResult
from app.core.exports.recorded import recorded_conversation
from app.core.messages import as_openai
from app.core.prototype import Message, Preference, Prototype, Run

DPO_FILE = "preferences.dpo.jsonl"


def export_dpo(proto: Prototype, build_messages: BuildMessages) -> ExportResult:
    result = ExportResult()
    lines: list[str] = []
    skipped: Counter[str] = Counter()
    for pref in proto.preferences:
        if pref.verdict in ("tie", "both_bad"):
            skipped["ties" if pref.verdict == "tie" else "both bad"] += 1
            continue
        a, b = proto.run(pref.a), proto.run(pref.b)
        chosen, rejected = (a, b) if pref.verdict == "a" else (b, a)
        if any(r.status != "ok" or not r.output.strip() for r in (chosen, rejected)):
            skipped["failed or empty runs"] += 1
            continue
        simulated = _simulated_pair(proto, chosen, rejected)
        if simulated is not None:
            shared, chosen_rest, rejected_rest, differs = simulated
            lines.append(_line(pref, chosen, rejected, prompt=shared, chosen_rest=chosen_rest,
                               rejected_rest=rejected_rest, system_differs=differs))
            continue
        prompt, system_differs = _shared_prompt(proto, chosen, rejected, build_messages)
        if prompt is None:
            skipped["different conversations"] += 1
            result.notes.append(f"vote {pref.id}: runs {chosen.id} and {rejected.id} were sent different "
                                "conversations, skipped")
            continue
        record: dict[str, Any] = {
            "prompt": [as_openai(m) for m in prompt],
            "chosen": [{"role": "assistant", "content": chosen.output}],
            "rejected": [{"role": "assistant", "content": rejected.output}],
            "metadata": _metadata(pref, chosen, rejected, system_differs),
        }
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    result.files[DPO_FILE] = "".join(lines)
    detail = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())) or "none"
    result.summary = f"dpo: {len(lines)} pairs from {len(proto.preferences)} votes; skipped: {detail}"
    return result


def _messages(proto: Prototype, run: Run, build_messages: BuildMessages) -> list[Message]:
    """What the run was sent; rebuilt from its profile and case when an old run did not record it."""
    if run.messages:
        return list(run.messages)
    try:
        return build_messages(proto.profile(run.profile), proto.case(run.case))
    except KeyError:
        return []


def _shared_prompt(
    proto: Prototype, first: Run, second: Run, build_messages: BuildMessages
) -> tuple[list[Message] | None, bool]:
    one, two = _messages(proto, first, build_messages), _messages(proto, second, build_messages)
    if one and one == two:
        return one, False
    turns_one = [m for m in one if m.role != "system"]
    turns_two = [m for m in two if m.role != "system"]
    if turns_one and turns_one == turns_two:
        return turns_one, True
    return None, False


def _simulated_pair(
    proto: Prototype, chosen: Run, rejected: Run
) -> tuple[list[Message], list[Message], list[Message], bool] | None:
    """For two runs of a simulated case: the messages both conversations share, then the rest of each
    (simulated user turns included), and whether the system messages differ. None for other runs, or
    when a conversation was not recorded or both are the same."""
    one, two = recorded_conversation(proto, chosen), recorded_conversation(proto, rejected)
    if one is None or two is None:
        return None
    system_differs = [m for m in one if m.role == "system"] != [m for m in two if m.role == "system"]
    if system_differs:
        one, two = [m for m in one if m.role != "system"], [m for m in two if m.role != "system"]
    shared = 0
    while shared < min(len(one), len(two)) - 1 and one[shared] == two[shared]:
        shared += 1
    if shared == 0 or one[shared:] == two[shared:]:
        return None
    return one[:shared], one[shared:], two[shared:], system_differs


def _line(pref: Preference, chosen: Run, rejected: Run, *, prompt: list[Message], chosen_rest: list[Message],
          rejected_rest: list[Message], system_differs: bool) -> str:
    """One DPO line for a simulated conversation: the shared start as the prompt, each whole remainder
    (assistant replies and the simulated user's messages) as chosen and rejected."""
    record: dict[str, Any] = {
        "prompt": [as_openai(m) for m in prompt],
        "chosen": [as_openai(m) for m in chosen_rest],
        "rejected": [as_openai(m) for m in rejected_rest],
        "metadata": _metadata(pref, chosen, rejected, system_differs, simulated=True),
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


def _metadata(pref: Preference, chosen: Run, rejected: Run, system_differs: bool, *,
              simulated: bool = False) -> dict[str, Any]:
    """Where a pair came from, so a trainer can trace it back to the vote and the two runs."""
    data: dict[str, Any] = {
        "preference": pref.id,
        "case": chosen.case,
        "blind": pref.blind,
        "chosen_variant": f"{chosen.profile}/{chosen.model}",
        "rejected_variant": f"{rejected.profile}/{rejected.model}",
        "chosen_run": chosen.id,
        "rejected_run": rejected.id,
        "system_differs": system_differs,
    }
    if simulated:
        data["simulated"] = True
    data["note"] = pref.note  # last, as before: key order is part of each line's bytes
    return data
