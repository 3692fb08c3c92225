"""Export a prototype as a `promptfooconfig.yaml` that promptfoo's own CLI runs unchanged.

- prompts: one per profile, a chat template holding the profile's whole system message as the
  engine builds it (see `promptfoo_template.py`);
- providers: one per model target, as promptfoo's OpenAI-compatible `openai:chat:<model>` with
  `apiBaseUrl` and `apiKeyEnvar` (the name of the env var, never a key);
- tests: one per case, with its vars, `messages` (its turns, rendered as Protostudio renders
  them), and its assertions mapped by `promptfoo_assertions.py`; `defaultTest` from `default_assert`.

Where promptfoo behaves differently, a YAML comment says so at that spot. A top-level
`metadata.protostudio` block keeps what promptfoo has no field for (how a profile's system
message was composed, the unrendered turns), so importing the file back loses nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from app.core.endpoints import key_host
from app.core.exports import BuildMessages, Endpoint, ExportError, ExportResult
from app.core.exports import promptfoo_simulated as simulated
from app.core.exports.promptfoo_assertions import Grading, Mapped, as_templates, to_promptfoo
from app.core.exports.promptfoo_replies import last_reply_transform
from app.core.exports.promptfoo_template import MESSAGES_VAR, build_template, with_simulated_branch
from app.core.prototype import Assertion, Case, ModelParams, ModelTarget, Profile, Prototype, Turn
from app.core.tools import request_params
from app.core.yamlio import dump

CONFIG_FILE = "promptfooconfig.yaml"
PROMPTFOO_VERSION = "0.121.20"
"""The promptfoo release the export is tested with (the newest that still runs on Node 20)."""
METADATA_KEY = "protostudio"
LOCAL_BASE_URL = "local:"


def export_promptfoo(
    proto: Prototype,
    build_messages: BuildMessages,
    endpoints: Mapping[str, Endpoint],
    *,
    source: str = "",
    base_urls: Mapping[str, str] | None = None,
    judge: str | None = None,
    embedder: str | None = None,
) -> ExportResult:
    """The promptfoo config for `proto`.

    `base_urls` overrides a target's endpoint by target id. `judge` (a target id) grades
    `llm-rubric` checks that name no judge; `embedder` (a target id) embeds for `similar`.
    """
    result = ExportResult()
    if not proto.profiles:
        raise ExportError("the prototype has no profiles, so there is no prompt to export")
    if not proto.cases:
        raise ExportError("the prototype has no cases, so there is no test to export")
    providers, judge_providers = _providers(proto.models, endpoints, base_urls or {}, result)
    if not providers:
        why = "; ".join(result.notes) or "the prototype has no model targets"
        raise ExportError(f"no model target could be exported: {why}")
    prompts, systems = _prompts(proto.profiles, build_messages, result)
    _prompt_tools(proto, prompts, result)
    if any(case.simulated_user is not None for case in proto.cases):
        for data, _ in prompts:  # promptfoo's simulated user sends the rendered prompt as the system text
            data["raw"] = with_simulated_branch(data["raw"])
        result.warnings.append(simulated.REMOTE_WARNING)
        if proto.default_assert:
            result.notes.append("default_assert: in promptfoo's simulated-user tests these checks see the "
                                "whole transcript, not the last reply (defaultTest applies to every test)")

    grading = _grading(proto, judge_providers, judge, embedder)
    default = [_mapped(a, grading, "default_assert", result) for a in proto.default_assert]
    tests = [_test(case, build_messages, grading, result) for case in proto.cases]

    ours: dict[str, Any] = {
        "format": 1,
        "name": proto.name,
        "profiles": [{**_dump(p), "system_sha256": text_digest(systems[p.id])} for p in proto.profiles],
        "models": [_dump(m) for m in proto.models],
    }
    if proto.tools:
        ours["tools"] = [t.model_dump(mode="json", exclude_defaults=True) for t in proto.tools]
    descriptions = _descriptions(proto.default_assert, default)
    if descriptions:
        ours["default_assert_descriptions"] = descriptions
    metadata = {METADATA_KEY: ours}
    out = [_header(proto, source)]
    out.append(dump({"description": proto.name}))
    out.append(dump({"metadata": metadata}))
    out.append("prompts:\n" + "".join(_item(data, comments, 2) for data, comments in prompts))
    out.append("providers:\n" + "".join(_item(data, comments, 2) for data, comments in providers))
    if any(m is not None for m in default):
        out.append("defaultTest:\n  assert:\n" + "".join(_assert_items(default, 4)))
    out.append("tests:\n" + "".join(_test_item(data, asserts) for data, asserts in tests))
    result.files[CONFIG_FILE] = "".join(out)
    return result


def text_digest(text: str) -> str:
    """A short fingerprint of a system message, to tell on import whether a prompt was edited."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _header(proto: Prototype, source: str) -> str:
    lines = [
        f"promptfoo config generated by `protostudio export --to promptfoo` from {source or proto.name!r}.",
        f"Run it unchanged: npx promptfoo@{PROMPTFOO_VERSION} eval -c {CONFIG_FILE}",
        "Each prompt is one profile: its whole system message as Protostudio sends it (system prompt,",
        "custom instructions, behavior spec, form factor), with {{var}} filled from each test's vars.",
        f"Each test's `{MESSAGES_VAR}` var holds the case's conversation turns, already rendered.",
        "No key is written here: each provider names the environment variable holding its key.",
        "Comments beside an item say where promptfoo behaves differently from Protostudio.",
    ]
    return "".join(f"# {line}\n" for line in lines)


