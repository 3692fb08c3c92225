"""Which answer is current for each cell, its thread, its rating, and whether it is out of date.

A *cell* is profile x model x case x sample. Every run of a cell is kept in the file; this module
is the one definition of what a person sees for it (the grid, Results, `protostudio status`, evals
and follow-ups all ask here):

- an *answer* is a top-level run (no `parent`) that answered: status `ok` or `cut`;
- the *current* answer is the newest answer that is not out of date, else the newest answer;
  a cell with attempts but no answer shows its newest attempt (so its error is visible);
- its rating is per rater (`rating_by`); status and evals use the team's majority (`team_thumb`);
- its *thread* follows the newest continuation at each step (`parent` links);
- a run is *stale* when its fingerprint (exact messages, params, provider and model name)
  differs from what the cell would send now; a continuation is stale when its root is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.messages import build_messages, extras_fields, message_extras, sent_prefix
from app.core.prototype import ConversationEnd, Message, ModelParams, Prototype, Rating, Run, Thumb
from app.core.ratings import Split, rating_of, split_of, team_thumb
from app.core.simulation import opens_conversation
from app.core.tools import request_params

CellKey = tuple[str, str, str, int]
"""(case id, profile id, model id, sample)."""

ANSWERED = ("ok", "cut")


def cell_key(run: Run) -> CellKey:
    return (run.case, run.profile, run.model, run.sample)


# -- fingerprints -----------------------------------------------------------------------------------


def fingerprint(messages: Sequence[Message], params: ModelParams, provider: str, model_name: str) -> str:
    """A short hash of exactly what produced an answer: messages as sent, params, provider, model."""
    payload = {
        "messages": [_fingerprint_item(m) for m in messages],
        "params": params.model_dump(mode="json", exclude_none=True),
        "provider": provider,
        "model": model_name,
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _fingerprint_item(message: Message) -> list[Any]:
    """[role, content], plus the message's images and tool fields when it has any (so plain
    messages keep the fingerprints they always had)."""
    extras = message_extras(message)
    return [message.role, message.content, extras] if extras else [message.role, message.content]


def run_fingerprint(run: Run) -> str:
    """The fingerprint recorded by a run (its stored messages and params)."""
    return fingerprint(run.messages, run.params, run.provider, run.model_name)


@dataclass(frozen=True)
class _Sent:
    """What a top-level run of a cell sends now: the parts of its fingerprint, unhashed."""

    pairs: tuple[tuple[str, str], ...]
    params: ModelParams
    provider: str
    model: str
    extras: tuple[tuple[int, dict[str, Any]], ...] = ()
    """(index, images/tool fields) of the messages that carry more than text."""
    opens: bool = False
    """The simulated user writes the first message (no fixed turn): a run sent these messages plus
    that one, which is not part of what the cell sends before it runs."""

    def produced(self, run: Run) -> bool:
        """Whether `run` was produced by exactly this (the fingerprints would be equal).

        Compared field by field instead of hashing: the grid asks after every change, and
        hashing every stored run's messages each time was ~0.1 ms a run."""
        if run.provider != self.provider or run.model_name != self.model:
            return False
        sent = sent_prefix(run.messages)  # a tool round appends its exchange to what the cell sent
        if self.opens:  # the simulated first message is not the file's: compare what comes before it
            if run.user_turn is None or not sent or sent[-1].role != "user":
                return False
            sent = sent[:-1]
        if len(sent) != len(self.pairs):
            return False
        for message, (role, content) in zip(sent, self.pairs, strict=True):
            if message.role != role or message.content != content:
                return False
        if any(message.images for message in sent) or self.extras:
            have = tuple((i, e) for i, m in enumerate(sent) if (e := message_extras(m)))
            if have != self.extras:
                return False
        return run.params == self.params


