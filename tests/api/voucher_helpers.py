"""Helpers of the vouchers tests: admin and merchant accounts, verified identities, campaigns made
through the publishing flow, and valid resident ID numbers."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta

from backend.lib.clock import CITY_TZ, clock
from backend.lib.id_documents import resident_id_check_char
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

_serial = itertools.count(int(uuid.uuid4().int % 900_000))


def resident_id(n: int | None = None) -> str:
    """A valid 18-digit resident ID number, different for every call (or for every `n`)."""
    n = next(_serial) if n is None else n
    first17 = f"320402{1950 + n % 50}{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


async def admin_headers(client) -> dict:
    res = await client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert res.status_code == 200, res.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


async def merchant_account(client, make_account, *merchant_ids: str) -> dict:
    """A merchant account made by the admin through POST /admin/users, signed in."""
    admin = await admin_headers(client)
    email = f"merchant-{uuid.uuid4().hex[:10]}@changxiang.test"
    res = await client.post(
        "/api/v1/admin/users",
        json={
            "email": email,
            "password": "merchant-pass-1",
            "display_name": "Test merchant",
            "roles": ["merchant"],
            "merchant_ids": list(merchant_ids),
        },
        headers=admin,
    )
    assert res.status_code == 201, res.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": "merchant-pass-1"})
    client.cookies.clear()
    return {"id": res.json()["id"], "headers": {"Authorization": f"Bearer {login.json()['access_token']}"}}


async def verified_tourist(client, make_account, name: str = "张三") -> dict:
    account = await make_account("tourist")
    number = resident_id()
    res = await client.put(
        "/api/v1/me/identity",
        json={"name": name, "id_type": "resident_id", "id_number": number},
        headers=account["headers"],
    )
    assert res.status_code == 200, res.text
    return {**account, "id_number": number}


def city(days: float = 0, hours: float = 0) -> datetime:
    """An instant `days` and `hours` from now, in the city's zone."""
    return (clock.now() + timedelta(days=days, hours=hours)).astimezone(CITY_TZ)


def voucher_body(**overrides) -> dict:
    """A first-come voucher released a minute ago, valid for a week, at two sample merchants."""
    body = {
        "title": {"zh": "青果巷茶饮券", "en": "Qingguo Lane tea voucher"},
        "kind": "voucher",
        "face_value_fen": 2000,
        "min_spend_fen": 5000,
        "merchant_ids": ["qingguo-lane-tea-house", "qingguo-lane-noodle-house"],
        "quota": 100,
        "per_person": 1,
        "release_at": city(hours=-0.02).isoformat(),
        "valid_from": city(hours=-0.02).isoformat(),
        "valid_until": city(days=7).isoformat(),
    }
    body.update(overrides)
    return body


async def published_campaign(client, marketer: dict, **overrides) -> int:
    """A campaign made and published through the publishing flow (draft → in_review → published)."""
    res = await client.post("/api/v1/admin/campaigns", json=voucher_body(**overrides), headers=marketer["headers"])
    assert res.status_code == 201, res.text
    campaign_id = res.json()["id"]
    for to in ("in_review", "published"):
        moved = await client.post(
            f"/api/v1/admin/campaigns/{campaign_id}/transition", json={"to": to}, headers=marketer["headers"]
        )
        assert moved.status_code == 200, moved.text
    return campaign_id


_TICKETS: dict[tuple[str, int], tuple[str, datetime]] = {}


async def claim_ticket(client, account: dict, cid: int) -> str | None:
    """The app's claim ticket for `account` and campaign `cid`, fetched anew once a minute by the clock (as
    the vouchers page keeps it fresh)."""
    key = (account["headers"]["Authorization"], cid)
    held = _TICKETS.get(key)
    if held is None or not timedelta(0) <= clock.now() - held[1] < timedelta(minutes=1):
        res = await client.post(f"/api/v1/campaigns/{cid}/claim-ticket", headers=account["headers"])
        if res.status_code != 200:
            return None
        _TICKETS[key] = held = (res.json()["ticket"], clock.now())
    return held[0]


async def claim(client, account: dict, cid: int, key: str | None = None):
    """POST /campaigns/{cid}/claim as the app sends it: with its claim ticket (and an Idempotency-Key)."""
    headers = dict(account["headers"])
    if key:
        headers["Idempotency-Key"] = key
    if (ticket := await claim_ticket(client, account, cid)) is not None:
        headers["X-Claim-Ticket"] = ticket
    return await client.post(f"/api/v1/campaigns/{cid}/claim", headers=headers)


_ONE_HASH: list[str] = []


async def verified_tourists(app, client, count: int) -> list[dict]:
    """`count` tourists with verified identities, fast: the accounts are written in one insert with one
    shared password hash (argon2 per account would take most of a burst test's time), signed in with the
    app's token issuer, then verify their identities through PUT /me/identity."""
    from backend.accounts.tables import User
    from backend.lib.auth import hash_password

    if not _ONE_HASH:
        _ONE_HASH.append(hash_password("tourist-pass-1"))
    tag = uuid.uuid4().hex[:8]
    rows = await User.insert(
        *[
            User(
                email=f"burst-{tag}-{i}@changxiang.test",
                password_hash=_ONE_HASH[0],
                display_name=f"Burst {i}",
                roles=["tourist"],
                venue_slugs=[],
                merchant_ids=[],
            )
            for i in range(count)
        ]
    ).returning(User.id)
    out = []
    for row in rows:
        token = app.state.jwt_auth.create_token(identifier=str(row["id"]), token_unique_jwt_id=uuid.uuid4().hex)
        headers = {"Authorization": f"Bearer {token}"}
        number = resident_id()
        res = await client.put(
            "/api/v1/me/identity",
            json={"name": "王五", "id_type": "resident_id", "id_number": number},
            headers=headers,
        )
        assert res.status_code == 200, res.text
        out.append({"id": row["id"], "headers": headers, "id_number": number})
    return out