def _dump(model: Profile | ModelTarget) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return data


# -- providers --------------------------------------------------------------------------------------


def _providers(
    targets: list[ModelTarget], endpoints: Mapping[str, Endpoint], base_urls: Mapping[str, str],
    result: ExportResult,
) -> tuple[list[tuple[dict[str, Any], list[str]]], dict[str, dict[str, Any]]]:
    providers: list[tuple[dict[str, Any], list[str]]] = []
    judges: dict[str, dict[str, Any]] = {}
    provider_envs = {e.key_env for e in endpoints.values() if e.key_env}
    for target in targets:
        endpoint = endpoints.get(target.provider)
        base_url = base_urls.get(target.id) or target.base_url or (endpoint.base_url if endpoint else None)
        if not base_url or base_url == LOCAL_BASE_URL:
            why = ("the bundled local model has no fixed URL" if base_url == LOCAL_BASE_URL
                   else f"provider {target.provider!r} is not known here and the target has no base_url")
            result.notes.append(f"model target {target.id!r} not exported: {why}; pass --base-url "
                                f"{target.id}=URL to include it")
            continue
        config: dict[str, Any] = {"apiBaseUrl": base_url}
        comments = [target.name] if target.name else []
        if endpoint is not None and not endpoint.needs_key:
            config["apiKey"] = "no-key"
            config["apiKeyRequired"] = False
            comments.append("keyless endpoint: `no-key` is a placeholder so promptfoo does not send "
                            "OPENAI_API_KEY here")
        elif (endpoint is not None and _foreign(base_url, endpoint, target, base_urls)
              and target.key_env and target.key_env not in provider_envs):
            # an env var the file dedicates to this endpoint (kept from a promptfoo import), not a
            # provider's key: kept, but said out loud
            config["apiKeyEnvar"] = target.key_env
            host = key_host(base_url)
            comments.append(f"promptfoo sends ${target.key_env} to {host}")
            result.warnings.append(f"model target {target.id!r} sends ${target.key_env} (named in the file) "
                                   f"to {host}; check that is the key meant for that host")
        elif endpoint is not None and _foreign(base_url, endpoint, target, base_urls):
            host = key_host(base_url)
            env = target.key_env or endpoint.key_env or "OPENAI_API_KEY"
            config["apiKey"] = "no-key"
            config["apiKeyRequired"] = False
            comments.append(f"base_url points {target.provider} at {host}, not its own endpoint: no key is "
                            f"sent there; set apiKeyEnvar yourself if you trust {host}")
            result.warnings.append(f"model target {target.id!r} points {target.provider} at {host}, not "
                                   f"{key_host(endpoint.base_url)}: exported without ${env} "
                                   f"(pass --base-url {target.id}=URL to send it there)")
        elif target.key_env:
            config["apiKeyEnvar"] = target.key_env
        elif endpoint is not None and endpoint.key_env:
            config["apiKeyEnvar"] = endpoint.key_env
            if key_host(base_url) != key_host(endpoint.base_url):
                comments.append(f"--base-url points {target.provider} elsewhere: promptfoo sends "
                                f"${endpoint.key_env} to {key_host(base_url)}")
            if endpoint.key_env != "OPENAI_API_KEY":
                comments.append(f"set {endpoint.key_env}; when it is unset promptfoo falls back to "
                                "OPENAI_API_KEY")
        else:
            comments.append("no key environment variable is known for this provider; promptfoo will use "
                            "OPENAI_API_KEY")
        params = target.params.model_dump(exclude_none=True)
        config.update(params)
        entry = {"id": f"openai:chat:{target.model}", "label": target.id, "config": config}
        providers.append((entry, comments))
        judges[target.id] = {"id": entry["id"], "config": dict(config)}
    return providers, judges


def _foreign(base_url: str, endpoint: Endpoint, target: ModelTarget, base_urls: Mapping[str, str]) -> bool:
    """A file's base_url sends the provider's key to another endpoint (scheme + host + port).

    A `--base-url` given on the command line is the exporter's own choice, like confirming a host in
    the app; a base_url that came with a (possibly shared) file is not."""
    return target.id not in base_urls and key_host(base_url) != key_host(endpoint.base_url)


