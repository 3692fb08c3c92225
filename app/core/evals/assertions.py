"""Assertion types and grading: one output in, pass/fail, a 0..1 score and a reason a designer can read.

Pure core: no network. `similar` and `llm-rubric` need a model, so the caller injects async
callables (`Graders.embed`, `Graders.judge`); the engine layer builds them on the provider hub.
Any type takes a `not-` prefix, which flips the verdict and turns the score `s` into `1 - s`.

Text values (a text, each text of a list, the rubric) are rendered with the case's vars first,
by the same renderer as the messages: `contains: '{{user_name}}'` checks for the case's name.

A case passes when every assertion with a weight above 0 passes, or, when the case sets a
`threshold`, when the weighted mean score reaches it.
"""

from __future__ import annotations

import asyncio
import difflib
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.core.evals import textchecks as tc
from app.core.evals import toolchecks as tool_checks
from app.core.evals import transforms
from app.core.evals.rubric import custom_rubric_messages, parse_verdict, rubric_messages
from app.core.formfactors import canvas as ff_canvas
from app.core.formfactors import notification as ff_notification
from app.core.formfactors import voice as ff_voice
from app.core.placeholders import render_vars
from app.core.prototype import Assertion, AssertionResult, Message, ToolCall, ToolSpec

Embedder = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
"""Texts in, one embedding vector per text out."""
Judge = Callable[[str | None, list[Message]], Awaitable[str]]
"""(judge model target id or None for the default judge, messages) -> the judge's raw answer."""

DEFAULT_SIMILARITY = 0.8
"""`similar` passes at cosine >= this unless the assertion sets `threshold`."""

DEFAULT_VOICE_SECONDS = 30.0
"""`voice-friendly` passes under this many spoken seconds unless its value sets another. A house
default, not a platform limit: about 75 words at 150 words per minute, the length of a 30-second
radio spot; longer spoken answers are hard to take in without seeing them."""

ToolCalls = Sequence[Mapping[str, Any] | ToolCall]
"""A run's tool calls: `ToolCall`s or {name, arguments} dicts (`canvas-opened` reads `open_canvas`)."""

ValueKind = Literal[
    "none", "text", "texts", "count", "pattern", "schema", "number", "seconds", "notification",
    "optional-text", "tool-call",
]


class AssertionSpecError(ValueError):
    """An assertion names an unknown type or has a value its type cannot use."""


class GradingError(Exception):
    """A model needed for grading could not answer; raised by injected embedders and judges."""


@dataclass(frozen=True)
class Graders:
    """The model-backed helpers grading may need. Missing ones make those assertions fail with a reason."""

    embed: Embedder | None = None
    judge: Judge | None = None


@dataclass(frozen=True)
class RunMetrics:
    """What a run measured, for `latency` and `cost`; None when unknown."""

    latency_ms: float | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class Check:
    """The un-negated outcome of one check. Reason = `fact`, plus `expected ...` when it fails."""

    passed: bool
    score: float
    fact: str
    expected: str
    expected_not: str = ""


@dataclass(frozen=True)
class TypeSpec:
    name: str
    value: ValueKind
    summary: str


