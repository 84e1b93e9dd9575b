"""Editors' picks (issue 21, item 3): a `featured` kind in the publishing flow, curated by marketers, and the
public `GET /featured` that resolves every item to a card in the reader's language."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import arun_cli

pytestmark = pytest.mark.anyio

ITEMS = [
    {"kind": "venue", "slug": "changzhou-museum", "note": {"zh": "室内暖和", "en": "Warm inside"}},
    {"kind": "event", "slug": "pingtan-qingguo-story-house"},
    {"kind": "tour", "slug": "dongpo-footsteps"},
    {"kind": "exhibition", "slug": "changzhou-museum-treasures"},
    {"kind": "article", "slug": "canal-day-walk"},
]


def _body(**extra) -> dict:
    tag = uuid.uuid4().hex[:6]
    return {"title": {"zh": f"测试推荐{tag}", "en": f"Test picks {tag}"}, "items": ITEMS, **extra}


async def _move(client, headers, item_id, *states):
    res = None
    for to in states:
        res = await client.post(f"/api/v1/admin/featured/{item_id}/transition", json={"to": to}, headers=headers)
        assert res.status_code == 200, res.text
    return res


async def _public(client, lang="zh") -> dict[str, dict]:
    res = await client.get("/api/v1/featured", params={"lang": lang, "limit": 20})
    assert res.status_code == 200, res.text
    return {f["slug"]: f for f in res.json()["items"]}


async def test_a_list_goes_through_the_flow_and_the_public_reads_cards(client, make_account):
    author = (await make_account("marketer"))["headers"]
    reviewer = (await make_account("marketer"))["headers"]
    created = await client.post("/api/v1/admin/featured", json=_body(), headers=author)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["status"] == "draft" and item["slug"].startswith("test-picks-")
    assert item["items"][0] == ITEMS[0] and item["items"][1] == ITEMS[1]  # the order kept, no empty note
    assert item["slug"] not in await _public(client)

    from backend.publishing.services import publishing

    await _move(client, author, item["id"], "in_review")
    publishing.second_reviewer = True
    try:
        own = await client.post(
            f"/api/v1/admin/featured/{item['id']}/transition", json={"to": "published"}, headers=author
        )
        assert own.status_code == 403 and own.json()["code"] == "second_reviewer_required"
        await _move(client, reviewer, item["id"], "published")
    finally:
        publishing.second_reviewer = False

    zh = (await _public(client, "zh"))[item["slug"]]
    en = (await _public(client, "en"))[item["slug"]]
    assert zh["title"] == item["title"]["zh"] and en["title"] == item["title"]["en"]
    assert [(c["kind"], c["slug"]) for c in zh["items"]] == [(i["kind"], i["slug"]) for i in ITEMS]
    venue = zh["items"][0]
    assert (
        venue["title"] == "常州博物馆" and venue["note"] == "室内暖和" and venue["live"]["status"] in ("open", "closed")
    )
    assert en["items"][0]["title"] == "Changzhou Museum" and en["items"][0]["note"] == "Warm inside"
    assert all(c["title"] for c in zh["items"]) and venue["image"].startswith("/media/")
    assert en["items"][1]["category"] and "note" not in en["items"][1]
    # the newest published list comes first (home shows the first)
    first = (await client.get("/api/v1/featured", params={"limit": 1})).json()["items"][0]
    assert first["slug"] == item["slug"]

    log = (await client.get(f"/api/v1/admin/featured/{item['id']}/transitions", headers=author)).json()
    assert [(m["from_state"], m["to_state"]) for m in log] == [("draft", "in_review"), ("in_review", "published")]

    edited = await client.patch(
        f"/api/v1/admin/featured/{item['id']}", json={"items": ITEMS[:2][::-1]}, headers=reviewer
    )
    assert edited.status_code == 200, edited.text
    assert [c["slug"] for c in (await _public(client))[item["slug"]]["items"]] == [ITEMS[1]["slug"], ITEMS[0]["slug"]]

    assert (await client.delete(f"/api/v1/admin/featured/{item['id']}", headers=author)).status_code == 409
    await _move(client, author, item["id"], "archived")
    assert item["slug"] not in await _public(client)
    assert (await client.delete(f"/api/v1/admin/featured/{item['id']}", headers=author)).status_code == 204


async def test_an_item_that_stops_being_published_is_left_out(client, make_account):
    h = (await make_account("marketer"))["headers"]
    slug = f"test-{uuid.uuid4().hex[:10]}"
    article = await client.post(
        "/api/v1/admin/articles",
        json={"slug": slug, "kind": "guide", "title": {"zh": "测试攻略", "en": "Test guide"}},
        headers=h,
    )
    assert article.status_code == 201, article.text
    art_id = article.json()["id"]
    for to in ("in_review", "published"):
        await client.post(f"/api/v1/admin/articles/{art_id}/transition", json={"to": to}, headers=h)
    items = [{"kind": "article", "slug": slug}, {"kind": "venue", "slug": "qingguo-lane"}]
    picks = (await client.post("/api/v1/admin/featured", json=_body(items=items), headers=h)).json()
    await _move(client, h, picks["id"], "in_review", "published")
    assert [c["slug"] for c in (await _public(client))[picks["slug"]]["items"]] == [slug, "qingguo-lane"]

    await client.post(f"/api/v1/admin/articles/{art_id}/transition", json={"to": "archived"}, headers=h)
    assert [c["slug"] for c in (await _public(client))[picks["slug"]]["items"]] == ["qingguo-lane"]
    # and a list can't be written with it any more
    res = await client.post("/api/v1/admin/featured", json=_body(items=items), headers=h)
    assert res.status_code == 400 and res.json()["code"] == "featured_item_unpublished"
    await _move(client, h, picks["id"], "archived")


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ([], "featured_items_count"),
        ([{"kind": "venue", "slug": "changzhou-museum"}] * 2, "featured_item_duplicate"),
        ([{"kind": "venue", "slug": f"v-{i:02d}"} for i in range(13)], "featured_items_count"),
        ([{"kind": "venue", "slug": "no-such-venue"}], "featured_item_unknown"),
        ([{"kind": "event", "slug": "no-such-event"}], "featured_item_unknown"),
        ([{"kind": "tour", "slug": "changzhou-museum"}], "featured_item_unknown"),
        ([{"kind": "shop", "slug": "changzhou-museum"}], "validation_error"),
        ([{"kind": "venue", "slug": "Bad Slug"}], "validation_error"),
    ],
)
async def test_items_are_checked_with_stable_codes(client, make_account, items, code):
    h = (await make_account("marketer"))["headers"]
    res = await client.post("/api/v1/admin/featured", json=_body(items=items), headers=h)
    assert res.status_code == 400, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == code


async def test_title_and_patch_are_checked(client, make_account):
    h = (await make_account("marketer"))["headers"]
    res = await client.post(
        "/api/v1/admin/featured", json={"title": {"zh": " ", "en": "x"}, "items": ITEMS[:1]}, headers=h
    )
    assert res.status_code == 400 and res.json()["code"] == "title_required"
    item = (await client.post("/api/v1/admin/featured", json=_body(), headers=h)).json()
    res = await client.patch(
        f"/api/v1/admin/featured/{item['id']}", json={"items": [{"kind": "venue", "slug": "nope-nope"}]}, headers=h
    )
    assert res.status_code == 400 and res.json()["code"] == "featured_item_unknown"
    res = await client.patch(f"/api/v1/admin/featured/{item['id']}", json={"status": "published"}, headers=h)
    assert res.status_code == 400
    taken = await client.post("/api/v1/admin/featured", json=_body(slug=item["slug"]), headers=h)
    assert taken.status_code == 409 and taken.json()["code"] == "slug_taken"


@pytest.mark.parametrize("role", [None, "tourist", "staff", "governance", "agency"])
async def test_only_marketers_and_admins_write(client, make_account, role):
    headers = (await make_account(role))["headers"] if role else {}
    assert (await client.get("/api/v1/admin/featured", headers=headers)).status_code in (401, 403)
    res = await client.post("/api/v1/admin/featured", json=_body(), headers=headers)
    assert res.status_code in (401, 403)
    assert (await client.get("/api/v1/featured")).status_code == 200  # the public list is for everyone


async def test_admin_writes_too_and_the_sample_is_loaded_once(client, make_account):
    admin = (await make_account("admin"))["headers"]
    res = await client.post("/api/v1/admin/featured", json=_body(), headers=admin)
    assert res.status_code == 201, res.text
    assert (await client.delete(f"/api/v1/admin/featured/{res.json()['id']}", headers=admin)).status_code == 204
    sample = (await _public(client))["sample-old-town-winter"]
    assert sample["title"] == "老城冬日：运河边的一天" and len(sample["items"]) == 7
    out = await arun_cli("load-content")
    assert re.search(r"^featured: created=0 updated=0 unchanged=1$", out, re.M), out


async def test_a_scheduled_list_appears_by_itself_at_publish_at(client, make_account):
    from datetime import timedelta

    import anyio

    from backend.lib.clock import clock

    h = (await make_account("marketer"))["headers"]
    picks = (await client.post("/api/v1/admin/featured", json=_body(), headers=h)).json()
    await _move(client, h, picks["id"], "in_review")
    due = clock.now() + timedelta(minutes=5)
    res = await client.post(
        f"/api/v1/admin/featured/{picks['id']}/transition",
        json={"to": "scheduled", "publish_at": due.isoformat()},
        headers=h,
    )
    assert res.status_code == 200 and res.json()["status"] == "scheduled"
    assert picks["slug"] not in await _public(client)
    clock.set(due + timedelta(seconds=1))
    assert picks["slug"] in await _public(client)  # due: public before the sweeper has moved it
    with anyio.fail_after(20):
        for _ in range(100):  # the sweeper runs every second: poll until it has
            status = (await client.get(f"/api/v1/admin/featured/{picks['id']}", headers=h)).json()["status"]
            if status == "published":
                break
            await anyio.sleep(0.2)
    log = (await client.get(f"/api/v1/admin/featured/{picks['id']}/transitions", headers=h)).json()
    assert (log[-1]["from_state"], log[-1]["to_state"], log[-1]["user_id"]) == ("scheduled", "published", None)
    await _move(client, h, picks["id"], "archived")
