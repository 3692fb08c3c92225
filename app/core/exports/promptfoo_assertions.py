"""Protostudio assertions <-> promptfoo assertions, both ways, saying where the two differ.

Most types have a promptfoo type of the same name. The ones that do not (`max-chars`,
`bullet-count`, `no-markdown`, the form-factor checks `voice-friendly`, `fits-notification` and
`canvas-opened`, and regexes using Python-only syntax) become promptfoo `javascript` checks with
the same logic and figures; their code starts with a `// protostudio: {...}`
line holding the original assertion, so an import restores it exactly. `max-words` and
`min-words` become promptfoo's `word-count` with `max` / `min`.

promptfoo renders a test's vars into assertion values, and so does Protostudio's grader; texts
are written as Nunjucks (see `promptfoo_template.text_template`) so both render them alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.core import jsontext
from app.core.evals import textchecks, transforms
from app.core.evals.assertions import (
    DEFAULT_SIMILARITY,
    DEFAULT_VOICE_SECONDS,
    AssertionSpecError,
    check_assertion,
    split_type,
)
from app.core.exports.promptfoo_replies import read_last_reply_transform
from app.core.exports.promptfoo_template import parse_text, text_template
from app.core.formfactors import notification, voice
from app.core.prototype import Assertion

MARKER = "// protostudio: "
"""First line of a javascript check generated from a Protostudio assertion."""

SAME_NAME = frozenset({
    "equals", "contains", "icontains", "contains-any", "contains-all", "icontains-any", "icontains-all",
    "starts-with", "regex", "is-json", "is-refusal", "similar", "llm-rubric",
})
"""Types promptfoo has under the same name (each also with `not-`)."""

_TEXTS = frozenset({"contains-any", "contains-all", "icontains-any", "icontains-all"})

CAVEATS: dict[str, str] = {
    "equals": "promptfoo compares the output exactly; Protostudio ignores whitespace around it",
    "starts-with": "promptfoo does not skip leading whitespace; Protostudio does",
    "is-json": "Protostudio also accepts JSON inside a lone ```json fence; promptfoo does not",
    "is-refusal": "promptfoo uses its own refusal phrase list, which differs from Protostudio's",
    "similar": "promptfoo embeds with its default embedding provider (OpenAI); export with --embedder "
               "to pick one",
    "canvas-opened": "reads an open_canvas call from promptfoo's output when the provider returns tool "
                     "calls (an array, or a message with `tool_calls`), else the leading [canvas: title]",
}


@dataclass
class Mapped:
    """One promptfoo assertion and the YAML comments to write above it."""

    data: dict[str, Any]
    comments: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Grading:
    """Which promptfoo providers grade: chat providers by target id, the default judge, the embedder."""

    providers: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    default_judge: str | None = None
    embedder: dict[str, Any] | None = None
    embedder_label: str = ""


def to_promptfoo(assertion: Assertion, grading: Grading) -> Mapped | None:
    """The promptfoo form of an assertion, or None when its type is unknown."""
    if assertion.disabled:
        return _disabled(assertion)
    try:
        base, negated = split_type(assertion.type)
    except AssertionSpecError:
        return None
    if base in ("latency", "cost"):
        metric: dict[str, Any] = {"type": assertion.type, "threshold": assertion.value}
        return Mapped(_extras(metric, assertion), [assertion.description] if assertion.description else [])
    prefix = "not-" if negated else ""
    comments = [assertion.description] if assertion.description else []
    value = assertion.value
    data: dict[str, Any]
    if base == "regex":
        js = _regex_to_js(str(value))
        if js is None:
            data = {"type": assertion.type, "value": str(value)}
        else:
            data = {"type": prefix + "javascript", "value": _marked(base, value, js)}
            comments.append("Python regex syntax translated to a JavaScript RegExp")
    elif base in SAME_NAME:
        data = {"type": assertion.type}
        if base in _TEXTS:
            data["value"] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        elif base in ("is-json", "similar"):
            if value is not None:
                data["value"] = value
        elif value is not None:
            data["value"] = str(value)
        if base in CAVEATS:
            comments.append(CAVEATS[base])
    elif base == "valid-tool-call":
        data = {"type": prefix + "is-valid-openai-tools-call"}
        comments.append("promptfoo checks every call against the provider's `tools`"
                        + (f", not only calls to {value}" if value is not None else ""))
    elif base in ("max-words", "min-words"):
        data = {"type": prefix + "word-count", "value": {("max" if base == "max-words" else "min"): value}}
    else:
        code = _JS[base](value)
        data = {"type": prefix + "javascript", "value": _marked(base, value, code)}
        comments.append(f"promptfoo has no `{base}`: a javascript check with Protostudio's logic")
        if base in CAVEATS:
            comments.append(CAVEATS[base])
    unfillable = as_templates(data)
    if unfillable:
        names = ", ".join(f"{{{{{n}}}}}" for n in dict.fromkeys(unfillable))
        comments.append(f"{names} cannot be a Nunjucks variable, so promptfoo checks it as written "
                        "while Protostudio fills it from the case's vars")
    if base == "similar":
        data["threshold"] = DEFAULT_SIMILARITY if assertion.threshold is None else assertion.threshold
    elif assertion.threshold is not None:
        data["threshold"] = assertion.threshold
    if assertion.weight != 1.0:
        data["weight"] = assertion.weight
    if base == "llm-rubric":
        judge = assertion.judge or grading.default_judge
        provider = grading.providers.get(judge) if judge else None
        if provider is not None:
            data["provider"] = provider
            comments.append(f"graded by model target {judge!r}")
        elif judge:
            comments.append(f"judge {judge!r} could not be exported; promptfoo uses its default grader")
        else:
            comments.append("no judge set: promptfoo uses its default grading provider "
                            "(export with --judge TARGET to pick one)")
    if base == "similar" and grading.embedder is not None:
        data["provider"] = grading.embedder
        comments = [c for c in comments if c != CAVEATS["similar"]]
        comments.append(f"embedded with {grading.embedder_label}")
    return Mapped(_extras(data, assertion), comments)


def _extras(data: dict[str, Any], assertion: Assertion) -> dict[str, Any]:
    """promptfoo's own fields an assertion kept from an import: `metric`, `transform`, `rubricPrompt`."""
    if assertion.metric:
        data["metric"] = assertion.metric
    if assertion.transform is not None:
        data["transform"] = assertion.transform
    if assertion.rubric_prompt is not None:
        data["rubricPrompt"] = assertion.rubric_prompt
    return data


