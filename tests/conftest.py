"""Test set-up: the real app on the configured database and stores.

Defaults: a fresh SQLite file and in-process stores. With DATABASE_URL=postgres://… and
REDIS_URL=redis://… the same suite runs against PostgreSQL and Redis (the CI's second pass). Nothing
of ours is mocked: tests drive the app through HTTP (`AsyncTestClient`) or call its services.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="changxiang-test-"))
os.environ.setdefault("CHANGXIANG_VAR_DIR", str(_TMP / "var"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'test.sqlite3'}")
os.environ.setdefault("CHANGXIANG_ADMIN_EMAIL", "admin@changxiang.test")
os.environ.setdefault("CHANGXIANG_ADMIN_PASSWORD", "admin-password-1")
os.environ["LOG_LEVEL"] = os.environ.get("TEST_LOG_LEVEL", "INFO")

# Stripe: the real `stripe` library, pointed at a local stand-in this process runs (no internet).
from integrations.payments.stripe_standin import StripeStandIn  # noqa: E402

STRIPE_WEBHOOK_SECRET = "whsec_test_" + uuid.uuid4().hex
stripe_standin = StripeStandIn(webhook_secret=STRIPE_WEBHOOK_SECRET)
os.environ["STRIPE_API_BASE"] = stripe_standin.start()
os.environ["STRIPE_SECRET_KEY"] = "sk_test_changxiang"
os.environ["STRIPE_WEBHOOK_SECRET"] = STRIPE_WEBHOOK_SECRET

# The city's supervision platform: inbound calls are verified with this secret. No GOV_PLATFORM_URL here:
# tests that need pushes start their own simulator and server (tests/api/test_gov_bridge.py).
GOV_PLATFORM_SECRET = "gov-test-" + uuid.uuid4().hex
os.environ["GOV_PLATFORM_SECRET"] = GOV_PLATFORM_SECRET
os.environ.pop("GOV_PLATFORM_URL", None)

from litestar import Litestar  # noqa: E402

from backend.settings import get_settings  # noqa: E402

ADMIN_EMAIL = os.environ["CHANGXIANG_ADMIN_EMAIL"]
ADMIN_PASSWORD = os.environ["CHANGXIANG_ADMIN_PASSWORD"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def _reset_backing_services() -> None:
    """Start from empty: drop our schema (PostgreSQL) and flush the test Redis database."""
    settings = get_settings()
    from backend.lib.db import engine, start_database, stop_database

    if settings.is_postgres:
        await start_database()
        await engine().run_ddl("DROP SCHEMA IF EXISTS public CASCADE;")
        await engine().run_ddl("CREATE SCHEMA public;")
        await stop_database()
    if settings.redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url)
        await client.flushdb()
        await client.aclose()


def run_cli(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], cwd=ROOT, capture_output=True, text=True, env=os.environ.copy()
    )
    assert out.returncode == 0, f"changxiang {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


@pytest.fixture(scope="session")
async def prepared_database() -> None:
    """Migrations and the city's content, applied through the real `changxiang` commands."""
    await _reset_backing_services()
    run_cli("migrate")
    run_cli("load-content")


@pytest.fixture(scope="session")
async def app(prepared_database: None) -> Litestar:
    from backend.app import create_app

    return create_app()


@pytest.fixture(scope="session")
async def _session_client(app: Litestar):
    """An async HTTP client on the app, in the test's own event loop.

    Litestar's AsyncTestClient runs the app on a blocking portal in another thread, which serialises
    requests and splits the app's database and Redis connections across two loops; httpx's
    ASGITransport with the app's own lifespan keeps one loop, so concurrent requests really race.
    """
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as test_client:
            yield test_client


@pytest.fixture
async def client(app: Litestar, _session_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The app's client; each test starts with its own auth rate-limit budget and no cookies."""
    await app.stores.get("rate_limit").delete_all()
    _session_client.cookies.clear()
    return _session_client


class Accounts:
    """Makes accounts through the real service and signs them in through the real token issuer."""

    def __init__(self, app: Litestar) -> None:
        self.app = app

    async def make(self, *roles: str, venues: tuple[str, ...] = (), password: str = "correct-horse-1") -> dict:
        import msgspec

        from backend.accounts.schemas import CreateUserRequest
        from backend.accounts.services import accounts

        email = f"{'-'.join(roles) or 'user'}-{uuid.uuid4().hex[:10]}@changxiang.test"
        data = msgspec.convert(
            {
                "email": email,
                "password": password,
                "display_name": f"Test {' '.join(roles)}",
                "roles": list(roles) or ["tourist"],
                "venue_slugs": list(venues),
            },
            CreateUserRequest,
        )
        user = await accounts.create_user(data)
        token = self.app.state.jwt_auth.create_token(identifier=str(user.id), token_unique_jwt_id=uuid.uuid4().hex)
        return {
            "id": user.id,
            "email": email,
            "password": password,
            "token": token,
            "headers": {"Authorization": f"Bearer {token}"},
        }


@pytest.fixture
def make_account(app: Litestar):
    return Accounts(app).make


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server_url(prepared_database: None):
    """The real server (`changxiang run`) in a subprocess, on this suite's database and stores."""
    dist = ROOT / "pwa" / "dist" / "index.html"
    assert dist.is_file(), "the PWA is not built: run `make test` (it builds pwa/dist) or `make pwa`"
    port = _free_port()
    env = os.environ.copy()
    env.update({"PORT": str(port), "HOST": "127.0.0.1"})
    # every browser and client of the suite comes from 127.0.0.1: per-address budgets would make the
    # tests (the fuzzing above all) throttle each other; per-account limits and lock-outs stay on, and
    # the limits themselves are tested on the in-process app (tests/api/test_abuse_limits.py)
    for name in ("AUTH_RATE_LIMIT", "BOOKING_LIMIT_PER_ADDRESS", "SCAN_LIMIT_PER_ADDRESS"):
        env.setdefault(f"CHANGXIANG_{name}", "100000")
    log = open(_TMP / f"server-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "run"], cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("server did not become ready")
    assert proc.poll() is None, (_TMP / f"server-{port}.log").read_text()
    stripe_standin.webhook_url = url + "/api/v1/payments/stripe/webhook"  # the pay page notifies this server
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()
