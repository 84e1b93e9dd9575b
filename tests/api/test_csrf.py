"""Issue 15, finding 12: a write that rides on the session cookie must come from the app's own pages
(Origin, else Referer) and send JSON; bearer-token calls are not concerned (backend/lib/csrf.py)."""

from __future__ import annotations

import json

import pytest

from tests.api import security_helpers
from tests.api.reservation_helpers import fresh_slot, visitor

pytestmark = pytest.mark.anyio

settings_for_test = security_helpers.settings_for_test  # the fixture, for this module

VENUE = "changzhou-museum"
OWN = "http://testserver.local"  # the test client's base URL: the app's own origin by its Host
FOREIGN = "https://evil.example"


@pytest.fixture
async def signed_in(client, make_account):
    """A tourist signed in the PWA's way: the HttpOnly cookie in the client's jar, no Authorization."""
    tourist = await make_account("tourist")
    res = await client.post("/api/v1/auth/login", json={"email": tourist["email"], "password": tourist["password"]})
    assert res.status_code == 200 and "cx_token" in client.cookies
    yield tourist
    client.cookies.clear()


async def book(client, slot: dict, headers: dict, content_type: str = "application/json"):
    body = json.dumps({"slot_id": slot["id"], "visitors": [visitor()]})
    return await client.post("/api/v1/reservations", content=body, headers={"Content-Type": content_type, **headers})


def assert_csrf_rejected(res) -> None:
    assert res.status_code == 403, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == "csrf_rejected"


async def test_a_foreign_page_can_not_book_with_the_visitors_cookie(client, signed_in):
    """The review's request: the cookie, `Content-Type: text/plain` (a plain form can send it) and a foreign
    Origin. It used to make a booking."""
    slot = await fresh_slot(client, VENUE)
    assert_csrf_rejected(await book(client, slot, {"Origin": FOREIGN}, "text/plain"))
    assert_csrf_rejected(await book(client, slot, {"Origin": FOREIGN}))  # JSON from a foreign page: still no
    assert_csrf_rejected(await book(client, slot, {"Origin": "null"}))  # a sandboxed frame, a file: page
    assert_csrf_rejected(await book(client, slot, {"Referer": FOREIGN + "/page"}))  # no Origin: the Referer
    assert_csrf_rejected(await book(client, slot, {}))  # neither: a browser always says where a write is from
    assert_csrf_rejected(await book(client, slot, {"Origin": "http://testserver.local.evil.example"}))
    assert_csrf_rejected(await client.post("/api/v1/auth/logout", headers={"Origin": FOREIGN}))
    mine = await client.get("/api/v1/reservations")
    assert mine.status_code == 200 and mine.json()["total"] == 0


async def test_the_apps_own_pages_write_with_the_cookie_but_only_json(client, signed_in):
    slot = await fresh_slot(client, VENUE)
    assert_csrf_rejected(await book(client, slot, {"Origin": OWN}, "text/plain"))
    assert_csrf_rejected(await book(client, slot, {"Origin": OWN}, "application/x-www-form-urlencoded"))
    assert (await book(client, slot, {"Origin": OWN})).status_code == 201
    assert (
        await book(client, slot, {"Referer": OWN + "/venues/" + VENUE}, "application/json; charset=utf-8")
    ).status_code == 201
    assert (await client.post("/api/v1/auth/logout", headers={"Origin": OWN})).status_code == 204


async def test_the_public_url_is_the_apps_origin_when_set(client, signed_in, settings_for_test):
    settings_for_test(public_url="https://changxiang.example")
    slot = await fresh_slot(client, VENUE)
    assert_csrf_rejected(await book(client, slot, {"Origin": OWN}))  # the Host no longer decides
    assert_csrf_rejected(await book(client, slot, {"Origin": "http://changxiang.example"}))  # nor another scheme
    assert (await book(client, slot, {"Origin": "https://changxiang.example"})).status_code == 201


async def test_bearer_token_calls_are_not_concerned(client, make_account):
    """No ambient credential a foreign page could borrow: an app or partner with a token may send what it
    likes from where it likes (Litestar reads the body as JSON, as before)."""
    tourist = await make_account("tourist")
    slot = await fresh_slot(client, VENUE)
    headers = {**tourist["headers"], "Origin": FOREIGN}
    assert (await book(client, slot, headers, "text/plain")).status_code == 201
    # a partner's signed call carries no cookie: the Stripe webhook answers on its signature, not with 403
    res = await client.post("/api/v1/payments/stripe/webhook", content=b"{}", headers={"Origin": FOREIGN})
    assert res.status_code != 403


async def test_a_foreign_page_can_not_sign_a_visitor_in(client, make_account):
    """Login CSRF: a foreign page posting the attacker's credentials (a text/plain form reads as JSON) would
    sign the visitor in to the attacker's account. A browser says where it comes from; scripts and
    partners' servers send no Origin and are not concerned."""
    attacker = await make_account("tourist")
    body = json.dumps({"email": attacker["email"], "password": attacker["password"]})
    foreign = await client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "text/plain", "Origin": FOREIGN}
    )
    assert_csrf_rejected(foreign)
    assert "cx_token" not in client.cookies
    own = await client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json", "Origin": OWN}
    )
    assert own.status_code == 200
    # signed in already (the cookie in the jar), a script signs in again without Origin: the route is public
    again = await client.post("/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert again.status_code == 200
    client.cookies.clear()


async def test_the_apps_own_pages_upload_a_photo_with_the_cookie(client, signed_in):
    """A route that declares multipart takes it from the app's own pages (the PWA's photo uploads); it used to
    be refused, the declared encoding compared by the enum's name."""
    from tests.api.upload_helpers import photo_with_gps

    files = {"file": ("p.jpg", photo_with_gps(), "image/jpeg")}
    res = await client.post("/api/v1/uploads", files=files, headers={"Origin": OWN})
    assert res.status_code == 201, res.text
    assert_csrf_rejected(await client.post("/api/v1/uploads", files=files, headers={"Origin": FOREIGN}))
