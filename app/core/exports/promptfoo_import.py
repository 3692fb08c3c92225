"""Read the common subset of a promptfoo config into a prototype, listing everything left behind.

What maps: prompts (text, chat JSON/YAML, `file://` text files) become profiles, their leading
system messages the system prompt; `openai:` (and `ollama:`) chat providers become model
targets; tests become cases with their vars and the assertions Protostudio has; `defaultTest`
assertions become `default_assert` and its vars are merged into every case. Conversation turns
come from a test's `messages` var (as `protostudio export` writes them) or, for ordinary
configs, from the prompt's own user/assistant messages, which must then be the same for all prompts.

A config written by `protostudio export --to promptfoo` carries a `metadata.protostudio`
block; with it, profiles and targets come back exactly as they were, unless the prompt was
edited since. Everything else that does not fit is dropped and named, one line per item.
Only `yaml.safe_load` reads YAML; referenced files are read only if they are text.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.core.document import dumps_prototype, parse_prototype
from app.core.errors import PrototypeError
from app.core.exports import Endpoint, slug
from app.core.exports.promptfoo import METADATA_KEY, text_digest
from app.core.exports.promptfoo_assertions import from_promptfoo
from app.core.exports.promptfoo_template import MESSAGES_VAR, parse_template
from app.core.placeholders import VAR_RE
from app.core.prototype import Assertion, ModelParams, ModelTarget, Profile, Prototype, Turn

MAX_CONFIG_BYTES = 16 * 1024 * 1024
TEXT_PROMPT_SUFFIXES = (".txt", ".md", ".j2", ".prompt")
DATA_SUFFIXES = (".json", ".yaml", ".yml")
_PARAMS = ("temperature", "max_tokens", "top_p", "seed")
_HANDLED_CONFIG = ("apiBaseUrl", "apiHost", "apiKeyEnvar", "apiKey", "apiKeyRequired")
_OPENAI_KINDS = ("chat", "completion", "embedding", "embeddings", "responses", "assistant", "image",
                 "realtime", "moderation", "transcription", "audio")


class ImportFailed(ValueError):
    """The config cannot be read at all, or nothing usable is left; the message says why."""


@dataclass
class ImportResult:
    prototype: Prototype
    dropped: list[str] = field(default_factory=list)


@dataclass
class _Prompt:
    label: str
    system: str
    tail: list[Turn] | None
    """The prompt's own conversation turns, or None when turns come from each test's `messages` var."""


def import_promptfoo(path: str | os.PathLike[str], endpoints: Mapping[str, Endpoint]) -> ImportResult:
    """Read a promptfoo config file. `endpoints` (provider id -> endpoint) maps URLs and key env vars back."""
    config_path = Path(path)
    try:
        if config_path.stat().st_size > MAX_CONFIG_BYTES:
            raise ImportFailed(f"{config_path} is larger than {MAX_CONFIG_BYTES // 2**20} MiB")
        text = config_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportFailed(f"cannot read {config_path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ImportFailed(f"{config_path} is not UTF-8 text") from None
    return import_promptfoo_text(text, config_path.parent, config_path.stem, endpoints)


def import_promptfoo_text(
    text: str, base_dir: Path, name_hint: str, endpoints: Mapping[str, Endpoint]
) -> ImportResult:
    """Read config text; `file://` paths resolve inside `base_dir`; `name_hint` names an unnamed config."""
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportFailed(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(config, dict):
        raise ImportFailed("a promptfoo config must be a mapping with `prompts`, `providers` and `tests`")
    return _Importer(config, base_dir, endpoints).run(name_hint)


class _Importer:
    def __init__(self, config: dict[str, Any], base_dir: Path, endpoints: Mapping[str, Endpoint]) -> None:
        self.config = config
        self.base_dir = base_dir
        self.endpoints = endpoints
        self.dropped: list[str] = []
        meta = config.get("metadata")
        ours = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
        self.meta: dict[str, Any] = ours if isinstance(ours, dict) else {}
        self.targets: list[ModelTarget] = []

    def drop(self, line: str) -> None:
        self.dropped.append(line)

    def run(self, name_hint: str) -> ImportResult:
        known = {"description", "prompts", "providers", "targets", "tests", "defaultTest", "metadata"}
        for key in self.config:
            if key not in known:
                self.drop(f"top-level `{key}` dropped (no Protostudio equivalent)")
        prompts = self._prompts()
        if not prompts:
            raise ImportFailed("no prompt could be imported")
        profiles, template_tail = self._profiles(prompts)
        self.targets = self._providers()
        default_assert, default_vars = self._default_test()
        cases = self._cases(template_tail, default_vars)
        name = str(self.meta.get("name") or self.config.get("description") or name_hint or "").strip()
        data = {
            "name": name or "Imported",
            "profiles": profiles,
            "models": self.targets,
            "cases": cases,
            "default_assert": default_assert,
        }
        try:
            proto = Prototype.model_validate(data)
            proto = parse_prototype(dumps_prototype(proto), "<imported>")
        except (ValidationError, PrototypeError) as exc:
            raise ImportFailed(f"the imported prototype is not valid: {exc}") from None
        return ImportResult(proto, self.dropped)

    # -- prompts ------------------------------------------------------------------------------------

    def _prompts(self) -> list[_Prompt]:
        raw = self.config.get("prompts")
        items: list[tuple[str, str | None]] = []  # (text or file:// path, label)
        if isinstance(raw, str):
            items = [(raw, None)]
        elif isinstance(raw, dict):
            items = [(str(k), str(v)) for k, v in raw.items()]
        elif isinstance(raw, list):
            for entry in raw:
                if isinstance(entry, str):
                    items.append((entry, None))
                elif isinstance(entry, dict) and isinstance(entry.get("raw"), str):
                    items.append((entry["raw"], _opt_str(entry.get("label"))))
                elif isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    items.append((entry["id"], _opt_str(entry.get("label"))))
                else:
                    self.drop(f"prompt {_short(entry)}: not a string or a mapping with `raw` or `id`")
        else:
            raise ImportFailed("`prompts` is missing or not a list")
        prompts: list[_Prompt] = []
        for text, label in items:
            for raw_text, file_label in self._expand_prompt(text):
                parsed = self._parse_prompt(raw_text, label or file_label or raw_text)
                if parsed is not None:
                    prompts.append(parsed)
        return prompts

    def _expand_prompt(self, text: str) -> list[tuple[str, str | None]]:
        if not text.startswith("file://"):
            return [(text, None)]
        spec = text[len("file://"):]
        paths = sorted(glob.glob(str(self.base_dir / spec))) if any(c in spec for c in "*?[") else [
            str(self.base_dir / spec)]
        if not paths:
            self.drop(f"prompt {text}: no file matches")
        out: list[tuple[str, str | None]] = []
        for name in paths:
            path = Path(name)
            suffix = path.suffix.lower()
            if suffix not in TEXT_PROMPT_SUFFIXES + DATA_SUFFIXES:
                self.drop(f"prompt {text}: only text prompt files are read ({path.name} is not one)")
                continue
            content = self._read_text(path, f"prompt {text}")
            if content is None:
                continue
            if suffix in (".yaml", ".yml"):
                try:
                    loaded = yaml.safe_load(content)
                except yaml.YAMLError:
                    self.drop(f"prompt {text}: {path.name} is not valid YAML")
                    continue
                content = json.dumps(loaded)
            parts = [content] if suffix in DATA_SUFFIXES else [p.strip() for p in content.split("\n---\n")]
            out.extend((part, path.stem if len(parts) == 1 else f"{path.stem}-{i + 1}")
                       for i, part in enumerate(parts) if part)
        return out

    def _read_text(self, path: Path, what: str) -> str | None:
        """A referenced file's text, only from inside the config's folder (a config cannot pull in ~/.ssh)."""
        try:
            path.resolve().relative_to(self.base_dir.resolve())
        except ValueError:
            self.drop(f"{what}: {path} is outside the config's folder; not read")
            return None
        try:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                self.drop(f"{what}: {path.name} is too large")
                return None
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            self.drop(f"{what}: cannot read {path} as UTF-8 text")
            return None

    def _parse_prompt(self, raw: str, label: str) -> _Prompt | None:
        system = parse_template(raw)
        if system is not None:
            return _Prompt(label, system, None)
        messages = _chat_messages(raw)
        if messages is None:
            self._check_nunjucks(raw, label)
            return _Prompt(label, "", [Turn(role="user", content=raw)])
        systems: list[str] = []
        tail: list[Turn] = []
        for message in messages:
            role, content = message["role"], message["content"]
            if role == "system" and not tail:
                systems.append(content)
            elif role in ("user", "assistant"):
                tail.append(Turn(role=role, content=content))
            else:
                self.drop(f"prompt {_label(label)}: a {role!r} message cannot be imported; prompt dropped")
                return None
            self._check_nunjucks(content, label)
        return _Prompt(label, "\n\n".join(systems), tail or None)

    def _check_nunjucks(self, text: str, label: str) -> None:
        rest = VAR_RE.sub("", text)
        if any(s in rest for s in ("{{", "{%", "{#")):
            self.drop(f"prompt {_label(label)}: Nunjucks tags or filters are not rendered by Protostudio "
                      "(kept as plain text)")

    def _profiles(self, prompts: list[_Prompt]) -> tuple[list[Profile], list[Turn] | None]:
        stored = {p.get("id"): p for p in self.meta.get("profiles", []) if isinstance(p, dict)}
        template_tail = next((p.tail for p in prompts if p.tail is not None), None)
        profiles: list[Profile] = []
        used: set[str] = set()
        for index, prompt in enumerate(prompts):
            if prompt.tail is not None and prompt.tail != template_tail:
                self.drop(f"prompt {_label(prompt.label)}: its user messages differ from the first prompt's; "
                          "Protostudio keeps conversation turns per case, so this prompt was dropped")
                continue
            profile_id = _id_for(prompt.label, f"prompt-{index + 1}", used)
            entry = stored.get(prompt.label)
            if entry is not None and entry.get("system_sha256") == text_digest(prompt.system):
                data = {k: v for k, v in entry.items() if k != "system_sha256"}
                try:
                    profiles.append(Profile.model_validate({**data, "id": profile_id}))
                    continue
                except ValidationError:
                    pass
            if entry is not None:
                self.drop(f"profile {profile_id!r}: the prompt changed since export, so its whole system "
                          "message became the system prompt (custom instructions and spec folded in)")
            profiles.append(Profile(id=profile_id, system_prompt=prompt.system))
        return profiles, template_tail

    # -- providers ----------------------------------------------------------------------------------

    def _providers(self) -> list[ModelTarget]:
        raw = self.config.get("providers", self.config.get("targets"))
        entries: list[tuple[str, str | None, dict[str, Any]]] = []
        for item in raw if isinstance(raw, list) else [raw] if raw is not None else []:
            if isinstance(item, str):
                entries.append((item, None, {}))
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                entries.append((item["id"], _opt_str(item.get("label")), _dict(item.get("config"))))
                for key in item:
                    if key not in ("id", "label", "config"):
                        self.drop(f"provider {item['id']}: `{key}` dropped")
            elif isinstance(item, dict) and len(item) == 1:
                (pid, options), = item.items()
                options = _dict(options)
                entries.append((str(pid), _opt_str(options.get("label")), _dict(options.get("config"))))
            else:
                self.drop(f"provider {_short(item)}: not understood")
        stored = {m.get("id"): m for m in self.meta.get("models", []) if isinstance(m, dict)}
        targets: list[ModelTarget] = []
        used: set[str] = set()
        for pid, label, config in entries:
            target = self._target(pid, label, config, stored, used)
            if target is not None:
                targets.append(target)
        return targets

    def _target(self, pid: str, label: str | None, config: dict[str, Any], stored: dict[Any, Any],
                used: set[str]) -> ModelTarget | None:
        parts = pid.split(":")
        family = parts[0]
        if family not in ("openai", "ollama") or len(parts) < 2:
            self.drop(f"provider {pid}: only OpenAI-compatible chat providers (openai:chat:..., "
                      "ollama:chat:...) are imported")
            return None
        if len(parts) >= 3 and parts[1] != "chat":
            self.drop(f"provider {pid}: only chat providers are imported")
            return None
        model = _model_of(pid)
        if len(parts) == 2 and model in _OPENAI_KINDS:
            self.drop(f"provider {pid}: names no model")
            return None
        host = config.get("apiHost")
        base_url = config.get("apiBaseUrl") or (f"https://{host}/v1" if host else None)
        provider_id = self._provider_for(family, base_url, config.get("apiKeyEnvar"))
        if config.get("apiKey") and config.get("apiKey") != "no-key":
            self.drop(f"provider {pid}: `apiKey` dropped (keys never go in a prototype; store it with "
                      "`protostudio providers set-key`)")
        for key in config:
            if key not in _HANDLED_CONFIG and key not in _PARAMS:
                self.drop(f"provider {pid}: config `{key}` dropped")
        params = {k: config[k] for k in _PARAMS if k in config}
        try:
            model_params = ModelParams.model_validate(params)
        except ValidationError:
            self.drop(f"provider {pid}: sampling parameters out of range, dropped")
            model_params = ModelParams()
        endpoint = self.endpoints.get(provider_id)
        if base_url and endpoint and _same_url(base_url, endpoint.base_url):
            base_url = None
        target_id = _id_for(label or model, "model", used)
        entry = stored.get(label) if label else None
        name = ""
        if isinstance(entry, dict) and entry.get("model") == model:
            provider_id = str(entry.get("provider") or provider_id)
            name = str(entry.get("name") or "")
        return ModelTarget(id=target_id, provider=provider_id, model=model, name=name, base_url=base_url,
                           params=model_params)

    def _provider_for(self, family: str, base_url: Any, key_env: Any) -> str:
        if family == "ollama":
            return "ollama"
        if isinstance(key_env, str):
            for pid, endpoint in self.endpoints.items():
                if endpoint.key_env == key_env:
                    return pid
        if isinstance(base_url, str):
            for pid, endpoint in self.endpoints.items():
                if _same_url(base_url, endpoint.base_url):
                    return pid
        return "openai"

    def _judge_of(self, provider: Any) -> str | None:
        pid = provider.get("id") if isinstance(provider, dict) else provider
        config = provider.get("config") if isinstance(provider, dict) else None
        base = config.get("apiBaseUrl") if isinstance(config, dict) else None
        if not isinstance(pid, str):
            return None
        model = _model_of(pid)
        for target in self.targets:
            if target.model != model:
                continue
            endpoint = self.endpoints.get(target.provider)
            target_url = target.base_url or (endpoint.base_url if endpoint else None)
            if base is None or (target_url and _same_url(str(base), target_url)):
                return target.id
        return None

    # -- tests --------------------------------------------------------------------------------------

    def _default_test(self) -> tuple[list[Assertion], dict[str, str]]:
        raw = self.config.get("defaultTest")
        if raw is None:
            return [], {}
        if not isinstance(raw, dict):
            self.drop("defaultTest: only an inline mapping is read; dropped")
            return [], {}
        for key in raw:
            if key not in ("assert", "vars", "options"):
                self.drop(f"defaultTest: `{key}` dropped")
        self._options(raw.get("options"), "defaultTest")
        vars_ = self._vars(raw.get("vars"), "defaultTest")[0]
        descriptions = self.meta.get("default_assert_descriptions")
        return self._asserts(raw.get("assert"), "defaultTest", descriptions), vars_

    def _options(self, options: Any, where: str) -> None:
        if isinstance(options, dict):
            for key in options:
                if key != "disableVarExpansion":
                    self.drop(f"{where}: option `{key}` dropped")

    def _asserts(self, raw: Any, where: str, descriptions: Any = None) -> list[Assertion]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.drop(f"{where}: `assert` is not a list; dropped")
            return []
        if not (isinstance(descriptions, list) and len(descriptions) == len(raw)):
            descriptions = [""] * len(raw)
        out: list[Assertion] = []
        for item, description in zip(raw, descriptions, strict=True):
            made, notes = from_promptfoo(item, self._judge_of)
            if isinstance(description, str) and description:
                made = [a.model_copy(update={"description": description}) for a in made]
            out.extend(made)
            self.dropped.extend(f"{where}: {note}" for note in notes)
        return out

    def _test_items(self) -> list[Any]:
        raw = self.config.get("tests")
        items = raw if isinstance(raw, list) else [raw] if raw is not None else []
        out: list[Any] = []
        for item in items:
            if isinstance(item, str) and item.startswith("file://"):
                out.extend(self._load_tests_file(item))
            else:
                out.append(item)
        return out

    def _load_tests_file(self, ref: str) -> list[Any]:
        path = self.base_dir / ref[len("file://"):]
        if path.suffix.lower() not in DATA_SUFFIXES:
            self.drop(f"tests {ref}: only YAML or JSON test files are read")
            return []
        text = self._read_text(path, f"tests {ref}")
        try:
            loaded = yaml.safe_load(text) if text is not None else None
        except yaml.YAMLError:
            self.drop(f"tests {ref}: not valid YAML")
            return []
        if not isinstance(loaded, list):
            self.drop(f"tests {ref}: not a list of tests")
            return []
        return loaded

    def _cases(self, template_tail: list[Turn] | None, default_vars: dict[str, str]) -> list[dict[str, Any]]:
        cases: list[dict[str, Any]] = []
        used: set[str] = set()
        for index, test in enumerate(self._test_items()):
            where = f"test {index + 1}"
            if not isinstance(test, dict):
                self.drop(f"{where}: not a mapping; dropped")
                continue
            case = self._case(test, where, template_tail=template_tail, default_vars=default_vars, used=used,
                              index=index)
            if case is not None:
                cases.append(case)
        return cases

    def _case(self, test: dict[str, Any], where: str, *, template_tail: list[Turn] | None,
              default_vars: dict[str, str], used: set[str], index: int) -> dict[str, Any] | None:
        known = ("description", "vars", "assert", "options", "metadata", "threshold")
        for key in test:
            if key not in known:
                self.drop(f"{where}: `{key}` dropped")
        self._options(test.get("options"), where)
        vars_, messages = self._vars(test.get("vars"), where)
        meta = _dict(test.get("metadata"))
        turns = _turns(meta.get("turns")) if meta else None
        if turns is None or (messages is not None and len(turns) != len(messages)):
            turns = messages if messages is not None else template_tail
        if not turns:
            self.drop(f"{where}: no conversation (no `{MESSAGES_VAR}` var and no user message in the "
                      "prompts); dropped")
            return None
        description = str(test.get("description") or "")
        wanted = meta.get("case") if isinstance(meta.get("case"), str) else None
        case_id = _id_for(wanted or description, f"case-{index + 1}", used)
        if wanted and case_id == wanted and description == wanted:
            description = ""
        case: dict[str, Any] = {
            "id": case_id, "description": description, "vars": {**default_vars, **vars_},
            "turns": turns,
            "assert": self._asserts(test.get("assert"), where, meta.get("assert_descriptions")),
        }
        threshold = test.get("threshold")
        if isinstance(threshold, int | float) and not isinstance(threshold, bool):
            if 0 <= threshold <= 1:
                case["threshold"] = float(threshold)
            else:
                self.drop(f"{where}: threshold {threshold} is outside 0..1; dropped")
        return case

    def _vars(self, raw: Any, where: str) -> tuple[dict[str, str], list[Turn] | None]:
        if raw is None:
            return {}, None
        if not isinstance(raw, dict):
            self.drop(f"{where}: vars from a file or list are not read; dropped")
            return {}, None
        out: dict[str, str] = {}
        messages: list[Turn] | None = None
        for key, value in raw.items():
            name = str(key)
            if name == MESSAGES_VAR and isinstance(value, list):
                messages = _turns(value)
                if messages is None:
                    self.drop(f"{where}: `{MESSAGES_VAR}` is not a list of user/assistant messages; dropped")
            elif isinstance(value, bool):
                out[name] = "true" if value else "false"
            elif isinstance(value, int | float):
                out[name] = str(value)
            elif isinstance(value, str) and value.startswith("file://"):
                path = self.base_dir / value[len("file://"):]
                if path.suffix.lower() not in (*TEXT_PROMPT_SUFFIXES, ".csv", ""):
                    self.drop(f"{where}: var {name!r} from {value} is not a text file; dropped")
                    continue
                text = self._read_text(path, f"{where}: var {name!r}")
                if text is not None:
                    out[name] = text.strip()
            elif isinstance(value, str):
                out[name] = value
            else:
                self.drop(f"{where}: var {name!r} is a list or mapping (promptfoo expands or passes "
                          "those); dropped")
        return out, messages


def _chat_messages(raw: str) -> list[dict[str, str]] | None:
    text = raw.strip()
    data: Any = None
    if text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError:
            return None
    elif text.startswith("- role:"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
    if not isinstance(data, list) or not data:
        return None
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
               for m in data):
        return None
    return [{"role": m["role"], "content": m["content"]} for m in data]


def _turns(value: Any) -> list[Turn] | None:
    if not isinstance(value, list) or not value:
        return None
    try:
        return [Turn.model_validate(v) for v in value]
    except ValidationError:
        return None


def _model_of(provider_id: str) -> str:
    """`openai:chat:llama3.2:3b` -> `llama3.2:3b`; `openai:gpt-4o` -> `gpt-4o` (as promptfoo splits them)."""
    parts = provider_id.split(":")
    return ":".join(parts[2:]) if len(parts) >= 3 else parts[-1]


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def _id_for(text: str, fallback: str, used: set[str]) -> str:
    """`text` itself when it is a valid id (as in files Protostudio exported), else a short slug of it."""
    if text and len(text) <= 100 and not any(c.isspace() for c in text):
        return _unique(text, used)
    return _unique(slug(text, fallback)[:60].rstrip("-") or fallback, used)


def _unique(base: str, used: set[str]) -> str:
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _label(label: str) -> str:
    flat = " ".join(label.split())
    return flat if len(flat) <= 40 else flat[:39] + "…"


def _short(value: Any) -> str:
    return _label(json.dumps(value, ensure_ascii=False, default=str))
