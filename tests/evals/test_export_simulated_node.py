"""The real tool: promptfoo runs an exported simulated-user case against the scriptable server.

promptfoo's simulated user asks promptfoo's hosted service for each user message; the test points
`PROMPTFOO_REMOTE_GENERATION_URL` at a loopback stand-in that writes fixed messages, so nothing
leaves the machine. It checks that the target gets Protostudio's system message and the case's
fixed turn, and that every check (`turn: last`, `any`, `all`) passes or fails in promptfoo exactly
where Protostudio's grader does on the same replies.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fakeserver import FakeOpenAI
from test_export_kit import endpoints, messages, promptfoo_command, promptfoo_env

from app.core.document import parse_prototype
from app.core.evals.assertions import grade, over_turns
from app.core.exports.promptfoo import CONFIG_FILE, export_promptfoo
from app.core.exports.promptfoo_simulated import STOP

pytestmark = pytest.mark.node

KEY = "dummy-test-key-not-secret"
USER_MESSAGES = ["and 20%?", "thanks"]

PROTO = """\
protostudio: 3
name: Tips
profiles:
  - id: terse
    system_prompt: You compute tips for {{city}} diners.
models:
  - id: fake
    provider: openai
    model: fake-model
    base_url: __BASE_URL__
cases:
  - id: tip
    vars: {city: Lyon}
    turns:
      - content: What is 18% of $64?
    simulated_user:
      persona: A busy PM
      goal: the tip amount
      max_turns: 3
    assert:
      - {type: icontains, value: echo}
      - {type: contains, value: thanks}
      - {type: contains, value: 20%, turn: any}
      - {type: contains, value: 20%, turn: all}
      - {type: not-contains, value: sorry, turn: all}
      - {type: max-words, value: 3, turn: any}
      - {type: min-words, value: 4, turn: all}
      - {type: regex, value: ^Echo, turn: all}
      - {type: max-chars, value: 12, turn: any}
      - {type: no-markdown, turn: all}
      - {type: contains, value: "{{city}}", turn: any}
"""


class _SimulatedUserStandIn(BaseHTTPRequestHandler):
    """promptfoo's hosted task endpoint, played locally: the next scripted message, then STOP."""

    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        said = sum(1 for m in body.get("history", []) if m.get("role") == "assistant")  # flipped roles
        text = USER_MESSAGES[said - 1] if 0 < said <= len(USER_MESSAGES) else STOP
        data = json.dumps({"result": text}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.mark.timeout(1200)
def test_promptfoo_runs_an_exported_simulated_user(tmp_path: Path) -> None:
    command = promptfoo_command()
    if command is None:
        pytest.skip("node/npx not found: install Node.js 20+ to run promptfoo (npm registry)")
    stand_in = ThreadingHTTPServer(("127.0.0.1", 0), _SimulatedUserStandIn)
    thread = threading.Thread(target=stand_in.serve_forever, daemon=True)
    thread.start()
    try:
        with FakeOpenAI(api_key=KEY) as server:
            proto = parse_prototype(PROTO.replace("__BASE_URL__", server.base_url), "tips.yaml")
            result = export_promptfoo(proto, messages, endpoints(), base_urls={"fake": server.base_url})
            config = tmp_path / CONFIG_FILE
            config.write_text(result.files[CONFIG_FILE], encoding="utf-8")
            out = tmp_path / "out.json"
            env = promptfoo_env(tmp_path / "promptfoo-home", "OPENAI_API_KEY", KEY)
            env["PROMPTFOO_REMOTE_GENERATION_URL"] = f"http://127.0.0.1:{stand_in.server_port}/task"
            done = subprocess.run(
                [*command, "eval", "-c", str(config), "--no-cache", "-o", str(out), "--no-progress-bar",
                 "--no-table"],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False,
            )
            why = f"promptfoo wrote no output (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
            assert out.exists(), why
            chats = server.chat_requests()
    finally:
        stand_in.shutdown()
        thread.join(timeout=10)

    case = proto.cases[0]
    built = [m.model_dump(exclude_defaults=True) for m in messages(proto.profiles[0], case)]
    assert chats and chats[0].messages == built, "the first request is what Protostudio sends"
    assert all(r.messages[0] == built[0] for r in chats), "every request carries the whole system message"
    assert [m["content"] for m in chats[-1].messages if m["role"] == "user"] == [
        "What is 18% of $64?", *USER_MESSAGES]
    assert _SimulatedUserStandIn.bodies and "A busy PM" in _SimulatedUserStandIn.bodies[0]["instructions"]

    [row] = json.loads(out.read_text(encoding="utf-8"))["results"]["results"]
    sent = row["response"]["metadata"]["messages"]
    replies = [m["content"] for m in sent if m["role"] == "assistant"]
    assert replies == ["Echo: What is 18% of $64?", "Echo: and 20%?", "Echo: thanks"]
    components = row["gradingResult"]["componentResults"]
    assert len(components) == len(case.assert_)
    for assertion, component in zip(case.assert_, components, strict=True):
        graded = [asyncio.run(grade(assertion, reply, vars=case.vars)) for reply in replies]
        ours = graded[-1] if assertion.turn == "last" else over_turns(assertion.turn, graded)
        assert component["pass"] == ours.passed, (
            f"{assertion.type} turn {assertion.turn}: promptfoo {component['pass']}, "
            f"Protostudio {ours.passed} "
            f"({component.get('reason')!r} vs {ours.reason!r})"
        )
    assert {c["pass"] for c in components} == {True, False}, "the case has checks that pass and that fail"
