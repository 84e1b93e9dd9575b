"""PUT /me/identity (issue 17, item 2): the account's verified real name, checked like a booking's
visitor, encrypted at rest and masked; one identity per account, one account per identity."""

from __future__ import annotations

import anyio
import pytest

from backend.accounts.tables import Identity
from tests.api.voucher_helpers import resident_id

pytestmark = pytest.mark.anyio


async def test_identity_is_checked_encrypted_masked_and_set_once(client, make_account):
    account = await make_account("tourist")
    h = account["headers"]
    assert (await client.get("/api/v1/me/identity", headers=h)).json()["code"] == "identity_not_found"
    wrong = {"name": "张三", "id_type": "resident_id", "id_number": "110101199003071234"}  # bad check digit
    bad = await client.put("/api/v1/me/identity", json=wrong, headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_id_number"
    blank = await client.put(
        "/api/v1/me/identity", json={"name": "  ", "id_type": "resident_id", "id_number": resident_id()}, headers=h
    )
    assert blank.status_code == 400 and blank.json()["code"] == "invalid_name"

    number = resident_id()
    body = {"name": "欧阳娜娜", "id_type": "resident_id", "id_number": number}
    res = await client.put("/api/v1/me/identity", json=body, headers=h)
    assert res.status_code == 200, res.text
    out = res.json()
    assert out["name_masked"] == "欧**娜" and out["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert number not in res.text and "欧阳娜娜" not in res.text
    row = await Identity.select().where(Identity.user_id == account["id"]).first()
    assert number not in str(row) and "欧阳娜娜" not in str(row)  # encrypted at rest
    # the same identity again: answered as before; another one: refused
    again = await client.put("/api/v1/me/identity", json={**body, "id_number": number.lower()}, headers=h)
    assert again.status_code == 200 and again.json() == out
    other = await client.put("/api/v1/me/identity", json={**body, "id_number": resident_id()}, headers=h)
    assert other.status_code == 409 and other.json()["code"] == "identity_already_set"
    assert (await client.get("/api/v1/me/identity", headers=h)).json() == out


async def test_one_account_per_identity_even_when_two_race(client, make_account):
    number = resident_id()
    accounts = [await make_account("tourist") for _ in range(6)]
    answers: list[tuple[int, str | None]] = []

    async def claim(account: dict) -> None:
        res = await client.put(
            "/api/v1/me/identity",
            json={"name": "李四", "id_type": "resident_id", "id_number": number},
            headers=account["headers"],
        )
        answers.append((res.status_code, res.json().get("code")))

    async with anyio.create_task_group() as tg:
        for account in accounts:
            tg.start_soon(claim, account)
    assert sorted(answers, key=str) == sorted([(200, None)] + [(409, "identity_taken")] * 5, key=str), answers


async def test_identity_needs_an_account(client):
    res = await client.put("/api/v1/me/identity", json={"name": "A", "id_type": "passport", "id_number": "E12345678"})
    assert res.status_code == 401
