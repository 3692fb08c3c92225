"""The prototype document: profiles, model targets, cases, runs and ratings.

These pydantic models are the single source of truth for the YAML format
(`docs/prototype.schema.json` is generated from them). Every model forbids
unknown keys so a typo in a shared file is an error, not silently dropped data.
Field order here is the key order in saved files, so keep it stable.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.core.endpoints import url_problem

FORMAT_VERSION = 3
"""The newest `protostudio:` format version this app reads and writes."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
FormFactor = Literal["chat", "canvas", "voice", "notification"]
Role = Literal["user", "assistant"]
Thumb = Literal["up", "down"]
Verdict = Literal["a", "b", "tie", "both_bad"]
RunStatus = Literal["ok", "error", "cancelled", "cut"]
AssertionTurn = Literal["last", "any", "all"]
UserTurnSource = Literal["simulated", "scripted"]
ConversationEndBy = Literal["done", "max_turns", "script_end", "simulator_fault", "reply_fault", "cancelled"]


def _number_as_text(value: Any) -> Any:
    """`bill: 64` in `vars` means the text "64": people should not have to quote numbers there."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


VarValue = Annotated[str, BeforeValidator(_number_as_text)]


def new_id(prefix: str) -> str:
    """A short random id such as `run-3f9a0c1d2b`, unique enough for one file."""
    return f"{prefix}-{secrets.token_hex(5)}"


def utc_now() -> str:
    """The current time as an ISO 8601 string with a `Z`, second precision."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Strict(BaseModel):
    """Base for every document model: unknown keys are errors, assignment is validated."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, populate_by_name=True, allow_inf_nan=False
    )

    def __eq__(self, other: object) -> bool:
        """pydantic's equality, at the speed of comparing two dicts when it can be.

        Saving compares each run's `usage` and `params` with their defaults (`exclude_defaults`), and
        pydantic's own `__eq__` spent a third of that on generic-type and field-name bookkeeping. Our
        models have no extras (`extra="forbid"`) and keep only fields in `__dict__` (assignment is
        validated), so for two of the same class without private attributes, equal fields is equal."""
        if (other.__class__ is self.__class__ and self.__pydantic_private__ is None
                and other.__pydantic_private__ is None):
            return self.__dict__ == other.__dict__
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # as pydantic leaves mutable models: unhashable


# -- behavior ---------------------------------------------------------------------------------------


class Rule(Strict):
    """One rule of a behavior spec, with example answers that follow or break it."""

    id: Id
    rule: str
    good: list[str] = Field(default_factory=list, description="Example responses that follow the rule.")
    bad: list[str] = Field(default_factory=list, description="Example responses that break the rule.")


class Profile(Strict):
    """A named behavior variant: what the model is told, and how the answer is presented."""

    id: Id
    name: str = Field("", description="Display name; the id is shown when empty.")
    description: str = ""
    form_factor: FormFactor = "chat"
    system_prompt: str = ""
    custom_instructions: str = Field("", description="User-level instructions, sent after the system prompt.")
    behavior_spec: list[Rule] = Field(default_factory=list)
    tools: list[Id] = Field(
        default_factory=list, description="Names of the prototype's `tools` this profile's requests offer."
    )
    turns: list[Turn] = Field(
        default_factory=list,
        description="This profile's own conversation (e.g. an imported promptfoo prompt with user messages): "
        "sent instead of each case's turns, with the case's vars filled. Empty: the case's turns.",
    )

    @property
    def label(self) -> str:
        return self.name or self.id


class ModelParams(Strict):
    """Sampling parameters sent with every request; unset ones are left to the endpoint."""

    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: int | None = None
    stop: list[str] | None = Field(None, description="Stop sequences (at most 4 for most providers).")
    response_format: dict[str, Any] | None = Field(
        None,
        description="OpenAI `response_format`, e.g. {type: json_schema, json_schema: {name, schema}}; "
        "the bundled model enforces a schema with grammar-constrained decoding.",
    )
    tools: list[dict[str, Any]] | None = Field(
        None, description="OpenAI `tools` (function definitions) sent with every request."
    )
    tool_choice: str | dict[str, Any] | None = Field(
        None, description="OpenAI `tool_choice`: auto, none, required, or a named function."
    )


class ModelTarget(Strict):
    """A model to run against. It names a provider by id only: keys never live in prototypes."""

    id: Id
    provider: Id
    model: str = Field(min_length=1)
    name: str = ""
    base_url: str | None = Field(
        None, description="Overrides the provider's endpoint. A stored key is not sent to a new host unasked."
    )
    params: ModelParams = Field(default_factory=ModelParams)
    key_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The env var another tool reads this target's key from (promptfoo's `apiKeyEnvar`); "
        "kept for exports. Protostudio itself reads keys from the keychain or the provider's env var.",
    )
    timeout_s: float | None = Field(
        None, gt=0, le=3600,
        description="Seconds to wait for this model's answer before giving up; unset: the app's default.",
    )

    @field_validator("base_url")
    @classmethod
    def _no_credentials_in_url(cls, value: str | None) -> str | None:
        """A URL is the one field a key could sneak into (`https://user:sk-...@host`, `?api_key=`)."""
        if value is None:
            return value
        problem = url_problem(value)
        if problem is not None:
            raise ValueError(f"base_url {problem}")
        try:
            parts = urlsplit(value)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            raise ValueError("base_url is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            raise ValueError("base_url must be an http:// or https:// address such as http://localhost:11434/v1")
        if "@" in parts.netloc:
            raise ValueError("base_url must not contain a user name or password; keys live in the keychain")
        names = {name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
        if names & _SECRET_PARAMS:
            raise ValueError("base_url must not carry a key in its query; keys live in the OS keychain")
        return value

    @property
    def label(self) -> str:
        return self.name or self.id


_SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "api-key", "token", "access_token", "auth", "secret"})


# -- cases and assertions ---------------------------------------------------------------------------


class ImageRef(Strict):
    """An image attached to a turn: a path relative to the prototype file, plus its sha256 so a shared
    file stays small and diffable and a changed image is noticed."""

    path: str = Field(min_length=1)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class Turn(Strict):
    """One message of a case's conversation. Assistant turns are fixed history."""

    role: Role = "user"
    content: str
    images: list[ImageRef] = Field(
        default_factory=list, description="Images sent with this user turn, to models that accept them."
    )