def _disabled(assertion: Assertion) -> Mapped:
    """A check Protostudio keeps but cannot run (imported `javascript`/`python`): written back as it came."""
    data: dict[str, Any] = {"type": assertion.type}
    if assertion.value is not None:
        data["value"] = assertion.value
    if assertion.threshold is not None:
        data["threshold"] = assertion.threshold
    if assertion.weight != 1.0:
        data["weight"] = assertion.weight
    comments = [assertion.description] if assertion.description else []
    comments.append(f"kept from the imported config; Protostudio does not run `{assertion.type}` checks")
    return Mapped(_extras(data, assertion), comments)


def as_templates(data: dict[str, Any]) -> list[str]:
    """Make the value's texts Nunjucks that promptfoo renders, with a test's vars, into exactly what
    Protostudio's grader checks (`{{var}}` filled, unknown ones kept, other braces literal).
    Returns the placeholder names Nunjucks cannot fill. JSON Schemas and numbers are not rendered
    by either tool."""
    value = data.get("value")
    unfillable: list[str] = []

    def one(text: str) -> str:
        template, names = text_template(text)
        unfillable.extend(names)
        return template

    if isinstance(value, str):
        data["value"] = one(value)
    elif isinstance(value, list):
        data["value"] = [one(v) if isinstance(v, str) else v for v in value]
    return unfillable


def _from_templates(value: Any) -> Any:
    """The inverse of `_as_templates` for a value read from a config."""
    if isinstance(value, str):
        return parse_text(value)
    if isinstance(value, list):
        return [parse_text(v) if isinstance(v, str) else v for v in value]
    return value


def _marked(base: str, value: Any, code: str) -> str:
    original: dict[str, Any] = {"type": base}
    if value is not None:
        original["value"] = value
    return MARKER + json.dumps(original, ensure_ascii=False) + "\n" + code


def _js_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _js_flags(pattern: re.Pattern[str]) -> str:
    return "m" if pattern.flags & re.MULTILINE else ""