class _Expected:
    """What each top-level cell would send now, computed once per (case, profile, model)."""

    def __init__(self, proto: Prototype) -> None:
        self.proto = proto
        self._cache: dict[tuple[str, str, str], _Sent | None] = {}

    def __call__(self, case_id: str, profile_id: str, model_id: str) -> _Sent | None:
        key = (case_id, profile_id, model_id)
        if key not in self._cache:
            self._cache[key] = self._compute(*key)
        return self._cache[key]

    def _compute(self, case_id: str, profile_id: str, model_id: str) -> _Sent | None:
        try:
            case = self.proto.case(case_id)
            profile = self.proto.profile(profile_id)
            target = self.proto.model(model_id)
        except KeyError:
            return None  # the cell no longer exists: nothing it says is current
        messages = build_messages(self.proto, profile, case)
        pairs = tuple((m.role, m.content) for m in messages)
        extras = tuple((i, e) for i, m in enumerate(messages) if (e := message_extras(m)))
        params = request_params(self.proto, profile, target.params)
        return _Sent(pairs, params, target.provider, target.model, extras, opens_conversation(case, profile))


def expected_fingerprint(proto: Prototype, case_id: str, profile_id: str, model_id: str) -> str | None:
    """The fingerprint a fresh top-level run of this cell would record now (None: the cell is gone).
    For a cell whose simulated user writes the first message, that of what is sent before it."""
    sent = _Expected(proto)(case_id, profile_id, model_id)
    if sent is None:
        return None
    messages = [Message(role=role, content=content) for role, content in sent.pairs]
    for index, extras in sent.extras:
        messages[index] = messages[index].model_copy(update=extras_fields(extras))
    return fingerprint(messages, sent.params, sent.provider, sent.model)


# -- cells ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellState:
    """Everything a view needs about one cell."""

    key: CellKey
    answers: tuple[Run, ...] = ()
    """The cell's answered top-level runs, oldest first ("2 of 3" counts these)."""
    current: Run | None = None
    """The root of the thread shown: the current answer (or the newest failed attempt)."""
    thread: tuple[Run, ...] = ()
    """The current root, then each newest continuation, oldest first."""
    stale: bool = False
    """The current answer was produced by messages or params the cell no longer sends."""
    stale_ids: frozenset[str] = field(default_factory=frozenset)
    """Ids of every top-level run of this cell that is out of date."""

    @property
    def tip(self) -> Run | None:
        """The newest reply of the thread (what the rating bar rates)."""
        return self.thread[-1] if self.thread else None

    @property
    def conversation_end(self) -> ConversationEnd | None:
        """How the thread's simulated conversation ended (stored on its last simulated run), if any."""
        return next((r.conversation_end for r in reversed(self.thread) if r.conversation_end), None)

    def rating_by(self, rater: str) -> Rating:
        """What `rater` said about the tip (the rating bar edits the current user's)."""
        tip = self.tip
        return rating_of(tip, rater) if tip is not None else Rating(rater=rater)

    @property
    def team_thumb(self) -> Thumb | None:
        """The majority thumb of everyone who rated the tip; None when nobody did or it is a tie."""
        tip = self.tip
        return team_thumb(tip) if tip is not None else None

    @property
    def split(self) -> Split:
        """How the team split on the tip (`3 rated: 2 up, 1 down`)."""
        tip = self.tip
        return split_of(tip) if tip is not None else Split(0, 0, 0)

    @property
    def position(self) -> int:
        """1-based index of the current answer among `answers`, 0 when it is not an answer."""
        for index, run in enumerate(self.answers):
            if self.current is not None and run.id == self.current.id:
                return index + 1
        return 0


