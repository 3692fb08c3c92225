"""Export a prototype as an openai/evals registry: eval specs (YAML) plus samples (JSONL).

The layout is the one `oaieval --registry_path DIR` reads:

    DIR/evals/<name>.yaml             specs: `<eval>: {id: <eval>.dev.v0}`, `<eval>.dev.v0: {class, args}`
    DIR/eval_sets/<name>.yaml         every eval of the prototype, for `oaievalset`
    DIR/data/<name>/<profile>-<kind>.jsonl   samples: `{"input": [chat messages], "ideal": ...}`

A sample's `input` is exactly what Protostudio sends (system message included), so each
profile gets its own evals. openai/evals grades one check per sample, so each assertion
becomes one sample (a `contains-all` one per value). Mapping, by the basic templates:

- `starts-with`, `equals` -> `evals.elsuite.basic.match:Match` (output starts with `ideal`;
  `equals` is looser there);
- `contains`, `contains-any`, `contains-all` -> `evals.elsuite.basic.includes:Includes`;
  the `icontains` family -> the same with `ignore_case: true`;
- `is-json` -> `evals.elsuite.basic.json_validator:JsonValidator` (a schema is not checked);
- `llm-rubric` -> `evals.elsuite.modelgraded.classify:ModelBasedClassify` with the `closedqa`
  spec, one eval per rubric text (the rubric is the criterion).

Values are rendered with the case's vars first (openai/evals has no templating). Negated
assertions, the other types and a case's `threshold` (a pass on the weighted score; each
sample is graded on its own there) have no basic equivalent; each is named in the notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from app.core.evals.assertions import AssertionSpecError, as_texts, render_assertion, split_type
from app.core.exports import BuildMessages, ExportError, ExportResult, slug
from app.core.exports.recorded import recorded_threads
from app.core.messages import as_openai
from app.core.prototype import Assertion, Case, Profile, Prototype
from app.core.yamlio import dump

MATCH = "evals.elsuite.basic.match:Match"
INCLUDES = "evals.elsuite.basic.includes:Includes"
JSON_VALIDATOR = "evals.elsuite.basic.json_validator:JsonValidator"
MODEL_GRADED = "evals.elsuite.modelgraded.classify:ModelBasedClassify"

_KINDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # Protostudio type -> (eval kind, class, extra args)
    "starts-with": ("match", MATCH, {}),
    "equals": ("match", MATCH, {}),
    "contains": ("includes", INCLUDES, {}),
    "contains-any": ("includes", INCLUDES, {}),
    "contains-all": ("includes", INCLUDES, {}),
    "icontains": ("includes-ignore-case", INCLUDES, {"ignore_case": True}),
    "icontains-any": ("includes-ignore-case", INCLUDES, {"ignore_case": True}),
    "icontains-all": ("includes-ignore-case", INCLUDES, {"ignore_case": True}),
    "is-json": ("json", JSON_VALIDATOR, {}),
}


def export_openai_evals(
    proto: Prototype, build_messages: BuildMessages, *, profiles: Iterable[str] | None = None
) -> ExportResult:
    """Registry files for `proto`; `profiles` limits which profiles get evals (default: all)."""
    chosen = _chosen_profiles(proto, profiles)
    result = ExportResult()
    name = slug(proto.name, "prototype")
    specs: dict[str, Any] = {}
    eval_names: list[str] = []
    for profile in chosen:
        samples: dict[str, list[dict[str, Any]]] = {}
        kinds: dict[str, tuple[str, dict[str, Any], str]] = {}
        rubrics: dict[str, str] = {}
        for case in proto.cases:
            if case.threshold is not None:
                result.notes.append(
                    f"case {case.id!r}: threshold {case.threshold:g} (pass on the weighted score) is not "
                    "exported: openai/evals grades each sample on its own, so weights and thresholds are lost"
                )
            for model_id, messages in _inputs(proto, case, profile, build_messages, result):
                for assertion in [*proto.default_assert, *case.assert_]:
                    _add(assertion, case, profile=profile, messages=messages, samples=samples, kinds=kinds,
                         rubrics=rubrics, result=result, model=model_id)
        for kind, rows in samples.items():
            eval_name = f"{name}-{slug(profile.id)}-{kind}"
            data_path = f"{name}/{slug(profile.id)}-{kind}.jsonl"
            klass, extra, description = kinds[kind]
            specs[eval_name] = {"id": f"{eval_name}.dev.v0", "description": description,
                                "metrics": ["accuracy"]}
            specs[f"{eval_name}.dev.v0"] = {"class": klass, "args": {"samples_jsonl": data_path, **extra}}
            lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            result.files[f"data/{data_path}"] = "".join(lines)
            eval_names.append(eval_name)
    if not specs:
        raise ExportError("no assertion maps to an openai/evals basic template (see the notes)"
                          if result.notes else "the prototype has no assertions to export")
    result.notes = list(dict.fromkeys(result.notes))  # the same case note comes once per profile
    result.files[f"evals/{name}.yaml"] = _header(name, eval_names[0]) + dump(specs)
    result.files[f"eval_sets/{name}.yaml"] = dump({name: {"evals": eval_names}})
    result.summary = (f"openai-evals: {len(eval_names)} evals, "
                      f"{sum(f.startswith('data/') for f in result.files)} sample files")
    return result


def _chosen_profiles(proto: Prototype, wanted: Iterable[str] | None) -> list[Profile]:
    if not proto.profiles:
        raise ExportError("the prototype has no profiles")
    if wanted is None:
        return list(proto.profiles)
    chosen = []
    for profile_id in wanted:
        try:
            chosen.append(proto.profile(profile_id))
        except KeyError as exc:
            raise ExportError(str(exc.args[0])) from None
    return chosen


def _inputs(
    proto: Prototype, case: Case, profile: Profile, build_messages: BuildMessages, result: ExportResult
) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """The sample inputs of one case and profile: what a run sends; for a simulated case, each model's
    recorded conversation up to its last user message (the model answers that), else its fixed turns."""
    if case.simulated_user is None:
        return [(None, [as_openai(m) for m in build_messages(profile, case)])]
    threads = recorded_threads(proto, case.id, profile.id)
    if threads:
        return [(model_id, [as_openai(m) for m in messages[:-1]]) for model_id, messages in threads]
    if not case.turns:
        result.notes.append(f"case {case.id!r}: its simulated user has not run with profile {profile.id!r} "
                            "and it has no fixed turns, so it has no sample; run it first")
        return []
    result.notes.append(f"case {case.id!r}: its simulated user has not run with profile {profile.id!r}; "
                        "the samples hold its fixed turns only (run it to export the conversation)")
    return [(None, [as_openai(m) for m in build_messages(profile, case)])]


def _add(
    assertion: Assertion, case: Case, *, profile: Profile, messages: list[dict[str, Any]],
    samples: dict[str, list[dict[str, Any]]], kinds: dict[str, tuple[str, dict[str, Any], str]],
    rubrics: dict[str, str], result: ExportResult, model: str | None = None,
) -> None:
    where = f"case {case.id!r}"
    assertion = render_assertion(assertion, case.vars)  # openai/evals has no templating: fill vars now
    try:
        base, negated = split_type(assertion.type)
    except AssertionSpecError:
        result.notes.append(f"{where}: unknown assertion type {assertion.type!r}, not exported")
        return
    if negated or (base not in _KINDS and base != "llm-rubric"):
        result.notes.append(f"{where}: `{assertion.type}` has no openai/evals basic template, not exported")
        return
    meta: dict[str, Any] = {"case": case.id, "assertion": assertion.type}
    if model is not None:  # a simulated conversation as that model's thread recorded it
        meta["conversation_of"] = model
    if case.simulated_user is not None and assertion.turn != "last":
        result.notes.append(f"{where}: `{assertion.type}` turn: {assertion.turn} becomes a check of the last "
                            "reply: an openai/evals sample grades one answer")
    if base == "llm-rubric":
        rubric = str(assertion.value)
        kind = rubrics.setdefault(rubric, f"rubric-{len(rubrics) + 1}")
        kinds[kind] = (MODEL_GRADED, {
            "eval_type": "cot_classify", "modelgraded_spec": "closedqa",
            "modelgraded_spec_args": {"criteria": {"rubric": f"rubric: {rubric.strip()}"}},
        }, f"{profile.id}: graded by a model against a rubric")
        samples.setdefault(kind, []).append({"input": messages, "metadata": meta})
        return
    kind, klass, extra = _KINDS[base]
    kinds[kind] = (klass, extra, f"{profile.id}: {kind} checks")
    if base == "is-json":
        if assertion.value is not None:
            result.notes.append(f"{where}: is-json schema is not checked by JsonValidator (only valid JSON)")
        samples.setdefault(kind, []).append({"input": messages, "ideal": "", "metadata": meta})
        return
    values = as_texts(assertion.value)
    groups = [[v] for v in values] if base.endswith("-all") else [values]
    if base == "equals":
        result.notes.append(f"{where}: `equals` becomes Match, which also accepts longer outputs "
                            "starting with the value")
    for ideal in groups:
        samples.setdefault(kind, []).append({"input": messages, "ideal": ideal, "metadata": meta})


def _header(name: str, first: str) -> str:
    return (
        "# openai/evals registry generated by `protostudio export --to openai-evals`.\n"
        f"# Run one eval:  oaieval gpt-4o-mini {first} --registry_path .\n"
        f"# The eval set `{name}` (eval_sets/{name}.yaml) lists them all, for oaievalset.\n"
    )
