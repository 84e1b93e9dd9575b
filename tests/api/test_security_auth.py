"""Issue 15, the sign-in classes: the lock-out holds under parallel guesses (3), password hashing stays
off the event loop (5); each test reproduces the review's attack and fails without its defence."""

from __future__ import annotations

import statistics
import time
import uuid

import anyio
import httpx
import pytest

from tests.api import security_helpers
from tests.api.security_helpers import post_from

pytestmark = pytest.mark.anyio

settings_for_test = security_helpers.settings_for_test  # the fixture, for this module

HIGH = 100_000


@pytest.fixture
def password_checks(monkeypatch):
    """Every argon2 verification the process makes, as (password, matched)."""
    from backend.lib import auth

    seen: list[tuple[str, bool]] = []
    real = auth._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            try:
                ok = real.verify(hash_, password)
            except Exception:
                seen.append((password, False))
                raise
            seen.append((password, ok))
            return ok

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(auth, "_hasher", CountingHasher())
    return seen


# ---------------------------------------------------------------- 5. hashing off the event loop


async def _probe_healthz(client: httpx.AsyncClient, busy: anyio.Event, done: anyio.Event) -> list[float]:
    """/healthz answer times (seconds) while the load runs, as a client outside the process sees them:
    from the moment the probe is due (every 20 ms) to its answer, so the time the event loop was too busy
    to take the request counts too."""
    await busy.wait()
    times: list[float] = []
    due = time.perf_counter()
    while not done.is_set() or len(times) < 5:
        await anyio.sleep(max(0.0, due - time.perf_counter()))
        res = await client.get("/healthz")
        times.append(time.perf_counter() - due)
        assert res.status_code == 200
        due = max(due + 0.02, time.perf_counter())
    return times


@pytest.mark.parametrize("concurrent", [20, 40])
async def test_healthz_answers_while_logins_hash(app, client, settings_for_test, concurrent):
    """Worst-case logins (an argon2 check each) in parallel: the liveness probe still answers in 100 ms."""
    settings_for_test(auth_rate_limit_per_minute=HIGH)
    busy, done = anyio.Event(), anyio.Event()
    answers: list[int] = []

    async def login(i: int) -> None:
        body = {"email": f"nobody-{uuid.uuid4().hex[:8]}@changxiang.test", "password": f"guess-{i:04d}-xx"}
        busy.set()
        res = await post_from(app, f"10.5.{i // 200}.{i % 200 + 1}", "/api/v1/auth/login", body)
        answers.append(res.status_code)

    probes: list[float] = []

    async def probe() -> None:
        probes.extend(await _probe_healthz(client, busy, done))

    async with anyio.create_task_group() as tg:
        tg.start_soon(probe)
        async with anyio.create_task_group() as logins:
            for i in range(concurrent):
                logins.start_soon(login, i)
        done.set()
    assert answers == [401] * concurrent
    probes.sort()
    median, p90 = statistics.median(probes), probes[int(len(probes) * 0.9) - 1]
    assert median < 0.1 and p90 < 0.1, f"/healthz took median {median:.3f}s, p90 {p90:.3f}s: {probes}"


# ---------------------------------------------------------------- 3. the lock-out under parallel guesses


async def test_parallel_guesses_get_no_more_password_checks_than_the_lockout_allows(
    app, client, make_account, settings_for_test, password_checks
):
    """100 logins for one account at once, each from its own address, the right password among them (last
    sent): at most 10 passwords are checked, and no token is issued unless the right one was among them."""
    settings_for_test(login_lockout_failures=10, login_lockout_s=900)
    victim = await make_account("staff", venues=("changzhou-museum",))
    guesses = [f"guess-{i:03d}-wrong" for i in range(99)] + [victim["password"]]
    answers: dict[str, httpx.Response] = {}

    async def guess(i: int, password: str) -> None:
        body = {"email": victim["email"], "password": password}
        answers[password] = await post_from(app, f"10.3.{i // 250}.{i % 250 + 1}", "/api/v1/auth/login", body)

    async with anyio.create_task_group() as tg:
        for i, password in enumerate(guesses):
            tg.start_soon(guess, i, password)

    checked = [password for password, _ok in password_checks]
    tokens = [password for password, res in answers.items() if res.status_code == 200]
    if tokens:  # the right password was among the first ten to be counted: that is the budget's risk
        assert tokens == [victim["password"]] and victim["password"] in checked[:10]
        assert len(checked[: checked.index(victim["password"]) + 1]) <= 10
        return
    assert len(checked) <= 10, f"{len(checked)} passwords checked"
    refused = [res for res in answers.values() if res.status_code == 429]
    assert len(refused) >= 90 and {res.json()["code"] for res in refused} == {"account_locked"}
    assert all(int(res.headers["retry-after"]) >= 1 for res in refused)
    # the lock holds afterwards, for the right password too, from yet another address
    late = await post_from(
        app, "10.9.9.9", "/api/v1/auth/login", {"email": victim["email"], "password": victim["password"]}
    )
    assert late.status_code == 429 and late.json()["code"] == "account_locked"
    assert len(password_checks) == len(checked)  # refused without a password check


async def test_unknown_accounts_lock_the_same_way(app, client, settings_for_test, password_checks):
    """Guesses at an email nobody has are counted too: the lock-out does not tell which accounts exist."""
    settings_for_test(login_lockout_failures=3, login_lockout_s=900)
    email = f"nobody-{uuid.uuid4().hex[:8]}@changxiang.test"
    codes = []
    for i in range(5):
        res = await post_from(app, f"10.4.0.{i + 1}", "/api/v1/auth/login", {"email": email, "password": "x" * 12})
        codes.append(res.status_code)
    assert codes == [401, 401, 401, 429, 429]
    assert len(password_checks) == 3
