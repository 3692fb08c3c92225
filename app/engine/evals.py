"""Run a prototype's evals: get an output for every (case, variant), grade it, compare with the past.

Outputs come from, in order: an existing run in the file whose messages and params match what
would be sent now; else the engine (which answers from the hub's response cache when it can).
`use_cache=False` re-runs everything. Grading uses the pure graders in `app.core.evals` with
model-backed helpers built here on the hub: embeddings for `similar` (a configurable target,
default the bundled model) and a judge for `llm-rubric` (the assertion's `judge` target, else
the run's default judge, else the bundled model).

The runner never mutates the prototype: `EvalOutcome` carries the new runs and the `EvalRun`,
and `app.core.results.record_eval` stores them (on the caller's thread, e.g. the GUI's), as the CLI does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.core.evals.assertions import Graders, GradingError, Reply, RunMetrics, grade_case, split_type
from app.core.evals.rubric import VERDICT_FORMAT
from app.core.evals.summary import (
    EvalSummary,
    Regression,
    find_regressions,
    pass_rate,
    previous_run,
    shared_cells,
    summarize,
)
from app.core.prototype import (
    Assertion,
    ConversationEnd,
    EvalResult,
    EvalRun,
    Message,
    ModelParams,
    ModelTarget,
    Prototype,
    Run,
    new_id,
    utc_now,
)
from app.core.simulation import conversation_over, opens_conversation
from app.core.threads import cell_states, conversation, reusable
from app.engine.engine import Engine
from app.engine.events import CellCancelled, CellFailed, CellFinished, ConversationEnded, EngineEvent
from app.engine.plan import PlanError, RunPlan, select
from app.providers.events import Finished, ProviderError
from app.providers.model_files import LOCAL_MODEL_ID
from app.providers.registry import LOCAL_ID

DEFAULT_LOCAL = f"{LOCAL_ID}:{LOCAL_MODEL_ID}"
"""The default judge and embedding model: the bundled one (weak; see docs/architecture.md, Evals)."""


class EvalError(ValueError):
    """The eval cannot start as asked (unknown ids, nothing to grade, bad model spec)."""


class EvalHub(Protocol):
    """What the runner needs from `ProviderHub`."""

    def stream(
        self,
        target: ModelTarget,
        messages: list[Message],
        *,
        use_cache: bool = True,
        max_retries: int | None = None,
        sample: int = 0,
    ) -> Any: ...

    async def complete(
        self, target: ModelTarget, messages: list[Message], *, use_cache: bool = True
    ) -> Finished: ...

    async def embed(
        self, provider_id: str, model: str, texts: list[str], base_url: str | None = None
    ) -> list[list[float]]: ...


@dataclass(frozen=True)
class EvalOptions:
    """What to evaluate. Empty selections mean all profiles / all models."""

    profiles: Sequence[str] = ()
    models: Sequence[str] = ()
    baseline: bool = False
    use_cache: bool = True
    judge: str | None = None
    """Default judge: a model target id of the file or `provider:model`. None: the bundled model."""
    embedder: str | None = None
    """Embedding model: a model target id of the file or `provider:model`. None: the bundled model."""
    compare_to: str | None = None
    """`last` or an eval run id; regressions against it are reported."""


@dataclass(frozen=True)
class EvalProgress:
    stage: Literal["run", "grade"]
    done: int
    total: int
    passed: int = 0
    """While grading: how many of the `done` cells passed so far (a running pass rate)."""


ProgressSink = Callable[[EvalProgress], None]


@dataclass
class EvalOutcome:
    eval_run: EvalRun
    new_runs: list[Run]
    summary: EvalSummary
    regressions: list[Regression] = field(default_factory=list)
    compared_to: str | None = None
    skipped_cases: list[str] = field(default_factory=list)
    """Cases with no assertions (their own or default): not graded."""
    compared_cells: int = 0
    """(case, variant) cells graded both now and in the compared run; 0 with `compared_to` set
    means nothing could be compared (the runs cover different variants or cases)."""


@dataclass(frozen=True)
class _Cell:
    case: str
    profile: str
    model: str
    baseline: bool = False


# -- the runner -------------------------------------------------------------------------------------


class EvalRunner:
    """Runs evals through one hub and one engine. `cancel()` stops outstanding model calls."""

    def __init__(self, hub: EvalHub, engine: Engine | None = None, *, judge_concurrency: int = 4) -> None:
        self.hub = hub
        self.engine = engine or Engine(hub)
        self._judge_slots = judge_concurrency

    def cancel(self) -> None:
        """Cancel everything still running (call on the runner's loop thread)."""
        self.engine.cancel_all()

    async def run(
        self, proto: Prototype, options: EvalOptions = EvalOptions(), on_progress: ProgressSink | None = None,
        *, on_run: Callable[[Run], None] | None = None,
        on_end: Callable[[str, ConversationEnd], None] | None = None,
    ) -> EvalOutcome:
        """Evaluate. Raises EvalError before sending anything when the request is invalid.

        `on_run` sees every answer that will be stored (not the baseline's) the moment its cell
        ends, so a caller can journal it: grading and the save come only after the last cell.
        `on_end` sees how each simulated conversation ended (its last run's id), for the same reason."""
        report = on_progress or (lambda _p: None)
        try:
            profiles = select(proto.profiles, options.profiles, "profile")
            models = select(proto.models, options.models, "model")
        except PlanError as exc:
            raise EvalError(str(exc)) from None
        graded_cases = [c for c in proto.cases if proto.default_assert or c.assert_]
        cells = [(c.id, p.id, m.id) for c in graded_cases for p in profiles for m in models]
        previous = _previous(proto, options.compare_to, cells)
        skipped = [c.id for c in proto.cases if c not in graded_cases]
        if not graded_cases:
            raise EvalError(
                "no case has assertions: add `assert:` to a case or `default_assert:` to the file "
                "(`protostudio seed FILE` proposes some from ratings)"
            )
        judge_default = _target_spec(proto, options.judge, "judge")
        embed_target = _target_spec(proto, options.embedder, "embedding model")

        graders = Graders(
            embed=_Embedder(self.hub, embed_target),
            judge=_Judge(
                self.hub, proto, judge_default, asyncio.Semaphore(self._judge_slots), options.use_cache
            ),
        )
        early = _EarlyGrading(self, proto, graders)
        try:
            outputs, new_runs = await self._outputs(
                proto, profiles, models, graded_cases, options, report=report, on_output=early.start,
                on_run=on_run, on_end=on_end)
            results = await self._grade(
                proto, outputs, graders, report, [*proto.runs, *new_runs], early=early)
        finally:
            early.cancel()
        main = [r for r in results if not r.baseline]
        baseline = [r for r in results if r.baseline]
        eval_run = EvalRun(
            id=new_id("eval"),
            created=utc_now(),
            pass_rate=round(pass_rate(main), 4),
            baseline_pass_rate=round(pass_rate(baseline), 4) if baseline else None,
            results=results,
        )
        regressions = find_regressions(previous, eval_run) if previous is not None else []
        return EvalOutcome(
            eval_run,
            new_runs,
            summarize(proto, eval_run),
            regressions,
            previous.id if previous else None,
            skipped,
            shared_cells(previous, eval_run) if previous is not None else 0,
        )

    # -- outputs ------------------------------------------------------------------------------------

    async def _outputs(
        self,
        proto: Prototype,
        profiles: list[Any],
        models: list[ModelTarget],
        cases: list[Any],
        options: EvalOptions,
        *,
        report: ProgressSink,
        on_output: Callable[[_Cell, Run], None] | None = None,
        on_run: Callable[[Run], None] | None = None,
        on_end: Callable[[str, ConversationEnd], None] | None = None,
    ) -> tuple[dict[_Cell, Run], list[Run]]:
        outputs: dict[_Cell, Run] = {}
        missing: dict[tuple[str, str], list[str]] = {}
        states = cell_states(proto) if options.use_cache else {}
        for case in cases:
            for profile in profiles:
                for target in models:
                    existing = reusable(states.get((case.id, profile.id, target.id, 0)))
                    if existing is not None and case.simulated_user is not None and not conversation_over(
                            conversation(existing, proto.runs)):
                        existing = None  # a first answer with no simulated turns yet: run the conversation
                    if existing is not None:
                        outputs[_Cell(case.id, profile.id, target.id)] = existing
                    else:
                        missing.setdefault((profile.id, target.id), []).append(case.id)
        plans = [
            RunPlan(profiles=[p], models=[m], cases=c, use_cache=options.use_cache)
            for (p, m), c in missing.items()
        ]
        # a case whose simulated user writes the first message has no baseline: nothing to send without it
        fixed = [c.id for c in cases if not opens_conversation(c, profiles[0])]
        if options.baseline and fixed:
            plans.extend(
                RunPlan(
                    profiles=[profiles[0].id],
                    models=[m.id],
                    cases=fixed,
                    use_cache=options.use_cache,
                    baseline=True,
                )
                for m in models
            )
        total = sum(len(p.cases) for p in plans)
        done = 0
        report(EvalProgress("run", 0, total))

        def on_event(event: EngineEvent) -> None:
            nonlocal done
            if on_end is not None and isinstance(event, ConversationEnded) and event.end is not None \
                    and event.last_run is not None:
                on_end(event.last_run, event.end)
            if on_run is not None and isinstance(event, CellFinished | CellFailed | CellCancelled) \
                    and not event.cell.baseline:
                on_run(event.run)
            if isinstance(event, CellFinished | CellFailed | CellCancelled) and event.run.parent is None:
                done += 1  # a simulated conversation counts once, when its first reply is in
                report(EvalProgress("run", done, total))
                if on_output is not None and not event.cell.baseline:
                    run = event.run
                    on_output(_Cell(run.case, run.profile, run.model), run)

        batches = await asyncio.gather(*(self.engine.run(proto, plan, on_event) for plan in plans))
        new_runs: list[Run] = []
        for plan, runs in zip(plans, batches, strict=True):
            for run in runs:
                if plan.baseline:
                    for profile in profiles:
                        outputs[_Cell(run.case, profile.id, run.model, baseline=True)] = run
                else:
                    new_runs.append(run)
                    if run.parent is None:  # a simulated conversation's turns follow its first reply
                        outputs[_Cell(run.case, run.profile, run.model)] = run
        return outputs, new_runs

    # -- grading ------------------------------------------------------------------------------------

    async def _grade(
        self, proto: Prototype, outputs: dict[_Cell, Run], graders: Graders, report: ProgressSink,
        runs: Sequence[Run] = (), *, early: _EarlyGrading | None = None,
    ) -> list[EvalResult]:
        cells = sorted(outputs, key=lambda c: (_order(proto, c), c.baseline))
        done = passed = 0
        report(EvalProgress("grade", 0, len(cells)))

        async def one(cell: _Cell) -> EvalResult:
            nonlocal done, passed
            graded = early.take(cell, outputs[cell]) if early is not None else None
            if graded is not None:
                result = await graded
            else:
                result = await self._grade_cell(proto, cell, outputs[cell], graders, runs)
            done += 1
            passed += result.passed
            report(EvalProgress("grade", done, len(cells), passed))
            return result

        return list(await asyncio.gather(*(one(c) for c in cells)))

    async def _grade_cell(
        self, proto: Prototype, cell: _Cell, root: Run, graders: Graders, runs: Sequence[Run] = ()
    ) -> EvalResult:
        case = proto.case(cell.case)
        run_id = None if cell.baseline else root.id
        replies = (root,) if cell.baseline or case.simulated_user is None else conversation(root, runs)
        run = replies[-1]  # a simulated conversation is graded on its last reply (`turn: any/all`: on each)
        broken = next((r for r in replies if r.status != "ok"), None)
        if broken is not None:
            error = broken.error or (
                "cancelled" if broken.status == "cancelled" else f"status {broken.status}")
            if broken is not root:
                error = f"turn {replies.index(broken) + 1}: {error}"
            return EvalResult(
                case=cell.case,
                profile=cell.profile,
                model=cell.model,
                run=run_id,
                baseline=cell.baseline,
                passed=False,
                score=0.0,
                error=error,
            )
        keyed = case_assertions(proto, cell.case, cell.profile)
        prompt = _last_user(run)
        metrics = RunMetrics(latency_ms=run.latency_ms, cost_usd=run.cost_usd)
        earlier = [Reply(r.output, _last_user(r), r.tool_calls) for r in replies[:-1]]
        graded = await grade_case(
            keyed, run.output, graders, threshold=case.threshold, prompt=prompt, vars=case.vars,
            metrics=metrics, earlier=earlier, tool_calls=run.tool_calls, tools=proto.tools,
        )
        return EvalResult(
            case=cell.case,
            profile=cell.profile,
            model=cell.model,
            run=run_id,
            baseline=cell.baseline,
            passed=graded.passed,
            score=graded.score,
            assertions=graded.results,
        )


MODEL_GRADED = ("similar", "llm-rubric")
"""Assertion types (and their `not-` forms) that call a model to grade."""


class _EarlyGrading:
    """Grades a cell as soon as its output is in, while the other cells still stream, so the end
    of an eval waits only for what could not be graded early.

    Only cells graded by pure checks (no judge or embedding call competing with the cells for
    the provider) and answered in one reply (not a simulated conversation) start early. The
    result is used only if the cell's output in the end is the very run graded (else the cell is
    graded again, as before)."""

    def __init__(self, runner: EvalRunner, proto: Prototype, graders: Graders) -> None:
        self.runner = runner
        self.proto = proto
        self.graders = graders
        self.tasks: dict[_Cell, tuple[Run, asyncio.Task[EvalResult]]] = {}
        self._pure: dict[tuple[str, str], bool] = {}

    def start(self, cell: _Cell, run: Run) -> None:
        if cell in self.tasks or not self._is_pure(cell):
            return
        task = asyncio.get_running_loop().create_task(
            self.runner._grade_cell(self.proto, cell, run, self.graders))
        self.tasks[cell] = (run, task)

    def take(self, cell: _Cell, run: Run) -> asyncio.Task[EvalResult] | None:
        """The early grading of `cell`, if it graded this very run."""
        entry = self.tasks.pop(cell, None)
        if entry is None:
            return None
        if entry[0] is not run:
            entry[1].cancel()
            return None
        return entry[1]

    def cancel(self) -> None:
        for _, task in self.tasks.values():
            task.cancel()
        self.tasks.clear()

    def _is_pure(self, cell: _Cell) -> bool:
        key = (cell.case, cell.profile)
        pure = self._pure.get(key)
        if pure is None:
            try:
                case = self.proto.case(cell.case)
                keyed = case_assertions(self.proto, cell.case, cell.profile)
                pure = case.simulated_user is None and not any(
                    split_type(a.type)[0] in MODEL_GRADED for _, a in keyed)
            except Exception:  # an unreadable assertion: graded at the end, where it is reported
                pure = False
            self._pure[key] = pure
        return pure


def case_assertions(
    proto: Prototype, case_id: str, profile_id: str | None = None
) -> list[tuple[str, Assertion]]:
    """A case's assertions with their keys: the file's defaults first, then the case's own.

    With `profile_id`, only those that apply to that profile (`Assertion.profiles`); keys keep
    their index in the file either way.
    """
    case = proto.case(case_id)
    keyed = [(f"default_assert[{i}]", a) for i, a in enumerate(proto.default_assert)] + [
        (f"assert[{i}]", a) for i, a in enumerate(case.assert_)
    ]
    return [(k, a) for k, a in keyed if profile_id is None or a.applies_to(profile_id)]


# -- helpers ----------------------------------------------------------------------------------------


def _last_user(run: Run) -> str:
    return next((m.content for m in reversed(run.messages) if m.role == "user"), "")


def _order(proto: Prototype, cell: _Cell) -> tuple[int, int, int]:
    def index(items: list[Any], ident: str) -> int:
        return next((i for i, item in enumerate(items) if item.id == ident), len(items))

    return (
        index(proto.cases, cell.case),
        index(proto.profiles, cell.profile),
        index(proto.models, cell.model),
    )


def _previous(proto: Prototype, spec: str | None, cells: list[tuple[str, str, str]]) -> EvalRun | None:
    if spec is None:
        return None
    try:
        return previous_run(proto, spec, cells=cells)
    except KeyError as exc:
        raise EvalError(str(exc.args[0])) from None


def _target_spec(proto: Prototype, spec: str | None, what: str) -> ModelTarget:
    """A model target id of the file, or `provider:model`; None is the bundled model."""
    spec = spec or DEFAULT_LOCAL
    for target in proto.models:
        if target.id == spec:
            return target
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        known = ", ".join(m.id for m in proto.models) or "none"
        raise EvalError(
            f"{what} {spec!r} is neither a model target of this file (known: {known}) nor `provider:model`"
        )
    return ModelTarget(id=what.replace(" ", "-"), provider=provider, model=model)


class _Embedder:
    """Embeds through the hub, remembering vectors so each reference is embedded once per eval."""

    def __init__(self, hub: EvalHub, target: ModelTarget) -> None:
        self.hub = hub
        self.target = target
        self._known: dict[str, list[float]] = {}
        self._lock = asyncio.Lock()

    async def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        async with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._known))
            if todo:
                try:
                    vectors = await self.hub.embed(
                        self.target.provider, self.target.model, todo, base_url=self.target.base_url
                    )
                except ProviderError as exc:
                    raise GradingError(
                        f"embedding model {self.target.provider}:{self.target.model} failed: {exc.message}"
                    ) from None
                if len(vectors) != len(todo):
                    raise GradingError(
                        f"the embedding model returned {len(vectors)} vectors for {len(todo)} texts"
                    )
                self._known.update(zip(todo, vectors, strict=True))
            return [self._known[t] for t in texts]