TYPES: dict[str, TypeSpec] = {
    spec.name: spec
    for spec in (
        TypeSpec("equals", "text", "the whole output equals the value (surrounding whitespace ignored)"),
        TypeSpec("contains", "text", "the output contains the value (case-sensitive)"),
        TypeSpec("icontains", "text", "the output contains the value, ignoring case"),
        TypeSpec("contains-any", "texts", "the output contains at least one of the values"),
        TypeSpec("contains-all", "texts", "the output contains every value"),
        TypeSpec("icontains-any", "texts", "like contains-any, ignoring case"),
        TypeSpec("icontains-all", "texts", "like contains-all, ignoring case"),
        TypeSpec("starts-with", "text", "the output starts with the value (leading whitespace ignored)"),
        TypeSpec("regex", "pattern", "a Python regular expression matches somewhere in the output"),
        TypeSpec(
            "is-json",
            "schema",
            "the output is JSON (a lone ```json fence is allowed), optionally "
            "matching the JSON Schema given as value",
        ),
        TypeSpec("max-words", "count", "at most N words"),
        TypeSpec("min-words", "count", "at least N words"),
        TypeSpec("max-chars", "count", "at most N characters (surrounding whitespace ignored)"),
        TypeSpec("bullet-count", "count", "exactly N markdown list items"),
        TypeSpec(
            "no-markdown", "none", "no headings, lists, bold, code, links, tables or quotes (for voice)"
        ),
        TypeSpec("is-refusal", "none", "the output declines (a fixed phrase list, or empty output)"),
        TypeSpec(
            "similar",
            "texts",
            "embedding cosine similarity to a reference (the closest of several) "
            f">= threshold (default {DEFAULT_SIMILARITY})",
        ),
        TypeSpec("llm-rubric", "text", "a judge model says the output satisfies the rubric text"),
        TypeSpec("latency", "number", "the answer took at most N ms (cached answers replay theirs)"),
        TypeSpec("cost", "number", "the answer cost at most N US dollars (fails when the price is unknown)"),
        TypeSpec(
            "voice-friendly",
            "seconds",
            "no markdown, code or URLs, and spoken in at most N seconds at "
            f"{ff_voice.SPEAKING_WPM} words a minute (default {DEFAULT_VOICE_SECONDS:g})",
        ),
        TypeSpec(
            "fits-notification",
            "notification",
            "the whole output, or the key `phrase`, is visible on the phone notification card of "
            f"`platform` (default {ff_notification.DEFAULT_PLATFORM}) before it is cut",
        ),
        TypeSpec(
            "canvas-opened",
            "optional-text",
            "the reply opened a canvas (an `open_canvas` tool call, else a leading `[canvas: title]`), "
            "with a title containing the value when given",
        ),
        TypeSpec(
            "tool-call",
            "tool-call",
            "the model called a tool: any, the one named by the value, or {name, arguments} where "
            "`arguments` must be contained in the call's (a subset match)",
        ),
        TypeSpec(
            "no-tool-call",
            "tool-call",
            "the model called no tool (or none matching the value, read as for tool-call)",
        ),
        TypeSpec(
            "valid-tool-call",
            "optional-text",
            "the model called a tool (the one named by the value, when given) and every such call's "
            "arguments validate against that tool's JSON schema `parameters`",
        ),
    )
}
"""Every assertion type. Any of them also works with a `not-` prefix."""


# -- validation -------------------------------------------------------------------------------------


def split_type(type_name: str) -> tuple[str, bool]:
    """`not-contains` -> (`contains`, True). Raises AssertionSpecError naming the known types."""
    negated = type_name.startswith("not-")
    base = type_name[4:] if negated else type_name
    if base not in TYPES:
        hint = difflib.get_close_matches(base, list(TYPES), n=1, cutoff=0.6)
        message = f"unknown assertion type {type_name!r}"
        if hint:
            message += f"; did you mean {('not-' if negated else '') + hint[0]!r}?"
        raise AssertionSpecError(
            f"{message} Known types: {', '.join(TYPES)} (each also with a `not-` prefix)"
        )
    return base, negated


