"""Shared pieces for the export/import tests: a prototype using every feature, and finding promptfoo.

(Named test_* only so it sits with the tests it serves; it holds no tests itself.)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from app.commands.export import engine_messages, registry_endpoints
from app.core.document import parse_prototype
from app.core.exports import Endpoint
from app.core.prototype import Prototype

ROOT = Path(__file__).resolve().parents[2]
PROMPTFOO_VERSION = "0.121.20"
"""Pinned: the newest promptfoo that still runs on Node 20 (0.122 needs Node >= 22.22)."""

PROTO_YAML = """\
protostudio: 1
name: Export sample
profiles:
  - id: plain
    name: Plain with vars
    system_prompt: |
      You help customers of {{product}}. Nunjucks-looking text stays as is: {% raw %}, {{ not a var }},
      {#comment#}, "quotes", a back\\\\slash, a trailing brace {
      Unknown placeholders stay too: {{nobody}}.
  - id: spec
    form_factor: voice
    system_prompt: Be brief.
    custom_instructions: Call me Sam.
    behavior_spec:
      - id: greet
        rule: Greet the user by name.
        good: [Hi Sam!]
        bad: [HELLO USER]
  - id: bare
models:
  - id: fake
    provider: openai
    model: fake-model
    base_url: __BASE_URL__
    params: {temperature: 0, max_tokens: 64, seed: 7}
  - id: judge
    provider: openai
    model: fake-judge
    base_url: __BASE_URL__
  - id: keyless
    provider: ollama
    model: llama3.2:3b
  - id: local
    provider: local
    model: smollm2-135m-instruct
cases:
  - id: hello
    description: A greeting with vars in the system prompt and the turn.
    vars:
      product: Acme "Pro"
      question: where is my order
    turns:
      - content: "Hi, {{question}}?"
    assert:
      - type: contains
        value: "Echo:"
        description: The fake server echoes.
      - type: icontains
        value: ECHO
      - type: not-contains
        value: zebra
      - type: contains-any
        value: [nothing, order]
      - type: contains-all
        value: [Echo, order]
      - type: icontains-any
        value: [ORDER]
      - type: icontains-all
        value: [HI, WHERE]
      - type: starts-with
        value: Echo
      - type: equals
        value: "Echo: Hi, where is my order?"
      - type: regex
        value: order\\?$
      - type: regex
        value: (?i)^echo
      - type: max-words
        value: 3
        weight: 2
      - type: min-words
        value: 2
      - type: max-chars
        value: 10
      - type: bullet-count
        value: 0
      - type: no-markdown
      - type: not-is-json
      - type: contains
        value: "{{question}}"
        description: Vars are rendered into assertion values, as promptfoo does.
      - type: regex
        value: '{{ question }}\\?$'
      - type: not-contains
        value: "{{nobody}} {% raw %}"
      - type: icontains-any
        value: [zebra, "{{QUESTION}}", "{{question}}"]
  - id: thread
    turns:
      - content: first question
      - role: assistant
        content: a fixed answer
      - content: second question
    threshold: 0.5
    assert:
      - type: is-json
        value: {type: object}
      - type: is-refusal
      - type: similar
        value: [a reference answer]
        threshold: 0.7
      - type: llm-rubric
        value: Answers the second question.
        judge: judge
      - type: not-llm-rubric
        value: Mentions zebras.
default_assert:
  - type: not-icontains
    value: as an ai
    description: No disclaimers.
"""


def sample_prototype(base_url: str = "http://127.0.0.1:9/v1") -> Prototype:
    return parse_prototype(PROTO_YAML.replace("__BASE_URL__", base_url), "sample.yaml")


def endpoints() -> dict[str, Endpoint]:
    return registry_endpoints()


messages = engine_messages


def promptfoo_command() -> list[str] | None:
    """How to run promptfoo: $PROTOSTUDIO_PROMPTFOO, else bench/node_modules (when its install can
    run an eval), else `npx --yes promptfoo@PIN` (a ~1.8 GB download the first time). None without node.
    """
    if shutil.which("node") is None:
        return None
    override = os.environ.get("PROTOSTUDIO_PROMPTFOO")
    if override:
        return [override]
    local = ROOT / "bench" / "node_modules" / ".bin" / "promptfoo"
    if local.exists() and _bench_install_complete():
        return [str(local)]
    npx = shutil.which("npx")
    return [npx, "--yes", f"promptfoo@{PROMPTFOO_VERSION}"] if npx else None


def _bench_install_complete() -> bool:
    """promptfoo's results database needs @libsql/client resolvable from drizzle-orm; an install that
    nested it under promptfoo/ fails every `eval` with ERR_MODULE_NOT_FOUND, so it is not used."""
    modules = ROOT / "bench" / "node_modules"
    return (modules / "@libsql" / "client").is_dir() or not (modules / "drizzle-orm").is_dir()


def promptfoo_env(config_dir: Path, key_env: str, key: str) -> dict[str, str]:
    """An environment that keeps promptfoo quiet and out of the user's home, with a dummy key."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        {
            "PROMPTFOO_DISABLE_TELEMETRY": "1",
            "PROMPTFOO_DISABLE_UPDATE": "1",
            "PROMPTFOO_CONFIG_DIR": str(config_dir),
            "PROMPTFOO_CACHE_PATH": str(config_dir / "cache"),
            "PROMPTFOO_DISABLE_SHARING": "1",
            "NO_COLOR": "1",
            key_env: key,
        }
    )
    return env
