"""`changxiang` commands: run, migrate, load-content, create-user, plaques, stripe-standin, gov-sim, audit,
backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tomllib
from pathlib import Path

from backend.settings import get_settings

AMENITY_FILES = {
    "toilet": "amenities_toilets.toml",
    "charger": "amenities_chargers.toml",
    "parking": "amenities_parking.toml",
}


async def _load_content(content_dir: Path) -> dict[str, object]:
    from backend.lib.db import start_database, stop_database
    from backend.lib.stores import close_redis, store_registry
    from backend.venues.services import load_venues, parse_venue_content

    report: dict[str, object] = {}
    await start_database()
    try:
        venues_file = content_dir / "venues.toml"
        raw = tomllib.loads(venues_file.read_text(encoding="utf-8")).get("venue", [])
        items = parse_venue_content(raw)
        store = store_registry(get_settings()).get("cache")
        report["venues"] = await load_venues(items, store)
        from backend.amenities.services import load_amenities, parse_amenity_content

        records = []
        for kind, filename in AMENITY_FILES.items():
            path = content_dir / filename
            if path.exists():
                records += parse_amenity_content(kind, tomllib.loads(path.read_text(encoding="utf-8")).get(kind, []))
        report["amenities"] = await load_amenities(records, store)
        from backend.exhibitions.services import load_exhibitions, parse_exhibition_content
        from backend.tours.services import load_tours, parse_tour_content

        tours_file = content_dir / "tours.toml"
        if tours_file.exists():
            raw_tours = tomllib.loads(tours_file.read_text(encoding="utf-8")).get("tour", [])
            report["tours"] = await load_tours(parse_tour_content(raw_tours, content_dir), content_dir)
        raw_exhibitions = [
            tomllib.loads(path.read_text(encoding="utf-8"))
            for path in sorted((content_dir / "exhibitions").glob("*.toml"))
        ]
        if raw_exhibitions:
            report["exhibitions"] = await load_exhibitions(
                parse_exhibition_content(raw_exhibitions, content_dir), content_dir
            )
        from backend.events.services import load_articles, load_events, parse_article_content, parse_event_content

        events_file, articles_file = content_dir / "events.toml", content_dir / "articles.toml"
        if events_file.exists():
            raw = tomllib.loads(events_file.read_text(encoding="utf-8")).get("event", [])
            report["events"] = await load_events(parse_event_content(raw), store)
        if articles_file.exists():
            raw = tomllib.loads(articles_file.read_text(encoding="utf-8")).get("article", [])
            report["articles"] = await load_articles(parse_article_content(raw))
    finally:
        await stop_database()
        await close_redis()
    return report


async def _import_amenities(data: dict | list, fmt: str) -> str:
    from backend.amenities.services import from_ocpi, from_osm, geojson_to_osm, load_amenities
    from backend.lib.db import start_database, stop_database
    from backend.lib.stores import close_redis, store_registry

    if fmt == "overpass":
        records = from_osm(data.get("elements", []))
    elif fmt == "geojson":
        records = from_osm(geojson_to_osm(data))
    else:
        records = from_ocpi(data.get("data", data) if isinstance(data, dict) else data)
    await start_database()
    try:
        report = await load_amenities(records, store_registry(get_settings()).get("cache"), source=fmt)
    finally:
        await stop_database()
        await close_redis()
    return f"amenities: created={report.created} updated={report.updated} unchanged={report.unchanged}"


async def _plaques(tour_slug: str, base_url: str) -> str:
    from backend.lib.db import start_database, stop_database
    from backend.tours.plaques import plaque_sheet
    from backend.tours.services import tours

    await start_database()
    try:
        stops = await tours.poi_keys(tour_slug)
    finally:
        await stop_database()
    return plaque_sheet(tour_slug, stops, base_url)


async def _operator_key(operator: str) -> str:
    from backend.amenities.services import amenities
    from backend.lib.db import start_database, stop_database

    await start_database()
    try:
        return await amenities.create_operator_key(operator)
    finally:
        await stop_database()


async def _migrate() -> None:
    from backend.lib.db import migrate, start_database, stop_database

    await start_database()
    try:
        await migrate()
    finally:
        await stop_database()


async def _create_user(email: str, password: str, name: str, roles: list[str], venues: list[str]) -> None:
    import msgspec

    from backend.accounts.schemas import CreateUserRequest
    from backend.accounts.services import accounts
    from backend.lib.db import start_database, stop_database

    await start_database()
    try:
        data = msgspec.convert(
            {"email": email, "password": password, "display_name": name, "roles": roles, "venue_slugs": venues},
            CreateUserRequest,
        )
        out = await accounts.create_user(data)
        from backend.audit.services import AuditEvent, audit_log, object_json

        await audit_log.record(
            AuditEvent(
                actor_id=None,
                actor_roles="cli",
                action="cli.create-user",
                object=object_json({"user_id": out.id, "roles": out.roles}),
                client="cli",
                status=201,
            )
        )
        print(f"created user {out.id} {out.email} roles={out.roles}")
    finally:
        await stop_database()


async def _audit(action: str, before: str | None) -> int:
    from datetime import UTC, datetime

    from backend.audit.services import audit_log
    from backend.lib.db import start_database, stop_database
    from backend.lib.problems import DomainError

    await start_database()
    try:
        if action == "verify":
            report = await audit_log.verify()
            for problem in report.problems:
                print(f"FAIL {problem.problem}")
            head = f"head seq {report.head_seq} hash {report.head_hash}" if report.rows else "empty"
            print(f"audit log: {report.rows} entries checked, {len(report.problems)} problems; {head}")
            return 0 if report.ok else 1
        moment = datetime.fromisoformat(before)  # type: ignore[arg-type]
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            pruned = await audit_log.prune(moment)
        except DomainError as exc:
            print(f"refused: {exc.detail}", file=sys.stderr)
            return 2
        print(f"pruned {pruned.deleted} entries; the chain now starts after seq {pruned.anchor_seq}")
        return 0
    finally:
        await stop_database()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="changxiang", description="Changxiang 常享 server and tools")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the HTTP server (uvicorn)")
    run.add_argument("--host", default=None)
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--workers", type=int, default=1)
    sub.add_parser("migrate", help="apply the committed database migrations")
    load = sub.add_parser("load-content", help="load content/ into the database (idempotent)")
    load.add_argument("--dir", type=Path, default=None)
    imp = sub.add_parser("import-amenities", help="import OSM (Overpass JSON, GeoJSON) or OCPI 2.2 Locations")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=["overpass", "geojson", "ocpi"], required=True)
    opkey = sub.add_parser("operator-key", help="make (or replace) an operator's API key for live status feeds")
    opkey.add_argument("operator")
    plaques = sub.add_parser("plaques", help="print a tour's readable-building plaques as an SVG sheet of QR codes")
    plaques.add_argument("--tour", required=True, help="tour slug")
    plaques.add_argument("--out", type=Path, required=True, help="the SVG file to write")
    plaques.add_argument(
        "--base-url", default=None, help="the PWA's public origin (default: CHANGXIANG_PUBLIC_URL or http://HOST:PORT)"
    )
    standin = sub.add_parser("stripe-standin", help="run the local Stripe stand-in (development, no money moves)")
    standin.add_argument("--port", type=int, default=12111)
    standin.add_argument("--webhook-url", default=None, help="default: http://HOST:PORT of this server")
    gov = sub.add_parser("gov-sim", help="run the supervision platform simulator (receives pushes, sends orders)")
    gov.add_argument("--port", type=int, default=12112)
    gov.add_argument("--refuse-first", type=int, default=0, help="answer the first N pushes with 503")
    gov.add_argument("--send-directive", type=Path, default=None, help="POST this JSON directive, signed, and exit")
    gov.add_argument("--send-alert", type=Path, default=None, help="POST this CAP 1.2 XML alert, signed, and exit")
    gov.add_argument("--to", default=None, help="our API base (default: http://HOST:PORT/api/v1)")
    user = sub.add_parser("create-user", help="create an account with roles (admin tool)")
    user.add_argument("email")
    user.add_argument("--password", required=True)
    user.add_argument("--name", default="Staff")
    user.add_argument("--role", action="append", required=True, dest="roles")
    user.add_argument("--venue", action="append", default=[], dest="venues")
    audit = sub.add_parser("audit", help="the audit log: verify its hash chain, prune entries past retention")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check every entry's hash and link; exit 1 naming any edited or deleted one")
    prune = audit_sub.add_parser("prune", help="delete entries older than --before (at least 180 days ago)")
    prune.add_argument("--before", required=True, help="ISO date or time, e.g. 2026-01-01")
    bak = sub.add_parser("backup", help="write a consistent copy of the database (safe while the server runs)")
    bak.add_argument("--out", type=Path, required=True)
    rst = sub.add_parser("restore", help="replace the database's content with a backup (stop the servers first)")
    rst.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    settings = get_settings()

    if args.command == "run":
        import uvicorn

        uvicorn.run(
            "backend.app:create_app",
            factory=True,
            host=args.host or settings.host,
            port=args.port or settings.port,
            workers=args.workers,
            proxy_headers=True,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    elif args.command == "migrate":
        asyncio.run(_migrate())
        print("migrations applied")
    elif args.command == "load-content":
        report = asyncio.run(_load_content(args.dir or settings.content_dir))
        for name, counts in report.items():
            print(f"{name}: created={counts.created} updated={counts.updated} unchanged={counts.unchanged}")
    elif args.command == "import-amenities":
        import json

        print(asyncio.run(_import_amenities(json.loads(args.file.read_text(encoding="utf-8")), args.format)))
    elif args.command == "plaques":
        import os

        base = args.base_url or os.environ.get("CHANGXIANG_PUBLIC_URL") or f"http://{settings.host}:{settings.port}"
        from backend.lib.problems import DomainError

        try:
            sheet = asyncio.run(_plaques(args.tour, base.rstrip("/")))
        except DomainError as exc:
            raise SystemExit(f"changxiang plaques: {exc.detail}") from None
        args.out.write_text(sheet, encoding="utf-8")
        print(f"plaques for {args.tour} written to {args.out}")
    elif args.command == "operator-key":
        print(asyncio.run(_operator_key(args.operator)))
    elif args.command == "stripe-standin":
        import time

        from integrations.payments.stripe_standin import StripeStandIn

        if not settings.stripe_webhook_secret:
            raise SystemExit("set STRIPE_WEBHOOK_SECRET (any whsec_… value) for the server and the stand-in")
        hook = args.webhook_url or f"http://{settings.host}:{settings.port}/api/v1/payments/stripe/webhook"
        fake = StripeStandIn(webhook_secret=settings.stripe_webhook_secret, webhook_url=hook)
        print(f"Stripe stand-in on {fake.start(port=args.port)}; webhooks to {hook}")
        print(f"start the server with STRIPE_API_BASE=http://127.0.0.1:{args.port} STRIPE_SECRET_KEY=sk_test_local")
        while True:
            time.sleep(3600)
    elif args.command == "gov-sim":
        import json
        import time

        from integrations.gov_platform.simulator import GovPlatformSimulator

        if not settings.gov_platform_secret:
            raise SystemExit("set GOV_PLATFORM_SECRET (the same value for the server and the simulator)")
        sim = GovPlatformSimulator(settings.gov_platform_secret, refuse_first=args.refuse_first)
        api = args.to or f"http://{settings.host}:{settings.port}/api/v1"
        if args.send_directive or args.send_alert:
            if args.send_directive:
                res = sim.send_directive(api, json.loads(args.send_directive.read_text(encoding="utf-8")))
            else:
                res = sim.send_alert(api, args.send_alert.read_bytes())
            print(res.status_code, res.text)
            return 0 if res.is_success else 1
        print(f"supervision platform simulator on {sim.start(port=args.port)} (pushes: POST /v1/messages)")
        print(f"start the server with GOV_PLATFORM_URL=http://127.0.0.1:{args.port} and the same GOV_PLATFORM_SECRET")
        while True:
            time.sleep(3600)
    elif args.command == "create-user":
        asyncio.run(_create_user(args.email, args.password, args.name, args.roles, args.venues))
    elif args.command in ("backup", "restore"):
        from backend.lib.backups import BackupError, backup, restore

        try:
            if args.command == "backup":
                print(f"backup written to {args.out}: {backup(settings.database_url, args.out)}")
            else:
                print(restore(settings.database_url, args.file))
        except BackupError as exc:
            print(f"{args.command} failed: {exc}", file=sys.stderr)
            return 1
    elif args.command == "audit":
        return asyncio.run(_audit(args.audit_command, getattr(args, "before", None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