class Assertion(Strict):
    """A check on an output. `type` may carry a `not-` prefix to negate it."""

    type: str = Field(min_length=1)
    value: Any = None
    weight: float = Field(1.0, ge=0)
    threshold: float | None = None
    judge: str | None = Field(None, description="Model target id that grades `llm-rubric`.")
    description: str = Field("", description="Why this check exists, e.g. where it was seeded from.")
    profiles: list[Id] = Field(
        default_factory=list, description="Profile ids this check applies to; empty means every profile."
    )
    metric: str = Field("", description="A named metric to group results under (promptfoo's `metric`).")
    transform: str | None = Field(
        None, description="A known output transform applied before checking, e.g. `output.trim()` "
        "(see `app/core/evals/transforms.py`).",
    )
    rubric_prompt: str | None = Field(
        None, description="The judge prompt for `llm-rubric`, with `{{output}}` and `{{rubric}}` "
        "(promptfoo's `rubricPrompt`); unset: Protostudio's own.",
    )
    disabled: bool = Field(
        False, description="Kept but not graded: a check Protostudio cannot run (e.g. an imported "
        "promptfoo `javascript` or `python` assert, `value` holding its source), written back by exports.",
    )
    turn: AssertionTurn = Field(
        "last", description="Which replies of a simulated conversation are checked: the `last`, `any` "
        "(passes when one reply passes) or `all` (every reply must pass). A plain case has one reply.",
    )

    def applies_to(self, profile_id: str) -> bool:
        """Whether this check grades answers of that profile."""
        return not self.profiles or profile_id in self.profiles


