"""Generating cases: each probe of the grid is one request through the engine's scheduler.

Probes go through `Engine.run_cells`, so they share the global, per-provider and per-target limits
(and the 429 handling) with runs and follow-ups; nothing here schedules on its own. Replies are read
as they arrive: a proposal is checked against the file's cases and the proposals kept so far
(`app/core/casegen/dedupe.py`) and reported at once, so whatever arrived before a cancel or a
fault is kept in the `GenerationResult`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.casegen.checks import read_checks
from app.core.casegen.dedupe import DuplicateFilter
from app.core.casegen.grid import GridError, Probe, plan_probes
from app.core.casegen.prompt import PromptTemplate, generation_messages
from app.core.casegen.proposals import GenerationResult, Proposal
from app.core.casegen.reply import PROPOSAL_FORMAT, ReplyProblem, read_reply
from app.core.prototype import ModelParams, ModelTarget, Prototype
from app.engine.engine import Engine
from app.engine.events import Cell, CellCancelled, CellFailed, CellFinished, EngineEvent
from app.engine.plan import PlannedCell
from app.providers.model_files import LOCAL_MODEL_ID
from app.providers.registry import LOCAL_ID

DEFAULT_MODEL = "local"
"""The bundled model: a file's target named `local`, else the bundled SmolLM2 itself."""
GENERATE_MAX_TOKENS = 640
"""A proposal is one short JSON object; enough for the longest message, description and three
checks the schema allows (~500 tokens), so a reply is never cut before its closing brace."""
GENERATE_TEMPERATURE = 0.9
"""Varied on purpose (unless the target sets one): the grid asks for different cases, the seed fixes them."""
STRUCTURED_PROVIDERS = frozenset({LOCAL_ID, "openai"})
"""Providers sent `response_format` json_schema; others get the JSON shape in the prompt and a
forgiving reader (not every OpenAI-compatible endpoint accepts `json_schema`)."""


class GenerationError(ValueError):
    """Generation cannot start as asked (no rules, unknown rule id or model, bad count)."""


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate. Empty `rules`: every rule. `count` None: two per rule. `seed` None: a random one."""

    rules: Sequence[str] = ()
    count: int | None = None
    model: str | None = None
    seed: int | None = None
    kinds: Sequence[str] = ()
    template: PromptTemplate = field(default_factory=PromptTemplate)
    use_cache: bool = True


@dataclass(frozen=True)
class ProposalReceived:
    """A new proposal, kept for review."""

    proposal: Proposal


@dataclass(frozen=True)
class ProposalDropped:
    """A proposal that repeats a case or an earlier proposal (`proposal.duplicate_of`)."""

    proposal: Proposal


@dataclass(frozen=True)
class ProbeFailed:
    """A probe gave no proposal: the call failed, or the reply did not parse."""

    index: int
    rule_id: str
    reason: str


@dataclass(frozen=True)
class GenerationProgress:
    done: int
    total: int


GenerationEvent = ProposalReceived | ProposalDropped | ProbeFailed | GenerationProgress
GenerationSink = Callable[[GenerationEvent], None]
"""Called on the engine loop's thread, as replies arrive; must not block."""


def resolve_target(proto: Prototype, spec: str | None) -> ModelTarget:
    """A model target id of the file, or `provider:model`; None or `local` is the bundled model."""
    spec = spec or DEFAULT_MODEL
    for target in proto.models:
        if target.id == spec:
            return target
    if spec == DEFAULT_MODEL:
        return ModelTarget(id=DEFAULT_MODEL, provider=LOCAL_ID, model=LOCAL_MODEL_ID)
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        known = ", ".join(m.id for m in proto.models) or "none"
        raise GenerationError(f"model {spec!r} is neither a model target of this file (known: {known}) "
                              "nor `provider:model`")
    return ModelTarget(id=f"{provider}-generator".replace(":", "-"), provider=provider, model=model)


def model_label(target: ModelTarget, proto: Prototype) -> str:
    """What `origin.model` records: the file's target id, else `provider:model`."""
    if any(t.id == target.id and t == target for t in proto.models):
        return target.id
    return f"{target.provider}:{target.model}"


def probe_target(target: ModelTarget, seed: int) -> ModelTarget:
    """The target as a generator for one probe: its seed, varied sampling, room for one proposal,
    and the proposal schema where the endpoint enforces it (the bundled model always does)."""
    update: dict[str, Any] = {"seed": seed}
    if target.params.temperature is None:
        update["temperature"] = GENERATE_TEMPERATURE
    if target.params.max_tokens is None or target.params.max_tokens < GENERATE_MAX_TOKENS:
        update["max_tokens"] = GENERATE_MAX_TOKENS
    bundled = target.provider == LOCAL_ID and not target.base_url
    structured = bundled or (target.provider in STRUCTURED_PROVIDERS and target.provider != LOCAL_ID)
    if structured and target.params.response_format is None:
        update["response_format"] = PROPOSAL_FORMAT
    params = ModelParams.model_validate({**target.params.model_dump(), **update})
    return target.model_copy(update={"params": params})