_ENDPOINT_KEYS = ("apiBaseUrl", "apiKeyEnvar", "apiKey", "apiKeyRequired")


def _grading(proto: Prototype, providers: dict[str, dict[str, Any]], judge: str | None,
             embedder: str | None) -> Grading:
    for role, target_id in (("judge", judge), ("embedder", embedder)):
        if target_id is not None and target_id not in providers:
            known = ", ".join(providers) or "none"
            raise ExportError(f"--{role} {target_id!r} is not an exported model target (exported: {known})")
    embedding = None
    if embedder is not None:
        chat = providers[embedder]
        embedding = {"id": f"openai:embedding:{proto.model(embedder).model}", "config": {
            k: v for k, v in chat["config"].items() if k in _ENDPOINT_KEYS
        }}
    return Grading(providers=providers, default_judge=judge, embedder=embedding,
                   embedder_label=f"model target {embedder!r}")



# -- prompts ----------------------------------------------------------------------------------------


def _prompts(
    profiles: list[Profile], build_messages: BuildMessages, result: ExportResult
) -> tuple[list[tuple[dict[str, Any], list[str]]], dict[str, str]]:
    probe = Case(id="probe", turns=[Turn(content="probe")])
    prompts: list[tuple[dict[str, Any], list[str]]] = []
    systems: dict[str, str] = {}
    for profile in profiles:
        messages = build_messages(profile, probe)
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        systems[profile.id] = system
        template, unfillable = build_template(system, [(t.role, t.content) for t in profile.turns])
        comments = [profile.name] if profile.name else []
        for name in unfillable:
            note = (f"profile {profile.id!r}: placeholder {{{{{name}}}}} cannot be a Nunjucks variable, so "
                    "promptfoo sends it as written")
            result.notes.append(note)
            comments.append(note)
        prompts.append(({"label": profile.id, "raw": template}, comments))
    return prompts, systems


def _prompt_tools(proto: Prototype, prompts: list[tuple[dict[str, Any], list[str]]],
                  result: ExportResult) -> None:
    """A profile's tools go on its prompt's `config` (promptfoo merges a prompt's config into the
    provider's); the tool loop and its mocks do not: promptfoo grades the first reply's calls."""
    mocked = [tool.name for tool in proto.tools if tool.mock is not None] + [
        f"{name} (case {case.id!r})" for case in proto.cases for name in case.tool_mocks]
    for (data, comments), profile in zip(prompts, proto.profiles, strict=True):
        if not profile.tools:
            continue
        params = request_params(proto, profile, ModelParams())
        config: dict[str, Any] = {"tools": params.tools}
        if params.tool_choice is not None:
            config["tool_choice"] = params.tool_choice
        data["config"] = config
        comments.append("tools offered by this profile; promptfoo sends them to every provider and grades "
                        "the first reply (no mock results, no continuation)")
    if any(profile.tools for profile in proto.profiles) and mocked:
        result.notes.append("tool mocks not exported (promptfoo does not answer tool calls and continue): "
                            + ", ".join(mocked))


# -- tests ------------------------------------------------------------------------------------------


def _mapped(assertion: Assertion, grading: Grading, where: str, result: ExportResult) -> Mapped | None:
    mapped = to_promptfoo(assertion, grading)
    if mapped is None:
        result.notes.append(f"{where}: assertion type {assertion.type!r} is unknown, not exported")
    return mapped


def _test(
    case: Case, build_messages: BuildMessages, grading: Grading, result: ExportResult
) -> tuple[dict[str, Any], list[Mapped | None]]:
    sim = case.simulated_user
    reserved = [MESSAGES_VAR] + ([simulated.SIMULATED_VAR, simulated.INITIAL_VAR] if sim is not None else [])
    for name in reserved:
        if name in case.vars:
            raise ExportError(f"case {case.id!r} has a var named {name!r}, which the export uses for the "
                              "conversation; rename that var")
    bare = Profile(id="bare")
    rendered = [m for m in build_messages(bare, case) if m.role != "system"] if case.turns else []
    messages = [{"role": m.role, "content": m.content} for m in rendered]
    data: dict[str, Any] = {"description": case.description or case.id}
    if sim is None:
        data["vars"] = {**case.vars, MESSAGES_VAR: messages}
    else:
        # promptfoo's simulated user starts from `initialMessages` and writes up to maxTurns messages
        data["vars"] = {**case.vars, simulated.SIMULATED_VAR: True,
                        **({simulated.INITIAL_VAR: messages} if messages else {})}
        data["provider"] = simulated.provider(sim)
        result.notes.extend(simulated.notes_for(case))
    data["options"] = {"disableVarExpansion": True}
    metadata: dict[str, Any] = {"case": case.id}
    images = [ref.path for turn in case.turns for ref in turn.images]
    as_sent = [(t.role, t.content) for t in case.turns] == [(m.role, m.content) for m in rendered]
    if sim is not None or not as_sent or images:
        metadata["turns"] = [{"role": t.role, **t.model_dump(mode="json", exclude_defaults=True)}
                             for t in case.turns]
    if sim is not None:
        metadata["simulated_user"] = simulated.metadata_of(sim)
    if images:  # kept in metadata for the way back; promptfoo's chat messages here are text only
        result.notes.append(f"case {case.id!r}: images not exported ({', '.join(images)}): promptfoo gets "
                            "the turns' text only; they are kept in the test's metadata for re-import")
    if case.tool_mocks:
        metadata["tool_mocks"] = case.tool_mocks
    data["metadata"] = metadata
    if case.threshold is not None:
        data["threshold"] = case.threshold
    if sim is None:
        asserts = [_mapped(a, grading, f"case {case.id!r}", result) for a in case.assert_]
    else:
        asserts = _simulated_asserts(case, len(messages), grading, result, metadata)
    descriptions = _descriptions(case.assert_, asserts)
    if descriptions:
        metadata["assert_descriptions"] = descriptions
    return data, asserts


