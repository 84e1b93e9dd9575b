"""Test set-up: the real app on the configured database and stores.

Defaults: a fresh SQLite file and in-process stores. With DATABASE_URL=postgres://… and
REDIS_URL=redis://… the same suite runs against PostgreSQL and Redis (the CI's second pass). Nothing
of ours is mocked: tests drive the app through HTTP (`AsyncTestClient`) or call its services.

Three deployments, never sharing a database, a Redis database or a Stripe stand-in:
- the suite's own: the in-process app (`app`, `client`) and, for tests of two replicas at once,
  `peer_server_url` (`changxiang run` on the same database and Redis);
- the end-to-end one: `live_server_url` (`changxiang run`), for tests/e2e, on its own SQLite file, or its
  own PostgreSQL database (`<db>_e2e`, created here) and Redis database (the suite's + 1), migrated and
  loaded with the real `changxiang migrate` / `load-content`, with its own Stripe stand-in
  (`live_stripe`). The in-process app's sweeper, and any test that moves the in-process clock, never
  touch it;
- the fuzzing one: `fuzz_server_url`, built the same way (`<db>_fuzz`, the suite's Redis database + 2),
  for tests/contract, whose random writes must not meet the end-to-end tests when pytest-randomly
  interleaves the modules.
With Redis, a run uses three consecutive Redis databases from REDIS_URL's on (only those it starts).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="changxiang-test-"))
os.environ.setdefault("CHANGXIANG_VAR_DIR", str(_TMP / "var"))
# many apps start in one test process: frozen objects would never be collected (tests/api/test_heap.py turns it on)
os.environ.setdefault("CHANGXIANG_GC_FREEZE", "false")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'test.sqlite3'}")
os.environ.setdefault("CHANGXIANG_ADMIN_EMAIL", "admin@changxiang.test")
os.environ.setdefault("CHANGXIANG_ADMIN_PASSWORD", "admin-password-1")
# one signing secret for every process of the run (the suite, its CLI calls, both deployments' servers), so
# a token the tests mint is good on any of them
os.environ.setdefault("CHANGXIANG_SECRET_KEY", "test-secret-" + uuid.uuid4().hex)
# content pictures' responsive sizes (backend/media/pictures.py): made once on this machine, shared by every
# deployment and run (each variant is written atomically and kept while newer than its original)
os.environ.setdefault("CHANGXIANG_MEDIA_CACHE_DIR", str(ROOT / "var" / "media-variants"))
os.environ["LOG_LEVEL"] = os.environ.get("TEST_LOG_LEVEL", "INFO")

# Stripe: the real `stripe` library, pointed at a local stand-in this process runs (no internet).
from integrations.payments.stripe_standin import StripeStandIn  # noqa: E402

STRIPE_WEBHOOK_SECRET = "whsec_test_" + uuid.uuid4().hex
stripe_standin = StripeStandIn(webhook_secret=STRIPE_WEBHOOK_SECRET)
os.environ["STRIPE_API_BASE"] = stripe_standin.start()
os.environ["STRIPE_SECRET_KEY"] = "sk_test_changxiang"
os.environ["STRIPE_WEBHOOK_SECRET"] = STRIPE_WEBHOOK_SECRET

# SMS (phone sign-in): a local stand-in of the provider's HTTP API (integrations/sms/standin.py), shared by every
# deployment of the run (its messages are looked up by phone number, and each test uses numbers of its own).
from integrations.sms.standin import SmsStandIn  # noqa: E402

SMS_API_KEY = "sms-test-" + uuid.uuid4().hex
sms_standin = SmsStandIn(api_key=SMS_API_KEY)
os.environ["SMS_API_URL"] = sms_standin.start()
os.environ["SMS_API_KEY"] = SMS_API_KEY

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


def run_cli(*args: str, env: dict[str, str] | None = None) -> str:
    """`changxiang <args>` in a subprocess, on the suite's deployment (or on `env`'s)."""
    out = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy() if env is None else env,
    )
    assert out.returncode == 0, f"changxiang {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


async def arun_cli(*args: str, env: dict[str, str] | None = None) -> str:
    """`run_cli` from an async test: in a worker thread, so the in-process app's own writers (sweepers, the
    outbox) go on meanwhile. Blocking the loop instead can leave one of them holding SQLite's write lock
    while the command (or a peer server it calls) waits for it."""
    import anyio

    return await anyio.to_thread.run_sync(lambda: run_cli(*args, env=env))


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
    watchdog = None
    try:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as test_client:
                yield test_client
            watchdog = asyncio.get_running_loop().create_task(_name_what_holds_the_shutdown(30))
    finally:
        if watchdog is not None:
            watchdog.cancel()


async def _name_what_holds_the_shutdown(after_s: float) -> None:
    """If the app's shutdown takes longer than `after_s`, print every task still running, with its stack, to
    the real stderr (a session fixture's teardown output is otherwise captured): a hung suite names why."""
    await asyncio.sleep(after_s)
    print(f"\nthe app's shutdown has taken {after_s:.0f} s; tasks still running:", file=sys.__stderr__)
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.print_stack(file=sys.__stderr__)


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
def sms():
    """The SMS provider's stand-in: what was texted to a phone (`last_code(phone)`), `failing` to refuse."""
    sms_standin.failing = None
    yield sms_standin
    sms_standin.failing = None


@pytest.fixture
def make_account(app: Litestar):
    return Accounts(app).make


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- real servers (`changxiang run`)


class ServerProcess:
    """`changxiang run` in a subprocess with `env`, on a free port of 127.0.0.1; `stop()` ends it."""

    def __init__(self, env: dict[str, str], name: str = "server") -> None:
        dist = ROOT / "pwa" / "dist" / "index.html"
        assert dist.is_file(), "the PWA is not built: run `make test` (it builds pwa/dist) or `make pwa`"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.log_path = _TMP / f"{name}-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "run"], cwd=ROOT, env=self.env, stdout=self._log, stderr=self._log
        )
        deadline = time.monotonic() + 90  # a loaded CI machine starts a server slowly
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{name} did not become ready:\n{self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def server_env(**overrides: str) -> dict[str, str]:
    """The environment of a server process of this run: the suite's, less the per-address abuse limits."""
    env = os.environ.copy()
    # every browser and client of the suite comes from 127.0.0.1: per-address budgets would make the
    # tests (the fuzzing above all) throttle each other; per-account limits and lock-outs stay on, and
    # the limits themselves are tested on the in-process app (tests/api/test_abuse_limits.py)
    for name in ("AUTH_RATE_LIMIT", "BOOKING_LIMIT_PER_ADDRESS", "SCAN_LIMIT_PER_ADDRESS", "SMS_LIMIT_PER_ADDRESS"):
        env.setdefault(f"CHANGXIANG_{name}", "100000")
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def peer_server_url(prepared_database: None):
    """Another replica of the suite's own deployment (same database and Redis as the in-process app), for
    tests of two server processes at once. End-to-end tests use `live_server_url` instead. It does not
    sweep: its own Stripe stand-in and clock would settle holds and owed refunds behind the back of a test
    that moved the in-process app's clock or pointed it at a broken Stripe."""
    server = ServerProcess(server_env(CHANGXIANG_SWEEP_INTERVAL_S="86400"), name="peer-server")
    yield server.url
    server.stop()


@pytest.fixture
def peer_server_at_clock(prepared_database: None):
    """`await start()` -> the URL of another replica of the suite's deployment whose clock reads what the
    test's clock reads now (`CHANGXIANG_CLOCK_OFFSET_S`; set the clock running, not frozen, first), for a
    test of two replicas inside a slot it moved the clock into. It never sweeps: a replica ahead of time
    would expire other tests' holds. Stopped after the test."""
    from backend.lib.clock import clock

    servers: list[ServerProcess] = []

    async def start() -> str:
        import anyio

        offset_s = (clock.now() - datetime.now(UTC)).total_seconds()
        env = server_env(CHANGXIANG_CLOCK_OFFSET_S=str(offset_s), CHANGXIANG_SWEEP_INTERVAL_S="86400")
        server = await anyio.to_thread.run_sync(lambda: ServerProcess(env, name="peer-at-clock"))
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def _fresh_postgres_database(url: str) -> None:
    """CREATE DATABASE (once; trust auth on the suite's server) and an empty public schema in it."""
    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def redis_database_beside(url: str, step: int) -> str:
    """The Redis database `step` after the one `url` names: a deployment's (or a server's) own. Taken: the
    end-to-end deployment's + 1, the fuzzing deployment's + 2, the forged-address test's server + 3."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{int(parts.path.lstrip('/') or 0) + step}"))


async def fresh_redis_database(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@dataclass
class Deployment:
    """A deployment of its own: database, Redis database, var dir and Stripe (a stand-in of its own, as a
    second Stripe account would be: idempotency keys and sessions never meet the suite's)."""

    env: dict[str, str]
    stripe: StripeStandIn
    servers: list[ServerProcess] = field(default_factory=list)

    def start_server(self, name: str = "e2e-server", **overrides: str) -> ServerProcess:
        server = ServerProcess({**self.env, **overrides}, name=name)
        self.servers.append(server)
        return server


async def _own_deployment(name: str, redis_step: int) -> Deployment:
    """A deployment of its own beside the suite's: a separate SQLite file (`<name>.sqlite3`), or `<db>_<name>`
    on the suite's PostgreSQL server, the suite's Redis database + `redis_step`, its own var dir and Stripe
    stand-in; migrated and loaded with the real CLI."""
    settings = get_settings()
    if settings.is_postgres:
        suite_db = urlsplit(settings.database_url).path.lstrip("/")
        database_url = _with_database(settings.database_url, f"{suite_db}_{name}")
        await _fresh_postgres_database(database_url)
    else:
        database_url = f"sqlite:///{_TMP / f'{name}.sqlite3'}"
    stripe = StripeStandIn(webhook_secret=STRIPE_WEBHOOK_SECRET)
    overrides = {
        "DATABASE_URL": database_url,
        "CHANGXIANG_VAR_DIR": str(_TMP / f"{name}-var"),
        "STRIPE_API_BASE": stripe.start(),
    }
    if settings.redis_url:
        overrides["REDIS_URL"] = redis_database_beside(settings.redis_url, redis_step)
        await fresh_redis_database(overrides["REDIS_URL"])
    deployment = Deployment(env=server_env(**overrides), stripe=stripe)
    run_cli("migrate", env=deployment.env)
    run_cli("load-content", env=deployment.env)
    return deployment


def _end(deployment: Deployment) -> None:
    for server in deployment.servers:
        server.stop()
    deployment.stripe.stop()


# The deployments are sync fixtures that run their async set-up in a loop of their own: an async session
# fixture is only handled when the first test to ask for it is an anyio test, so a random order that put a
# (sync) browser test first failed set-up for every test after it.
@pytest.fixture(scope="session")
def e2e_deployment():
    """The end-to-end tests' own database (a separate SQLite file, or `<db>_e2e` on the suite's PostgreSQL
    server), Redis database (the suite's + 1) and Stripe stand-in, migrated and loaded with the real CLI."""
    deployment = asyncio.run(_own_deployment("e2e", 1))
    yield deployment
    _end(deployment)


@pytest.fixture(scope="session")
def live_server_url(e2e_deployment: Deployment):
    """The real server (`changxiang run`) of the end-to-end deployment, with the city's content and the PWA."""
    server = e2e_deployment.start_server()
    e2e_deployment.stripe.webhook_url = server.url + "/api/v1/payments/stripe/webhook"  # its pay page notifies it
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def live_stripe(e2e_deployment: Deployment, live_server_url: str) -> StripeStandIn:
    """The Stripe stand-in of the end-to-end deployment (its webhooks go to `live_server_url`)."""
    return e2e_deployment.stripe


@pytest.fixture(scope="session")
def fuzz_deployment():
    """The contract tests' own deployment (`<db>_fuzz`, the suite's Redis database + 2): schemathesis writes
    at random, and none of it may reach the end-to-end tests' data."""
    deployment = asyncio.run(_own_deployment("fuzz", 2))
    yield deployment
    _end(deployment)


@pytest.fixture(scope="session")
def fuzz_server_url(fuzz_deployment: Deployment):
    """The real server (`changxiang run`) of the fuzzing deployment (tests/contract)."""
    server = fuzz_deployment.start_server("fuzz-server")
    fuzz_deployment.stripe.webhook_url = server.url + "/api/v1/payments/stripe/webhook"
    yield server.url
    server.stop()


def _forget_figures_of_another_time() -> None:
    """The in-process app keeps a few answers for about a second (live occupancy, the directives and warnings
    in force, venue pages) or a minute (open-data files), timed by `time.monotonic()`. Time running on, that
    is all they need; a test's clock jumps, and an answer kept from before the jump (perhaps another test's,
    on another day) would be served as the new moment's. So every move of the clock forgets them."""
    from backend.governance.services import supervision
    from backend.occupancy.services import occupancy
    from backend.opendata.services import opendata
    from backend.venues.services import catalog

    occupancy.directives_changed()  # the figures and the directives in force
    supervision.forget_alerts()  # and the venue pages
    catalog.forget_pages()
    opendata.forget()


@pytest.fixture(autouse=True)
def _wall_clock(monkeypatch: pytest.MonkeyPatch):
    """Every test starts and ends on the wall clock; a test that moves time uses `clock` (backend.lib.clock),
    whose every move (set, freeze, advance, reset) also forgets what the in-process app kept from before it."""
    from backend.lib.clock import clock

    for name in ("set", "freeze", "advance", "reset"):
        move = getattr(clock, name)

        def moved(*args, _move=move, **kwargs) -> None:
            _move(*args, **kwargs)
            _forget_figures_of_another_time()

        monkeypatch.setattr(clock, name, moved)
    clock.reset()
    yield clock
    clock.reset()
