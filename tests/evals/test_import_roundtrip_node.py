"""The real promptfoo grades an imported-then-exported config the way the original would be graded.

An ordinary promptfoo config (several prompts, a chat prompt file, transforms, metric, weight, a
custom javascript check, CSV-style checks) is imported, exported back, and run by promptfoo
against the scriptable server. For every check Protostudio grades, promptfoo's verdict on the same
output must equal ours; checks kept disabled (javascript) must still run in promptfoo.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI
from test_export_kit import endpoints, messages, promptfoo_command, promptfoo_env

from app.core.evals.assertions import grade
from app.core.exports.promptfoo import CONFIG_FILE, export_promptfoo
from app.core.exports.promptfoo_import import import_promptfoo

pytestmark = pytest.mark.node

KEY = "dummy-test-key-not-secret"

CONFIG = """\
description: Round trip
prompts:
  - file://chat.json
  - 'Say this back: {{phrase}}'
providers:
  - id: openai:chat:fake-model
    label: fake
    config: {apiBaseUrl: __BASE__, apiKeyEnvar: OPENAI_API_KEY, temperature: 0}
defaultTest:
  assert:
    - {type: not-icontains, value: forbidden}
tests:
  - description: upper
    vars: {phrase: Hello There}
    options: {transform: output.toLowerCase()}
    assert:
      - {type: contains, value: hello there}
      - {type: contains, value: Hello, metric: Case kept}
  - description: words
    vars: {phrase: one two three}
    assert:
      - {type: word-count, value: {max: 5}}
      - {type: icontains-any, value: 'three, four'}
      - {type: javascript, value: "output.includes('two')"}
      - {type: starts-with, value: Echo, weight: 2}
      - {type: regex, value: '\\\\bthree$'}
"""


@pytest.mark.timeout(1200)
def test_promptfoo_grades_the_round_trip_like_protostudio(tmp_path: Path) -> None:
    command = promptfoo_command()
    if command is None:
        pytest.skip("node/npx not found: install Node.js 20+ to run promptfoo (npm registry)")
    with FakeOpenAI(api_key=KEY) as server:
        source = tmp_path / "source"
        source.mkdir()
        (source / "chat.json").write_text(
            '[{"role": "system", "content": "Repeat the user."}, {"role": "user", "content": "{{phrase}}"}]',
            encoding="utf-8",
        )
        (source / "promptfooconfig.yaml").write_text(
            CONFIG.replace("__BASE__", server.base_url), encoding="utf-8"
        )
        imported = import_promptfoo(source / "promptfooconfig.yaml", endpoints())
        proto = imported.prototype
        assert [p.id for p in proto.profiles] == ["chat", "say-this-back-phrase"]
        # the fake server is another host than OpenAI's: the exporter withholds the key env var unless
        # the person exporting names the URL (`--base-url`), as they would for their own server
        exported = export_promptfoo(proto, messages, endpoints(),
                                    base_urls={m.id: server.base_url for m in proto.models})
        out_dir = tmp_path / "export"
        out_dir.mkdir()
        (out_dir / CONFIG_FILE).write_text(exported.files[CONFIG_FILE], encoding="utf-8")
        out = out_dir / "out.json"
        done = subprocess.run(
            [
                *command,
                "eval",
                "-c",
                str(out_dir / CONFIG_FILE),
                "--no-cache",
                "-o",
                str(out),
                "--no-progress-bar",
                "--no-table",
            ],
            cwd=out_dir,
            env=promptfoo_env(tmp_path / "home", "OPENAI_API_KEY", KEY),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert out.exists(), (
            f"promptfoo wrote no output (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
        sent = sorted(json.dumps(r.messages, sort_keys=True) for r in server.chat_requests())
    expected = sorted(
        json.dumps([m.model_dump(exclude_defaults=True) for m in messages(p, c)], sort_keys=True)
        for p in proto.profiles
        for c in proto.cases
    )
    assert sent == expected, "promptfoo sends exactly what Protostudio would send for each profile and case"
    rows = json.loads(out.read_text(encoding="utf-8"))["results"]["results"]
    assert len(rows) == len(proto.profiles) * len(proto.cases)
    compared = disabled_seen = 0
    for row in rows:
        case = proto.case(row["testCase"]["metadata"]["case"])
        components = row["gradingResult"]["componentResults"]
        wanted = [*proto.default_assert, *case.assert_]
        assert len(components) == len(wanted)
        for assertion, component in zip(wanted, components, strict=True):
            if assertion.disabled:
                disabled_seen += 1
                assert component["assertion"]["type"] == assertion.type
                assert component["assertion"]["value"] == assertion.value
                continue
            ours = asyncio.run(grade(assertion, row["response"]["output"], vars=case.vars))
            assert component["pass"] == ours.passed, (assertion, row["response"]["output"], component)
            if assertion.metric:
                assert component["assertion"].get("metric") == assertion.metric
            compared += 1
    assert disabled_seen == len(proto.profiles)
    assert compared == len(proto.profiles) * (3 + 5)  # defaults + own checks of both cases, minus javascript
