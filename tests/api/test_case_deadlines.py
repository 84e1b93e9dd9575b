"""Issue 16, deadlines that act: an overdue case is escalated by itself, once, whatever number of sweeps
or replicas race for it; the district's governance users are told, and the platform hears of it once."""

from __future__ import annotations

import time
from datetime import timedelta

import anyio
import httpx
import pytest

from backend.cases.deadlines import escalate_due
from backend.cases.tables import Case, CaseEvent
from backend.governance.tables import OutboxMessage
from backend.lib.clock import clock
from backend.reservations.tables import Notification
from integrations.gov_platform.simulator import GovPlatformSimulator
from tests.api.case_helpers import VENUE, file_case, move, read
from tests.api.gov_helpers import SECRET
from tests.conftest import ServerProcess, server_env

pytestmark = pytest.mark.anyio


async def _escalations(case_id: str) -> int:
    row = await Case.select(Case.id).where(Case.public_id == case_id).first()
    return await CaseEvent.count().where((CaseEvent.case_id == row["id"]) & (CaseEvent.action == "escalated"))


async def test_overdue_cases_are_escalated_once_under_concurrent_sweeps(client, make_account):
    visitor, staff = await make_account("tourist"), await make_account("staff", venues=(VENUE,))
    governance = await make_account("governance")
    clock.set(clock.now())
    late = [await file_case(client, visitor, contact_phone="13912345678") for _ in range(3)]
    acked = await file_case(client, visitor)
    assert (await move(client, staff, acked["id"], "acknowledged")).status_code == 200
    clock.advance(timedelta(hours=2))  # past the acknowledge deadline (1 h), not the resolve one (24 h)

    escalated: list[int] = []

    async def sweep() -> None:
        escalated.append(await escalate_due())

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(sweep)
    for case in late:
        seen = (await read(client, visitor, case["id"])).json()
        assert seen["status"] == "escalated" and seen["escalated_at"]
        assert [t["by_role"] for t in seen["timeline"] if t["action"] == "escalated"] == ["system"]
        assert await _escalations(case["id"]) == 1
        pushes = await OutboxMessage.select(OutboxMessage.body).where(
            OutboxMessage.dedup_key == f"case:escalated:{case['id']}"
        )
        assert len(pushes) == 1
        body = pushes[0]["body"]
        assert '"type":"case"' in body and "13912345678" not in body and "139****5678" in body
        assert "票价" not in body  # no text goes to the platform
        notes = await Notification.select().where(
            (Notification.user_id == governance["id"])
            & (Notification.kind == "case_escalated")
            & Notification.detail.like(f"%{case['id'][:8]}%")
        )
        assert len(notes) == 1
    assert (await read(client, visitor, acked["id"])).json()["status"] == "acknowledged"
    listed = (await client.get("/api/v1/me/notifications", headers=governance["headers"])).json()
    assert sum(1 for n in listed if n["kind"] == "case_escalated") >= 3

    # past the resolve deadline the acknowledged one escalates too, once; and an escalated case that
    # governance acknowledged is not escalated a second time when its next deadline passes
    assert (await move(client, governance, late[0]["id"], "acknowledged")).status_code == 200
    clock.advance(timedelta(days=2))
    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(sweep)
    assert (await read(client, visitor, acked["id"])).json()["status"] == "escalated"
    assert await _escalations(acked["id"]) == 1
    assert await _escalations(late[0]["id"]) == 1
    assert (await read(client, visitor, late[0]["id"])).json()["status"] == "acknowledged"
    row = await Case.select(Case.escalation_reason).where(Case.public_id == acked["id"]).first()
    assert row["escalation_reason"] == "resolve_overdue"


async def test_an_sos_is_escalated_when_not_acknowledged_within_two_minutes(client, make_account):
    visitor = await make_account("tourist")
    clock.set(clock.now())
    sos = await file_case(client, visitor, kind="sos", text="", location={"lat": 31.8106, "lng": 119.9656})
    clock.advance(timedelta(seconds=90))
    await escalate_due()
    assert (await read(client, visitor, sos["id"])).json()["status"] == "open"
    clock.advance(timedelta(seconds=40))
    await escalate_due()
    assert (await read(client, visitor, sos["id"])).json()["status"] == "escalated"


async def _wait(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await anyio.sleep(0.25)
    return bool(await predicate())


async def test_two_replicas_escalate_a_case_once_and_the_platform_hears_it_once(client, make_account):
    """Acceptance: the acknowledge deadline set to a few seconds, two `changxiang run` processes sweeping and
    draining the outbox: the case is escalated once and the platform stand-in receives it once."""
    sim = GovPlatformSimulator(SECRET)
    sim.start()
    env = server_env(
        GOV_PLATFORM_URL=sim.url,
        GOV_OUTBOX_INTERVAL_S="0.2",
        GOV_RETRY_BASE_S="0.3",
        GOV_RETRY_MAX_S="1",
        CHANGXIANG_CASE_ACK_S="3",
        CHANGXIANG_SWEEP_INTERVAL_S="0.2",
    )
    servers: list[ServerProcess] = []
    try:
        for name in ("cases-a", "cases-b"):
            servers.append(await anyio.to_thread.run_sync(lambda n=name: ServerProcess(env, name=n)))
        visitor = await make_account("tourist")
        async with httpx.AsyncClient(base_url=servers[0].url, timeout=20) as http:
            res = await http.post(
                "/api/v1/cases",
                headers=visitor["headers"],
                json={"kind": "complaint", "text": "nobody answers", "venue_slug": VENUE},
            )
            assert res.status_code == 201, res.text
            case_id = res.json()["id"]

        def escalations() -> list[dict]:
            return [
                m for m in sim.received("case") if m["data"]["case_id"] == case_id and m["data"]["event"] == "escalated"
            ]

        async def arrived() -> bool:
            return bool(escalations())

        assert await _wait(arrived, 60), servers[0].log_path.read_text()[-3000:]
        await anyio.sleep(2.0)  # both replicas keep sweeping and draining meanwhile
        assert len(escalations()) == 1
        assert [m["data"]["event"] for m in sim.received("case") if m["data"]["case_id"] == case_id].count(
            "opened"
        ) == 1
        assert await _escalations(case_id) == 1
        message = escalations()[0]
        assert message["data"]["escalation_reason"] == "ack_overdue" and "text" not in message["data"]
        assert sim.rejected_signatures == 0
    finally:
        for server in servers:
            await anyio.to_thread.run_sync(server.stop)
        sim.stop()