def _max_chars(value: Any) -> str:
    return f"return [...output.trim()].length <= {int(value)};"


def _bullet_count(value: Any) -> str:
    pattern = textchecks.MARKDOWN_PATTERNS["list items"].pattern
    return f"return (output.match(new RegExp({_js_string(pattern)}, 'gm')) || []).length === {int(value)};"


def _no_markdown(value: Any) -> str:
    del value
    rows = ",\n".join(
        f"  [{_js_string(name)}, {_js_string(p.pattern)}, {_js_string(_js_flags(p))}]"
        for name, p in textchecks.MARKDOWN_PATTERNS.items()
    )
    return (
        f"const patterns = [\n{rows}\n];\n"
        "const found = patterns.filter(([, source, flags]) => new RegExp(source, flags).test(output));\n"
        "return { pass: found.length === 0, score: found.length === 0 ? 1 : 0,\n"
        "  reason: found.length ? 'has markdown: ' + found.map(([name]) => name).join(', ') : 'plain text' };"
    )


_OUTPUT_TEXT = "const text = typeof output === 'string' ? output : JSON.stringify(output);\n"


def _voice_friendly(value: Any) -> str:
    limit = DEFAULT_VOICE_SECONDS if value is None else float(value)
    rows = ",\n".join(
        f"  [{_js_string(name)}, {_js_string(p.pattern)}, {_js_string(_js_flags(p))}]"
        for name, p in textchecks.MARKDOWN_PATTERNS.items()
    )
    return (
        _OUTPUT_TEXT
        + f"const maxSeconds = {limit:g};\nconst wordsPerMinute = {voice.SPEAKING_WPM};\n"
        f"const patterns = [\n{rows}\n];\n"
        "const found = patterns.filter(([, source, flags]) => new RegExp(source, flags).test(text))\n"
        "  .map(([name]) => name);\n"
        f"if (new RegExp({_js_string(voice.URL_RE.pattern)}).test(text)) found.push('URLs');\n"
        "const words = text.split(/\\s+/).filter((t) => /[\\p{L}\\p{N}]/u.test(t)).length;\n"
        "const seconds = words * 60 / wordsPerMinute;\n"
        "if (seconds > maxSeconds) found.push(Math.round(seconds) + ' s spoken');\n"
        "return { pass: found.length === 0, score: found.length === 0 ? 1 : 0,\n"
        "  reason: found.length ? 'not voice-friendly: ' + found.join(', ')\n"
        "    : 'voice-friendly, ' + Math.round(seconds) + ' s spoken' };"
    )


def _fits_notification(value: Any) -> str:
    value = value or {}
    platform = value.get("platform", notification.DEFAULT_PLATFORM)
    names = list(notification.PLATFORMS) if platform == "all" else [platform]
    limits = {name: notification.PLATFORMS[name].body_chars for name in names}
    phrase = value.get("phrase")
    return (
        _OUTPUT_TEXT
        + f"const limits = {json.dumps(limits)};\n"
        f"const phrase = {_js_string(notification.flatten(phrase)) if phrase else 'null'};\n"
        "const flat = text.split(/\\s+/).filter(Boolean).join(' ');\n"
        "const chars = [...flat];\n"
        "const misses = Object.entries(limits).filter(([, limit]) => {\n"
        "  const cut = chars.length > limit;\n"
        "  const visible = cut ? chars.slice(0, Math.max(limit - 1, 0)).join('').trimEnd() : flat;\n"
        "  return phrase === null ? cut : !visible.toLowerCase().includes(phrase.toLowerCase());\n"
        "}).map(([name]) => name);\n"
        "return { pass: misses.length === 0, score: misses.length === 0 ? 1 : 0,\n"
        "  reason: misses.length ? 'cut on ' + misses.join(', ') : 'visible on every card checked' };"
    )


