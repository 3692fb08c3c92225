"""The recorded conversations of simulated cases, for exports that carry messages (openai/evals, DPO).

A simulated case's messages are not known before it runs: the simulated user writes them in
answer to each reply. So these exports use what was recorded: the thread a run starts (its
simulated or scripted continuations, `core/threads.conversation`), as its last reply was sent,
then that reply.
"""

from __future__ import annotations

from app.core.prototype import Message, Prototype, Run
from app.core.threads import ANSWERED, cell_states, conversation


def recorded_conversation(proto: Prototype, root: Run) -> list[Message] | None:
    """Every message of the simulated conversation `root` starts (system first, the last reply last),
    or None when `root`'s case has no simulated user or the thread kept no messages."""
    try:
        case = proto.case(root.case)
    except KeyError:
        return None
    if case.simulated_user is None:
        return None
    last = conversation(root, proto.runs)[-1]
    if not last.messages:
        return None
    return [*last.messages, Message(role="assistant", content=last.output, tool_calls=last.tool_calls)]


def recorded_threads(proto: Prototype, case_id: str, profile_id: str) -> list[tuple[str, list[Message]]]:
    """(model id, conversation) of each model's current thread of this simulated case and profile
    (sample 0), in model order; empty when none ran yet."""
    keys = {(case_id, profile_id, model.id, 0) for model in proto.models}
    states = cell_states(proto, only=keys)
    out: list[tuple[str, list[Message]]] = []
    for model in proto.models:
        state = states.get((case_id, profile_id, model.id, 0))
        if state is None or state.current is None or state.current.status not in ANSWERED:
            continue
        messages = recorded_conversation(proto, state.current)
        if messages is not None:
            out.append((model.id, messages))
    return out
