"""Phone sign-in (issue 21): POST /auth/sms-code texts a code through the SMS adapter (here the provider's local
stand-in), POST /auth/login {phone, sms_code} signs in (an unknown number gets a new account); codes are kept
only as keyed MACs, live 5 minutes, are used once; five wrong codes lock the phone; sending is limited per
phone and per address; numbers are encrypted at rest and masked; PUT /me/phone adds one to an account."""

from __future__ import annotations

import asyncio
import logging
import random

import anyio
import msgspec
import pytest

from backend.accounts.phone import account_for_phone, phone_fingerprint
from backend.accounts.tables import User

pytestmark = pytest.mark.anyio

HIGH = 10_000


def new_phone() -> tuple[str, str]:
    """(as typed, as E.164) of a fresh mainland mobile number."""
    digits = "139" + f"{random.randrange(10**8):08d}"
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}", "+86" + digits


@pytest.fixture
def settings_for(app):
    original = app.state.settings

    def replace(**values) -> None:
        app.state.settings = msgspec.structs.replace(original, **values)

    yield replace
    app.state.settings = original


async def ask_code(client, phone: str):
    return await client.post("/api/v1/auth/sms-code", json={"phone": phone})


async def sign_in(client, phone: str, code: str):
    return await client.post("/api/v1/auth/login", json={"phone": phone, "sms_code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_a_phone_signs_in_with_the_code_texted_by_the_provider(client, app, sms):
    typed, e164 = new_phone()
    res = await ask_code(client, typed)
    assert res.status_code == 202, res.text
    assert res.json() == {"sent": True, "expires_in": 300, "resend_after": 60}
    [message] = sms.sent_to(e164)
    assert message["template"] == "login_code" and message["params"]["minutes"] == 5
    code = message["params"]["code"]
    assert len(code) == 6 and code.isdigit()

    res = await sign_in(client, "+86" + typed.replace(" ", ""), code)  # however the number is written
    assert res.status_code == 200, res.text
    token = res.json()["access_token"]
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["email"] is None and me["roles"] == ["tourist"]
    assert me["phone_masked"] == e164[3:6] + "****" + e164[-4:]
    assert e164[3:] not in str(me)

    assert (await sign_in(client, typed, code)).json()["code"] == "invalid_sms_code"  # used once

    client.cookies.clear()
    await forget_gap(app, e164)
    assert (await ask_code(client, typed)).status_code == 202
    again = await sign_in(client, typed, sms.last_code(e164))
    me2 = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"})).json()
    assert me2["id"] == me["id"]  # the same number, the same account


async def forget_gap(app, e164: str) -> None:
    """Let the next code come at once (as if the resend gap had passed)."""
    await app.stores.get("auth").delete(f"sms-gap:{phone_fingerprint(e164)}")


async def test_the_code_and_the_number_are_never_kept_in_clear(client, app, sms, caplog):
    caplog.set_level(logging.INFO)
    typed, e164 = new_phone()
    assert (await ask_code(client, typed)).status_code == 202
    code = sms.last_code(e164)
    kept = await app.stores.get("auth").get(f"sms-code:{phone_fingerprint(e164)}")
    assert kept is not None and code.encode() not in kept and e164[3:].encode() not in kept
    assert (await sign_in(client, typed, code)).status_code == 200
    row = (
        await User.select(User.email, User.phone_fp, User.phone_enc, User.phone_masked)
        .where(User.phone_fp == phone_fingerprint(e164))
        .first()
    )
    assert row["phone_masked"] == e164[3:6] + "****" + e164[-4:]
    assert e164[3:] not in row["phone_enc"] and e164[3:] not in row["phone_fp"] and row["email"] is None
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert e164[3:] not in logged and code not in logged


async def test_five_wrong_codes_lock_the_phone_even_for_the_right_code(client, sms, settings_for):
    settings_for(sms_lockout_s=2, auth_rate_limit_per_minute=HIGH)
    typed, e164 = new_phone()
    assert (await ask_code(client, typed)).status_code == 202
    code = sms.last_code(e164)
    for _ in range(5):
        res = await sign_in(client, typed, wrong(code))
        assert res.status_code == 401 and res.json()["code"] == "invalid_sms_code"
    locked = await sign_in(client, typed, code)
    assert locked.status_code == 429 and locked.json()["code"] == "phone_locked"
    assert int(locked.headers["retry-after"]) >= 1
    refused = await ask_code(client, typed)  # no new codes while locked either
    assert refused.status_code == 429 and refused.json()["code"] == "phone_locked"
    other_typed, other = new_phone()  # another phone is not affected
    assert (await ask_code(client, other_typed)).status_code == 202
    assert (await sign_in(client, other_typed, sms.last_code(other))).status_code == 200

    await anyio.sleep(2.2)  # the lock lasts sms_lockout_s after the last attempt
    assert (await sign_in(client, typed, code)).status_code == 200


async def test_guesses_sent_at_once_get_no_more_checks_than_the_lockout_allows(client, sms, settings_for):
    settings_for(auth_rate_limit_per_minute=HIGH)
    typed, e164 = new_phone()
    assert (await ask_code(client, typed)).status_code == 202
    code = sms.last_code(e164)
    answers: list[int] = []

    async def guess(n: int) -> None:
        res = await sign_in(client, typed, f"{(int(code) + 1 + n) % 1_000_000:06d}")
        answers.append(res.status_code)

    async with anyio.create_task_group() as tg:
        for n in range(40):
            tg.start_soon(guess, n)
    assert answers.count(401) == 5 and answers.count(429) == 35


async def test_a_right_code_raced_by_many_sign_ins_signs_in_once(client, sms, settings_for):
    settings_for(auth_rate_limit_per_minute=HIGH, sms_code_failures=50)
    typed, e164 = new_phone()
    assert (await ask_code(client, typed)).status_code == 202
    code = sms.last_code(e164)
    answers = []

    async def go() -> None:
        answers.append(await sign_in(client, typed, code))

    async with anyio.create_task_group() as tg:
        for _ in range(12):
            tg.start_soon(go)
    assert sorted(a.status_code for a in answers) == [200] + [401] * 11
    assert await User.count().where(User.phone_fp == phone_fingerprint(e164)) == 1


async def test_first_sign_ins_at_once_make_one_account():
    _, e164 = new_phone()
    results = await asyncio.gather(*(account_for_phone(e164) for _ in range(8)))
    assert len({row["id"] for row, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1


async def test_codes_are_limited_per_phone_and_per_address(client, app, sms, settings_for):
    typed, e164 = new_phone()
    assert (await ask_code(client, typed)).status_code == 202
    soon = await ask_code(client, typed)
    assert soon.status_code == 429 and soon.json()["code"] == "sms_too_soon"
    assert int(soon.headers["retry-after"]) == 60
    assert len(sms.sent_to(e164)) == 1

    settings_for(sms_resend_s=0, sms_per_phone_per_day=3, sms_limit_per_address=HIGH)
    typed, e164 = new_phone()
    assert [(await ask_code(client, typed)).status_code for _ in range(3)] == [202, 202, 202]
    daily = await ask_code(client, typed)
    assert daily.status_code == 429 and daily.json()["code"] == "sms_daily_limit"
    assert len(sms.sent_to(e164)) == 3
    # only the newest code works
    codes = [m["params"]["code"] for m in sms.sent_to(e164)]
    if codes[0] != codes[-1]:
        assert (await sign_in(client, typed, codes[0])).status_code == 401
    assert (await sign_in(client, typed, codes[-1])).status_code == 200

    settings_for(sms_limit_per_address=3)
    await app.stores.get("rate_limit").delete_all()  # a new minute for this address
    answers = [(await ask_code(client, new_phone()[0])).status_code for _ in range(4)]
    assert answers[:3] == [202, 202, 202] and answers[3] == 429


async def test_a_provider_in_trouble_is_503_and_leaves_no_code(client, sms):
    typed, e164 = new_phone()
    sms.failing = 503
    res = await ask_code(client, typed)
    assert res.status_code == 503 and res.json()["code"] == "sms_unavailable"
    assert (await sign_in(client, typed, "123456")).json()["code"] == "invalid_sms_code"


async def test_without_a_provider_codes_go_to_the_console_in_development_only(client, settings_for, caplog):
    typed, e164 = new_phone()
    settings_for(sms_api_url=None, dev=False)
    res = await ask_code(client, typed)
    assert res.status_code == 503 and res.json()["code"] == "sms_unavailable"

    settings_for(sms_api_url=None, dev=True)
    caplog.set_level(logging.WARNING, logger="changxiang.sms")
    assert (await ask_code(client, typed)).status_code == 202
    [line] = [r.getMessage() for r in caplog.records if r.name == "changxiang.sms"]
    assert "DEVELOPMENT" in line and e164[3:] not in line
    code = line.split(" is ")[1][:6]
    assert (await sign_in(client, typed, code)).status_code == 200


async def test_an_email_account_adds_its_phone(client, app, make_account, sms):
    user, other = await make_account("tourist"), await make_account("tourist")
    typed, e164 = new_phone()
    assert (await ask_code(client, typed)).status_code == 202
    res = await client.put(
        "/api/v1/me/phone", json={"phone": typed, "sms_code": sms.last_code(e164)}, headers=user["headers"]
    )
    assert res.status_code == 200, res.text
    assert res.json()["phone_masked"].endswith(e164[-4:]) and res.json()["email"] == user["email"]
    me = (await client.get("/api/v1/me", headers=user["headers"])).json()
    assert me["phone_masked"] == res.json()["phone_masked"]

    await forget_gap(app, e164)
    assert (await ask_code(client, typed)).status_code == 202
    taken = await client.put(
        "/api/v1/me/phone", json={"phone": typed, "sms_code": sms.last_code(e164)}, headers=other["headers"]
    )
    assert taken.status_code == 409 and taken.json()["code"] == "phone_taken"

    await forget_gap(app, e164)
    assert (await ask_code(client, typed)).status_code == 202
    signed_in = await sign_in(client, typed, sms.last_code(e164))
    token = signed_in.json()["access_token"]
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()["id"] == user["id"]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "+1 415 555 0100"}, "invalid_phone"),
    ],
)
async def test_what_is_not_a_mainland_mobile_is_refused(client, body, code):
    res = await client.post("/api/v1/auth/sms-code", json=body)
    assert res.status_code == 400 and res.json()["code"] == code


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "13900000000", "password": "x"},
        {"email": "a@b.c", "sms_code": "123456"},
        {"email": "a@b.c", "password": "x", "phone": "13900000000", "sms_code": "123456"},
        {},
    ],
)
async def test_a_login_is_either_email_and_password_or_phone_and_code(client, body):
    res = await client.post("/api/v1/auth/login", json=body)
    assert res.status_code == 400 and res.json()["code"] == "invalid_login_request"