def _canvas_opened(value: Any) -> str:
    want = "null" if value is None else _js_string(str(value))
    return (
        f"const want = {want};\n"
        "let text = '';\nlet calls = [];\n"
        "if (typeof output === 'string') text = output;\n"
        "else if (Array.isArray(output)) calls = output;\n"
        "else if (output && typeof output === 'object') {\n"
        "  calls = Array.isArray(output.tool_calls) ? output.tool_calls : [];\n"
        "  text = typeof output.content === 'string' ? output.content : '';\n"
        "}\n"
        "let opened = false;\nlet title = '';\n"
        "for (const call of calls) {\n"
        "  const fn = call && call.function && typeof call.function === 'object' ? call.function : call;\n"
        f"  if (!fn || fn.name !== {_js_string('open_canvas')}) continue;\n"
        "  let args = fn.arguments;\n"
        "  if (typeof args === 'string') { try { args = JSON.parse(args); } catch (e) { args = null; } }\n"
        "  const t = args && typeof args === 'object' && !Array.isArray(args) ? args.title : undefined;\n"
        "  opened = true;\n  title = t === undefined || t === null ? '' : String(t).trim();\n  break;\n"
        "}\n"
        "if (!opened) {\n"
        "  const m = /^\\s*\\[canvas:[ \\t]*([^\\]\\n]*?)[ \\t]*\\]/.exec(text);\n"
        "  if (m && m[1]) { opened = true; title = m[1]; }\n"
        "}\n"
        "const pass = opened && (want === null || title.toLowerCase().includes(want.toLowerCase()));\n"
        "return { pass, score: pass ? 1 : 0,\n"
        "  reason: opened ? 'opened canvas ' + JSON.stringify(title) : 'opened no canvas' };"
    )


def _tool_call(value: Any, *, none: bool) -> str:
    name = value if isinstance(value, str) else value.get("name") if isinstance(value, dict) else None
    wanted = value.get("arguments") if isinstance(value, dict) else None
    return (
        f"const want = {'null' if name is None else _js_string(str(name))};\n"
        f"const wantArgs = {'null' if wanted is None else json.dumps(wanted, ensure_ascii=False)};\n"
        "let calls = [];\n"
        "if (Array.isArray(output)) calls = output;\n"
        "else if (output && typeof output === 'object' && Array.isArray(output.tool_calls)) "
        "calls = output.tool_calls;\n"
        "const subset = (e, a) => {\n"
        "  if (Array.isArray(e)) return Array.isArray(a) && e.every((x) => a.some((y) => subset(x, y)));\n"
        "  if (e && typeof e === 'object') return !!a && typeof a === 'object' && !Array.isArray(a)\n"
        "    && Object.keys(e).every((k) => k in a && subset(e[k], a[k]));\n"
        "  return e === a;\n"
        "};\n"
        "let found = null;\n"
        "for (const call of calls) {\n"
        "  const fn = call && call.function && typeof call.function === 'object' ? call.function : call;\n"
        "  if (!fn || (want !== null && fn.name !== want)) continue;\n"
        "  let args = fn.arguments;\n"
        "  if (typeof args === 'string') {\n"
        "    try { args = JSON.parse(args || '{}'); } catch (e) { args = null; }\n"
        "  }\n"
        "  if (wantArgs !== null && !subset(wantArgs, args)) continue;\n"
        "  found = fn.name;\n  break;\n"
        "}\n"
        f"const pass = {'found === null' if none else 'found !== null'};\n"
        "return { pass, score: pass ? 1 : 0,\n"
        "  reason: found !== null ? 'called ' + found : 'no matching tool call' };"
    )


_JS: dict[str, Callable[[Any], str]] = {
    "max-chars": _max_chars,
    "bullet-count": _bullet_count,
    "no-markdown": _no_markdown,
    "voice-friendly": _voice_friendly,
    "fits-notification": _fits_notification,
    "canvas-opened": _canvas_opened,
    "tool-call": lambda value: _tool_call(value, none=False),
    "no-tool-call": lambda value: _tool_call(value, none=True),
}

def javascript_body(base: str, value: Any) -> str | None:
    """The JavaScript (a function body over `output`) the export writes for a check promptfoo has no
    type for, or for a Python-only regex; None when there is none. Shared with the per-reply checks
    of simulated conversations (`promptfoo_simulated.py`)."""
    if base == "regex":
        return _regex_to_js(str(value))
    make = _JS.get(base)
    return make(value) if make is not None else None


_INLINE_FLAGS_RE = re.compile(r"^\(\?([aiLmsux]+)\)")


