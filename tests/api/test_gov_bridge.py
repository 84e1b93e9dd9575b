"""The push to the supervision platform end to end: our real server (`changxiang run`) in a
subprocess drains the outbox to the platform simulator, through an outage and a restart; and the
notification stream reaches a visitor the moment a warning arrives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import anyio
import httpx
import pytest

from backend.governance.tables import OutboxMessage
from backend.lib.clock import clock
from integrations.gov_platform.simulator import GovPlatformSimulator
from tests.api.gov_helpers import SECRET, cap_alert
from tests.api.reservation_helpers import fresh_slot, visitor
from tests.api.test_passes import booked_now, code_of, scan
from tests.conftest import _TMP, ROOT, _free_port

pytestmark = pytest.mark.anyio

VENUE = "changzhou-three-heroes-memorial"


class Server:
    """`changxiang run` on this suite's database, with the platform at `platform_url`."""

    def __init__(self, platform_url: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ.copy()
        env.update(
            {
                "PORT": str(self.port),
                "HOST": "127.0.0.1",
                "GOV_PLATFORM_URL": platform_url,
                "GOV_RETRY_BASE_S": "0.3",
                "GOV_RETRY_MAX_S": "1",
                "GOV_OUTBOX_INTERVAL_S": "0.2",
                "GOV_OCCUPANCY_PUSH_S": "1",
                "GOV_LEASE_S": "3",
                # its clock reads what the test's clock reads (a test may stand inside a slot it booked)
                "CHANGXIANG_CLOCK_OFFSET_S": str((clock.now() - datetime.now(UTC)).total_seconds()),
            }
        )
        self.log_path = _TMP / f"gov-server-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "run"], cwd=ROOT, env=env, stdout=self._log, stderr=self._log
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.log_path.read_text()
            time.sleep(0.2)
        raise AssertionError("server did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)
        self._log.close()


async def wait_until(predicate, timeout_s: float) -> bool:
    """Poll `predicate` (a function returning a bool or an awaitable of one) until true or timed out."""

    async def check() -> bool:
        value = predicate()
        return bool(await value) if hasattr(value, "__await__") else bool(value)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await anyio.sleep(0.25)
    return await check()


async def test_pushes_survive_an_outage_and_a_restart(client, make_account):
    # what other tests left in the outbox (with back-offs of their own) is not this test's to wait for
    earlier = {r["message_id"] for r in await OutboxMessage.select(OutboxMessage.message_id)}
    sim = GovPlatformSimulator(SECRET, refuse_first=3)
    sim.start()
    staff = await make_account("staff", venues=(VENUE,))
    tourist = await make_account("tourist")
    await booked_now(client, tourist, VENUE, party=2)
    assert (await scan(client, staff, await code_of(client, tourist), VENUE, direction="in")).json()["result"] == "ok"
    from backend.occupancy.services import occupancy

    expected = (await occupancy.venue(VENUE)).occupancy
    assert expected >= 2

    first = Server(sim.url)
    try:
        await anyio.to_thread.run_sync(first.wait_ready)
        # the platform refuses its first 3 pushes; then it stays down while we stop our server
        assert await wait_until(lambda: sim.refused >= 3, 60), first.log_path.read_text()[-2000:]
        sim.refusing = True
        assert await wait_until(lambda: sim.refused >= 4, 30)
    finally:
        await anyio.to_thread.run_sync(first.stop)
    pending = {
        r["message_id"]
        for r in await OutboxMessage.select(OutboxMessage.message_id).where(OutboxMessage.sent_at.is_null())
    } - earlier
    assert pending, "messages waited in the outbox during the outage"

    # two replicas come up while the platform recovers
    second, third = Server(sim.url), Server(sim.url)
    try:
        await anyio.to_thread.run_sync(second.wait_ready)
        await anyio.to_thread.run_sync(third.wait_ready)
        sim.refusing = False

        def about_venue() -> list[dict]:
            return [
                v
                for m in sim.received("occupancy")
                for v in m["data"]["venues"]
                if v["venue_slug"] == VENUE and v["occupancy"] == expected
            ]

        async def delivered() -> bool:
            ids = {m["id"] for m in sim.received()}
            return pending <= ids and bool(about_venue())

        assert await wait_until(delivered, 90), "signed pushes about the venue arrive within 90 s"
    finally:
        await anyio.to_thread.run_sync(second.stop)
        await anyio.to_thread.run_sync(third.stop)
        sim.stop()

    ids = [m["id"] for m in sim.received()]
    assert len(ids) == len(set(ids)), "nothing is sent again once acknowledged"
    assert sim.rejected_signatures == 0
    for m in sim.received():
        assert set(m) == {"id", "type", "sent_at", "data"}
        assert m["type"] in {"occupancy", "daily_visitors", "incident", "case"}
    left = await OutboxMessage.count().where(
        OutboxMessage.message_id.is_in(sorted(pending)) & OutboxMessage.sent_at.is_null()
    )
    assert left == 0


async def test_a_warning_reaches_the_visitor_stream_at_once(peer_server_url, make_account, client):
    tourist = await make_account("tourist")
    slot = await fresh_slot(client, "changzhou-museum")
    res = await client.post(
        "/api/v1/reservations", headers=tourist["headers"], json={"slot_id": slot["id"], "visitors": [visitor()]}
    )
    assert res.status_code == 201
    sim = GovPlatformSimulator(SECRET)
    events: list[dict] = []
    async with httpx.AsyncClient(base_url=peer_server_url, timeout=30) as http:
        async with http.stream("GET", "/api/v1/me/notifications/stream", headers=tourist["headers"]) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            with anyio.fail_after(20):
                async for line in lines:
                    if line.startswith("event: ready"):
                        break
            res = await anyio.to_thread.run_sync(
                lambda: sim.send_alert(peer_server_url + "/api/v1", cap_alert(headline_zh="大风蓝色预警"))
            )
            assert res.status_code == 200, res.text
            with anyio.fail_after(20):
                event = None
                async for line in lines:
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "notification":
                        events.append(json.loads(line[6:]))
                        break
    assert events[0]["kind"] == "warning" and events[0]["detail"] == "大风蓝色预警"
    assert "user_id" not in events[0]


async def test_gov_sim_sends_signed_orders_from_the_command_line(peer_server_url):
    from tests.conftest import arun_cli

    out = await arun_cli(
        "gov-sim", "--send-alert", "docs/examples/cap-rainstorm-changzhou.xml", "--to", peer_server_url + "/api/v1"
    )
    assert out.startswith("200") and "changzhou-museum" in out
    out = await arun_cli(
        "gov-sim", "--send-directive", "docs/examples/gov-directive-limit.json", "--to", peer_server_url + "/api/v1"
    )
    assert out.startswith("200") and '"directive_id":"cz-yiwangtongguan-2027-0001"' in out
