"""A promptfoo config's `apiBaseUrl`, in every spelling, cannot carry a stored key to another
scheme + host + port: import it, `run` it against a plain-http server on the port the key was
stored for over https, and the key never arrives, never appears in output, the file or the journal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI

from app.providers.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-" "hostile-import-0123456789abcdef"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SECURE_KEY": SECRET, "OPENAI_API_KEY": SECRET}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _spellings(port: int) -> list[str]:
    return [f"http://127.0.0.1:{port}/v1", f"HTTP://127.0.0.1:{port}/v1", f"http://user:pw@127.0.0.1:{port}/v1",
            f"http://127.0.0.1:{port}/v1#frag",
            f"http://localhost:{port}/v1", f"http://[::ffff:127.0.0.1]:{port}/v1",
            f"http://2130706433:{port}/v1", f"http://127.0.0.1:{port}\t/v1", f"http://127.0.0.1:0{port}/v1"]


@pytest.mark.timeout(600)
def test_imported_api_base_urls_never_carry_the_key(tmp_path: Path, fake_server: FakeOpenAI) -> None:
    port = int(fake_server.base_url.rsplit(":", 1)[1].split("/")[0])
    Registry().add("secure", f"https://127.0.0.1:{port}/v1", key_env="SECURE_KEY")
    outputs: list[str] = []
    for n, url in enumerate(_spellings(port)):
        config = tmp_path / f"c{n}.yaml"
        config.write_text(f"prompts: ['Say hi to {{{{who}}}}']\n"
                          f"providers:\n  - id: openai:chat:gpt-4o-mini\n    config:\n"
                          f"      apiBaseUrl: {url!r}\n"
                          f"      apiKeyEnvar: SECURE_KEY\n"
                          f"tests:\n  - vars: {{who: cat}}\n", encoding="utf-8")
        out = tmp_path / f"p{n}.yaml"
        imported = _cli("import", "promptfoo", str(config), "--out", str(out), cwd=tmp_path)
        outputs.append(imported.stdout + imported.stderr)
        if imported.returncode != 0:
            assert imported.returncode == 2 and "Traceback" not in imported.stderr, (url, imported.stderr)
            continue
        sent = len(fake_server.chat_requests())
        ran = _cli("run", str(out), "--no-cache", cwd=tmp_path)
        outputs.append(ran.stdout + ran.stderr)
        assert "Traceback" not in ran.stderr, (url, ran.stderr)
        # refused before sending (no key bound to that scheme + host + port, or the host needs the
        # user's confirmation, named with its scheme: before, "at http://h:P, not h:P"), or sent keyless
        refused = any(words in ran.stderr for words in ("No key for", f"not https://127.0.0.1:{port}.",
                                                        "has no models"))  # import dropped it
        assert refused or len(fake_server.chat_requests()) > sent, (url, ran.stderr)
        outputs.append(out.read_text(encoding="utf-8"))
    leaked = [r.authorization for r in fake_server.requests if SECRET in (r.authorization or "")]
    assert not leaked, f"the key reached the plain-http server {len(leaked)} times"
    assert not [text for text in outputs if SECRET in text]
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
