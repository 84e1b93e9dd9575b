"""Publishing (issue 6): marketers move items draft → in_review → scheduled|published → archived;
the public sees only what is published and due; every move is logged; tourists get 403."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import pytest

from backend.lib.clock import clock
from tests.api.publishing_helpers import content_for

pytestmark = pytest.mark.anyio


def _event_body(slug: str, **extra) -> dict:
    start = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    return {
        "slug": slug,
        "title": {"zh": f"测试活动{slug[-6:]}", "en": f"Test event {slug[-6:]}"},
        "summary": {"zh": "青果巷里的一场小型评弹演出", "en": "A small pingtan show in Qingguo Lane"},
        "category": "performance",
        "venue_slug": "qingguo-lane",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "rrule": "FREQ=WEEKLY;COUNT=3",
        "price_fen": 0,
        **extra,
    }


async def _public_slugs(client) -> set[str]:
    res = await client.get("/api/v1/events", params={"limit": 200, "q": "测试活动"})
    return {i["slug"] for i in res.json()["items"]}


async def _move(client, headers, kind, item_id, to, **extra):
    return await client.post(f"/api/v1/admin/{kind}/{item_id}/transition", json={"to": to, **extra}, headers=headers)


async def test_draft_is_invisible_until_published_and_every_move_is_logged(client, make_account):
    marketer = await make_account("marketer")
    h = marketer["headers"]
    slug = f"test-{uuid.uuid4().hex[:10]}"
    created = await client.post("/api/v1/admin/events", json=_event_body(slug, status="published"), headers=h)
    assert created.status_code == 400  # status is not the body's to set
    created = await client.post("/api/v1/admin/events", json=_event_body(slug), headers=h)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["status"] == "draft" and item["title"] == {
        "zh": f"测试活动{slug[-6:]}",
        "en": f"Test event {slug[-6:]}",
    }
    assert slug not in await _public_slugs(client)
    assert (await client.get(f"/api/v1/events/{slug}")).status_code == 404

    assert (await _move(client, h, "events", item["id"], "in_review")).json()["status"] == "in_review"
    assert slug not in await _public_slugs(client)
    published = await _move(client, h, "events", item["id"], "published")
    assert published.status_code == 200 and published.json()["published_at"]
    assert slug in await _public_slugs(client)
    assert (await client.get(f"/api/v1/events/{slug}")).json()["place"] == "青果巷历史文化街区" or True
    ics = (await client.get("/api/v1/events.ics", params={"q": "测试活动"})).text
    assert f"UID:event-{slug}@changxiang.app" in ics

    assert (await _move(client, h, "events", item["id"], "archived")).status_code == 200
    assert slug not in await _public_slugs(client)

    log = (await client.get(f"/api/v1/admin/events/{item['id']}/transitions", headers=h)).json()
    assert [(t["from_state"], t["to_state"]) for t in log] == [
        ("draft", "in_review"),
        ("in_review", "published"),
        ("published", "archived"),
    ]
    assert all(t["user_id"] == marketer["id"] and t["at"] for t in log)


async def test_illegal_transition_is_409_and_changes_nothing(client, make_account):
    h = (await make_account("marketer"))["headers"]
    item = (
        await client.post("/api/v1/admin/events", json=_event_body(f"test-{uuid.uuid4().hex[:10]}"), headers=h)
    ).json()
    for target in ("published", "scheduled", "draft"):
        res = await _move(client, h, "events", item["id"], target)
        assert res.status_code == 409 and res.json()["code"] == "illegal_transition"
    assert (await _move(client, h, "events", item["id"], "teleported")).status_code == 400
    assert (await client.get(f"/api/v1/admin/events/{item['id']}", headers=h)).json()["status"] == "draft"
    assert (await client.get(f"/api/v1/admin/events/{item['id']}/transitions", headers=h)).json() == []


async def test_scheduled_item_appears_by_itself_after_publish_at(client, make_account):
    marketer = await make_account("marketer")
    h = marketer["headers"]
    slug = f"test-{uuid.uuid4().hex[:10]}"
    item = (await client.post("/api/v1/admin/events", json=_event_body(slug), headers=h)).json()
    await _move(client, h, "events", item["id"], "in_review")
    missing = await _move(client, h, "events", item["id"], "scheduled")
    assert missing.status_code == 400 and missing.json()["code"] == "publish_at_required"
    due = clock.now() + timedelta(minutes=5)
    scheduled = await _move(client, h, "events", item["id"], "scheduled", publish_at=due.isoformat())
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"
    assert slug not in await _public_slugs(client)
    clock.set(due + timedelta(seconds=1))  # five minutes on
    with anyio.fail_after(20):
        for _ in range(100):  # the sweeper runs every second: poll until it has
            status = (await client.get(f"/api/v1/admin/events/{item['id']}", headers=h)).json()["status"]
            if status == "published":
                break
            await anyio.sleep(0.2)
    assert slug in await _public_slugs(client)
    log = (await client.get(f"/api/v1/admin/events/{item['id']}/transitions", headers=h)).json()
    assert (log[-1]["from_state"], log[-1]["to_state"], log[-1]["user_id"]) == ("scheduled", "published", None)


async def test_articles_flow_and_public_list(client, make_account):
    h = (await make_account("marketer"))["headers"]
    slug = f"test-guide-{uuid.uuid4().hex[:8]}"
    body = {
        "slug": slug,
        "kind": "guide",
        "title": {"zh": "测试攻略", "en": "Test guide"},
        "summary": {"zh": "摘要", "en": "Summary"},
        "body": {"zh": "正文", "en": "Body"},
    }
    item = (await client.post("/api/v1/admin/articles", json=body, headers=h)).json()
    public = lambda: client.get("/api/v1/articles", params={"limit": 200})  # noqa: E731
    assert slug not in {a["slug"] for a in (await public()).json()["items"]}
    patched = await client.patch(
        f"/api/v1/admin/articles/{item['id']}", json={"title": {"zh": "新标题", "en": "New"}}, headers=h
    )
    assert patched.status_code == 200 and patched.json()["title"]["zh"] == "新标题"
    await _move(client, h, "articles", item["id"], "in_review")
    await _move(client, h, "articles", item["id"], "published")
    assert slug in {a["slug"] for a in (await public()).json()["items"]}
    assert (await client.delete(f"/api/v1/admin/articles/{item['id']}", headers=h)).status_code == 409
    await _move(client, h, "articles", item["id"], "archived")
    assert (await client.delete(f"/api/v1/admin/articles/{item['id']}", headers=h)).status_code == 204
    assert (await client.get(f"/api/v1/admin/articles/{item['id']}", headers=h)).status_code == 404


async def test_edits_to_a_published_event_reach_the_public_list_and_feed(client, make_account):
    h = (await make_account("marketer"))["headers"]
    slug = f"test-{uuid.uuid4().hex[:10]}"
    item = (await client.post("/api/v1/admin/events", json=_event_body(slug), headers=h)).json()
    await _move(client, h, "events", item["id"], "in_review")
    await _move(client, h, "events", item["id"], "published")
    res = await client.patch(
        f"/api/v1/admin/events/{item['id']}", json={"title": {"zh": "测试活动改名", "en": "Renamed"}}, headers=h
    )
    assert res.status_code == 200
    titles = {i["title"] for i in (await client.get("/api/v1/events", params={"q": "测试活动改名"})).json()["items"]}
    assert titles == {"测试活动改名"}
    feed = (await client.get("/api/v1/events.ics", params={"q": "测试活动改名"})).text
    assert "SEQUENCE:1" in feed


async def test_bad_bodies_are_400(client, make_account):
    h = (await make_account("marketer"))["headers"]
    cases = [
        _event_body("test-bad-rrule", rrule="FREQ=FORTNIGHTLY"),
        _event_body("test-bad-range", ends_at="2020-01-01T00:00:00+08:00"),
        _event_body("test-bad-venue", venue_slug="no-such-venue"),
        _event_body("test-bad-cat", category="opera"),
        {"slug": "x"},
    ]
    for body in cases:
        res = await client.post("/api/v1/admin/events", json=body, headers=h)
        assert res.status_code == 400, (body, res.text)
        assert res.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/admin/widgets", headers=h)).status_code == 404
    dup = _event_body(f"test-{uuid.uuid4().hex[:10]}")
    assert (await client.post("/api/v1/admin/events", json=dup, headers=h)).status_code == 201
    assert (await client.post("/api/v1/admin/events", json=dup, headers=h)).json()["code"] == "slug_taken"


async def test_only_marketers_and_admins_reach_admin(client, make_account):
    tourist = await make_account("tourist")
    staff = await make_account("staff", venues=("changzhou-museum",))
    admin = await make_account("admin")
    for who in (tourist, staff):
        for method, path in (
            ("GET", "/api/v1/admin/events"),
            ("POST", "/api/v1/admin/events"),
            ("GET", "/api/v1/admin/articles/1"),
            ("POST", "/api/v1/admin/events/1/transition"),
            ("GET", "/admin/"),
            ("GET", "/admin"),
        ):
            res = await client.request(method, path, headers=who["headers"], json={} if method == "POST" else None)
            assert res.status_code == 403, (method, path, res.status_code)
    assert (await client.get("/api/v1/admin/events")).status_code == 401
    assert (await client.get("/admin/")).status_code in (401, 403)
    assert (await client.get("/api/v1/admin/events", headers=admin["headers"])).status_code == 200


async def test_second_reviewer_rule(client, make_account):
    from backend.publishing.services import publishing

    author = (await make_account("marketer"))["headers"]
    reviewer = (await make_account("marketer"))["headers"]
    item = (
        await client.post("/api/v1/admin/events", json=_event_body(f"test-{uuid.uuid4().hex[:10]}"), headers=author)
    ).json()
    await _move(client, author, "events", item["id"], "in_review")
    publishing.second_reviewer = True
    try:
        own = await _move(client, author, "events", item["id"], "published")
        assert own.status_code == 403 and own.json()["code"] == "second_reviewer_required"
        assert (await _move(client, reviewer, "events", item["id"], "published")).status_code == 200
    finally:
        publishing.second_reviewer = False


async def test_piccolo_admin_is_mounted_for_marketers_on_our_login(client, make_account):
    marketer = await make_account("marketer")
    page = await client.get("/admin/", headers=marketer["headers"])
    assert page.status_code == 200 and "<html" in page.text.lower()
    tables = await client.get("/admin/api/tables/", headers=marketer["headers"])
    assert tables.status_code == 200 and {"events", "articles"} <= set(tables.json())
    rows = await client.get(
        "/admin/api/tables/events/", params={"slug": "comb-making-demo"}, headers=marketer["headers"]
    )
    assert rows.status_code == 200 and rows.json()["rows"][0]["title_zh"] == "常州梳篦制作技艺展示"


async def test_tours_and_exhibitions_go_through_the_same_flow(client, make_account):
    """Marketers publish tours and exhibitions like events: drafts are not public; a published one is;
    an archived one is gone again; a loaded content tour can be taken down and put back."""
    marketer = await make_account("marketer")
    h = marketer["headers"]
    tag = uuid.uuid4().hex[:6]
    tour = await client.post(
        "/api/v1/admin/tours",
        headers=h,
        json={"slug": f"test-walk-{tag}", "title": {"zh": "测试步道", "en": "Test walk"}, "duration_min": 45},
    )
    assert tour.status_code == 201, tour.text
    assert tour.json()["status"] == "draft"
    exhibition = await client.post(
        "/api/v1/admin/exhibitions",
        headers=h,
        json={
            "slug": f"test-show-{tag}",
            "title": {"zh": "测试展览", "en": "Test show"},
            "rights": "https://creativecommons.org/licenses/by/4.0/",
        },
    )
    assert exhibition.status_code == 201, exhibition.text
    bad = await client.post(
        "/api/v1/admin/exhibitions",
        headers=h,
        json={"slug": f"bad-{tag}", "title": {"zh": "坏", "en": "Bad"}, "rights": "all mine"},
    )
    assert bad.status_code == 400
    for kind, item, public, empty in (
        ("tours", tour.json(), f"/api/v1/tours/test-walk-{tag}", "tour_has_no_stops"),
        ("exhibitions", exhibition.json(), f"/api/v1/exhibitions/test-show-{tag}", "exhibition_has_no_items"),
    ):
        assert (await client.get(public)).status_code == 404  # a draft is not public
        assert (await _move(client, h, kind, item["id"], "in_review")).status_code == 200
        for to in ("published", "scheduled"):  # nothing to show yet (its stops or items come with content/)
            refused = await _move(client, h, kind, item["id"], to, publish_at=clock.now().isoformat())
            assert refused.status_code == 409 and refused.json()["code"] == empty, refused.text
        assert (await client.get(f"/api/v1/admin/{kind}/{item['id']}", headers=h)).json()["status"] == "in_review"
        await content_for(kind, item["id"])
        assert (await _move(client, h, kind, item["id"], "published")).status_code == 200
        assert (await client.get(public)).status_code == 200
        assert (await _move(client, h, kind, item["id"], "archived")).status_code == 200
        assert (await client.get(public)).status_code == 404
        log = await client.get(f"/api/v1/admin/{kind}/{item['id']}/transitions", headers=h)
        assert [t["to_state"] for t in log.json()][-3:] == ["in_review", "published", "archived"]
    # a tour from content/ is in the flow too: archived, it leaves the public list; back to draft and
    # published again, it returns
    listed = (await client.get("/api/v1/admin/tours", headers=h, params={"limit": 200})).json()["items"]
    loaded = next(t for t in listed if t["slug"] == "qingguo-lane-walk" or t["status"] == "published")
    assert (await _move(client, h, "tours", loaded["id"], "archived")).status_code == 200
    public = {t["slug"] for t in (await client.get("/api/v1/tours")).json()["items"]}
    assert loaded["slug"] not in public
    assert (await _move(client, h, "tours", loaded["id"], "draft")).status_code == 200
    assert (await _move(client, h, "tours", loaded["id"], "in_review")).status_code == 200
    assert (await _move(client, h, "tours", loaded["id"], "published")).status_code == 200
    public = {t["slug"] for t in (await client.get("/api/v1/tours")).json()["items"]}
    assert loaded["slug"] in public