def check_assertion(assertion: Assertion) -> None:
    """Raise AssertionSpecError when the assertion cannot be graded as written (a disabled one is never
    graded, so anything goes)."""
    if assertion.disabled:
        return
    base, _ = split_type(assertion.type)
    kind = TYPES[base].value
    value = assertion.value
    where = f"{assertion.type}:"
    if kind == "none" and value is not None:
        raise AssertionSpecError(f"{where} takes no value (got {tc.one_line(repr(value), 40)})")
    if kind in ("text", "pattern") and (
        isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value)
    ):
        raise AssertionSpecError(f"{where} needs a non-empty text value")
    if kind == "texts":
        texts = as_texts(value)
        if not texts or not all(texts):
            raise AssertionSpecError(f"{where} needs a text or a list of non-empty texts")
    if kind == "count" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise AssertionSpecError(f"{where} needs a whole number of 0 or more (got {value!r})")
    if kind == "number" and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0
    ):
        raise AssertionSpecError(f"{where} needs a number of 0 or more (got {value!r})")
    if assertion.transform is not None and transforms.known(assertion.transform) is None:
        raise AssertionSpecError(
            f"{where} unknown transform {assertion.transform!r}; known: {', '.join(transforms.TRANSFORMS)}"
        )
    if kind == "pattern":
        try:
            re.compile(str(value))
        except re.error as exc:
            raise AssertionSpecError(f"{where} invalid regular expression: {exc}") from None
        except RecursionError:  # Python's regex parser recurses per group: `(?:` * 5000
            raise AssertionSpecError(f"{where} invalid regular expression: groups nested too deep") from None
        except OverflowError:  # `a{99999999999}`
            message = f"{where} invalid regular expression: a repeat count is too large"
            raise AssertionSpecError(message) from None
    if kind == "schema" and value is not None:
        if not isinstance(value, dict):
            raise AssertionSpecError(f"{where} the value must be a JSON Schema (a mapping) or nothing")
        try:
            import jsonschema  # here: ~0.2 s that start-up need not pay for a check few files use

            jsonschema.validators.validator_for(value).check_schema(value)
        except jsonschema.SchemaError as exc:
            raise AssertionSpecError(f"{where} invalid JSON Schema: {exc.message}") from None
    if kind == "seconds" and value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
    ):
        raise AssertionSpecError(f"{where} needs a number of seconds above 0, or nothing (got {value!r})")
    if kind == "optional-text" and value is not None and (
        isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value)
    ):
        raise AssertionSpecError(f"{where} takes a non-empty text, or nothing")
    if kind == "notification" and value is not None:
        _check_notification_value(where, value)
    if kind == "tool-call" and value is not None:
        _check_tool_call_value(where, value)
    if assertion.threshold is not None and not 0 <= assertion.threshold <= 1:
        raise AssertionSpecError(f"{where} threshold must be between 0 and 1 (got {assertion.threshold})")


def _check_tool_call_value(where: str, value: Any) -> None:
    if isinstance(value, str) and value:
        return
    if not isinstance(value, Mapping) or not value or set(value) - {"name", "arguments"}:
        raise AssertionSpecError(f"{where} takes a tool name, or {{name, arguments}} (got "
                                 f"{tc.one_line(repr(value), 40)})")
    if "name" in value and not (isinstance(value["name"], str) and value["name"]):
        raise AssertionSpecError(f"{where} `name` must be a tool name")
    if "arguments" in value and not isinstance(value["arguments"], Mapping):
        raise AssertionSpecError(f"{where} `arguments` must be a mapping of expected argument values")


def _check_notification_value(where: str, value: Any) -> None:
    platforms = ", ".join([*ff_notification.PLATFORMS, "all"])
    if not isinstance(value, dict):
        raise AssertionSpecError(
            f"{where} the value must be a mapping with `phrase` and/or `platform`, or nothing"
        )
    unknown = sorted(set(value) - {"phrase", "platform"})
    if unknown:
        raise AssertionSpecError(f"{where} unknown key {unknown[0]!r}; it takes `phrase` and `platform`")
    phrase = value.get("phrase")
    if "phrase" in value and (not isinstance(phrase, str) or not phrase.strip()):
        raise AssertionSpecError(f"{where} `phrase` must be a non-empty text")
    platform = value.get("platform")
    if "platform" in value and platform not in (*ff_notification.PLATFORMS, "all"):
        raise AssertionSpecError(f"{where} unknown platform {platform!r}; known: {platforms}")