def _simulated_asserts(case: Case, skip: int, grading: Grading, result: ExportResult,
                       metadata: dict[str, Any]) -> list[Mapped | None]:
    """A simulated case's checks over promptfoo's transcript: `turn: last` through a transform that
    picks the last reply, `any`/`all` as javascript over every reply; what cannot be expressed is
    kept in the test's metadata (`unexported_assert`, with its position) for the import."""
    where = f"case {case.id!r}"
    out: list[Mapped | None] = []
    kept: list[dict[str, Any]] = []
    for index, assertion in enumerate(case.assert_):
        base = assertion.type.removeprefix("not-")
        if assertion.disabled or base in ("latency", "cost"):
            out.append(_mapped(assertion, grading, where, result))
            continue
        if assertion.turn == "last":
            mapped = _mapped(assertion, grading, where, result)
            if mapped is not None:
                mapped.data["transform"] = last_reply_transform(skip, assertion.transform)
                mapped.comments.append("checks the last reply: promptfoo's simulated user returns the whole "
                                       "transcript, this transform picks the assistant's last message")
            out.append(mapped)
            continue
        if assertion.transform is not None:
            code, why = None, "it has its own transform, which promptfoo would apply to the whole transcript"
        else:
            code, why = simulated.over_replies(assertion, case, skip)
        if code is None:
            result.notes.append(f"{where}: `{assertion.type}` (turn: {assertion.turn}) not exported: {why}; "
                                "kept in the test's metadata")
            kept.append({"index": index, "assert": assertion.model_dump(mode="json", by_alias=True,
                                                                        exclude_defaults=True)})
            out.append(None)
            continue
        data: dict[str, Any] = {"type": "javascript", "value": code}
        unfillable = as_templates(data)
        if assertion.threshold is not None:
            data["threshold"] = assertion.threshold
        if assertion.weight != 1.0:
            data["weight"] = assertion.weight
        if assertion.metric:
            data["metric"] = assertion.metric
        comments = [assertion.description] if assertion.description else []
        which = "any" if assertion.turn == "any" else "every"
        comments.append(f"turn: {assertion.turn}: `{assertion.type}` on {which} reply of the simulated "
                        "conversation")
        if unfillable:
            comments.append("placeholders " + ", ".join(unfillable) + " are checked as written")
        out.append(Mapped(data, comments))
    if kept:
        metadata["unexported_assert"] = kept
    return out


def _descriptions(assertions: list[Assertion], mapped: list[Mapped | None]) -> list[str]:
    """Each exported assertion's description, in promptfoo's order; empty when none has one."""
    out = [a.description for a, m in zip(assertions, mapped, strict=True) if m is not None]
    return out if any(out) else []


# -- YAML with comments -----------------------------------------------------------------------------


def _comment_lines(comments: list[str], indent: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}# {line}\n" for c in comments for line in (c.strip().splitlines() or [""]))


def _item(data: Any, comments: list[str], indent: int) -> str:
    """One list item, indented, with comment lines above it."""
    pad = " " * indent
    body = "".join(f"{pad}{line}\n" if line else "\n" for line in dump([data]).splitlines())
    return _comment_lines(comments, indent) + body


def _assert_items(asserts: list[Mapped | None], indent: int) -> list[str]:
    return [_item(m.data, m.comments, indent) for m in asserts if m is not None]


def _test_item(data: dict[str, Any], asserts: list[Mapped | None]) -> str:
    text = _item(data, [], 2)
    items = _assert_items(asserts, 6)
    if items:
        text += "    assert:\n" + "".join(items)
    return text