def _regex_to_js(pattern: str) -> str | None:
    """JavaScript for a Python regex that JS reads differently; None when promptfoo's `regex` is exact."""
    flags = ""
    body = pattern
    match = _INLINE_FLAGS_RE.match(body)
    if match:
        flags = "".join(sorted({c for c in match.group(1) if c in "ims"}))
        body = body[match.end():]
    body = body.replace("(?P<", "(?<")
    body = re.sub(r"\(\?P=(\w+)\)", r"\\k<\1>", body)
    body = body.replace("\\Z", "$(?![\\s\\S])").replace("\\A", "^(?<![\\s\\S])")
    if body == pattern:
        return None
    return f"return new RegExp({_js_string(body)}, {_js_string(flags)}).test(output);"


# -- import -----------------------------------------------------------------------------------------

JudgeOf = Callable[[Any], str | None]
"""A promptfoo grading provider (string or object) -> the model target id it matches, if any."""


KEPT_KEYS = ("type", "value", "threshold", "weight", "metric", "transform", "rubricPrompt", "provider")
"""Assertion keys the import keeps; any other is named as dropped."""


def from_promptfoo(item: Any, judge_of: JudgeOf) -> tuple[list[Assertion], list[str]]:
    """Protostudio assertions for one promptfoo assertion, and what was dropped or kept disabled
    (one line each). Checks Protostudio cannot run (`javascript`, `python`, model-graded types it lacks,
    unknown transforms) are kept as disabled assertions with their source, so exporting writes them back."""
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        return [], [f"assertion {_short(item)}: not a mapping with a `type`"]
    kind: str = item["type"]
    negated = kind.startswith("not-")
    base = kind[4:] if negated else kind
    prefix = "not-" if negated else ""
    dropped: list[str] = [f"assertion {kind}: `{key}` dropped (no Protostudio equivalent)"
                          for key in item if key not in KEPT_KEYS]
    common: dict[str, Any] = {}
    if isinstance(item.get("weight"), int | float) and not isinstance(item.get("weight"), bool):
        common["weight"] = float(item["weight"])
    if isinstance(item.get("metric"), str):
        common["metric"] = item["metric"]
    rubric_prompt = item.get("rubricPrompt")
    if rubric_prompt is not None:
        common["rubric_prompt"] = (rubric_prompt if isinstance(rubric_prompt, str)
                                   else json.dumps(rubric_prompt, ensure_ascii=False))
    threshold = item.get("threshold")
    transform = item.get("transform")
    last_reply, own = read_last_reply_transform(transform)
    if last_reply:  # the export's pick of a simulated conversation's last reply: turn: last, the default
        transform = own
    if transform is not None:
        known = transforms.known(transform) if isinstance(transform, str) else None
        if known is None:
            return _kept_disabled(item, common, f"uses `transform: {_short(transform)}`, which is not one of "
                                  "the simple forms Protostudio applies", dropped)
        common["transform"] = transform
    value = _from_templates(item.get("value"))
    made: list[dict[str, Any]] = []
    if base == "javascript":
        original = _unmark(value)
        if original is None:
            return _kept_disabled(item, common, "custom JavaScript cannot run in Protostudio", dropped)
        restored: dict[str, Any] = {"type": prefix + original["type"], "value": original.get("value")}
        if original.get("turn") in ("any", "all"):
            restored["turn"] = original["turn"]
        made.append(restored)
    elif base == "python":
        return _kept_disabled(item, common, "custom Python cannot run in Protostudio", dropped)
    elif base == "is-valid-openai-tools-call":
        made.append({"type": prefix + "valid-tool-call", "value": None})
    elif base in ("latency", "cost"):
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            return [], [*dropped, f"assertion {kind}: needs a numeric `threshold`"]
        made.append({"type": kind, "value": threshold})
        threshold = None
    elif base == "word-count":
        made, problem = _word_count(value, negated)
        if problem:
            return _kept_disabled(item, common, problem, dropped)
    elif base in SAME_NAME or base == "similar:cosine":
        base = "similar" if base == "similar:cosine" else base
        converted, problem = _value_for(base, value)
        if problem:
            return _kept_disabled(item, common, problem, dropped)
        entry: dict[str, Any] = {"type": prefix + base, "value": converted}
        if base == "similar" and item.get("threshold") is None:
            entry["threshold"] = PROMPTFOO_SIMILARITY
        if base == "similar" and "provider" in item:
            dropped.append(f"assertion {kind}: embedding provider dropped (pick one per eval run with "
                           "`protostudio eval --embedder`)")
        if base == "llm-rubric" and "provider" in item:
            judge = judge_of(item["provider"])
            if judge is None:
                dropped.append(f"assertion {kind}: grading provider {_short(item['provider'])} matches no "
                               "model target; the default judge will grade it")
            entry["judge"] = judge
        made.append(entry)
    else:
        return _kept_disabled(item, common, "Protostudio has no such check", dropped)
    result: list[Assertion] = []
    for entry in made:
        if isinstance(threshold, int | float) and not isinstance(threshold, bool):
            entry["threshold"] = float(threshold)
        try:
            assertion = Assertion.model_validate({**entry, **common})
            check_assertion(assertion)
        except (ValueError, AssertionSpecError) as exc:
            return _kept_disabled(item, common, _first_line(str(exc)), dropped)
        result.append(assertion)
    return result, dropped


