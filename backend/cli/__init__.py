"""`changxiang` commands: run, migrate, load-content, create-user, plaques, stripe-standin, gov-sim, audit,
backup, restore (the command line here; what each does in `content` and `admin`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from backend.cli.admin import audit_command, create_user, migrate_database
from backend.cli.content import (
    import_amenities,
    import_merchants,
    load_content_dir,
    operator_key,
    plaques_sheet,
    simulate_history,
)
from backend.settings import get_settings


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
    vdraw = sub.add_parser("verify-draw", help="check a voucher lottery's published draw (a file or its URL)")
    vdraw.add_argument("source", help="the JSON of GET /api/v1/campaigns/{id}/draw, as a file path or an http(s) URL")
    impm = sub.add_parser("import-merchants", help="import the city's merchant register (CSV, see content/README.md)")
    impm.add_argument("file", type=Path)
    impm.add_argument("--retire-samples", action="store_true", help="unlist the sample merchants not in the file")
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
    simulate = sub.add_parser(
        "simulate-history", help="write a simulated history of people per venue and hour (docs/forecast.md)"
    )
    simulate.add_argument("--days", type=int, default=400, help="days up to yesterday (default 400)")
    simulate.add_argument("--seed", type=int, default=2026, help="the same seed writes the same history")
    simulate.add_argument("--venue", action="append", default=[], dest="venues", help="only this venue (repeatable)")
    user = sub.add_parser("create-user", help="create an account with roles (admin tool)")
    user.add_argument("email")
    user.add_argument("--password", required=True)
    user.add_argument("--name", default="Staff")
    user.add_argument("--role", action="append", required=True, dest="roles")
    user.add_argument("--venue", action="append", default=[], dest="venues")
    user.add_argument("--merchant", action="append", default=[], dest="merchants")
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

        if settings.dev and not settings.stripe_secret_key:  # `make run` on a fresh clone: pay in test mode
            import os

            from integrations.payments.stripe_standin import start_test_mode

            os.environ.update(start_test_mode(args.host or settings.host, args.port or settings.port))
            get_settings.cache_clear()
            settings = get_settings()

        uvicorn.run(
            "backend.app:create_app",
            factory=True,
            host=args.host or settings.host,
            port=args.port or settings.port,
            workers=args.workers,
            proxy_headers=False,  # who the client is: CHANGXIANG_TRUSTED_PROXIES (backend/lib/proxies.py)
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    elif args.command == "migrate":
        asyncio.run(migrate_database())
        print("migrations applied")
    elif args.command == "load-content":
        report = asyncio.run(load_content_dir(args.dir or settings.content_dir))
        for name, counts in report.items():
            print(f"{name}: created={counts.created} updated={counts.updated} unchanged={counts.unchanged}")
    elif args.command == "import-amenities":
        import json

        print(asyncio.run(import_amenities(json.loads(args.file.read_text(encoding="utf-8")), args.format)))
    elif args.command == "verify-draw":
        from backend.vouchers.draw import verify_published

        holds, verdict = verify_published(args.source)
        print(verdict)
        return 0 if holds else 1
    elif args.command == "import-merchants":
        try:
            print(asyncio.run(import_merchants(args.file.read_text(encoding="utf-8"), args.retire_samples)))
        except ValueError as exc:
            print(f"import-merchants: {exc}", file=sys.stderr)
            return 1
    elif args.command == "plaques":
        import os

        base = args.base_url or os.environ.get("CHANGXIANG_PUBLIC_URL") or f"http://{settings.host}:{settings.port}"
        from backend.lib.problems import DomainError

        try:
            sheet = asyncio.run(plaques_sheet(args.tour, base.rstrip("/")))
        except DomainError as exc:
            raise SystemExit(f"changxiang plaques: {exc.detail}") from None
        args.out.write_text(sheet, encoding="utf-8")
        print(f"plaques for {args.tour} written to {args.out}")
    elif args.command == "operator-key":
        print(asyncio.run(operator_key(args.operator)))
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
    elif args.command == "simulate-history":
        if not 1 <= args.days <= 3660:
            print("simulate-history: --days must be 1..3660", file=sys.stderr)
            return 1
        from backend.lib.problems import DomainError

        try:
            print(asyncio.run(simulate_history(args.days, args.seed, args.venues)))
        except DomainError as exc:
            print(f"simulate-history: {exc.detail}", file=sys.stderr)
            return 1
    elif args.command == "create-user":
        asyncio.run(create_user(args.email, args.password, args.name, args.roles, args.venues, args.merchants))
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
        return asyncio.run(audit_command(args.audit_command, getattr(args, "before", None)))
    return 0
