"""Read a promptfoo config into a prototype, keeping what its author wrote, and naming what is left behind.

What maps (details in each helper module):
- prompts (inline, `file://` files and globs, bare `prompts.txt` paths; `.txt` with `---`,
  chat `.json`/`.yaml`/`.jsonl`, `.md`) become one profile each, labels kept as names
  (`promptfoo_prompts.py`). Their leading system messages are the system prompt; the user and
  assistant messages are the cases' turns, or the profile's own turns when prompts differ.
  A loop over a test var of messages maps to each case's turns; other Nunjucks refuses that prompt.
- providers we ship (`openai`, `anthropic`, `groq`, `mistral`, `deepseek`, `openrouter`,
  `togetherai`, `ollama`, `google`/`vertex` Gemini) become model targets with their params,
  `apiBaseUrl`/`apiHost` and `apiKeyEnvar` (`promptfoo_providers.py`); others become notes.
- tests (inline, YAML/JSON/CSV files, array vars expanded as promptfoo does, scenarios) become
  cases; assertions map by `promptfoo_assertions.py`; `defaultTest` gives `default_assert`, vars
  merged into every case, and its grader `provider` and `rubricPrompt` for every `llm-rubric`.
  `javascript`/`python` and other checks Protostudio cannot run are kept disabled, with their source.

A config written by `protostudio export --to promptfoo` carries a `metadata.protostudio`
block; with it, profiles and targets come back exactly as they were, unless the prompt was
edited since. YAML is read like a prototype (`safe_yaml`: safe tags, no alias bombs, bounded
nesting); referenced files are read only inside the config's folder, and only regular files.
"""

from __future__ import annotations

import csv
import glob
import io
import itertools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.core import jsontext
from app.core.document import dumps_prototype, parse_prototype
from app.core.errors import PrototypeError
from app.core.evals import transforms
from app.core.exports import Endpoint, slug
from app.core.exports import promptfoo_simulated as simulated
from app.core.exports.promptfoo import METADATA_KEY, text_digest
from app.core.exports.promptfoo_assertions import from_promptfoo
from app.core.exports.promptfoo_places import Path_, compact, node_places, with_places
from app.core.exports.promptfoo_prompts import (
    SCRIPT_SUFFIXES,
    Prompt,
    PromptRefused,
    expand_file,
    history_turns,
    is_file_reference,
    parse_prompt,
)
from app.core.exports.promptfoo_providers import map_provider
from app.core.exports.promptfoo_template import MESSAGES_VAR
from app.core.placeholders import render_vars
from app.core.prototype import Assertion, Case, ModelParams, ModelTarget, Profile, Prototype, Turn
from app.core.regular_file import NotReadable, read_regular_text
from app.core.yamlio import YamlSyntaxError, load_located

MAX_CONFIG_BYTES = 16 * 1024 * 1024
TEXT_VAR_SUFFIXES = (".txt", ".md", ".j2", ".prompt", ".csv", "")
DATA_SUFFIXES = (".json", ".yaml", ".yml")
_TEST_KEYS = frozenset(
    {"vars", "assert", "description", "options", "metadata", "threshold", "provider", "providerOutput"}
)
"""The keys that make a mapping a promptfoo test rather than a row of vars."""
MAX_EXPANDED = 500
"""Cases one test may expand into (promptfoo multiplies out array vars)."""


def safe_yaml(text: str) -> Any:
    """A config's data, read the way prototypes are (`core/yamlio.py`): safe tags only, no alias
    bombs, nesting and item counts bounded, duplicate keys refused; YamlSyntaxError has the position.
    (`yaml.safe_load` expanded billion-laugh aliases in later walks and raised RecursionError on
    deep nesting.)"""
    return load_located(text).data


class ImportFailed(ValueError):
    """The config cannot be read at all, or nothing usable is left; the message says why."""


@dataclass
class ImportResult:
    prototype: Prototype
    dropped: list[str] = field(default_factory=list)
    where_paths: dict[str, Path_] = field(default_factory=dict, repr=False)
    """Each item name a dropped line starts with (`test 3`) -> its path in the config."""


