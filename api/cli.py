"""Operations: `python -m api.cli COMMAND`; `--help` lists the commands."""

import argparse
import asyncio
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path

from api.config import get_settings
from api.db import create_engine, session_factory
from api.domain.access import SYSTEM
from api.domain.benefits.entitlement_models import RecomputeResult
from api.domain.policy import Policy
from api.domain.services import Services
from api.domain.units import loader
from api.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_FILE = ROOT / "openapi" / "openapi.json"
SDL_FILE = ROOT / "openapi" / "schema.graphql"


async def _migrate() -> None:
    engine = create_engine(get_settings())
    await upgrade(engine)
    await engine.dispose()
    print("database migrated to head")


async def _load_units(path: Path) -> None:
    engine = create_engine(get_settings())
    async with session_factory(engine)() as session:
        services = Services(session, SYSTEM)
        report = await loader.load_units(services.uow, loader.read_file(path))
        await services.uow.commit()
    await engine.dispose()
    print(
        f"units: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    )


async def _load_demo(force: bool) -> None:
    from api.demo import has_demo_data, load_demo, load_demo_accounts
    from api.demo_benefits import load_demo_benefits
    from api.demo_plan import load_demo_plan

    engine = create_engine(get_settings())
    async with session_factory(engine)() as session:
        services = Services(session, SYSTEM)
        if await has_demo_data(services) and not force:
            print("demo data: already present, left alone")
        else:
            print(f"demo data: {await load_demo(services)} households created")
            print("demo sign-ins (POST /api/v1/auth/token):")
            print("\n".join(await load_demo_accounts(services)))
            counts = await load_demo_benefits(session)
            print(
                "demo 2023 deliveries and needs: "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
            )
            plan = await load_demo_plan(session)
            print(f"demo 2023 plan: {plan['targets']} targets, {plan['tasks']} tasks")
            # Computed now, so that a fresh server's first idle upkeep has nothing to catch up
            # and its jobs do not wait behind it.
            print(_recomputed(await services.entitlements.recompute_all(date.today())))
    await engine.dispose()


def _recomputed(result: RecomputeResult) -> str:
    return (
        f"entitlements: {result.households} households judged, {result.written} written, "
        f"{result.removed} removed, {result.unchanged} unchanged (change log at "
        f"{result.position})"
    )


async def _recompute(as_of: date, full: bool) -> None:
    engine = create_engine(get_settings())
    try:
        async with session_factory(engine)() as session:
            book = Services(session, SYSTEM).entitlements
            print(_recomputed(await (book.recompute_all if full else book.catch_up)(as_of)))
    finally:
        await engine.dispose()


def contract() -> tuple[str, str]:
    from api.main import create_app
    from api.schema.app import schema

    spec = json.dumps(create_app().openapi(), indent=2, ensure_ascii=False, sort_keys=True)
    return spec + "\n", schema.as_str() + "\n"


def _export_contract() -> None:
    spec, sdl = contract()
    OPENAPI_FILE.write_text(spec, encoding="utf-8")
    SDL_FILE.write_text(sdl, encoding="utf-8")
    print(f"wrote {OPENAPI_FILE.relative_to(ROOT)} and {SDL_FILE.relative_to(ROOT)}")


async def _revoke_key(kid: str) -> None:
    from api.domain.identity.keys import KeyRing

    settings = get_settings()
    secret = settings.key_secret.get_secret_value()
    ring = KeyRing(secret, timedelta(minutes=settings.access_token_minutes))
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            key = await Services(session, SYSTEM, Policy(key_secret=secret)).identity.revoke_key(
                kid, ring
            )
    finally:
        await engine.dispose()
    print(f"key {key.kid} revoked at {key.revoked_at}; running servers refuse its tokens now")


def _serve() -> None:
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    trusted = get_settings().trusted_proxies.strip()
    print(
        f"REST docs:   http://{host}:{port}/docs\nGraphQL IDE: http://{host}:{port}/graphql",
        flush=True,
    )
    # The embedded mode (SQLite) has no separate worker: the server runs the jobs itself.
    if get_settings().database_url.startswith("sqlite"):
        os.environ.setdefault("JOBS_IN_PROCESS", "true")
        get_settings.cache_clear()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Only a proxy we were told to trust may say who the client is (X-Forwarded-For).
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )


async def _worker(once: bool) -> None:
    from api.deps import policy_of
    from api.domain.benefits.entitlements import upkeep
    from api.domain.jobs.queue import Worker, policy_services

    settings = get_settings()
    engine = create_engine(settings)
    factory, policy = session_factory(engine), policy_of(settings)
    worker = Worker(factory, policy_services(policy))
    try:
        if once:
            print(f"{await worker.drain()} jobs run")
            await upkeep(factory, policy)()
        else:
            print(f"{worker.name}: running jobs (Ctrl-C stops)", flush=True)
            await worker.forever(idle=upkeep(factory, policy))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the database migrations")
    units = sub.add_parser("load-units", help="load the administrative-unit reference file")
    units.add_argument("--file", type=Path, default=loader.DEFAULT_FILE)
    demo = sub.add_parser("load-demo", help="load demo households (once, unless --force)")
    demo.add_argument("--force", action="store_true")
    sub.add_parser("setup", help="migrate, load units, and load the demo data the first time")
    sub.add_parser("export-contract", help="write openapi/openapi.json and schema.graphql")
    sub.add_parser("serve", help="serve over HTTP (PORT, HOST, WEB_CONCURRENCY, TRUSTED_PROXIES)")
    work = sub.add_parser("worker", help="run queued jobs (imports): until stopped, or --once")
    work.add_argument("--once", action="store_true", help="run what is ready, then stop")
    recompute = sub.add_parser(
        "recompute-entitlements",
        help="bring stored entitlements up to date: what changed since the last run, or --full",
    )
    recompute.add_argument("--full", action="store_true", help="every household, not only changed")
    recompute.add_argument(
        "--as-of", type=date.fromisoformat, default=date.today(), help="YYYY-MM-DD (default today)"
    )
    revoke = sub.add_parser(
        "revoke-key", help="emergency: refuse every token a signing key signed, at once"
    )
    revoke.add_argument("kid", help="the key's id (the `kid` of its tokens; GET /api/v1/keys)")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        asyncio.run(_migrate())
    elif args.command == "load-units":
        asyncio.run(_load_units(args.file))
    elif args.command == "load-demo":
        asyncio.run(_load_demo(args.force))
    elif args.command == "setup":
        asyncio.run(_migrate())
        asyncio.run(_load_units(loader.DEFAULT_FILE))
        asyncio.run(_load_demo(False))
    elif args.command == "export-contract":
        _export_contract()
    elif args.command == "serve":
        _serve()
    elif args.command == "worker":
        asyncio.run(_worker(args.once))
    elif args.command == "recompute-entitlements":
        asyncio.run(_recompute(args.as_of, args.full))
    elif args.command == "revoke-key":
        asyncio.run(_revoke_key(args.kid))
    else:  # pragma: no cover - argparse rejects unknown commands
        sys.exit(2)


if __name__ == "__main__":
    main()