JUDGE_MAX_TOKENS = 256
"""A verdict is one short JSON object; the cap stops a small judge that rambles from taking minutes."""


def judge_target(target: ModelTarget) -> ModelTarget:
    """The target as a judge: temperature 0 and at most JUDGE_MAX_TOKENS, unless the target sets them.

    The bundled model also gets the verdict's JSON schema as `response_format`: its server decodes
    under that grammar, so its answer always parses. Hosted judges get it when their target sets it
    (not every OpenAI-compatible endpoint accepts `json_schema`)."""
    update: dict[str, Any] = {}
    if target.provider == LOCAL_ID and target.base_url is None and target.params.response_format is None:
        update["response_format"] = VERDICT_FORMAT
    if target.params.temperature is None:
        update["temperature"] = 0.0
    if target.params.max_tokens is None:
        update["max_tokens"] = JUDGE_MAX_TOKENS
    if not update:
        return target
    params = ModelParams.model_validate({**target.params.model_dump(), **update})
    return target.model_copy(update={"params": params})


class _Judge:
    """Asks a judge model; temperature 0 unless the target sets one. Answers are cached by the hub."""

    def __init__(
        self, hub: EvalHub, proto: Prototype, default: ModelTarget, slots: asyncio.Semaphore, use_cache: bool
    ) -> None:
        self.hub = hub
        self.proto = proto
        self.default = default
        self.slots = slots
        self.use_cache = use_cache

    async def __call__(self, judge_id: str | None, messages: list[Message]) -> str:
        target = self.default
        if judge_id is not None:
            try:
                target = self.proto.model(judge_id)
            except KeyError as exc:
                raise GradingError(str(exc.args[0])) from None
        target = judge_target(target)
        async with self.slots:
            try:
                finished = await self.hub.complete(target, messages, use_cache=self.use_cache)
            except ProviderError as exc:
                raise GradingError(f"judge {target.label} failed: {exc.message}") from None
        return finished.text