def import_promptfoo(path: str | os.PathLike[str], endpoints: Mapping[str, Endpoint]) -> ImportResult:
    """Read a promptfoo config file. `endpoints` (provider id -> endpoint) maps URLs and key env vars back."""
    config_path = Path(path)
    try:  # a FIFO, /dev/zero or a folder is refused before a byte is read (`core/regular_file.py`)
        text = read_regular_text(config_path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ImportFailed(f"file not found: {config_path}") from None
    except NotReadable as exc:
        raise ImportFailed(str(exc)) from None
    except OSError as exc:
        raise ImportFailed(f"cannot read {config_path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ImportFailed(f"{config_path} is not UTF-8 text") from None
    try:
        return import_promptfoo_text(text, config_path.parent, config_path.stem, endpoints, config_path.name,
                                     source=str(config_path))
    except ImportFailed as exc:  # say which file, as every other error does
        if str(exc).startswith(str(config_path)):
            raise
        raise ImportFailed(f"{config_path}: {exc}") from None


def import_promptfoo_text(
    text: str,
    base_dir: Path,
    name_hint: str,
    endpoints: Mapping[str, Endpoint],
    file_name: str = "promptfooconfig.yaml",
    *,
    source: str = "<config>",
) -> ImportResult:
    """Read config text; `file://` paths resolve inside `base_dir`; `name_hint` names an unnamed config;
    each dropped item says where it is in `file_name`; `source` names it in a YAML error
    (`source:line:col`)."""
    try:
        config = safe_yaml(text)
    except YamlSyntaxError as exc:
        where = f"{source}:{exc.mark.line}:{exc.mark.col}"
        raise ImportFailed(f"{where}: not valid YAML: {exc.message}") from None
    if not isinstance(config, dict):
        raise ImportFailed("a promptfoo config must be a mapping with `prompts`, `providers` and `tests`")
    result = _Importer(config, base_dir, endpoints).run(name_hint)
    unique = list(dict.fromkeys(result.dropped))
    result.dropped = with_places(compact(unique), result.where_paths, node_places(text), file_name)
    return result


class _Importer:
    def __init__(self, config: dict[str, Any], base_dir: Path, endpoints: Mapping[str, Endpoint]) -> None:
        self.config = config
        self.base_dir = base_dir
        self.endpoints = endpoints
        self.dropped: list[str] = []
        self.refused_prompts: list[str] = []
        meta = config.get("metadata")
        ours = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
        self.meta: dict[str, Any] = ours if isinstance(ours, dict) else {}
        self.targets: list[ModelTarget] = []
        self.where_paths: dict[str, Path_] = {f"top-level `{k}`": (str(k),) for k in config}
        self.where_paths["defaultTest"] = ("defaultTest",)
        self._test_dirs: dict[int, Path] = {}
        """The folder of the file each loaded test came from (promptfoo resolves its `vars` paths there)."""

    def drop(self, line: str) -> None:
        self.dropped.append(line)

    def run(self, name_hint: str) -> ImportResult:
        known = {
            "description",
            "prompts",
            "providers",
            "targets",
            "tests",
            "defaultTest",
            "metadata",
            "scenarios",
        }
        for key in self.config:
            if key not in known:
                self.drop(f"top-level `{key}` dropped (no Protostudio equivalent)")
        prompts = self._prompts()
        if not prompts:
            why = "; ".join(self.refused_prompts) or "the config lists no prompts"
            raise ImportFailed(f"no prompt could be imported: {why}")
        if self._all_simulated():  # promptfoo's simulated user sends the prompt as the system message
            prompts = [_as_system(p) for p in prompts]
        profiles, shared_tail, history_var = self._profiles(prompts)
        self.targets = self._providers()
        default_assert, default_vars, default_options = self._default_test()
        cases = self._cases(shared_tail, history_var, default_vars)
        default_assert, cases = self._apply_default_options(default_options, default_assert, cases)
        name = str(self.meta.get("name") or self.config.get("description") or name_hint or "").strip()
        data = {
            "name": name or "Imported",
            "tools": self._tools(),
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
        return ImportResult(proto, self.dropped, self.where_paths)

    def _tools(self) -> list[dict[str, Any]]:
        """The prototype's tools, kept in `metadata.protostudio` by the export (promptfoo has them only on
        each prompt's config)."""
        tools = self.meta.get("tools")
        return [t for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []

    # -- prompts ------------------------------------------------------------------------------------

    def _prompts(self) -> list[Prompt]:
        raw = self.config.get("prompts")
        items: list[tuple[str, str | None]] = []  # (text or file path, label)
        if isinstance(raw, str):
            items = [(raw, None)]
        elif isinstance(raw, dict):
            items = [(str(k), _opt_str(v)) for k, v in raw.items()]
            for key, value in raw.items():
                self._name_prompt(str(key), _opt_str(value), ("prompts", str(key)))
        elif isinstance(raw, list):
            for index, entry in enumerate(raw):
                if isinstance(entry, dict):
                    text = entry.get("raw") or entry.get("id")
                    self._name_prompt(str(text), _opt_str(entry.get("label")), ("prompts", index))
                else:
                    self._name_prompt(str(entry), None, ("prompts", index))
                if isinstance(entry, str):
                    items.append((entry, None))
                elif isinstance(entry, dict) and isinstance(entry.get("raw") or entry.get("id"), str):
                    items.append((entry.get("raw") or entry["id"], _opt_str(entry.get("label"))))
                    for key in entry:
                        if key not in ("raw", "id", "label") and not (key == "config" and self._tools()):
                            what = _label(str(entry.get("label") or entry.get("raw") or entry["id"]))
                            self.drop(f"prompt {what}: `{key}` dropped")
                else:
                    self.refused_prompts.append(
                        f"prompt {_short(entry)}: not a string or a mapping with `raw` or `id`"
                    )
        elif raw is None and "redteam" in self.config:
            raise ImportFailed(
                "this is a promptfoo red-team config: its attacks are generated at run time by the "
                "`redteam` plugins, and it lists no `prompts`; Protostudio imports evals written as "
                "prompts and tests"
            )
        else:
            raise ImportFailed("`prompts` is missing or not a list")
        prompts: list[Prompt] = []
        for text, label in items:
            if not is_file_reference(text):
                short = "\n" not in text.strip() and len(text) <= 60
                self._add_prompt(prompts, text, label or (text if short else f"prompt-{len(prompts) + 1}"))
                continue
            try:
                parts = expand_file(text, self.base_dir, self._read_text)
            except PromptRefused as exc:
                self.refused_prompts.append(f"prompt {text}: {exc}")
                continue
            for number, (part, file_label) in enumerate(parts, start=1):
                name = (label if len(parts) == 1 else f"{label}-{number}") if label else file_label
                self._add_prompt(prompts, part, name, source=text)
        self.dropped.extend(f"{line}; not imported" for line in self.refused_prompts)
        return prompts

    def _name_prompt(self, text: str, label: str | None, path: Path_) -> None:
        """The names a dropped line may give this prompt by (its label, its text, its file)."""
        for name in (text, _label(text), label, _label(label) if label else None):
            if name:
                self.where_paths.setdefault(f"prompt {name}", path)

    def _add_prompt(self, prompts: list[Prompt], raw: str, label: str, source: str = "") -> None:
        try:
            prompts.append(parse_prompt(raw, label))
        except PromptRefused as exc:
            named = f"{source} ({_label(label)})" if source and source != label else _label(label)
            self.refused_prompts.append(f"prompt {named}: {exc}")

    def _read_text(self, path: Path, what: str) -> str | None:
        """A referenced file's text, only from inside the config's folder (a config cannot pull in ~/.ssh)."""
        try:
            path.resolve().relative_to(self.base_dir.resolve())
        except ValueError:
            self.drop(f"{what}: {path} is outside the config's folder; not read")
            return None
        if not path.exists():
            self.drop(f"{what}: file not found: {path}")
            return None
        try:  # never blocks on a FIFO, never reads past the limit (`core/regular_file.py`)
            return read_regular_text(path, MAX_CONFIG_BYTES)
        except NotReadable as exc:
            self.drop(f"{what}: {exc}")
            return None
        except OSError as exc:
            self.drop(f"{what}: cannot read {path}: {exc.strerror or exc}")
            return None

    def _profiles(self, prompts: list[Prompt]) -> tuple[list[Profile], list[Turn] | None, str | None]:
        """Profiles, the turns every case gets (the first prompt's), and the test var holding a history."""
        stored = {p.get("id"): p for p in self.meta.get("profiles", []) if isinstance(p, dict)}
        first = next((p for p in prompts if p.tail is not None or p.history_var), None)
        shared_tail = first.tail if first else None
        history_var = first.history_var if first else None
        profiles: list[Profile] = []
        used: set[str] = set()
        for index, prompt in enumerate(prompts):
            own_turns: list[Turn] = []
            if history_var is not None and (prompt.history_var, prompt.tail) != (history_var, shared_tail):
                self.drop(
                    f"prompt {_label(prompt.label)}: its conversation differs from prompt "
                    f"{_label(first.label if first else '')}, which takes its history from var "
                    f"`{history_var}`; Protostudio keeps one history per case, so it was not imported"
                )
                continue
            if prompt.tail is not None and prompt.tail != shared_tail:
                own_turns = prompt.tail
            if prompt.tail is None and shared_tail and not self.meta:
                self.drop(
                    f"prompt {_label(prompt.label)}: has no user message, so in Protostudio it is "
                    "followed by each case's turns"
                )
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
                self.drop(
                    f"profile {profile_id!r}: the prompt changed since export, so its whole system "
                    "message became the system prompt (custom instructions and spec folded in)"
                )
            name = prompt.label if prompt.label != profile_id and "\n" not in prompt.label else ""
            profiles.append(
                Profile(id=profile_id, name=name[:200], system_prompt=prompt.system, turns=own_turns)
            )
        return profiles, shared_tail, history_var

    # -- providers ----------------------------------------------------------------------------------

    def _providers(self) -> list[ModelTarget]:
        raw = self.config.get("providers", self.config.get("targets"))
        entries: list[tuple[str, str | None, dict[str, Any]]] = []
        section = "providers" if "providers" in self.config else "targets"
        for index, item in enumerate(raw if isinstance(raw, list) else [raw] if raw is not None else []):
            path: Path_ = (section, index) if isinstance(raw, list) else (section,)
            pid_of = item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
            if isinstance(item, dict) and pid_of is None and len(item) == 1:
                pid_of = next(iter(item))
            if isinstance(pid_of, str):
                self.where_paths.setdefault(f"provider {pid_of}", path)
            if isinstance(item, str):
                entries.append((item, None, {}))
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                entries.append((item["id"], _opt_str(item.get("label")), _dict(item.get("config"))))
                for key in item:
                    if key not in ("id", "label", "config"):
                        self.drop(f"provider {item['id']}: `{key}` dropped")
            elif isinstance(item, dict) and len(item) == 1:
                ((pid, options),) = item.items()
                options = _dict(options)
                entries.append((str(pid), _opt_str(options.get("label")), _dict(options.get("config"))))
            else:
                self.drop(f"provider {_short(item)}: not understood; not imported")
        if not entries:
            self.drop("providers: none listed; add a model target before running")
        stored = {m.get("id"): m for m in self.meta.get("models", []) if isinstance(m, dict)}
        targets: list[ModelTarget] = []
        used: set[str] = set()
        for pid, label, config in entries:
            target = self._target(pid, label, config, stored, used)
            if target is not None:
                targets.append(target)
        return targets

    def _target(
        self, pid: str, label: str | None, config: dict[str, Any], stored: dict[Any, Any], used: set[str]
    ) -> ModelTarget | None:
        mapped = map_provider(pid, config, self.endpoints)
        self.dropped.extend(mapped.notes)
        if mapped.target is None:
            return None
        fields = dict(mapped.target)
        try:
            fields["params"] = ModelParams.model_validate(fields["params"])
        except ValidationError as exc:
            self.drop(f"provider {pid}: parameters dropped ({_first_error(exc)})")
            fields["params"] = ModelParams()
        target_id = _id_for(label or fields["model"], "model", used)
        entry = stored.get(label) if label else None
        name = label if label and label != target_id else ""
        if isinstance(entry, dict) and entry.get("model") == fields["model"]:
            fields["provider"] = str(entry.get("provider") or fields["provider"])
            name = str(entry.get("name") or "")
        try:
            return ModelTarget(id=target_id, name=name, **fields)
        except ValidationError as exc:
            self.drop(f"provider {pid}: {_first_error(exc)}; not imported")
            return None

    def _judge_of(self, provider: Any) -> str | None:
        """The model target a promptfoo grading provider (id, {id, config}, or {text: ...}) names, if any."""
        if (
            isinstance(provider, dict)
            and "id" not in provider
            and isinstance(provider.get("text"), str | dict)
        ):
            provider = provider["text"]
        pid = provider.get("id") if isinstance(provider, dict) else provider
        config = _dict(provider.get("config")) if isinstance(provider, dict) else {}
        if not isinstance(pid, str):
            return None
        mapped = map_provider(pid, config, self.endpoints)
        if mapped.target is None:
            return None
        for target in self.targets:
            if (target.provider, target.model, target.base_url) == (
                mapped.target["provider"],
                mapped.target["model"],
                mapped.target.get("base_url"),
            ):
                return target.id
        return None

    # -- tests --------------------------------------------------------------------------------------

    def _default_test(self) -> tuple[list[Assertion], dict[str, str], dict[str, Any]]:
        raw = self.config.get("defaultTest")
        if isinstance(raw, str) and raw.startswith("file://"):
            loaded = self._load_data(raw, "defaultTest")
            raw = loaded if isinstance(loaded, dict) else None
        if raw is None:
            return [], {}, {}
        if not isinstance(raw, dict):
            self.drop("defaultTest: not a mapping; dropped")
            return [], {}, {}
        for key in raw:
            if key not in ("assert", "vars", "options", "metadata") and not (
                key == "provider" and _is_simulated(raw[key])
            ):
                self.drop(f"defaultTest: `{key}` dropped")
        options = self._options(raw.get("options"), "defaultTest")
        vars_, lists, _ = self._vars(raw.get("vars"), "defaultTest", None)
        for name in lists:
            self.drop(f"defaultTest: var {name!r} is a list; dropped")
        descriptions = self.meta.get("default_assert_descriptions")
        return self._asserts(raw.get("assert"), "defaultTest", descriptions), vars_, options

    def _options(self, options: Any, where: str) -> dict[str, Any]:
        """The options Protostudio maps (grader `provider`, `rubricPrompt`, `transform`); the rest named."""
        kept: dict[str, Any] = {}
        if not isinstance(options, dict):
            return kept
        for key, value in options.items():
            if key in ("disableVarExpansion",):
                kept[key] = value
            elif key == "provider":
                judge = self._judge_of(value)
                if judge is None:
                    self.drop(
                        f"{where}: grading provider {_short(value)} matches no model target; "
                        "the default judge (or --judge) grades its llm-rubric checks"
                    )
                else:
                    kept["judge"] = judge
            elif key == "rubricPrompt":
                kept["rubric_prompt"] = (
                    value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                )
            elif key == "transform":
                if isinstance(value, str) and transforms.known(value):
                    kept["transform"] = value
                else:
                    self.drop(
                        f"{where}: option `transform` {_short(value)} is not a simple form Protostudio "
                        "applies; dropped"
                    )
            else:
                self.drop(f"{where}: option `{key}` dropped")
        return kept

    def _apply_options(
        self, assertions: list[Assertion], options: Mapping[str, Any], where: str
    ) -> list[Assertion]:
        out: list[Assertion] = []
        for assertion in assertions:
            update: dict[str, Any] = {}
            rubric = assertion.type.endswith("llm-rubric") and not assertion.disabled
            if rubric and assertion.judge is None and options.get("judge"):
                update["judge"] = options["judge"]
            if rubric and assertion.rubric_prompt is None and options.get("rubric_prompt"):
                update["rubric_prompt"] = options["rubric_prompt"]
            if options.get("transform") and not assertion.disabled:
                if assertion.transform is None:
                    update["transform"] = options["transform"]
                else:
                    self.drop(
                        f"{where}: {assertion.type} has its own transform, so the test's "
                        f"`{options['transform']}` is not chained before it"
                    )
            out.append(assertion.model_copy(update=update) if update else assertion)
        return out

    def _apply_default_options(
        self, options: dict[str, Any], default_assert: list[Assertion], cases: list[dict[str, Any]]
    ) -> tuple[list[Assertion], list[dict[str, Any]]]:
        if not options:
            return default_assert, cases
        default_assert = self._apply_options(default_assert, options, "defaultTest")
        for case in cases:
            case["assert"] = self._apply_options(case["assert"], options, f"case {case['id']!r}")
        return default_assert, cases

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

    def _test_items(self) -> list[tuple[str, Any]]:
        """(where, test) for every test: inline, from files (YAML, JSON, JSONL, CSV), and from scenarios.
        Read once (files named as dropped once), however often asked."""
        cached: list[tuple[str, Any]] | None = getattr(self, "_items", None)
        if cached is None:
            cached = self._items = self._read_test_items()
        return cached

    def _read_test_items(self) -> list[tuple[str, Any]]:
        raw = self.config.get("tests")
        items = raw if isinstance(raw, list) else [raw] if raw is not None else []
        out: list[tuple[str, Any]] = []
        if isinstance(raw, dict) and isinstance(raw.get("path"), str):
            items = [raw]
        for index, entry in enumerate(items):
            item = entry
            if isinstance(entry, dict) and isinstance(entry.get("path"), str) and "vars" not in entry:
                if entry.get("config") is not None:
                    self.drop(f"tests {entry['path']}: `config` dropped (it configures a test generator)")
                item = entry["path"]
            path: Path_ = ("tests", index) if isinstance(raw, list) else ("tests",)
            if isinstance(item, str):
                self.where_paths.setdefault(f"tests {item}", path)
                loaded = self._load_tests(item)
                for t in loaded:
                    self.where_paths[f"test {len(out) + 1} ({item})"] = path
                    out.append((f"test {len(out) + 1} ({item})", t))
            else:
                self.where_paths[f"test {len(out) + 1}"] = path
                out.append((f"test {len(out) + 1}", item))
        scenarios = self.config.get("scenarios")
        for s_index, scenario in enumerate(scenarios if isinstance(scenarios, list) else []):
            self.where_paths[f"scenario {s_index + 1}"] = ("scenarios", s_index)
            if not isinstance(scenario, dict):
                self.drop(f"scenario {s_index + 1}: not a mapping; dropped")
                continue
            configs = [c for c in scenario.get("config") or [{}] if isinstance(c, dict)]
            tests = [t for t in scenario.get("tests") or [] if isinstance(t, dict)]
            for c_index, conf in enumerate(configs):
                for test in tests:
                    merged = {**test, "vars": {**_dict(conf.get("vars")), **_dict(test.get("vars"))}}
                    label = scenario.get("description") or f"scenario {s_index + 1}"
                    merged["description"] = f"{label} {c_index + 1}: {test.get('description') or ''}".strip(
                        ": "
                    )
                    merged["assert"] = [*(conf.get("assert") or []), *(test.get("assert") or [])]
                    out.append((f"scenario {s_index + 1} config {c_index + 1}", merged))
        return out

    def _load_tests(self, ref: str) -> list[Any]:
        spec = ref[len("file://") :] if ref.startswith("file://") else ref
        if re.match(r"^[a-z][a-z0-9+.-]*://", spec):
            self.drop(
                f"tests {ref}: a remote dataset (Google Sheets, Hugging Face, cloud storage) is not "
                "downloaded; no tests read from it"
            )
            return []
        script, _, function = spec.rpartition(":")
        if not script or Path(script).suffix.lower() not in SCRIPT_SUFFIXES:
            script, function = spec, ""
        if Path(script).suffix.lower() in SCRIPT_SUFFIXES:
            self.drop(
                f"tests {ref}: {Path(script).name} is a test generator script"
                + (f" ({function})" if function else "")
                + "; Protostudio cannot run scripts; not read"
            )
            return []
        paths = (
            sorted(glob.glob(str(self.base_dir / spec)))
            if any(c in spec for c in "*?[")
            else [str(self.base_dir / spec)]
        )
        if not paths or not Path(paths[0]).exists():
            self.drop(f"tests {ref}: file not found: {spec}; no tests read from it")
            return []
        out: list[Any] = []
        for name in paths:
            path = Path(name)
            suffix = path.suffix.lower()
            if suffix == ".csv":
                text = self._read_text(path, f"tests {ref}")
                out.extend(self._csv_tests(text, f"tests {path.name}:1") if text is not None else [])
            elif suffix == ".jsonl":
                text = self._read_text(path, f"tests {ref}")
                for number, line in enumerate((text or "").splitlines(), start=1):
                    if line.strip():
                        try:
                            out.append(jsontext.loads(line))
                        except ValueError:
                            self.drop(f"tests {path.name}:{number}: not valid JSON; dropped")
            elif suffix in DATA_SUFFIXES:
                loaded = self._load_data(str(path.relative_to(self.base_dir)), f"tests {ref}")
                rows = loaded if isinstance(loaded, list) else [loaded] if isinstance(loaded, dict) else []
                if suffix == ".json":
                    rows = self._json_rows(rows, ref)
                for row in rows:
                    if isinstance(row, dict):
                        self._test_dirs[id(row)] = path.parent
                out.extend(rows)
            else:
                self.drop(f"tests {ref}: {path.name} is a test generator or unknown file type; not read")
        return out

    def _json_rows(self, rows: list[Any], ref: str) -> list[Any]:
        """Rows of a JSON tests file that hold no test keys at all are rows of vars, as promptfoo's
        examples write them (older promptfoo read such a file like a CSV); said once per file."""
        flat = [
            r for r in rows
            if isinstance(r, dict) and r and not set(r) & _TEST_KEYS
            and all(_scalar(v) is not None for v in r.values())
        ]
        if not flat:
            return rows
        self.drop(
            f"tests {ref}: {len(flat)} of its {len(rows)} rows have no `vars`, `assert` or other test "
            "key; their fields were imported as vars (current promptfoo would ignore them)"
        )
        ids = {id(r) for r in flat}
        return [{"vars": r} if id(r) in ids else r for r in rows]

    def _load_data(self, ref: str, what: str, base: Path | None = None) -> Any:
        path = (base or self.base_dir) / (ref[len("file://") :] if ref.startswith("file://") else ref)
        text = self._read_text(path, what)
        if text is None:
            return None
        try:
            return safe_yaml(text)
        except YamlSyntaxError as exc:
            self.drop(f"{what}: {path.name}:{exc.mark.line}:{exc.mark.col} is not valid YAML or JSON: "
                      f"{exc.message}")
            return None

    def _csv_tests(self, text: str, where: str) -> list[dict[str, Any]]:
        tests: list[dict[str, Any]] = []
        reader = csv.DictReader(io.StringIO(text))
        unknown: set[str] = set()
        for row in reader:
            test: dict[str, Any] = {"vars": {}, "assert": []}
            thresholds: dict[int, float] = {}  # `__config:__expected<N>:threshold`, by assertion index
            for column, value in row.items():
                if column is None or value is None:
                    continue
                name = column.strip()
                if name.startswith("__expected"):
                    if value.strip():
                        test["assert"].append(csv_assertion(value.strip()))
                elif name == "__description":
                    test["description"] = value
                elif name == "__threshold" and value.strip():
                    try:
                        test["threshold"] = float(value)
                    except ValueError:
                        self.drop(f"{where}: __threshold {value!r} is not a number; dropped")
                elif name == "__metric" and value.strip():
                    test["metric"] = value.strip()
                elif (target := _CSV_CONFIG_RE.match(name)) and value.strip():
                    index = int(target.group(1)) - 1 if target.group(1) else 0
                    try:
                        thresholds[index] = float(value)
                    except ValueError:
                        self.drop(f"{where}: {name} {value!r} is not a number; dropped")
                elif name.startswith("__") and not _CSV_CONFIG_RE.match(name):
                    unknown.add(name)
                elif not name.startswith("__"):
                    test["vars"][name] = value
            metric = test.pop("metric", None)
            for index, item in enumerate(test["assert"]):
                if index in thresholds:
                    item["threshold"] = thresholds[index]
                if metric:
                    item["metric"] = metric
            tests.append(test)
        for name in sorted(unknown):
            self.drop(f"{where}: column `{name}` dropped")
        return tests

    def _cases(
        self, shared_tail: list[Turn] | None, history_var: str | None, default_vars: dict[str, str]
    ) -> list[dict[str, Any]]:
        cases: list[dict[str, Any]] = []
        used: set[str] = set()
        for index, (where, test) in enumerate(self._test_items()):
            if not isinstance(test, dict):
                self.drop(f"{where}: not a mapping; dropped")
                continue
            cases.extend(
                self._case(
                    test,
                    where,
                    shared_tail=shared_tail,
                    history_var=history_var,
                    default_vars=default_vars,
                    used=used,
                    index=index,
                )
            )
        return cases

    def _case(
        self,
        test: dict[str, Any],
        where: str,
        *,
        shared_tail: list[Turn] | None,
        history_var: str | None,
        default_vars: dict[str, str],
        used: set[str],
        index: int,
    ) -> list[dict[str, Any]]:
        meta = _dict(test.get("metadata"))
        sim, sim_dropped = simulated.from_test(test.get("provider", self._default_provider()), meta)
        for line in sim_dropped:
            self.drop(f"{where}: {line}")
        known = ("description", "vars", "assert", "options", "metadata", "threshold")
        for key in test:
            if key not in known and not (key == "provider" and sim is not None):
                self.drop(f"{where}: `{key}` dropped")
        options = self._options(test.get("options"), where)
        raw_vars = test.get("vars")
        if isinstance(raw_vars, str) or (
            isinstance(raw_vars, list) and raw_vars and all(isinstance(v, str) for v in raw_vars)
        ):
            raw_vars = self._vars_files(raw_vars, self._test_dirs.get(id(test), self.base_dir), where)
        if sim is not None and isinstance(raw_vars, dict):
            raw_vars = _simulated_vars(raw_vars)
        vars_, lists, special = self._vars(raw_vars, where, history_var)
        if options.get("disableVarExpansion"):
            for name in lists:
                self.drop(f"{where}: var {name!r} is a list and expansion is off; dropped")
            lists = {}
        if sim is not None and (meta.get("turns") == [] or not (special or shared_tail or history_var)):
            # the simulated user writes the first message
            turns: list[Turn] | None = self._simulated_only(where)
        else:
            turns = self._turns_for(where, special, history_var, shared_tail, meta)
        if turns is None or (not turns and sim is None):
            return []
        description = str(test.get("description") or "")
        asserts = self._asserts(test.get("assert"), where, meta.get("assert_descriptions"))
        asserts = self._apply_options(asserts, options, where)
        if sim is not None:
            asserts = _with_unexported(asserts, meta.get("unexported_assert"))
        combos = (
            list(itertools.islice(itertools.product(*lists.values()), MAX_EXPANDED + 1)) if lists else [()]
        )
        if len(combos) > MAX_EXPANDED:
            self.drop(
                f"{where}: its array vars expand into more than {MAX_EXPANDED} cases; only the first "
                f"{MAX_EXPANDED} were imported"
            )
            combos = combos[:MAX_EXPANDED]
        out: list[dict[str, Any]] = []
        for number, combo in enumerate(combos, start=1):
            values = {**default_vars, **vars_, **dict(zip(lists, combo, strict=True))}
            if not self.meta:  # a Protostudio export's vars are Protostudio's, rendered once
                values = _resolved(values)
            wanted = meta.get("case") if isinstance(meta.get("case"), str) else None
            base = wanted or description or f"case-{index + 1}"
            if len(combos) > 1:
                base = f"{slug(base, 'case')[:50]}-{number}"
            case_id = _id_for(base, f"case-{index + 1}", used)
            text = description if not (wanted and case_id == wanted and description == wanted) else ""
            case: dict[str, Any] = {
                "id": case_id,
                "description": text,
                "vars": values,
                "turns": turns,
                "assert": list(asserts),
            }
            if isinstance(meta.get("tool_mocks"), dict):
                case["tool_mocks"] = meta["tool_mocks"]
            if sim is not None:
                case["simulated_user"] = sim
            threshold = test.get("threshold")
            if isinstance(threshold, int | float) and not isinstance(threshold, bool):
                if 0 <= threshold <= 1:
                    case["threshold"] = float(threshold)
                elif number == 1:
                    self.drop(f"{where}: threshold {threshold} is outside 0..1; dropped")
            out.append(case)
        return out

    def _default_provider(self) -> Any:
        """defaultTest's `provider` when it is promptfoo's simulated user (every test then is one)."""
        raw = self.config.get("defaultTest")
        provider = raw.get("provider") if isinstance(raw, dict) else None
        return provider if _is_simulated(provider) else None

    def _all_simulated(self) -> bool:
        tests = [t for _, t in self._test_items() if isinstance(t, dict)]
        default = self._default_provider()
        return bool(tests) and all(_is_simulated(t.get("provider", default)) for t in tests)

    def _simulated_only(self, where: str) -> list[Turn] | None:
        """No fixed turns: kept empty when this version allows a case without turns, else dropped."""
        try:
            Case.model_validate({"id": "probe", "turns": [], "simulated_user": {}})
        except ValidationError:
            self.drop(f"{where}: a simulated user with no fixed first message needs a newer Protostudio "
                      "(a case needs at least one turn here); dropped")
            return None
        return []

    def _turns_for(
        self,
        where: str,
        special: dict[str, Any],
        history_var: str | None,
        shared_tail: list[Turn] | None,
        meta: dict[str, Any],
    ) -> list[Turn] | None:
        messages = special.get(MESSAGES_VAR)
        stored = _turns(meta.get("turns")) if meta else None
        if stored is not None and (messages is None or len(stored) == len(messages)):
            return stored
        if messages is not None:
            return list(messages)
        if history_var is not None:
            history = special.get(history_var)
            if history is None:
                self.drop(
                    f"{where}: var `{history_var}` is missing or not a list of user/assistant messages, "
                    "so it has no conversation; dropped"
                )
                return None
            return [*history, *(shared_tail or [])] or None
        if not shared_tail:
            self.drop(
                f"{where}: no conversation (no `{MESSAGES_VAR}` var and no user message in the "
                "prompts); dropped"
            )
            return None
        return shared_tail

    def _vars(
        self, raw: Any, where: str, history_var: str | None
    ) -> tuple[dict[str, str], dict[str, list[str]], dict[str, list[Turn]]]:
        """(text vars, array vars to expand, conversation vars: `messages` and the history var)."""
        if raw is None:
            return {}, {}, {}
        if not isinstance(raw, dict):
            self.drop(f"{where}: vars are not a mapping; dropped")
            return {}, {}, {}
        out: dict[str, str] = {}
        lists: dict[str, list[str]] = {}
        special: dict[str, list[Turn]] = {}
        for key, value in raw.items():
            name = str(key)
            if name in (MESSAGES_VAR, history_var) and isinstance(value, list | str):
                turns = history_turns(value)
                if turns is not None:
                    special[name] = turns
                    continue
                if name != MESSAGES_VAR or isinstance(value, list):
                    self.drop(f"{where}: `{name}` is not a list of user/assistant messages; dropped")
                    continue
            text = _scalar(value)
            if text is not None:
                if text.startswith("file://") and any(c in text for c in "*?["):
                    files = self._var_glob(text, name, where)
                    if files:
                        lists[name] = files
                elif text.startswith("file://"):
                    loaded = self._var_file(text, name, where)
                    if loaded is not None:
                        out[name] = loaded
                else:
                    out[name] = text
            elif isinstance(value, list) and value and all(_scalar(v) is not None for v in value):
                lists[name] = [str(_scalar(v)) for v in value]
            else:
                self.drop(
                    f"{where}: var {name!r} is a mapping or nested list (promptfoo passes objects to "
                    "templates; Protostudio vars are text); dropped"
                )
        return out, lists, special

    def _vars_files(self, refs: str | list[str], base: Path, where: str) -> dict[str, Any] | None:
        """`vars: path/glob` (or a list of them): YAML/JSON mappings merged; paths are relative to the
        file the test came from."""
        merged: dict[str, Any] = {}
        for ref in [refs] if isinstance(refs, str) else refs:
            spec = ref[len("file://") :] if ref.startswith("file://") else ref
            pattern = str(base / spec)
            paths = sorted(glob.glob(pattern)) if any(c in spec for c in "*?[") else [pattern]
            if not paths:
                self.drop(f"{where}: vars file not found: {ref}; dropped")
            for name in paths:
                loaded = self._load_data(Path(name).name, f"{where}: vars", Path(name).parent)
                if isinstance(loaded, dict):
                    merged.update(loaded)
                elif loaded is not None:
                    self.drop(f"{where}: vars file {ref} does not hold a mapping; dropped")
        return merged

    def _var_glob(self, ref: str, name: str, where: str) -> list[str]:
        """`var: file://folder/*`: promptfoo runs the test once per matching file, as an array var."""
        matches = sorted(glob.glob(str(self.base_dir / ref[len("file://") :])))
        if not matches:
            self.drop(f"{where}: var {name!r}: no file matches {ref}; dropped")
        texts = [self._var_file("file://" + str(Path(m).relative_to(self.base_dir)), name, where)
                 for m in matches]
        return [t for t in texts if t is not None]

    def _var_file(self, ref: str, name: str, where: str) -> str | None:
        path = self.base_dir / ref[len("file://") :]
        if path.suffix.lower() in DATA_SUFFIXES:
            loaded = self._load_data(ref, f"{where}: var {name!r}")
            text = _scalar(loaded)
            if text is None and loaded is not None:
                self.drop(f"{where}: var {name!r} from {ref} holds a mapping or list, not text; dropped")
            return text
        if path.suffix.lower() not in TEXT_VAR_SUFFIXES:
            self.drop(f"{where}: var {name!r} from {ref} is not a text file; dropped")
            return None
        text = self._read_text(path, f"{where}: var {name!r}")
        return text.strip() if text is not None else None


_CSV_TYPES = frozenset(
    {
        "equals",
        "contains",
        "icontains",
        "contains-any",
        "contains-all",
        "icontains-any",
        "icontains-all",
        "starts-with",
        "regex",
        "is-json",
        "contains-json",
        "javascript",
        "python",
        "llm-rubric",
        "similar",
        "levenshtein",
        "rouge-n",
        "bleu",
        "factuality",
        "model-graded-closedqa",
        "answer-relevance",
        "latency",
        "cost",
        "perplexity",
        "is-refusal",
        "word-count",
        "is-valid-openai-tools-call",
        "g-eval",
        "meteor",
    }
)
_CSV_CONFIG_RE = re.compile(r"^__config:__expected(\d*):threshold$")
"""A CSV column setting the threshold of the N-th `__expected` assertion (no N: the first)."""
_CSV_ALIASES = {"fn": "javascript", "eval": "javascript", "grade": "llm-rubric", "rubric": "llm-rubric"}
_CSV_RE = re.compile(r"^(not-)?([a-z][a-z0-9-]*)(?:\(([0-9.]+)\))?:\s?(.*)$", re.DOTALL)


def csv_assertion(text: str) -> dict[str, Any]:
    """A CSV `__expected` cell as promptfoo reads it: `type: value`, `similar(0.8): value`, else `equals`."""
    match = _CSV_RE.match(text)
    if match:
        kind = _CSV_ALIASES.get(match.group(2), match.group(2))
        if kind in _CSV_TYPES:
            item: dict[str, Any] = {"type": (match.group(1) or "") + kind}
            value = match.group(4).strip()
            if value:
                item["value"] = value
            if match.group(3):
                item["threshold"] = float(match.group(3))
            return item
    if text in ("is-json", "is-refusal", "not-is-refusal", "contains-json"):
        return {"type": text}
    return {"type": "equals", "value": text}


def _resolved(values: dict[str, str]) -> dict[str, str]:
    """Vars with the `{{other}}` placeholders in their values filled in, as promptfoo renders a var that
    names another; Protostudio renders vars into a prompt once, so this is done on import."""
    out = dict(values)
    for _ in range(len(out)):
        changed = {k: render_vars(v, {n: x for n, x in out.items() if n != k}) for k, v in out.items()}
        if changed == out:
            break
        out = changed
    return out


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))


def _turns(value: Any) -> list[Turn] | None:
    if not isinstance(value, list) or not value:
        return None
    try:
        return [Turn.model_validate(v) for v in value]
    except ValidationError:
        return None


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


def _simulated_vars(raw: dict[str, Any]) -> dict[str, Any]:
    """A simulated-user test's vars without the export's marker, `initialMessages` read as the turns."""
    out = {k: v for k, v in raw.items() if k != simulated.SIMULATED_VAR}
    if simulated.INITIAL_VAR in out and MESSAGES_VAR not in out:
        out[MESSAGES_VAR] = out.pop(simulated.INITIAL_VAR)
    return out


def _with_unexported(asserts: list[Assertion], kept: Any) -> list[Assertion]:
    """The checks an export could not write for promptfoo (kept in metadata), back at their places."""
    out = list(asserts)
    if not isinstance(kept, list):
        return out
    for item in sorted((k for k in kept if isinstance(k, dict)), key=lambda k: k.get("index", 0)):
        try:
            assertion = Assertion.model_validate(item.get("assert"))
        except ValidationError:
            continue
        index = item.get("index")
        out.insert(index if isinstance(index, int) and 0 <= index <= len(out) else len(out), assertion)
    return out


def _is_simulated(provider: Any) -> bool:
    pid = provider.get("id") if isinstance(provider, dict) else provider
    return pid == simulated.PROVIDER_ID


def _as_system(prompt: Prompt) -> Prompt:
    """A plain text prompt read as one user message is, for promptfoo's simulated user, the system text."""
    tail = prompt.tail
    if prompt.system or prompt.history_var or tail is None or len(tail) != 1 or tail[0].role != "user":
        return prompt
    return Prompt(prompt.label, tail[0].content, None)
