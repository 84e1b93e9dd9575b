"""Issue 15, finding 4: who the client is. `X-Forwarded-For` is believed only from our own proxy
(CHANGXIANG_TRUSTED_PROXIES), so a client can't choose the address its limits and audit entries carry;
the production shape's nginx sets the header instead of appending to what the client sent. And the
limits fit networks where many phones share one address: per account first, per address generous."""

from __future__ import annotations

import os
import re
import uuid

import anyio
import httpx
import pytest
import yaml

from backend.audit.tables import AuditEntry
from backend.lib.clock import clock
from backend.lib.proxies import forwarded_client, parse_networks
from backend.lib.rate_limits import WINDOW_S
from tests.api import security_helpers
from tests.api.security_helpers import client_at, post_from
from tests.conftest import ROOT, ServerProcess, fresh_redis_database, redis_database_beside, server_env

pytestmark = pytest.mark.anyio

settings_for_test = security_helpers.settings_for_test  # the fixture, for this module

VENUE = "changzhou-museum"


def register_body() -> dict:
    return {"email": f"wifi-{uuid.uuid4().hex[:10]}@changxiang.test", "password": "long-enough-1", "display_name": "W"}


async def audit_clients(user_id: int) -> list[str]:
    rows = await AuditEntry.select(AuditEntry.client).where(AuditEntry.actor_id == user_id).order_by(AuditEntry.seq)
    return [row["client"] for row in rows]


def test_the_forwarded_chain_is_read_from_the_right_up_to_the_first_untrusted_hop():
    proxies = parse_networks(("10.0.0.0/8", "172.30.0.10"))
    assert forwarded_client("172.30.0.10", "203.0.113.7", proxies) == "203.0.113.7"
    # a client's own forged first entry is skipped: the right-most address our proxies did not add wins
    assert forwarded_client("172.30.0.10", "1.1.1.1, 203.0.113.7, 10.1.2.3", proxies) == "203.0.113.7"
    assert forwarded_client("198.51.100.1", "1.1.1.1", proxies) == "198.51.100.1"  # not our proxy
    assert forwarded_client("172.30.0.10", "not-an-address", proxies) == "172.30.0.10"
    assert forwarded_client("172.30.0.10", None, proxies) == "172.30.0.10"
    assert forwarded_client("172.30.0.10", "203.0.113.7", ()) == "172.30.0.10"  # nobody trusted: the default


async def test_a_client_can_not_choose_its_address_on_the_real_server(make_account):
    """The review's set-up: `changxiang run` with FORWARDED_ALLOW_IPS="*" (what docker-compose.yml said).
    A forged X-Forwarded-For neither escapes the per-address limit nor goes on the audit record."""
    overrides = {"FORWARDED_ALLOW_IPS": "*", "CHANGXIANG_AUTH_RATE_LIMIT": "2"}
    if os.environ.get("REDIS_URL"):
        # its per-address budget (127.0.0.1, this wall-clock minute) counted in a Redis database of its own,
        # emptied first: what other servers of the run counted for 127.0.0.1 this minute does not spend it
        overrides["REDIS_URL"] = redis_database_beside(os.environ["REDIS_URL"], 3)
        await fresh_redis_database(overrides["REDIS_URL"])
    server = ServerProcess(server_env(**overrides), name="forged-xff")
    try:
        staff = await make_account("staff", venues=(VENUE,))
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            login = await http.post(
                "/api/v1/auth/login",
                json={"email": staff["email"], "password": staff["password"]},
                headers={"X-Forwarded-For": "203.0.113.77"},
            )
            assert login.status_code == 200
            answers = [
                await http.post(
                    "/api/v1/auth/register", json=register_body(), headers={"X-Forwarded-For": f"198.51.100.{i}"}
                )
                for i in range(3)
            ]
    finally:
        server.stop()
    assert await audit_clients(staff["id"]) == ["127.0.0.1"]
    assert [a.status_code for a in answers] == [201, 201, 429]