class ToolSpec(Strict):
    """A function the model may call. The app answers a call with `mock`; the model then continues."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON schema of the arguments, as in OpenAI's function definitions.",
    )
    mock: Any = Field(None, description="What the app answers when the model calls this tool.")
    required: bool = Field(False, description="Ask the model to call it (`tool_choice`) when offered.")


class ToolCall(Strict):
    """A tool call the model made, as streamed, with the mock result the app sent back."""

    id: str = ""
    name: str
    arguments: str = Field(
        "", description="The arguments JSON exactly as the model wrote it (may be invalid)."
    )
    result: str | None = Field(None, description="What the app answered (the tool's or the case's mock).")


MAX_SIMULATED_TURNS = 20
"""The most user messages a simulated user may write: each is a model call and a reply."""


class SimulatedUser(Strict):
    """A model that plays the user after the case's turns (or from the first message, when the case
    has none), one message per assistant reply, until it says it is done or `max_turns` is reached.
    `script` replaces the model with fixed messages."""

    persona: str = Field("", description="Who the user is, e.g. a busy PM who wants numbers only.")
    goal: str = Field("", description="What the user wants from the conversation.")
    max_turns: int = Field(
        4, ge=1, le=MAX_SIMULATED_TURNS,
        description="The most user messages written after the case's turns (each gets a reply); "
        "with no turns, the first message counts too.",
    )
    model: Id | None = Field(
        None, description="Model target id that plays the user; unset: the bundled model."
    )
    seed: int | None = Field(
        None, description="Sampling seed for the simulator; unset: one derived from the case id. "
        "Same seed and same replies give the same user messages.",
    )
    script: list[str] = Field(
        default_factory=list,
        description="Fixed user messages sent in order instead of asking a model (deterministic, for CI).",
    )

    @model_validator(mode="after")
    def _script_fits(self) -> SimulatedUser:
        if len(self.script) > self.max_turns:
            raise ValueError(
                f"script has {len(self.script)} messages but max_turns is {self.max_turns}: "
                f"set max_turns to at least {len(self.script)}"
            )
        return self


class CaseOrigin(Strict):
    """Where a generated case came from, so it can be told apart from hand-written ones and redone."""

    model: str = Field(min_length=1, description="The model target or `provider:model` that wrote it.")
    seed: int | None = None
    prompt_version: str = Field(
        min_length=1, description="The generation prompt's version; `+custom-<hash>` when it was edited."
    )
    kind: str = Field("", description="The probe kind: typical, boundary, ambiguous, adversarial, ...")
    persona: str = Field("", description="Who the generated user was meant to be.")


class Case(Strict):
    """A conversation to run, with `{{var}}` values and optional assertions."""

    id: Id
    description: str = ""
    vars: dict[str, VarValue] = Field(default_factory=dict)
    turns: list[Turn] = Field(
        default_factory=list,
        description="The fixed conversation. May be empty when `simulated_user` is set: the simulated "
        "user then writes the first message.",
    )
    assert_: list[Assertion] = Field(default_factory=list, alias="assert")
    threshold: float | None = Field(
        None, ge=0, le=1,
        description="Pass when the weighted assertion score reaches this; unset: all must pass.",
    )
    simulated_user: SimulatedUser | None = Field(
        None, description="A simulated user that continues the conversation after `turns`, or "
        "starts it when there are none."
    )
    probes: list[Id] = Field(
        default_factory=list, description="Ids of the behavior-spec rules this case tests (coverage)."
    )
    origin: CaseOrigin | None = Field(
        None, description="Set on a case written by `protostudio generate`: which model wrote it and how."
    )
    tool_mocks: dict[str, Any] = Field(
        default_factory=dict,
        description="Per tool name, what the app answers in this case instead of the tool's own `mock`.",
    )

    @model_validator(mode="after")
    def _has_a_first_message(self) -> Case:
        if not self.turns and self.simulated_user is None:
            raise ValueError(
                f"case {self.id!r} has no turns and no simulated_user: give it at least one turn, "
                "or a simulated_user that writes the first message"
            )
        return self


# -- results and ratings ----------------------------------------------------------------------------


class Message(Strict):
    """A chat message exactly as sent to the model. The optional fields stay empty for plain text
    messages, so files without tools or images are unchanged."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    images: list[ImageRef] = Field(
        default_factory=list, description="Images sent with a user message (paths relative to the file)."
    )
    tool_calls: list[ToolCall] = Field(
        default_factory=list, description="An assistant message's tool calls (with the results sent back)."
    )
    tool_call_id: str | None = Field(None, description="A `tool` message answers the call with this id.")