PROMPTFOO_SIMILARITY = 0.75
"""promptfoo's `similar` passes at cosine >= 0.75 unless it sets `threshold` (Protostudio's default is
higher), so an import without one says 0.75 to keep promptfoo's verdicts."""


def _kept_disabled(item: dict[str, Any], common: dict[str, Any], why: str,
                   dropped: list[str]) -> tuple[list[Assertion], list[str]]:
    """The assertion as written (type, value, threshold, transform...), disabled, and a line saying so."""
    data: dict[str, Any] = {"type": item["type"], "value": item.get("value"), "disabled": True,
                            **{k: v for k, v in common.items() if k != "transform"}}
    if isinstance(item.get("transform"), str):
        data["transform"] = item["transform"]
    threshold = item.get("threshold")
    if isinstance(threshold, int | float) and not isinstance(threshold, bool):
        data["threshold"] = float(threshold)
    note = f"assertion {item['type']}: kept disabled ({why}); exported back to promptfoo unchanged"
    try:
        return [Assertion.model_validate(data)], [*dropped, note]
    except ValueError:
        return [], [*dropped, f"assertion {item['type']}: {why}; dropped"]


def _unmark(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str) or not value.startswith(MARKER):
        return None
    try:
        original = jsontext.loads(value[len(MARKER):].split("\n", 1)[0])
    except ValueError:
        return None
    return original if isinstance(original, dict) and isinstance(original.get("type"), str) else None


def _word_count(value: Any, negated: bool) -> tuple[list[dict[str, Any]], str | None]:
    prefix = "not-" if negated else ""
    if isinstance(value, dict):
        bounds = [(k, value[k]) for k in ("min", "max") if value.get(k) is not None]
        if not bounds or any(isinstance(v, bool) or not isinstance(v, int) for _, v in bounds):
            return [], "word-count needs whole-number `min` and/or `max`"
        if negated and len(bounds) == 2:
            return [], "not-word-count with both min and max has no Protostudio equivalent"
        return [{"type": prefix + f"{k}-words", "value": v} for k, v in bounds], None
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit() and not negated:
        n = int(value)
        return [{"type": "min-words", "value": n}, {"type": "max-words", "value": n}], None
    return [], "word-count with an exact or negated count has no Protostudio equivalent"


def _value_for(base: str, value: Any) -> tuple[Any, str | None]:
    if base in _TEXTS:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()], None
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return [str(v) for v in value], None
        return None, "needs a list of texts"
    if base == "is-json":
        if value is None or isinstance(value, dict):
            return value, None
        if isinstance(value, str) and not value.startswith("file://"):
            try:
                schema = yaml.safe_load(value)
            except yaml.YAMLError:
                return None, "schema is not valid YAML or JSON"
            return (schema, None) if isinstance(schema, dict) else (None, "schema is not a mapping")
        return None, "schema from a file is not supported"
    if base == "is-refusal":
        return None, None
    if base == "similar":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value, None
        return (str(value), None) if isinstance(value, str | int | float) else (None, "needs reference text")
    if isinstance(value, dict | list) or value is None:
        return None, "needs a text value"
    if isinstance(value, str) and value.startswith("file://"):
        return None, "values loaded from files are not supported"
    return str(value), None


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return textchecks.quoted(text, 50)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