async def test_only_a_trusted_proxy_says_who_the_client_is(app, client, make_account, settings_for_test):
    settings_for_test(trusted_proxies=("127.0.0.1",), auth_rate_limit_per_minute=2)
    staff = await make_account("staff", venues=(VENUE,))
    login = {"email": staff["email"], "password": staff["password"]}
    # from the proxy (127.0.0.1): the address it forwards for is the client's, for the audit and the limits
    res = await client.post("/api/v1/auth/login", json=login, headers={"X-Forwarded-For": "203.0.113.77"})
    assert res.status_code == 200
    codes = [
        (
            await client.post(
                "/api/v1/auth/register", json=register_body(), headers={"X-Forwarded-For": f"198.51.100.{i}"}
            )
        ).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 201]  # three visitors behind the proxy, each with its own budget
    # from anywhere else: the header is ignored. The per-address budget is counted in fixed one-minute
    # windows of the wall clock: start the three registrations early in one, so they share it
    if WINDOW_S - clock.wall() % WINDOW_S < 20:
        await anyio.sleep(WINDOW_S - clock.wall() % WINDOW_S + 0.1)
    async with client_at(app, "192.0.2.50") as direct:
        res = await direct.post("/api/v1/auth/login", json=login, headers={"X-Forwarded-For": "203.0.113.99"})
        assert res.status_code == 200
        codes = [
            (
                await direct.post(
                    "/api/v1/auth/register", json=register_body(), headers={"X-Forwarded-For": f"198.51.100.{i}"}
                )
            ).status_code
            for i in range(3)
        ]
    assert codes == [201, 201, 429]
    assert await audit_clients(staff["id"]) == ["203.0.113.77", "192.0.2.50"]


def test_production_shape_trusts_only_its_proxy_and_nginx_sets_the_header():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-app"]["environment"]
    assert "FORWARDED_ALLOW_IPS" not in env
    proxy_ip = compose["services"]["proxy"]["networks"]["internal"]["ipv4_address"]
    assert env["CHANGXIANG_TRUSTED_PROXIES"] == proxy_ip
    nginx = compose["configs"]["nginx"]["content"]
    assert "proxy_add_x_forwarded_for" not in nginx
    assert re.search(r"proxy_set_header X-Forwarded-For \$\$remote_addr;", nginx)
    assert re.search(r"proxy_set_header X-Real-IP \$\$remote_addr;", nginx)


async def test_forty_visitors_on_one_wifi_register_and_sign_in_but_a_guesser_is_stopped(app, client, settings_for_test):
    """A venue's Wi-Fi (or a tour group behind one carrier NAT): 40 people register within a minute from
    one address, on the default limits; a brute force on one account from there is stopped by that
    account's lock-out, and the others (ten here) sign in all the same."""
    defaults = app.state.settings
    settings_for_test(
        auth_rate_limit_per_minute=defaults.auth_rate_limit_per_minute,
        login_lockout_failures=defaults.login_lockout_failures,
    )
    wifi = "100.64.12.34"
    bodies = [register_body() for _ in range(40)]
    registered = []

    async def register(body: dict) -> None:
        registered.append((await post_from(app, wifi, "/api/v1/auth/register", body)).status_code)

    async with anyio.create_task_group() as tg:
        for body in bodies:
            tg.start_soon(register, body)
    assert registered == [201] * 40
    victim = bodies[0]
    guesses = [
        (await post_from(app, wifi, "/api/v1/auth/login", {"email": victim["email"], "password": f"guess-{i}-xxxx"}))
        for i in range(12)
    ]
    assert [g.status_code for g in guesses] == [401] * 10 + [429] * 2
    assert guesses[-1].json()["code"] == "account_locked"
    signed_in = []

    async def login(body: dict) -> None:
        res = await post_from(app, wifi, "/api/v1/auth/login", {"email": body["email"], "password": body["password"]})
        signed_in.append(res.status_code)

    async with anyio.create_task_group() as tg:
        for body in bodies[1:11]:
            tg.start_soon(login, body)
    assert signed_in == [200] * 10