class Usage(Strict):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Rating(Strict):
    """What one person said about one output. A run keeps one rating per rater."""

    rater: str = Field("", description="Who rated: a display name, `Name <email>` when an email is set. "
                       "Empty (ratings made before format 3) reads as \"unknown\".")
    thumb: Thumb | None = None
    note: str = ""
    tags: list[str] = Field(default_factory=list)
    updated: str | None = Field(
        None, description="When the rater last changed it; a merge keeps the later one."
    )


class ConversationEnd(Strict):
    """How a simulated conversation ended, stored on its last run so the file says why it stopped."""

    by: ConversationEndBy = Field(
        description="`done` (the simulated user said so), `max_turns`, `script_end` (the script ran out), "
        "`simulator_fault` (the simulator failed or wrote nothing readable), `reply_fault` (a reply "
        "failed) or `cancelled`.",
    )
    reason: str = Field("", description="The simulator's own reason, or the fault's message.")


class Run(Strict):
    """One output of one variant (profile x model) on one case, with everything needed to reproduce it."""

    id: Id
    created: str
    profile: Id
    model: Id
    case: Id
    sample: int = Field(0, ge=0, description="Index among repeated samples of the same cell.")
    parent: Id | None = Field(None, description="The run this one continues, for multi-turn threads.")
    provider: str = ""
    model_name: str = ""
    params: ModelParams = Field(default_factory=ModelParams)
    prompt: Id | None = Field(
        None, description="Id of the messages sent, in the file's `prompts` table (each distinct list is "
        "stored once). Saving always writes this; `messages` inline is read too."
    )
    messages: list[Message] = Field(default_factory=list)
    output: str = ""
    status: RunStatus = "ok"
    error: str | None = None
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    ttft_ms: float | None = None
    latency_ms: float | None = None
    cost_usd: float | None = Field(None, description="Unknown when the model has no price.")
    cached: bool = False
    tool_calls: list[ToolCall] = Field(
        default_factory=list, description="Tool calls the model made while answering, in order."
    )
    notice: str | None = Field(
        None, description="A plain remark on how the answer came about, e.g. that tools were offered and "
        "the model called none, or that the tool loop stopped at its round limit.",
    )
    ratings: list[Rating] = Field(
        default_factory=list, description="One rating per rater; read and write them with app.core.ratings."
    )
    user_turn: UserTurnSource | None = Field(
        None, description="Who wrote the user message this continuation answers, when not a person: "
        "the case's simulated user (`simulated`) or its `script` (`scripted`).",
    )
    conversation_end: ConversationEnd | None = Field(
        None, description="On the last run of a simulated conversation: how and why it ended.",
    )


class Preference(Strict):
    """A pairwise vote between two runs of the same case. `a` and `b` are run ids as stored, unshuffled."""

    id: Id
    created: str
    rater: str = Field("", description="Who voted; empty (votes made before format 3) reads as \"unknown\".")
    a: Id
    b: Id
    verdict: Verdict
    blind: bool = False
    swapped: bool = Field(False, description="Blind mode showed `b` on the left; measures position bias.")
    note: str = ""


# -- eval history -----------------------------------------------------------------------------------


class AssertionResult(Strict):
    type: str
    passed: bool
    score: float
    reason: str = ""
    key: str = Field("", description="Which assertion: `default_assert[i]` or `assert[i]` of the case.")


class EvalResult(Strict):
    """The assertions of one case on one variant."""

    case: Id
    profile: Id
    model: Id
    run: Id | None = None
    baseline: bool = False
    passed: bool
    score: float
    assertions: list[AssertionResult] = Field(default_factory=list)
    error: str | None = Field(None, description="The model call failed, so the case counts as failed.")


class EvalRun(Strict):
    """One `protostudio eval` over the file, kept so pass rate can be charted over time."""

    id: Id
    created: str
    pass_rate: float
    baseline_pass_rate: float | None = None
    results: list[EvalResult] = Field(default_factory=list)


# -- provider batches -------------------------------------------------------------------------------


class BatchCell(Strict):
    """One request of a provider batch: which cell it answers (`custom_id` in the batch files)."""

    custom_id: str
    case: Id
    profile: Id
    model: Id
    sample: int = Field(0, ge=0)


