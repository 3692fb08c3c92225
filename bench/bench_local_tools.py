"""Does the bundled SmolLM2-135M ever call `open_canvas`? And what do tools cost on the fake server?

(a) The bundled model: every case of prototypes/canvas-trigger.yaml on the two tool profiles,
    `--samples` times each at temperature 0.7, with tool_choice auto and then forced to
    `open_canvas`; counts the cells with a call and the plain notices. Also prints the prompt
    tokens of one request with and without tools (equal when the chat template drops them) and
    llama.cpp's `chat_template_caps` for the model.
(b) The tool loop's overhead on the loopback fake server: one call + continuation vs a plain
    answer, cells per second (engine, hub, cache off).

Usage: python bench/bench_local_tools.py [--samples 2] [--max-tokens 48] [--skip-local]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fakeserver import FakeOpenAI, Reply  # noqa: E402

from app.core.document import load_prototype  # noqa: E402
from app.core.prototype import Case, ModelTarget, Profile, Prototype, ToolSpec, Turn  # noqa: E402
from app.engine.engine import Engine  # noqa: E402
from app.engine.plan import RunPlan  # noqa: E402
from app.providers._transport import httpx  # noqa: E402
from app.providers.hub import ProviderHub  # noqa: E402
from app.providers.local_model import LocalModel  # noqa: E402
from app.providers.registry import Registry  # noqa: E402

TOOL_PROFILES = ["canvas-for-documents", "canvas-eager"]


async def local_part(samples: int, max_tokens: int) -> None:
    proto = load_prototype(ROOT / "prototypes" / "canvas-trigger.yaml")
    target = proto.model("local")
    target.params.max_tokens = max_tokens
    target.params.temperature = 0.7
    local = LocalModel(slots=4)
    hub = ProviderHub(local=local)
    try:
        lease = await local.acquire()
        try:
            async with httpx.AsyncClient(timeout=120) as client:
                root = lease.base_url.removesuffix("/v1")
                auth = {"Authorization": f"Bearer {lease.api_key}"}
                props = (await client.get(f"{root}/props", headers=auth)).json()
                caps = props.get("chat_template_caps", {})
                print(f"chat_template_caps: supports_tools={caps.get('supports_tools')} "
                      f"supports_tool_calls={caps.get('supports_tool_calls')}")
                tokens = []
                for tools in (None, [{"type": "function", "function": {
                        "name": "open_canvas", "parameters": proto.tools[0].parameters}}]):
                    body: dict[str, object] = {"model": "m", "max_tokens": 1,
                                               "messages": [{"role": "user", "content": "Write a post."}]}
                    if tools:
                        body["tools"] = tools
                    reply = (await client.post(f"{root}/v1/chat/completions", json=body, headers=auth)).json()
                    tokens.append(reply["usage"]["prompt_tokens"])
                print(f"prompt tokens without tools: {tokens[0]}, with one tool: {tokens[1]}")
        finally:
            lease.release()
        engine = Engine(hub)
        for mode in ("auto", "forced"):
            proto.tools[0].required = mode == "forced"
            started = time.perf_counter()
            plan = RunPlan(profiles=TOOL_PROFILES, models=["local"], repeat=samples, use_cache=False)
            runs = await engine.run(proto, plan, lambda event: None)
            took = time.perf_counter() - started
            called = [r for r in runs if r.tool_calls]
            opened = [r for r in called if any(c.name == "open_canvas" for c in r.tool_calls)]
            notices = [r for r in runs if r.notice and "did not call any tool" in r.notice]
            failed = [r for r in runs if r.status != "ok"]
            print(f"tool_choice {mode:6}: {len(runs)} cells, {len(called)} with a call, {len(opened)} called "
                  f"open_canvas, {len(notices)} plain notices, {len(failed)} failed, {took:.0f} s")
    finally:
        await hub.aclose()
        local.shutdown()


async def fake_part(cells: int) -> None:
    with FakeOpenAI() as server:
        Registry().add("fake", server.base_url, needs_key=False)
        proto = Prototype(
            name="bench", tools=[ToolSpec(name="open_canvas", mock={"result": "opened"})],
            profiles=[Profile(id="plain"), Profile(id="tools", tools=["open_canvas"])],
            models=[ModelTarget(id="m", provider="fake", model="fake-model")],
            cases=[Case(id=f"c{i}", turns=[Turn(content=f"case {i}")]) for i in range(cells)],
        )
        arguments = json.dumps({"title": "T", "content": "word " * 50})

        def reply(rec: object) -> Reply:
            body = getattr(rec, "body", None) or {}
            if body.get("tools") and body["messages"][-1]["role"] != "tool":
                return Reply(text="", tool_calls=[("open_canvas", arguments)])
            return Reply(text="word " * 40)

        server.responder = reply
        hub = ProviderHub()
        try:
            engine = Engine(hub, concurrency=8)
            figures = {}
            for profile in ("plain", "tools"):
                started = time.perf_counter()
                await engine.run(proto, RunPlan(profiles=[profile], use_cache=False), lambda event: None)
                figures[profile] = time.perf_counter() - started
            plain, tools = cells / figures["plain"], cells / figures["tools"]
            print(f"fake server, {cells} cells: plain {plain:.0f} cells/s, with one tool round {tools:.0f} "
                  f"cells/s (ratio {figures['tools'] / figures['plain']:.2f}x the time; one more request)")
        finally:
            await hub.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    asyncio.run(fake_part(args.cells))
    if not args.skip_local:
        asyncio.run(local_part(args.samples, args.max_tokens))


if __name__ == "__main__":
    main()
