"""`protostudio ask`: stream one answer to stdout; TTFT, tokens, latency and cost go to stderr.

Exit status: 0 answered, 1 the provider failed (the message says what to do), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from app.core.costs import format_cost
from app.core.prototype import Message, ModelParams, ModelTarget
from app.providers.events import ErrorKind, Finished, ProviderError, StreamFailed, TextDelta
from app.providers.registry import LOCAL_ID, validate_base_url

NAME = "ask"
LOCAL_DEFAULT_MODEL = "smollm2-135m-instruct"


def register(sub: Any) -> None:
    parser = sub.add_parser(NAME, help="stream one answer from a model",
                            description="Stream one answer to stdout; timings go to stderr.")
    parser.add_argument("prompt", nargs="?", help="the user message (read from stdin when omitted)")
    parser.add_argument("--provider", default=LOCAL_ID, help="provider id (default: the bundled model)")
    parser.add_argument("--model", help=f"model name (default for local: {LOCAL_DEFAULT_MODEL})")
    parser.add_argument("--system", default="", help="system prompt")
    parser.add_argument("--base-url", help="send to this endpoint instead of the provider's own")
    parser.add_argument("--allow-host", action="store_true",
                        help="allow the provider's stored key to go to the --base-url host")
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--top-p", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--no-cache", action="store_true",
                        help="always ask the model (still stores the answer)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the model")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    prompt = args.prompt
    if prompt is None:
        if sys.stdin.isatty():
            print("error: give a prompt, or pipe one on stdin", file=sys.stderr)
            return 2
        prompt = sys.stdin.read()
    model = args.model or (_local_model_id() if args.provider == LOCAL_ID else None)
    if not model:
        print("error: --model is required for this provider "
              f"(list them with `protostudio providers models {args.provider}`)", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print("error: --timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        if args.base_url is not None:
            validate_base_url(args.base_url)
        params = ModelParams(temperature=args.temperature, max_tokens=args.max_tokens, top_p=args.top_p,
                             seed=args.seed)
        target = ModelTarget(id="ask", provider=args.provider, model=model, base_url=args.base_url,
                             params=params)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    messages = [Message(role="system", content=args.system)] if args.system else []
    messages.append(Message(role="user", content=prompt))
    return asyncio.run(_ask(args, target, messages))


def _local_model_id() -> str:
    try:
        from app.providers.model_files import LOCAL_MODEL_ID
    except ImportError:
        return LOCAL_DEFAULT_MODEL
    return LOCAL_MODEL_ID


async def _ask(args: argparse.Namespace, target: ModelTarget, messages: list[Message]) -> int:
    from app.providers.hub import ProviderHub

    hub = ProviderHub(timeout=args.timeout)
    try:
        if args.allow_host:
            try:
                host = hub.needs_host_confirmation(target)
            except ProviderError as exc:
                print(f"error: {exc.message}", file=sys.stderr)
                return 1
            if host:
                hub.allow_host(target.provider, host)
        wrote = False
        async for event in hub.stream(target, messages, use_cache=not args.no_cache):
            if isinstance(event, TextDelta):
                sys.stdout.write(event.text)
                sys.stdout.flush()
                wrote = True
            elif isinstance(event, Finished):
                if wrote:
                    print()
                print(_summary(event), file=sys.stderr)
                return 0
            elif isinstance(event, StreamFailed):
                if wrote:
                    print()
                hint = " (or pass --allow-host)" if event.kind is ErrorKind.HOST_NOT_CONFIRMED else ""
                cut = " [answer cut]" if event.partial else ""
                print(f"error{cut}: {event.message}{hint}", file=sys.stderr)
                return 1
        return 1
    finally:
        await hub.aclose()


def _summary(done: Finished) -> str:
    tokens = "? tokens" if done.completion_tokens is None else f"{done.completion_tokens} tokens"
    ttft = "?" if done.ttft_s is None else f"{done.ttft_s:.2f} s"
    cost = format_cost(done.cost_usd)
    extra = " (cached)" if done.cached else ""
    return f"ttft {ttft} · {tokens} · latency {done.latency_s:.2f} s · {cost} · {done.finish_reason}{extra}"