def cell_states(
    proto: Prototype, chosen: dict[CellKey, str] | None = None, *, only: set[CellKey] | None = None
) -> dict[CellKey, CellState]:
    """Every cell that has runs (or just those in `only`), with its current answer and thread.

    `chosen` maps a cell to the id of an answer the person picked to look at ("1 of 3");
    ids that are not answers of that cell are ignored.
    """
    roots: dict[CellKey, list[Run]] = {}
    children: dict[str, Run] = {}
    for run in proto.runs:
        if run.parent is None:
            key = cell_key(run)
            if only is None or key in only:
                roots.setdefault(key, []).append(run)
        else:
            children[run.parent] = run  # file order: the newest continuation wins
    expected = _Expected(proto)
    states: dict[CellKey, CellState] = {}
    for key, runs in roots.items():
        states[key] = _state(key, runs, children, expected, (chosen or {}).get(key))
    return states


def cell_state(proto: Prototype, key: CellKey) -> CellState:
    """One cell (an empty state when it has no runs)."""
    return cell_states(proto, only={key}).get(key, CellState(key))


def _state(
    key: CellKey, runs: list[Run], children: dict[str, Run], expected: _Expected, chosen: str | None
) -> CellState:
    now = expected(key[0], key[1], key[2])
    stale_ids = frozenset(r.id for r in runs if now is None or not now.produced(r))
    answers = tuple(r for r in runs if r.status in ANSWERED)
    current: Run | None = next((r for r in answers if r.id == chosen), None)
    if current is None:
        fresh = [r for r in answers if r.id not in stale_ids]
        current = fresh[-1] if fresh else answers[-1] if answers else runs[-1]
    return CellState(key, answers, current, _follow(current, children), current.id in stale_ids, stale_ids)


def thread_from(proto: Prototype, root: Run) -> list[Run]:
    """`root` and the newest continuation at each step after it, oldest first."""
    children: dict[str, Run] = {}
    for run in proto.runs:
        if run.parent is not None:
            children[run.parent] = run
    return list(_follow(root, children))


def _follow(root: Run, children: dict[str, Run]) -> tuple[Run, ...]:
    thread = [root]
    seen = {root.id}
    while thread[-1].id in children and children[thread[-1].id].id not in seen:
        thread.append(children[thread[-1].id])
        seen.add(thread[-1].id)
    return tuple(thread)


def conversation(root: Run, runs: Iterable[Run]) -> tuple[Run, ...]:
    """`root` and its simulated or scripted continuations (the newest at each step), oldest first:
    the case's own conversation, which evals grade. A person's typed follow-up ends it."""
    children: dict[str, Run] = {}
    for run in runs:
        if run.parent is not None and run.user_turn is not None:
            children[run.parent] = run
    return _follow(root, children)


def answer_for_continuation(proto: Prototype, case_id: str, profile_id: str, model_id: str) -> Run | None:
    """The reply a follow-up continues: the newest answered reply of the current thread of sample 0."""
    state = cell_state(proto, (case_id, profile_id, model_id, 0))
    for run in reversed(state.thread):
        if run.status in ANSWERED:
            return run
    return None


def reusable_answer(proto: Prototype, case_id: str, profile_id: str, model_id: str) -> Run | None:
    """A current, up-to-date `ok` answer of sample 0 that evals may grade instead of asking again."""
    return reusable(cell_state(proto, (case_id, profile_id, model_id, 0)))


def reusable(state: CellState | None) -> Run | None:
    """The state's current answer when it is `ok` and up to date (see `reusable_answer`)."""
    if state is None:
        return None
    current = state.current
    if current is None or state.stale or current.status != "ok":
        return None
    return current


def threads_by_variant(states: Iterable[CellState]) -> dict[tuple[str, str, str], CellState]:
    """Sample-0 states keyed by (case, profile, model), the grid's three-part key."""
    return {state.key[:3]: state for state in states if state.key[3] == 0}


__all__ = [
    "ANSWERED",
    "CellKey",
    "CellState",
    "answer_for_continuation",
    "cell_key",
    "cell_state",
    "cell_states",
    "conversation",
    "expected_fingerprint",
    "fingerprint",
    "reusable",
    "reusable_answer",
    "run_fingerprint",
    "thread_from",
    "threads_by_variant",
]
