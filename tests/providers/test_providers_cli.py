"""`protostudio providers` and `protostudio ask`, run as real subprocesses.

A subprocess uses the machine's real keyring, which on this headless box is the fail backend: so these
tests cover the "no keyring" message and the env var fallback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakeserver import FakeOpenAI, Reply
from provider_kit import FAKE_KEY, cli


def test_providers_lists_endpoints_and_key_sources_never_keys() -> None:
    result = cli("providers", env={"OPENAI_API_KEY": FAKE_KEY})
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert lines["openai"].endswith("env") and "https://api.openai.com/v1" in lines["openai"]
    assert lines["anthropic"].endswith("none")
    assert lines["ollama"].endswith("not needed") and "bundled" in lines["local"]
    assert FAKE_KEY not in result.stdout + result.stderr
    assert "No OS keyring" in result.stderr  # the fail backend is named, with what to do instead


def test_add_and_remove_a_custom_provider() -> None:
    added = cli("providers", "add", "acme", "--base-url", "https://llm.acme.test/v1", "--key-env", "ACME_KEY")
    assert added.returncode == 0, added.stderr
    assert "set-key acme" in added.stdout
    listed = cli("providers", "list")
    assert any(line.startswith("acme (custom)") and "https://llm.acme.test/v1" in line
               for line in listed.stdout.splitlines())
    assert cli("providers", "add", "openai", "--base-url", "https://x.test/v1").returncode == 2
    bad = cli("providers", "add", "x", "--base-url", "not a url")
    assert bad.returncode == 2 and "https://host/v1" in bad.stderr
    assert cli("providers", "remove", "acme").returncode == 0
    assert "acme" not in cli("providers").stdout
    gone = cli("providers", "remove", "acme")
    assert gone.returncode == 2 and "no custom provider" in gone.stderr


def test_set_key_without_keyring_says_so_and_writes_nothing(fresh_home: Path) -> None:
    result = cli("providers", "set-key", "openai", stdin=FAKE_KEY + "\n")
    assert result.returncode == 1
    assert "No OS keyring" in result.stderr and "OPENAI_API_KEY" in result.stderr
    assert FAKE_KEY not in result.stdout + result.stderr
    assert cli("providers", "set-key", "nope", stdin="x").returncode == 2


def test_ask_streams_the_answer_with_timings_on_stderr(fake_server: FakeOpenAI) -> None:
    fake_server.api_key = FAKE_KEY
    assert cli("providers", "add", "fake", "--base-url", fake_server.base_url,
               "--key-env", "FAKE_PROVIDER_KEY").returncode == 0
    env = {"FAKE_PROVIDER_KEY": FAKE_KEY}
    result = cli("ask", "--provider", "fake", "--model", "fake-model", "--system", "Be brief.",
                 "--temperature", "0", "How are you?", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: How are you?\n"
    assert "ttft" in result.stderr and "4 tokens" in result.stderr and "cost ?" in result.stderr
    body = fake_server.chat_requests()[0].body
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["temperature"] == 0

    again = cli("ask", "--provider", "fake", "--model", "fake-model", "--system", "Be brief.",
                "--temperature", "0", "How are you?", env=env)
    assert "(cached)" in again.stderr and len(fake_server.chat_requests()) == 1

    models = cli("providers", "models", "fake", env=env)
    assert models.returncode == 0 and models.stdout.split() == ["fake-judge", "fake-model"]
    assert FAKE_KEY not in result.stderr + again.stderr + models.stdout + models.stderr


def test_ask_failures_exit_non_zero_with_the_mapped_message(fake_server: FakeOpenAI) -> None:
    cli("providers", "add", "fake", "--base-url", fake_server.base_url, "--no-key")
    fake_server.enqueue(Reply(status=404))
    missing = cli("ask", "--provider", "fake", "--model", "nope", "hi")
    assert missing.returncode == 1 and "has no model 'nope'" in missing.stderr

    fake_server.enqueue(Reply(text="one two three four five", fault="cut", cut_after=2))
    cut = cli("ask", "--provider", "fake", "--model", "fake-model", "--no-cache", "hi")
    assert cut.returncode == 1 and cut.stdout == "one two\n" and "[answer cut]" in cut.stderr

    nokey = cli("ask", "--provider", "openai", "--model", "gpt-4o-mini", "hi")
    assert nokey.returncode == 1 and "OPENAI_API_KEY" in nokey.stderr

    unknown = cli("ask", "--provider", "nope", "--model", "m", "hi")
    assert unknown.returncode == 1 and "No provider named 'nope'" in unknown.stderr
    assert cli("ask", "--provider", "fake", "hi").returncode == 2  # --model needed off the local provider


@pytest.mark.integration
def test_ask_the_bundled_model_offline() -> None:
    result = cli("ask", "--provider", "local", "--model", "smollm2-135m-instruct", "--max-tokens", "24",
                 "How are you doing?", env={"NO_PROXY": "*"}, timeout=240)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and "tokens" in result.stderr and "free" in result.stderr


def test_set_key_with_a_keyring_stores_it_per_host(memory_keyring, monkeypatch, capsys) -> None:
    """In-process, so the test keyring stands in for the OS one."""
    import io

    from app.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(FAKE_KEY + "\n"))
    assert main(["providers", "set-key", "openai"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-" "other-host-key-000000"))
    assert main(["providers", "set-key", "openai", "--host", "proxy.example.test:8443"]) == 0
    assert memory_keyring.store == {
        ("protostudio", "openai@api.openai.com"): FAKE_KEY,
        ("protostudio", "openai@proxy.example.test:8443"): "sk-" "other-host-key-000000",
    }
    assert main(["providers"]) == 0
    out = capsys.readouterr()
    assert any(line.startswith("openai") and line.endswith("keyring") for line in out.out.splitlines())
    assert FAKE_KEY not in out.out + out.err
    assert main(["providers", "delete-key", "openai"]) == 0
    assert ("protostudio", "openai@api.openai.com") not in memory_keyring.store
