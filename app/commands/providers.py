"""`protostudio providers`: list endpoints and key sources, add or remove custom ones, store keys.

Never prints key material: only where a key would come from (keyring, env, session, none).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from app.providers.events import ProviderError
from app.providers.keys import KeyStore, NoKeyringError
from app.providers.registry import (
    LOCAL_ID,
    ProviderSpec,
    Registry,
    RegistryError,
    host_of,
    validate_base_url,
)

NAME = "providers"


def register(sub: Any) -> None:
    parser = sub.add_parser(NAME, help="list model providers and manage custom ones and their keys",
                            description="List providers, their endpoint and where their key comes from.")
    parser.set_defaults(func=run_list)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    actions.add_parser("list", help="list providers (the default)").set_defaults(func=run_list)

    add = actions.add_parser("add", help="add a custom OpenAI-compatible provider")
    add.add_argument("id")
    add.add_argument("--base-url", required=True, help="e.g. https://example.com/v1")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--concurrency", type=int, metavar="N",
                     help="requests at once to this endpoint (default: the run's --per-provider)")
    group = add.add_mutually_exclusive_group()
    group.add_argument("--key-env", help="environment variable holding the key")
    group.add_argument("--no-key", action="store_true", help="the endpoint needs no key")
    add.set_defaults(func=run_add)

    remove = actions.add_parser("remove", help="remove a custom provider")
    remove.add_argument("id")
    remove.set_defaults(func=run_remove)

    set_key = actions.add_parser("set-key", help="store a key in the OS keyring (reads stdin when piped)")
    set_key.add_argument("id")
    set_key.add_argument("--host", help="the host the key is for (default: the provider's own)")
    set_key.set_defaults(func=run_set_key)

    delete_key = actions.add_parser("delete-key", help="remove a stored key from the OS keyring")
    delete_key.add_argument("id")
    delete_key.add_argument("--host", help="the host the key was stored for (default: the provider's own)")
    delete_key.set_defaults(func=run_delete_key)

    models = actions.add_parser("models", help="list the models an endpoint offers (GET /models)")
    models.add_argument("id")
    models.add_argument("--base-url", help="ask this endpoint instead of the provider's own")
    models.set_defaults(func=run_models)


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def run_list(args: argparse.Namespace) -> int:
    registry, keys = Registry(), KeyStore()
    try:
        specs = registry.all()
    except RegistryError as exc:
        return _fail(str(exc))
    rows = [("ID", "ENDPOINT", "KEY")]
    for spec in specs:
        endpoint = "bundled model, offline" if spec.local else spec.base_url
        if spec.local:
            source = "not needed"
        else:
            _, found = keys.lookup(spec.id, spec.host, spec.key_env)
            source = found if found != "none" or spec.needs_key else "not needed"
        rows.append((spec.id + (" (custom)" if spec.custom else ""), endpoint, source))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}")
    problem = keys.backend_problem()
    if problem:
        print(f"\nnote: {problem}", file=sys.stderr)
    return 0


def run_add(args: argparse.Namespace) -> int:
    try:
        spec = Registry().add(args.id, args.base_url, name=args.name, key_env=args.key_env,
                              needs_key=not args.no_key, concurrency=args.concurrency)
    except RegistryError as exc:
        return _fail(str(exc), 2)
    print(f"added {spec.id} -> {spec.base_url}")
    if spec.needs_key:
        hint = f" or set {spec.key_env}" if spec.key_env else ""
        print(f"store its key with `protostudio providers set-key {spec.id}`{hint}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    try:
        Registry().remove(args.id)
    except RegistryError as exc:
        return _fail(str(exc), 2)
    print(f"removed {args.id}")
    return 0


def _spec_and_host(args: argparse.Namespace) -> tuple[ProviderSpec, str]:
    spec = Registry().get(args.id)
    if not args.host:
        return spec, spec.host
    return spec, host_of(args.host if "://" in args.host else f"https://{args.host}")


def run_set_key(args: argparse.Namespace) -> int:
    try:
        spec, host = _spec_and_host(args)
    except (ProviderError, RegistryError) as exc:
        return _fail(str(exc), 2)
    if spec.id == LOCAL_ID:
        return _fail("the bundled model needs no key", 2)
    keys = KeyStore()
    problem = keys.backend_problem()
    if problem:
        env = f"set {spec.key_env} in your environment" if spec.key_env else "use an environment variable"
        return _fail(f"{problem}\nFor the command line, {env}; the desktop app can also keep a key "
                     "for the current session only.")
    if sys.stdin.isatty():
        key = getpass.getpass(f"Key for {spec.name} at {host} (input hidden): ")
    else:
        key = sys.stdin.read()
    try:
        keys.store(spec.id, host, key)
    except ValueError as exc:
        return _fail(str(exc), 2)
    except NoKeyringError as exc:
        return _fail(str(exc))
    print(f"stored the key for {spec.id} at {host} in the OS keyring")
    return 0


def run_delete_key(args: argparse.Namespace) -> int:
    try:
        spec, host = _spec_and_host(args)
    except (ProviderError, RegistryError) as exc:
        return _fail(str(exc), 2)
    keys = KeyStore()
    if keys.backend_problem():
        return _fail(keys.backend_problem() or "")
    keys.forget(spec.id, host)
    print(f"removed any stored key for {spec.id} at {host}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    from app.providers.hub import ProviderHub

    if args.base_url is not None:
        try:
            validate_base_url(args.base_url)
        except ValueError as exc:
            return _fail(str(exc), 2)

    async def fetch() -> list[str]:
        hub = ProviderHub()
        try:
            return await hub.list_models(args.id, args.base_url)
        finally:
            await hub.aclose()

    try:
        names = asyncio.run(fetch())
    except (ProviderError, RegistryError) as exc:
        return _fail(str(exc))
    for name in names:
        print(name)
    return 0