class BatchIntent(Strict):
    """Written (and saved) just before a batch is created at a provider whose batches carry no
    metadata (Anthropic's Message Batches), so a process killed between "created" and "id saved"
    finds its batch again by time and size instead of creating a second one."""

    nonce: str = Field(description="A local random id, new for each intent.")
    created_after: str = Field(description="UTC time taken before the create request was sent.")
    requests: int = Field(ge=1, description="How many requests the batch holds.")
    digest: str = Field(description="sha256 of the requests' custom_ids, in order, one a line.")


class BatchJob(Strict):
    """A batch submitted to a provider's Batch API, recorded before anything else so that a killed
    process resumes it (and never submits it twice) instead of starting over."""

    id: Id
    created: str
    kind: Literal["run", "eval"] = "run"
    model: Id = Field(description="The model target every request of this batch goes to.")
    input_file_id: str | None = None
    batch_id: str | None = Field(None, description="The provider's id; unset until the batch is created.")
    status: str = Field("submitting", description="The provider's status, e.g. validating, in_progress, "
                        "completed, failed, expired, cancelled; `collected` once its runs are in the file.")
    output_file_id: str | None = None
    error_file_id: str | None = None
    cells: list[BatchCell] = Field(default_factory=list)
    intent: BatchIntent | None = Field(
        None, description="Set before creating a batch that carries no metadata (Anthropic): how a "
        "resumed run finds it again instead of creating it twice.")

    @property
    def pending(self) -> bool:
        return self.status not in TERMINAL_BATCH_STATUSES


TERMINAL_BATCH_STATUSES = frozenset({"collected", "failed"})
"""A batch in one of these has nothing more to wait for or collect (a cancelled or expired one still
has the answers that finished before it stopped)."""


_T = TypeVar("_T", "Profile", "ModelTarget", "Case", "Run")


# -- the document -----------------------------------------------------------------------------------


class Prototype(Strict):
    """A shareable prototype: behavior variants, targets, cases, and everything learned from them."""

    protostudio: int = Field(FORMAT_VERSION, description="Format version; older files are migrated on load.")
    name: str = Field(min_length=1)
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    tools: list[ToolSpec] = Field(default_factory=list, description="Functions profiles may offer the model.")
    profiles: list[Profile] = Field(default_factory=list)
    models: list[ModelTarget] = Field(default_factory=list)
    cases: list[Case] = Field(default_factory=list)
    default_assert: list[Assertion] = Field(
        default_factory=list, description="Assertions applied to every case."
    )
    runs: list[Run] = Field(default_factory=list)
    preferences: list[Preference] = Field(default_factory=list)
    evals: list[EvalRun] = Field(default_factory=list)
    batches: list[BatchJob] = Field(
        default_factory=list, description="Provider batches (`--batch`) submitted from this file."
    )
    prompts: dict[Id, list[Message]] = Field(
        default_factory=dict,
        description="Each distinct message list sent by a run, stored once and named by a hash of its "
        "content; runs refer to it with `prompt:`. Written by the app; loading resolves it into the runs.",
    )
    _base_dir: str | None = PrivateAttr(None)

    @property
    def base_dir(self) -> str | None:
        """The folder turn image paths are relative to: the file's folder once loaded or saved
        (None: the working folder). Not part of the file."""
        return self._base_dir

    @base_dir.setter
    def base_dir(self, folder: str | None) -> None:
        self._base_dir = folder

    def __eq__(self, other: object) -> bool:
        """Equal by content: where the file lives (`base_dir`) is not part of the document."""
        if not isinstance(other, Prototype):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # mutable, like every pydantic model

    # -- lookups ------------------------------------------------------------------------------------

    def profile(self, profile_id: str) -> Profile:
        return _by_id(self.profiles, profile_id, "profile")

    def model(self, model_id: str) -> ModelTarget:
        return _by_id(self.models, model_id, "model target")

    def case(self, case_id: str) -> Case:
        return _by_id(self.cases, case_id, "case")

    def run(self, run_id: str) -> Run:
        return _by_id(self.runs, run_id, "run")


def _by_id(items: list[_T], item_id: str, kind: str) -> _T:
    for item in items:
        if item.id == item_id:
            return item
    known = ", ".join(i.id for i in items) or "none"
    raise KeyError(f"no {kind} with id {item_id!r} (known: {known})")
