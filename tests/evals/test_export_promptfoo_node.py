"""The real tool: promptfoo runs the exported config, unchanged, against the scriptable server.

Checks that promptfoo (a) sends exactly the messages Protostudio's engine builds, with the
key from the named env var, (b) produces a result for every prompt x provider x test, and
(c) passes and fails each deterministic assertion exactly where Protostudio's own grader does,
with the test's vars rendered into assertion values by both (unknown `{{var}}` kept as written).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fakeserver import FakeOpenAI, Recorded, Reply, fake_embedding
from test_export_kit import endpoints, messages, promptfoo_command, promptfoo_env, sample_prototype

from app.core.evals.assertions import Graders, combine, grade, split_type
from app.core.exports.promptfoo import CONFIG_FILE, export_promptfoo
from app.core.prototype import Assertion, AssertionResult, Case, Message

pytestmark = pytest.mark.node

KEY = "dummy-test-key-not-secret"
VERDICT = '{"reason": "the scripted judge always agrees", "pass": true, "score": 1}'


def _responder(rec: Recorded) -> Reply | None:
    """The judge answers with a verdict; every other model echoes the last user message."""
    if (rec.body or {}).get("model") == "fake-judge":
        return Reply(text=VERDICT)
    return None


async def _embed(texts: list[str] | tuple[str, ...]) -> list[list[float]]:
    return [fake_embedding(t) for t in texts]


async def _judge(judge_id: str | None, msgs: list[Message]) -> str:
    del judge_id, msgs
    return VERDICT


@pytest.mark.timeout(1200)  # the first run on a fresh machine downloads promptfoo (~2-3 min, more under load)
def test_promptfoo_runs_the_export_unchanged(tmp_path: Path) -> None:
    command = promptfoo_command()
    if command is None:
        pytest.skip("node/npx not found: install Node.js 20+ to run promptfoo (npm registry)")
    with FakeOpenAI(api_key=KEY) as server:
        server.responder = _responder
        proto = sample_prototype(server.base_url)
        proto = proto.model_copy(update={"models": [m for m in proto.models if m.id in ("fake", "judge")]})
        result = export_promptfoo(proto, messages, endpoints(), judge="judge", embedder="judge",
                                  base_urls={"fake": server.base_url, "judge": server.base_url})
        config = tmp_path / CONFIG_FILE
        config.write_text(result.files[CONFIG_FILE], encoding="utf-8")
        out = tmp_path / "out.json"
        done = subprocess.run(
            [
                *command,
                "eval",
                "-c",
                str(config),
                "--no-cache",
                "-o",
                str(out),
                "--no-progress-bar",
                "--no-table",
            ],
            cwd=tmp_path,
            env=promptfoo_env(tmp_path / "promptfoo-home", "OPENAI_API_KEY", KEY),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        why = f"promptfoo wrote no output (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        assert out.exists(), why
        chats = [r for r in server.chat_requests() if (r.body or {}).get("model") == "fake-model"]
        keys = {r.authorization for r in server.requests}

    assert keys == {f"Bearer {KEY}"}, "every request carries the key from apiKeyEnvar"
    sent = sorted(json.dumps(r.messages, sort_keys=True) for r in chats)
    expected = sorted(
        json.dumps([m.model_dump(exclude_defaults=True) for m in messages(p, c)], sort_keys=True)
        for p in proto.profiles
        for c in proto.cases
    )
    assert sent == expected, "promptfoo sends exactly the messages Protostudio builds"

    results = json.loads(out.read_text(encoding="utf-8"))["results"]["results"]
    cells = {
        (r["prompt"]["label"], r["provider"]["label"], r["testCase"]["metadata"]["case"]) for r in results
    }
    assert cells == {(p.id, m.id, c.id) for p in proto.profiles for m in proto.models for c in proto.cases}
    assert all(not r.get("error") or r["gradingResult"] for r in results)

    compared = 0
    for row in results:
        case = proto.case(row["testCase"]["metadata"]["case"])
        components = row["gradingResult"]["componentResults"]
        wanted = _promptfoo_order(case.assert_, proto.default_assert)
        assert len(components) == len(wanted)
        output = row["response"]["output"]
        for assertion, component in zip(wanted, components, strict=True):
            ours = asyncio.run(grade(assertion, output, Graders(embed=_embed, judge=_judge), vars=case.vars))
            assert component["pass"] == ours.passed, (
                f"{assertion.type} on {output!r}: promptfoo {component['pass']}, Protostudio {ours.passed} "
                f"({component.get('reason')!r} vs {ours.reason!r})"
            )
            compared += 1
        assert row["success"] == _case_passes(case, wanted, components)
    assert compared == sum(len(proto.default_assert) + len(c.assert_) for c in proto.cases) * 6
    graded_types = {split_type(a.type)[0] for c in proto.cases for a in c.assert_}
    wanted_types = {"max-chars", "bullet-count", "no-markdown", "max-words", "regex", "similar", "llm-rubric"}
    assert wanted_types <= graded_types


def _promptfoo_order(case_asserts: list[Assertion], defaults: list[Assertion]) -> list[Assertion]:
    """promptfoo runs defaultTest's assertions first, then the test's own."""
    return [*defaults, *case_asserts]


def _case_passes(case: Case, wanted: list[Assertion], components: list[dict[str, Any]]) -> bool:
    """Protostudio's rule: all weighted checks pass, or the weighted score reaches the threshold."""
    results = [
        AssertionResult(type=a.type, passed=c["pass"], score=float(c["score"]))
        for a, c in zip(wanted, components, strict=True)
    ]
    return combine(results, [a.weight for a in wanted], case.threshold).passed