class CaseGenerator:
    """Sends a generation's probes through one engine; `cancel()` stops what has not answered yet."""

    def __init__(self, engine: Engine | Callable[[], Engine]) -> None:
        """`engine` may be a getter, called on first use, on the engine's thread: the GUI passes one,
        because building the engine builds the hub, which imports the SDK (seconds, on a cold start)."""
        self._engine = engine
        self._cells: list[str] = []

    @property
    def engine(self) -> Engine:
        if not isinstance(self._engine, Engine):
            self._engine = self._engine()
        return self._engine

    def plan(self, proto: Prototype, request: GenerationRequest) -> tuple[list[Probe], ModelTarget, int]:
        """The probes, the target and the base seed; GenerationError when the request cannot run."""
        try:
            target = resolve_target(proto, request.model)
        except ValueError as exc:
            raise GenerationError(str(exc)) from None
        seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
        try:
            probes = plan_probes(proto, list(request.rules) or None, request.count,
                                 kinds=list(request.kinds) or None, seed=seed)
        except GridError as exc:
            raise GenerationError(str(exc)) from None
        return probes, target, seed

    async def generate(
        self,
        proto: Prototype,
        request: GenerationRequest,
        on_event: GenerationSink | None = None,
        result: GenerationResult | None = None,
    ) -> GenerationResult:
        """Ask for every probe's proposal; returns (and fills `result` as replies arrive) what came back.

        Cancelling (`cancel()`) ends the generation normally with `result.cancelled` set; proposals
        received until then stay in the result."""
        probes, target, seed = self.plan(proto, request)
        result = result if result is not None else GenerationResult()
        result.requested = len(probes)
        result.seed = seed
        sink = on_event or (lambda _event: None)
        reader = _Reader(model_label(target, proto), request.template.version,
                         DuplicateFilter.for_cases(proto.cases), result, sink)
        token = secrets.token_hex(3)
        by_case: dict[str, Probe] = {}
        planned: list[PlannedCell] = []
        for probe in probes:
            case_key = f"generate-{token}-{probe.index}"
            by_case[case_key] = probe
            cell = Cell(case_key, probe.rule.profiles[0].id, target.id)
            messages = tuple(generation_messages(proto, probe, request.template))
            planned.append(PlannedCell(cell, probe_target(target, probe.seed), messages, (case_key, 0),
                                       use_cache=request.use_cache))
        self._cells = list(by_case)
        done = 0

        def on_engine_event(event: EngineEvent) -> None:
            nonlocal done
            if not isinstance(event, CellFinished | CellFailed | CellCancelled):
                return
            probe = by_case[event.cell.case]
            done += 1
            if isinstance(event, CellCancelled):
                result.cancelled = True
            elif isinstance(event, CellFailed):
                reader.failed(probe, f"the model call failed: {event.run.error or 'no answer'}")
            else:
                reader.read(probe, event.run.output)
            sink(GenerationProgress(done, len(probes)))

        await self.engine.run_cells(planned, on_engine_event)
        return result

    def cancel(self) -> None:
        """Stop the probes still queued or running (call on the engine loop's thread)."""
        for case_key in self._cells:
            self.engine.cancel_case(case_key)


@dataclass
class _Reader:
    """Turns each reply into a kept proposal, a dropped duplicate or a counted failure."""

    label: str
    version: str
    duplicates: DuplicateFilter
    result: GenerationResult
    sink: GenerationSink

    def failed(self, probe: Probe, reason: str) -> None:
        line = f"{probe.rule.id} ({probe.kind}): {reason}"
        self.result.failures.append(line)
        self.sink(ProbeFailed(probe.index, probe.rule.id, line))

    def read(self, probe: Probe, text: str) -> None:
        read = read_reply(text)
        if isinstance(read, ReplyProblem):
            self.failed(probe, f"{read.reason}: {read.excerpt!r}")
            return
        checks = read_checks(read.checks, probe.rule.rule.rule)
        proposal = Proposal.from_probe(probe, read.user_message, read.description, self.label, self.version,
                                       checks=checks)
        match = self.duplicates.match(proposal.user_message)
        if match is not None:
            proposal = replace(proposal, duplicate_of=match[0], similarity=match[1])
            self.result.duplicates.append(proposal)
            self.sink(ProposalDropped(proposal))
            return
        self.duplicates.add(proposal.label, proposal.user_message)
        self.result.proposals.append(proposal)
        self.sink(ProposalReceived(proposal))
