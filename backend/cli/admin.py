"""The operator's commands: `migrate`, `create-user`, `audit`."""

from __future__ import annotations

import sys


async def migrate_database() -> None:
    from backend.lib.db import migrate, start_database, stop_database

    await start_database()
    try:
        await migrate()
    finally:
        await stop_database()


async def create_user(
    email: str, password: str, name: str, roles: list[str], venues: list[str], merchants: list[str]
) -> None:
    import msgspec

    from backend.accounts.schemas import CreateUserRequest
    from backend.accounts.services import accounts
    from backend.lib.db import start_database, stop_database
    from backend.vouchers.merchants import known_merchants

    accounts.use_merchants(known_merchants)
    await start_database()
    try:
        data = msgspec.convert(
            {
                "email": email,
                "password": password,
                "display_name": name,
                "roles": roles,
                "venue_slugs": venues,
                "merchant_ids": merchants,
            },
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


async def audit_command(action: str, before: str | None) -> int:
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
        if before is None:  # argparse requires --before for prune
            print("prune needs --before", file=sys.stderr)
            return 2
        moment = datetime.fromisoformat(before)
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
