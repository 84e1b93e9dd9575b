"""Accounts and roles: register, login (bearer and cookie), /me, admin-only user creation, rate limits."""

import uuid

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.anyio


def _email() -> str:
    return f"visitor-{uuid.uuid4().hex[:10]}@example.org"


async def test_register_login_me_with_bearer_and_cookie(client):
    email = _email()
    res = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": "s3cret-pass", "display_name": "小明"}
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["email"] == email and body["roles"] == ["tourist"] and "password" not in res.text

    login = await client.post("/api/v1/auth/login", json={"email": email.upper(), "password": "s3cret-pass"})
    assert login.status_code == 200
    token = login.json()
    assert token["token_type"] == "bearer" and token["expires_in"] > 0
    cookie = login.headers["set-cookie"]
    assert "cx_token=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "id": body["id"],
        "email": email,
        "display_name": "小明",
        "roles": ["tourist"],
        "venue_slugs": [],
    }
    # the PWA's way: the HttpOnly cookie alone (the test client keeps it)
    assert (await client.get("/api/v1/me")).json()["email"] == email
    client.cookies.clear()


async def test_logout_revokes_the_token(client):
    email = _email()
    await client.post("/api/v1/auth/register", json={"email": email, "password": "s3cret-pass", "display_name": "A"})
    token = (await client.post("/api/v1/auth/login", json={"email": email, "password": "s3cret-pass"})).json()
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    res = await client.get("/api/v1/me", headers=headers)
    assert res.status_code == 401 and res.json()["code"] == "not_authenticated"


async def test_duplicate_email_is_409(client):
    email = _email()
    first = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": "s3cret-pass", "display_name": "A"}
    )
    assert first.status_code == 201
    again = await client.post(
        "/api/v1/auth/register", json={"email": email.upper(), "password": "other-pass-1", "display_name": "B"}
    )
    assert again.status_code == 409 and again.json()["code"] == "email_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "s3cret-pass", "display_name": "A"}, "email"),
        ({"email": "a@b.org", "password": "short", "display_name": "A"}, "password"),
        ({"email": "a@b.org", "password": "s3cret-pass", "display_name": ""}, "display_name"),
        ({"email": "a@b.org", "password": "s3cret-pass", "display_name": "A", "roles": ["admin"]}, "roles"),
    ],
)
async def test_bad_registration_names_the_field(client, body, field):
    res = await client.post("/api/v1/auth/register", json=body)
    assert res.status_code == 400
    problem = res.json()
    assert res.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "validation_error"
    assert field in problem["detail"] or any(
        field in (e.get("field") or "") or field in (e.get("message") or "") for e in problem["errors"]
    )


async def test_wrong_password_is_401_and_unknown_email_looks_the_same(client, make_account):
    user = await make_account("tourist")
    wrong = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "wrong-password"})
    unknown = await client.post("/api/v1/auth/login", json={"email": _email(), "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_ten_wrong_logins_in_a_minute_are_slowed_with_429(client, make_account):
    user = await make_account("tourist")
    statuses = []
    for _ in range(12):
        res = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "nope-nope-nope"})
        statuses.append(res.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    res = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": user["password"]})
    assert res.status_code == 429
    assert res.json()["code"] == "account_locked"  # the account's lock-out, before any per-address limit
    assert int(res.headers["retry-after"]) > 0


async def test_only_admin_creates_users(client, make_account):
    tourist = await make_account("tourist")
    marketer = await make_account("marketer")
    body = {
        "email": _email(),
        "password": "s3cret-pass",
        "display_name": "Gate",
        "roles": ["staff"],
        "venue_slugs": ["changzhou-museum"],
    }
    assert (await client.post("/api/v1/admin/users", json=body)).status_code == 401
    for who in (tourist, marketer):
        res = await client.post("/api/v1/admin/users", json=body, headers=who["headers"])
        assert res.status_code == 403 and res.json()["code"] == "forbidden_role"
    login = await client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert login.status_code == 200, "the start-up admin from CHANGXIANG_ADMIN_EMAIL/_PASSWORD can log in"
    client.cookies.clear()
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    res = await client.post("/api/v1/admin/users", json=body, headers=admin)
    assert res.status_code == 201 and res.json()["roles"] == ["staff"]
    staff_login = await client.post("/api/v1/auth/login", json={"email": body["email"], "password": "s3cret-pass"})
    client.cookies.clear()
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {staff_login.json()['access_token']}"})
    assert me.json()["venue_slugs"] == ["changzhou-museum"] and me.json()["roles"] == ["staff"]


async def test_admin_cannot_bind_staff_to_unknown_venue(client, make_account):
    admin = await make_account("admin")
    body = {
        "email": _email(),
        "password": "s3cret-pass",
        "display_name": "Gate",
        "roles": ["staff"],
        "venue_slugs": ["no-such-venue"],
    }
    res = await client.post("/api/v1/admin/users", json=body, headers=admin["headers"])
    assert res.status_code == 400 and res.json()["code"] == "unknown_venue"
    bad_role = dict(body, roles=["emperor"], venue_slugs=[])
    assert (await client.post("/api/v1/admin/users", json=bad_role, headers=admin["headers"])).status_code == 400


async def test_forged_or_garbage_token_is_401(client, make_account):
    user = await make_account("admin")
    header, payload, _sig = user["token"].split(".")
    forged = f"{header}.{payload}.AAAA"
    for token in (forged, "garbage", ""):
        res = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 401, token


async def test_the_start_up_admin_is_written_only_when_it_needs_to_be(client):
    """Every replica ensures the start-up admin when it starts. An account that already is an active
    admin with that password is left as it is (a rewrite would change its salted hash); a changed password,
    a lost role or a deactivated account is put right."""
    from backend.accounts.services import accounts
    from backend.accounts.tables import User
    from backend.lib.auth import verify_password

    email = f"admin-{uuid.uuid4().hex[:10]}@example.org"

    async def row() -> dict:
        return await User.select(User.password_hash, User.roles, User.is_active).where(User.email == email).first()

    await accounts.ensure_admin(email, "first-pass-123")
    created = await row()
    assert created["roles"] == ["admin"] and created["is_active"]
    await accounts.ensure_admin(email, "first-pass-123")
    assert (await row())["password_hash"] == created["password_hash"], "nothing to change: nothing written"
    await accounts.ensure_admin(email, "second-pass-456")
    changed = await row()
    assert changed["password_hash"] != created["password_hash"]
    assert verify_password(changed["password_hash"], "second-pass-456")
    await User.update({User.roles: ["staff"], User.is_active: False}).where(User.email == email)
    await accounts.ensure_admin(email, "second-pass-456")
    repaired = await row()
    assert repaired["roles"] == ["admin", "staff"] and repaired["is_active"]
