"""A partner that is down, slow or failing (issue 15, finding 10): every call to the payment provider
(create a session, retrieve it, refund) and every push to the supervision platform that fails by a
network error, a timeout or a 5xx answers a 502 problem (or is retried later) and leaves our state as
it was: the seat hold, the booking, the payment rows, the outbox."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backend.governance import outbox
from backend.governance.tables import OutboxMessage
from backend.payments.tables import Payment, Refund
from backend.reservations.tables import Reservation
from backend.settings import get_settings
from integrations.gov_platform import HttpGovPlatform
from integrations.payments import stripe_adapter
from tests.api.reservation_helpers import slot_by_id
from tests.api.test_payments import PAID_VENUE, checkout, deliver, paid_booking, status_of
from tests.conftest import stripe_standin

pytestmark = pytest.mark.anyio


def closed_port_url() -> str:
    """An address where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Broken:
    """A local HTTP server that answers every request with `status` after `delay_s` (a partner in
    trouble: 500/503, or so slow that the client times out)."""

    def __init__(self, status: int = 500, delay_s: float = 0.0) -> None:
        self.hits = 0
        broken = self
        stop = self.stopping = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _answer(self) -> None:
                broken.hits += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if delay_s:
                    stop.wait(delay_s)
                body = json.dumps({"error": {"type": "api_error", "message": "internal"}}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up first

            do_GET = do_POST = _answer  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def stripe_at(monkeypatch) -> Iterator[Callable[[str], None]]:
    """Point the app's Stripe client at another address (the settings are read once, so clear them);
    no retries and a short timeout, so a test of a partner in trouble stays quick."""
    monkeypatch.setattr(stripe_adapter, "TIMEOUT_S", 0.5)
    monkeypatch.setattr(stripe_adapter, "NETWORK_RETRIES", 0)

    def point(url: str) -> None:
        monkeypatch.setenv("STRIPE_API_BASE", url)
        get_settings.cache_clear()

    yield point
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture(params=["refused", "http_500", "timeout"])
def provider_down(request, stripe_at) -> Iterator[str]:
    """The app's Stripe client pointed at a provider that refuses connections, answers 500, or hangs."""
    server = None
    if request.param == "refused":
        url = closed_port_url()
    else:
        server = Broken(500) if request.param == "http_500" else Broken(200, delay_s=5)
        url = server.url
    stripe_at(url)
    yield request.param
    if server is not None:
        server.stop()


async def hold_of(public_id: str) -> dict:
    row = (
        await Reservation.select(Reservation.id, Reservation.status, Reservation.hold_expires_at)
        .where(Reservation.public_id == public_id)
        .first()
    )
    assert row is not None
    return row


async def test_checkout_with_the_provider_down_is_a_502_and_the_hold_is_unchanged(client, make_account, provider_down):
    me, slot, booking = await paid_booking(client, make_account)
    before = await hold_of(booking["id"])
    res = await client.post(f"/api/v1/reservations/{booking['id']}/checkout", headers=me["headers"])
    assert res.status_code == 502, res.text
    assert res.json()["code"] == "payment_provider_error"
    assert res.headers["content-type"].startswith("application/problem+json")
    after = await hold_of(booking["id"])
    assert after == before, "the hold is exactly as it was"
    assert await Payment.count().where(Payment.reservation == before["id"]) == 0
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"] - 2


async def test_resuming_an_open_session_with_the_provider_down_is_a_502(client, make_account, stripe_at):
    me, _, booking = await paid_booking(client, make_account)
    first = await checkout(client, me, booking)
    before = await hold_of(booking["id"])
    payments_before = await Payment.select().where(Payment.reservation == before["id"])
    stripe_at(closed_port_url())
    res = await client.post(f"/api/v1/reservations/{booking['id']}/checkout", headers=me["headers"])
    assert res.status_code == 502 and res.json()["code"] == "payment_provider_error"
    assert await hold_of(booking["id"]) == before
    assert await Payment.select().where(Payment.reservation == before["id"]) == payments_before
    stripe_at(stripe_standin.base_url)
    again = await checkout(client, me, booking)
    assert again["session_id"] == first["session_id"]


async def test_a_webhook_while_the_provider_is_down_is_retried_later(client, make_account, stripe_at):
    """The webhook re-reads the session from the provider: unreachable, it answers 502 and changes
    nothing, so the provider delivers the event again and the second delivery confirms the booking."""
    me, _, booking = await paid_booking(client, make_account)
    session = await checkout(client, me, booking)
    payload = stripe_standin.complete(session["session_id"])
    stripe_at(closed_port_url())
    res = await deliver(client, payload)
    assert res.status_code == 502 and res.json()["code"] == "payment_provider_error"
    assert (await status_of(client, me, booking))["status"] == "pending_payment"
    stripe_at(stripe_standin.base_url)
    res = await deliver(client, payload)
    assert res.status_code == 200 and not res.json()["duplicate"]
    assert (await status_of(client, me, booking))["status"] == "confirmed"


@pytest.mark.parametrize("platform", ["refused", "http_503"])
async def test_a_platform_push_that_fails_stays_in_the_outbox(platform):
    server = Broken(503) if platform == "http_503" else None
    url = server.url if server else closed_port_url()
    mark = f"test-{uuid.uuid4().hex}"  # this test's own message: other tests' rows may be in the outbox
    await outbox.enqueue("incident", {"kind": "test", "platform": platform}, dedup_key=mark)
    pending = await outbox.pending_count()
    adapter = HttpGovPlatform(url, "secret", timeout_s=1)
    try:
        delivered, failed = await outbox.drain_once(adapter)
    finally:
        await adapter.close()
        if server:
            server.stop()
    assert delivered == 0 and failed >= 1
    assert await outbox.pending_count() == pending, "nothing is marked sent"
    own = await OutboxMessage.select().where(OutboxMessage.dedup_key == mark).first()
    assert own is not None and own["sent_at"] is None and own["last_error"]


_ = Refund  # used by the refund tests below
