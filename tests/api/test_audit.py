"""The audit log: privileged writes are recorded (who, what, which object, when, from where, result) in a
hash chain that `changxiang audit verify` checks; an edited or deleted row is named."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta

import anyio
import pytest

from backend.audit.services import audit_log
from backend.audit.tables import AuditEntry
from backend.lib.clock import clock
from tests.api.reservation_helpers import fresh_slot, visitor
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio

VENUE = "changzhou-museum"


async def cli(*args: str) -> subprocess.CompletedProcess:
    """In a worker thread: a command that writes must not wait on a lock the suspended app holds."""
    command = [sys.executable, "-m", "backend.cli", *args]
    return await anyio.to_thread.run_sync(
        lambda: subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy())
    )


async def entries_of(user_id: int) -> list[dict]:
    return (
        await AuditEntry.select(AuditEntry.all_columns()).where(AuditEntry.actor_id == user_id).order_by(AuditEntry.seq)
    )


async def test_staff_writes_are_recorded_with_who_what_which_where_and_result(client, make_account):
    staff = await make_account("staff", venues=(VENUE,))
    slot = await fresh_slot(client, VENUE)
    url = f"/api/v1/venues/{VENUE}/slots/{slot['id']}"
    assert (await client.patch(url, json={"capacity": 7}, headers=staff["headers"])).status_code == 200
    refused = await client.patch(
        f"/api/v1/venues/wujin-museum/slots/{slot['id']}", json={"capacity": 1}, headers=staff["headers"]
    )
    assert refused.status_code == 403
    await client.get(url.rsplit("/", 1)[0], params={"date": "2020-01-01"}, headers=staff["headers"])
    rows = await entries_of(staff["id"])
    assert [(r["action"], json.loads(r["object"]), r["status"]) for r in rows] == [
        ("PATCH /api/v1/venues/{slug}/slots/{slot_id}", {"slug": VENUE, "slot_id": slot["id"]}, 200),
        ("PATCH /api/v1/venues/{slug}/slots/{slot_id}", {"slug": "wujin-museum", "slot_id": slot["id"]}, 403),
    ]  # the GET is not an action
    first = rows[0]
    assert first["actor_roles"] == "staff" and first["client"] == "127.0.0.1" and len(first["request_id"]) > 0
    assert abs((clock.now() - first["at"]).total_seconds()) < 300


async def test_a_tourists_booking_is_not_audited_but_an_agencys_is(client, make_account):
    tourist = await make_account("tourist")
    agency = await make_account("agency")
    slot = await fresh_slot(client, VENUE)
    for who in (tourist, agency):
        res = await client.post(
            "/api/v1/reservations", json={"slot_id": slot["id"], "visitors": [visitor()]}, headers=who["headers"]
        )
        assert res.status_code == 201, res.text
    assert await entries_of(tourist["id"]) == []
    assert [r["action"] for r in await entries_of(agency["id"])] == ["POST /api/v1/reservations"]


async def test_concurrent_staff_writes_keep_one_valid_chain(client, make_account):
    staffs = [await make_account("staff", venues=(VENUE,)) for _ in range(4)]
    slots = [await fresh_slot(client, VENUE) for _ in range(3)]
    calls = [
        client.patch(f"/api/v1/venues/{VENUE}/slots/{slot['id']}", json={"capacity": 20 + i}, headers=s["headers"])
        for i, s in enumerate(staffs)
        for slot in slots
    ]
    answers = await asyncio.gather(*calls)
    assert all(a.status_code == 200 for a in answers)
    recorded = [row for s in staffs for row in await entries_of(s["id"])]
    assert len(recorded) == len(calls)
    report = await audit_log.verify()
    assert report.ok, report.problems
    verified = await cli("audit", "verify")
    assert verified.returncode == 0 and "0 problems" in verified.stdout, verified.stdout + verified.stderr


async def test_verify_names_an_edited_row_and_a_deleted_row(client, make_account):
    admin = await make_account("admin")
    staff = await make_account("staff", venues=(VENUE,))
    for who in (admin, staff, admin):
        await client.post("/api/v1/admin/users", json={"email": "not-an-email"}, headers=who["headers"])
    target = (await entries_of(staff["id"]))[0]
    assert (await cli("audit", "verify")).returncode == 0

    # someone with database access hides that the staff member tried to create a user
    await AuditEntry.update({AuditEntry.status: 200}).where(AuditEntry.id == target["id"])
    edited = await cli("audit", "verify")
    assert edited.returncode != 0
    assert f"entry seq {target['seq']} (id {target['id']}) was edited" in edited.stdout, edited.stdout
    await AuditEntry.update({AuditEntry.status: target["status"]}).where(AuditEntry.id == target["id"])
    assert (await cli("audit", "verify")).returncode == 0

    # … or deletes the row outright
    await AuditEntry.delete().where(AuditEntry.id == target["id"])
    deleted = await cli("audit", "verify")
    assert deleted.returncode != 0
    assert f"entry seq {target['seq']} deleted" in deleted.stdout, deleted.stdout
    await AuditEntry.insert(AuditEntry(**target))
    assert (await cli("audit", "verify")).returncode == 0


async def test_prune_keeps_180_days_and_the_chain_still_verifies(client, make_account):
    refused = await cli("audit", "prune", "--before", (clock.now() - timedelta(days=179)).date().isoformat())
    assert refused.returncode != 0 and "180 days" in refused.stderr
    admin = await make_account("admin")
    await client.post("/api/v1/admin/users", json={}, headers=admin["headers"])
    before = await AuditEntry.count()
    assert before > 0
    # 181 days later, everything recorded so far may go
    later = clock.now() + timedelta(days=181)
    report = await audit_log.prune(clock.now() + timedelta(seconds=1), now=later)
    assert report.deleted == before
    remaining = await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.seq)
    assert [r["action"] for r in remaining] == ["audit.prune"]
    await client.post("/api/v1/admin/users", json={}, headers=admin["headers"])
    verified = await cli("audit", "verify")
    assert verified.returncode == 0 and "2 entries checked, 0 problems" in verified.stdout, verified.stdout


async def test_a_privileged_sign_in_is_recorded(client, make_account):
    staff = await make_account("staff", venues=(VENUE,))
    res = await client.post("/api/v1/auth/login", json={"email": staff["email"], "password": staff["password"]})
    assert res.status_code == 200
    assert [r["action"] for r in await entries_of(staff["id"])] == ["auth.login"]


async def test_two_server_processes_appending_at_once_keep_one_chain(client, make_account, peer_server_url):
    """The real server (another process) and this one record staff writes at the same moment: the chain
    lock (SQLite's write lock, PostgreSQL's advisory lock) gives every entry its own place."""
    staff = await make_account("staff", venues=(VENUE,))
    slots = [await fresh_slot(client, VENUE) for _ in range(4)]
    import httpx

    async with httpx.AsyncClient(base_url=peer_server_url, timeout=30) as other:
        calls = [
            http.patch(
                f"/api/v1/venues/{VENUE}/slots/{slot['id']}", json={"capacity": 30 + n}, headers=staff["headers"]
            )
            for n in range(5)
            for http in (client, other)
            for slot in slots
        ]
        answers = await asyncio.gather(*calls)
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    rows = await entries_of(staff["id"])
    assert len(rows) == len(calls)
    assert len({r["seq"] for r in rows}) == len(calls)
    report = await audit_log.verify()
    assert report.ok, report.problems


async def test_gate_scans_are_recorded_by_the_scan_log_not_the_chain(client, make_account):
    """A scan is on the scan log (who, gate, result); a staff capacity change is on the audit chain."""
    from backend.audit.tables import AuditEntry
    from backend.passes.tables import ScanRecord

    staff = await make_account("staff", venues=("changzhou-museum",))
    before = await AuditEntry.count()
    res = await client.post(
        "/api/v1/scans",
        headers=staff["headers"],
        json={"code": "not-a-code", "venue_slug": "changzhou-museum", "gate": "north", "nonce": "audit-scan-1"},
    )
    assert res.status_code == 200 and res.json()["result"] == "invalid"
    logged = await ScanRecord.select().where(ScanRecord.nonce == "changzhou-museum:audit-scan-1").first()
    assert logged["staff_user_id"] == staff["id"] and logged["gate"] == "north" and logged["result"] == "invalid"
    assert await AuditEntry.count() == before
    patched = await client.patch(
        "/api/v1/venues/changzhou-museum/slots/999999999", json={"capacity": 5}, headers=staff["headers"]
    )
    assert patched.status_code == 404
    assert await AuditEntry.count() == before + 1