def as_texts(value: Any) -> list[str]:
    """A text or a list of texts as a list of strings (empty when it is neither)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return [str(v) for v in value]
    return []


def describe(assertion: Assertion, limit: int = 40) -> str:
    """A short label such as `contains "refund"` or `not-similar (2 references)`."""
    value = assertion.value
    if value is None:
        return assertion.type
    if isinstance(value, list):
        return (
            f"{assertion.type} ({len(value)} references)"
            if "similar" in assertion.type
            else (f"{assertion.type} {tc.one_line(', '.join(map(str, value)), limit)}")
        )
    if isinstance(value, dict) and "fits-notification" in assertion.type:
        parts = [str(value.get("platform", ff_notification.DEFAULT_PLATFORM))]
        if isinstance(value.get("phrase"), str):
            parts.append(tc.quoted(value["phrase"], limit))
        return f"{assertion.type} {' '.join(parts)}"
    if isinstance(value, dict):
        return f"{assertion.type} (schema)"
    if isinstance(value, str):
        return f"{assertion.type} {tc.quoted(value, limit)}"
    return f"{assertion.type} {value}"


# -- grading ----------------------------------------------------------------------------------------


def render_assertion(assertion: Assertion, values: Mapping[str, str] | None) -> Assertion:
    """The assertion with `{{var}}` filled from a case's vars in its text value or list of texts,
    as the messages are (and as promptfoo does with a test's vars). Numbers and JSON Schemas are
    left alone; unknown names stay as written."""
    value = assertion.value
    if not values:
        return assertion
    if isinstance(value, str):
        rendered: Any = render_vars(value, values)
    elif isinstance(value, list):
        rendered = [render_vars(v, values) if isinstance(v, str) else v for v in value]
    else:
        return assertion
    return assertion if rendered == value else assertion.model_copy(update={"value": rendered})


async def grade(
    assertion: Assertion,
    output: str,
    graders: Graders = Graders(),
    *,
    prompt: str = "",
    key: str = "",
    vars: Mapping[str, str] | None = None,
    metrics: RunMetrics | None = None,
    tool_calls: ToolCalls | None = None,
    tools: Sequence[ToolSpec] = (),
) -> AssertionResult:
    """Grade one output, with `vars` (the case's) rendered into the assertion's texts first.
    `metrics` (latency, cost) are the run's, for `latency` and `cost`; `tool_calls` are the run's
    calls, if it made any (`canvas-opened` reads them).

    Never raises for a bad output or an unreachable grader: that is a failed result.
    """
    assertion = render_assertion(assertion, vars)
    try:
        check_assertion(assertion)
        base, negated = split_type(assertion.type)
        if base in _METRIC_CHECKS:
            check = _METRIC_CHECKS[base](assertion.value, metrics or RunMetrics())
        else:
            output = transforms.apply(assertion.transform, output)
            check = await _check(base, assertion, output, graders, prompt, tool_calls=tool_calls,
                                 tools=tools)
    except (AssertionSpecError, GradingError) as exc:
        return AssertionResult(type=assertion.type, passed=False, score=0.0, reason=str(exc), key=key)
    passed = check.passed != negated
    score = (1.0 - check.score) if negated else check.score
    if passed:
        reason = check.fact
    else:
        expected = (check.expected_not or f"not {check.expected}") if negated else check.expected
        reason = f"{check.fact}, expected {expected}"
    return AssertionResult(
        type=assertion.type,
        passed=passed,
        score=round(min(max(score, 0.0), 1.0), 4),
        reason=tc.one_line(reason, 200),
        key=key,
    )


@dataclass(frozen=True)
class CaseGrade:
    passed: bool
    score: float
    results: list[AssertionResult]


@dataclass(frozen=True)
class Reply:
    """An earlier assistant reply of a conversation, with the user message it answered
    (for assertions with `turn: any` or `turn: all`)."""

    output: str
    prompt: str = ""
    tool_calls: ToolCalls = ()


async def grade_case(
    assertions: Sequence[tuple[str, Assertion]],
    output: str,
    graders: Graders = Graders(),
    *,
    threshold: float | None = None,
    prompt: str = "",
    vars: Mapping[str, str] | None = None,
    metrics: RunMetrics | None = None,
    tool_calls: ToolCalls | None = None,
    tools: Sequence[ToolSpec] = (),
    earlier: Sequence[Reply] = (),
) -> CaseGrade:
    """Grade every (key, assertion) of a case on one output, concurrently, and combine them.

    `vars` are the case's: rendered into each assertion's texts before it is checked.
    `earlier` are the replies before `output` in a simulated conversation: an assertion with
    `turn: any` or `turn: all` checks each of them too; `turn: last` only `output`.
    Disabled assertions are kept in the file but left out here entirely.
    """
    assertions = [(k, a) for k, a in assertions if not a.disabled]

    async def one(key: str, a: Assertion) -> AssertionResult:
        last = grade(a, output, graders, prompt=prompt, key=key, vars=vars, metrics=metrics,
                     tool_calls=tool_calls, tools=tools)
        if a.turn == "last" or not earlier:
            return await last
        results = await asyncio.gather(
            *(grade(a, r.output, graders, prompt=r.prompt, key=key, vars=vars, metrics=metrics,
                    tool_calls=r.tool_calls, tools=tools)
              for r in earlier),
            last,
        )
        return over_turns(a.turn, list(results))

    results = list(await asyncio.gather(*(one(k, a) for k, a in assertions)))
    weights = [a.weight for _, a in assertions]
    return combine(results, weights, threshold)


def over_turns(turn: str, results: Sequence[AssertionResult]) -> AssertionResult:
    """One result from the results of each reply: `any` passes when one passes (best score),
    `all` when every one does (worst score). The reason names the reply that decided."""
    n = len(results)
    if turn == "any":
        index = max(range(n), key=lambda i: (results[i].passed, results[i].score))
        passed = results[index].passed
        what = f"reply {index + 1} of {n}" if passed else f"none of {n} replies"
    else:
        index = min(range(n), key=lambda i: (results[i].passed, results[i].score))
        passed = results[index].passed
        what = f"all {n} replies" if passed else f"reply {index + 1} of {n}"
    chosen = results[index]
    return chosen.model_copy(update={"reason": tc.one_line(f"{what}: {chosen.reason}", 200)})


def combine(
    results: Sequence[AssertionResult], weights: Sequence[float], threshold: float | None
) -> CaseGrade:
    """Weighted mean score; pass = all weighted assertions pass, or score >= threshold when set."""
    total = sum(weights)
    if total > 0:
        score = sum(w * r.score for w, r in zip(weights, results, strict=True)) / total
        all_pass = all(r.passed for w, r in zip(weights, results, strict=True) if w > 0)
    else:
        all_pass = all(r.passed for r in results)
        score = 1.0 if all_pass else 0.0
    passed = score >= threshold - 1e-9 if threshold is not None else all_pass
    return CaseGrade(passed=passed, score=round(score, 4), results=list(results))


async def _check(
    base: str, a: Assertion, output: str, graders: Graders, prompt: str, *, tool_calls: ToolCalls | None,
    tools: Sequence[ToolSpec] = (),
) -> Check:
    calls = _plain_calls(tool_calls)
    if base == "canvas-opened":
        return _canvas_opened(a.value, output, calls)
    if base in ("tool-call", "no-tool-call"):
        found = tool_checks.tool_call(a.value, calls)
        if base == "no-tool-call":  # the same check, the other way round
            found = tool_checks.Verdict(not found.passed, found.fact, found.expected_not, found.expected)
        return Check(found.passed, float(found.passed), found.fact, found.expected, found.expected_not)
    if base == "valid-tool-call":
        found = tool_checks.valid_tool_call(a.value, calls, tools)
        return Check(found.passed, float(found.passed), found.fact, found.expected, found.expected_not)
    if base == "similar":
        return await _similar(a, output, graders)
    if base == "llm-rubric":
        return await _rubric(a, output, graders, prompt)
    return _CHECKS[base](a.value, output)


def _plain_calls(tool_calls: ToolCalls | None) -> list[Mapping[str, Any]]:
    return [call.model_dump() if isinstance(call, ToolCall) else call for call in tool_calls or ()]


def _equals(value: Any, output: str) -> Check:
    want = str(value).strip()
    ok = output.strip() == want
    return Check(
        ok,
        float(ok),
        "is exactly the expected text" if ok else f"is {tc.quoted(output)}",
        f"exactly {tc.quoted(want)}",
    )


def _contains(ignore_case: bool) -> Callable[[Any, str], Check]:
    def check(value: Any, output: str) -> Check:
        want = str(value)
        ok = (want.lower() in output.lower()) if ignore_case else (want in output)
        fact = f"contains {tc.quoted(want)}" if ok else f"does not contain {tc.quoted(want)}"
        return Check(
            ok, float(ok), fact, f"to contain {tc.quoted(want)}", f"not to contain {tc.quoted(want)}"
        )

    return check


def _contains_many(need_all: bool, ignore_case: bool) -> Callable[[Any, str], Check]:
    def check(value: Any, output: str) -> Check:
        wants = as_texts(value)
        hay = output.lower() if ignore_case else output
        found = [w for w in wants if (w.lower() if ignore_case else w) in hay]
        missing = [w for w in wants if w not in found]
        listed = ", ".join(tc.quoted(w, 30) for w in wants)
        if need_all:
            ok = not missing
            fact = "contains all of them" if ok else f"misses {', '.join(tc.quoted(w, 30) for w in missing)}"
            return Check(ok, float(ok), fact, f"all of {listed}", f"not all of {listed}")
        ok = bool(found)
        fact = f"contains {', '.join(tc.quoted(w, 30) for w in found)}" if ok else "contains none of them"
        return Check(ok, float(ok), fact, f"one of {listed}", f"none of {listed}")

    return check


def _starts_with(value: Any, output: str) -> Check:
    want = str(value)
    ok = output.lstrip().startswith(want)
    return Check(
        ok,
        float(ok),
        f"starts with {tc.quoted(output.lstrip(), 30)}",
        f"to start with {tc.quoted(want)}",
        f"not to start with {tc.quoted(want)}",
    )


def _regex(value: Any, output: str) -> Check:
    match = re.search(str(value), output)
    fact = f"matches /{value}/ at {tc.quoted(match.group(0), 30)}" if match else f"no match for /{value}/"
    return Check(
        match is not None, float(match is not None), fact, f"a match for /{value}/", f"no match for /{value}/"
    )


def _is_json(value: Any, output: str) -> Check:
    expected = "JSON matching the schema" if value is not None else "valid JSON"
    try:
        data, fenced = tc.parse_json_output(output)
    except ValueError as exc:
        return Check(False, 0.0, f"is not JSON: {exc}", expected)
    where = " inside a ```json fence" if fenced else ""
    if value is not None:
        import jsonschema

        error = jsonschema.exceptions.best_match(
            jsonschema.validators.validator_for(value)(value).iter_errors(data)
        )
        if error is not None:
            path = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.absolute_path)
            return Check(False, 0.0, f"JSON{where} breaks the schema at ${path}: {error.message}", expected)
        return Check(True, 1.0, f"JSON{where} matching the schema", expected)
    return Check(True, 1.0, f"valid JSON{where}", expected)


def _max_words(value: Any, output: str) -> Check:
    n = tc.words(output)
    return Check(n <= value, float(n <= value), f"has {n} words", f"at most {value}", f"more than {value}")


def _min_words(value: Any, output: str) -> Check:
    n = tc.words(output)
    return Check(n >= value, float(n >= value), f"has {n} words", f"at least {value}", f"fewer than {value}")


def _max_chars(value: Any, output: str) -> Check:
    n = len(output.strip())
    return Check(
        n <= value, float(n <= value), f"has {n} characters", f"at most {value}", f"more than {value}"
    )


def _bullet_count(value: Any, output: str) -> Check:
    n = tc.list_items(output)
    noun = "bullet point" if n == 1 else "bullet points"
    return Check(n == value, float(n == value), f"has {n} {noun}", f"exactly {value}", f"other than {value}")


def _no_markdown(value: Any, output: str) -> Check:
    found = tc.markdown_found(output)
    if not found:
        return Check(True, 1.0, "plain text, no markdown", "no markdown", "some markdown")
    listed = ", ".join(f"{kind} ({count})" for kind, count in found.items())
    return Check(False, 0.0, f"has markdown: {listed}", "plain text", "some markdown")


def _is_refusal(value: Any, output: str) -> Check:
    phrase = tc.refusal_phrase(output)
    if phrase is None:
        return Check(False, 0.0, "answers (no refusal phrase found)", "a refusal", "an answer, not a refusal")
    fact = "is empty, counted as a refusal" if phrase == "" else f"refuses ({tc.quoted(phrase)})"
    return Check(True, 1.0, fact, "a refusal", "an answer, not a refusal")


def _voice_friendly(value: Any, output: str) -> Check:
    limit = DEFAULT_VOICE_SECONDS if value is None else float(value)
    seconds = ff_voice.speaking_seconds(ff_voice.spoken_text(output))
    found = dict(tc.markdown_found(output))
    urls = len(ff_voice.bare_urls(output))
    if urls:
        found["URLs"] = urls
    problems = [f"{kind} ({count})" for kind, count in found.items()]
    if seconds > limit:
        problems.append(f"{seconds:.0f} s spoken")
    expected = f"plain spoken text under {limit:g} s"
    if problems:
        return Check(False, 0.0, f"not voice-friendly: {', '.join(problems)}", expected, "not voice-friendly")
    return Check(True, 1.0, f"voice-friendly, {seconds:.0f} s spoken", expected, "not voice-friendly")


def _fits_notification(value: Any, output: str) -> Check:
    value = value or {}
    phrase: str | None = value.get("phrase")
    platform: str = value.get("platform", ff_notification.DEFAULT_PLATFORM)
    platforms = list(ff_notification.PLATFORMS) if platform == "all" else [platform]
    target = f"the key phrase {tc.quoted(phrase, 30)}" if phrase else "the whole text"
    where = "every card" if platform == "all" else platform
    misses: list[str] = []
    if phrase and ff_notification.flatten(phrase).lower() not in ff_notification.flatten(output).lower():
        misses.append(f"the text has no {tc.quoted(phrase, 30)}")
        platforms = []
    for name in platforms:
        preview = ff_notification.notification_preview(output, name)
        if phrase:
            visible = ff_notification.flatten(phrase).lower() in preview.body_visible.lower()
        else:
            visible = not preview.truncated
        if not visible:
            misses.append(f"{name} cuts after {tc.quoted(preview.shown_body[-24:], 30)}")
    expected = f"{target} visible on {where}"
    if misses:
        return Check(False, 0.0, "; ".join(misses), expected, f"{target} cut on {where}")
    return Check(True, 1.0, f"{target} visible on {where}", expected, f"{target} cut on {where}")


def _canvas_opened(value: Any, output: str, tool_calls: Sequence[Mapping[str, Any]]) -> Check:
    opening = ff_canvas.canvas_opened(output, tool_calls)
    want = "" if value is None else str(value)
    expected = f"a canvas titled like {tc.quoted(want, 30)}" if want else "a canvas to open"
    expected_not = f"no canvas titled like {tc.quoted(want, 30)}" if want else "no canvas"
    if not opening.opened:
        return Check(False, 0.0, "opened no canvas", expected, expected_not)
    how = "by an open_canvas call" if opening.via == "tool" else "by the [canvas: ] marker"
    fact = f"opened canvas {tc.quoted(opening.title, 40)} {how}"
    ok = want.lower() in opening.title.lower()
    return Check(ok, float(ok), fact, expected, expected_not)


_CHECKS: dict[str, Callable[[Any, str], Check]] = {
    "equals": _equals,
    "contains": _contains(False),
    "icontains": _contains(True),
    "contains-any": _contains_many(False, False),
    "contains-all": _contains_many(True, False),
    "icontains-any": _contains_many(False, True),
    "icontains-all": _contains_many(True, True),
    "starts-with": _starts_with,
    "regex": _regex,
    "is-json": _is_json,
    "max-words": _max_words,
    "min-words": _min_words,
    "max-chars": _max_chars,
    "bullet-count": _bullet_count,
    "no-markdown": _no_markdown,
    "is-refusal": _is_refusal,
    "voice-friendly": _voice_friendly,
    "fits-notification": _fits_notification,
}


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0 for a zero vector. Raises GradingError on mismatched sizes."""
    if len(a) != len(b):
        raise GradingError(f"embedding sizes differ ({len(a)} vs {len(b)})")
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


async def _similar(a: Assertion, output: str, graders: Graders) -> Check:
    if graders.embed is None:
        raise GradingError("no embedding model is configured for `similar`")
    references = as_texts(a.value)
    threshold = DEFAULT_SIMILARITY if a.threshold is None else a.threshold
    vectors = await graders.embed([output, *references])
    if len(vectors) != len(references) + 1:
        raise GradingError(
            f"the embedding model returned {len(vectors)} vectors for {len(references) + 1} texts"
        )
    best = max(cosine(vectors[0], v) for v in vectors[1:])
    which = "the reference" if len(references) == 1 else "the closest reference"
    return Check(
        best >= threshold,
        max(best, 0.0),
        f"similarity {best:.2f} to {which}",
        f"at least {threshold:.2f}",
        f"below {threshold:.2f}",
    )


async def _rubric(a: Assertion, output: str, graders: Graders, prompt: str) -> Check:
    if graders.judge is None:
        raise GradingError("no judge model is configured for `llm-rubric`")
    messages = (custom_rubric_messages(a.rubric_prompt, str(a.value), output) if a.rubric_prompt
                else rubric_messages(str(a.value), output, prompt))
    answer = await graders.judge(a.judge, messages)
    try:
        verdict = parse_verdict(answer)
    except ValueError as exc:
        raise GradingError(str(exc)) from None
    passed = verdict.passed
    score = float(passed) if verdict.score is None else verdict.score
    if verdict.score is not None and a.threshold is not None:
        passed = verdict.score >= a.threshold
    why = verdict.reason or "no reason given"
    return Check(passed, score, f"judge: {why}", "the rubric to pass", "the rubric to fail")


def _latency(value: Any, metrics: RunMetrics) -> Check:
    limit = float(value)
    if metrics.latency_ms is None:
        return Check(False, 0.0, "latency unknown", f"at most {limit:g} ms")
    ok = metrics.latency_ms <= limit
    return Check(ok, float(ok), f"took {metrics.latency_ms:.0f} ms", f"at most {limit:g} ms",
                 f"more than {limit:g} ms")


def _cost(value: Any, metrics: RunMetrics) -> Check:
    limit = float(value)
    if metrics.cost_usd is None:
        return Check(False, 0.0, "cost unknown (no price for this model)", f"at most ${limit:g}")
    ok = metrics.cost_usd <= limit
    fact = f"cost ${metrics.cost_usd:.6f}"
    return Check(ok, float(ok), fact, f"at most ${limit:g}", f"more than ${limit:g}")


_METRIC_CHECKS: dict[str, Callable[[Any, RunMetrics], Check]] = {"latency": _latency, "cost": _cost}
