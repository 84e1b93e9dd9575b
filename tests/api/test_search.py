"""Search across everything (issue 20): one index over venues, events, tours, exhibitions, articles,
readable buildings and amenities; Chinese segmented, pinyin and initials, English words, cheap typos,
distances with `near`; the same answers on SQLite and PostgreSQL (the suite runs on both)."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest

from backend.lib.clock import clock
from backend.lib.geo import Point, distance_m

pytestmark = pytest.mark.anyio

CENTRE = "31.7795,119.9555"  # 常州 city centre (南大街)


async def _search(client, q: str, **params) -> dict:
    res = await client.get("/api/v1/search", params={"q": q, "limit": 50, **params})
    assert res.status_code == 200, res.text
    return res.json()


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _keys(page: dict) -> list[tuple[str, str]]:
    return [(i["kind"], i["slug"]) for i in page["items"]]


async def test_pinyin_and_initials_find_hongmei_park(client):
    for q in ("hongmei", "hmgy", "红梅公园", "HongMei", "ｈｏｎｇｍｅｉ", "hong mei gong yuan", "hongmeigongyuan"):
        page = await _search(client, q)
        assert _keys(page)[0] == ("venue", "hongmei-park"), (q, _keys(page)[:3])
        assert page["items"][0]["title"] == "红梅公园"


async def test_qingguo_finds_qingguo_lane_across_kinds(client):
    page = await _search(client, "qingguo")
    kinds = {i["kind"] for i in page["items"] if "青果巷" in i["title"]}
    assert {"venue", "event", "tour", "amenity"} <= kinds, kinds
    assert _keys(page)[0] == ("venue", "qingguo-lane")
    assert all("青果" in i["title"] or "青果" in i["snippet"] for i in page["items"][:10])


async def test_exact_title_ranks_first(client):
    cases = {
        "常州博物馆": ("venue", "changzhou-museum"),
        "Changzhou Museum": ("venue", "changzhou-museum"),
        "changzhou museum": ("venue", "changzhou-museum"),
        "czbwg": ("venue", "changzhou-museum"),
        "天宁禅寺": ("venue", "tianning-chan-temple"),
        "中华恐龙园": ("venue", "china-dinosaur-park"),
        "周有光图书馆": ("venue", "zhou-youguang-library"),
    }
    for q, first in cases.items():
        assert _keys(await _search(client, q))[0] == first, q


async def test_english_words_match_english_fields(client):
    page = await _search(client, "plum blossom", lang="en")
    assert ("event", "hongmei-plum-festival") in _keys(page) or any("Plum" in i["title"] for i in page["items"])
    page = await _search(client, "dinosaur", lang="en")
    titles = [i["title"] for i in page["items"]]
    assert "China Dinosaur Park" in titles and not any(_has_chinese(i["title"]) for i in page["items"][:5])
    assert any(i["kind"] == "event" for i in page["items"]) and any(i["kind"] == "venue" for i in page["items"])


async def test_cheap_typos_are_forgiven(client):
    museums = _keys(await _search(client, "museum"))[:5]
    typo = _keys(await _search(client, "musuem"))
    assert set(museums) & set(typo[:10])
    assert _keys(await _search(client, "hongmie"))[0] == ("venue", "hongmei-park")  # transposed letters
    assert _keys(await _search(client, "dinosuar park"))[0][1] == "china-dinosaur-park"
    # a homophone typed by mistake (宏 for 红)
    assert ("venue", "hongmei-park") in _keys(await _search(client, "宏梅公园"))[:3]
    assert (await _search(client, "xq"))["total"] >= 0  # too short to forgive anything: no error either


async def test_chinese_is_segmented_and_amenity_words_match(client):
    page = await _search(client, "无障碍厕所", near=CENTRE)
    assert page["items"] and all(i["kind"] == "amenity" and i["category"] == "toilet" for i in page["items"][:10])
    wheelchair = await client.get(
        "/api/v1/amenities", params={"near": CENTRE, "kind": "toilet", "wheelchair": "true", "limit": 200}
    )
    accessible = {i["id"] for i in wheelchair.json()["items"]}
    assert {i["slug"] for i in page["items"][:10]} <= accessible
    # a single character still finds the pagodas (文笔塔, 天宁宝塔)
    assert {"wenbi-pagoda", "tianning-pagoda"} <= {s for _, s in _keys(await _search(client, "塔"))}


async def test_near_gives_geodesic_distances_and_breaks_ties(client):
    page = await _search(client, "toilet", near=CENTRE, lang="en")
    lat, lng = map(float, CENTRE.split(","))
    for item in page["items"]:
        loc = item["location"]
        assert item["distance_m"] == pytest.approx(distance_m(Point(lat, lng), Point(loc["lat"], loc["lng"])), abs=0.1)
    distances = [i["distance_m"] for i in page["items"]]
    assert sorted(distances[:5])[2] < sorted(distances[20:])[len(distances[20:]) // 2]  # equals: nearer first
    nearest = await client.get("/api/v1/amenities", params={"near": CENTRE, "kind": "toilet", "limit": 1})
    assert nearest.json()["items"][0]["id"] in [i["slug"] for i in page["items"][:5]]
    assert all("distance_m" not in i for i in (await _search(client, "toilet"))["items"])


async def test_languages_and_paging(client):
    zh = await _search(client, "qingguo", limit=5)
    en = await _search(client, "qingguo", limit=5, lang="en")
    assert _keys(zh) == _keys(en) and en["items"][0]["title"] == "Qingguo Lane Historic District"
    assert not _has_chinese(en["items"][0]["snippet"]) and _has_chinese(zh["items"][0]["snippet"])
    second = await _search(client, "qingguo", limit=5, offset=5)
    assert second["total"] == zh["total"] and not set(_keys(second)) & set(_keys(zh))
    only = await _search(client, "qingguo", kind="event")
    assert only["items"] and {i["kind"] for i in only["items"]} == {"event"}
    headers = {"Accept-Language": "en-GB,en;q=0.9"}
    res = await client.get("/api/v1/search", params={"q": "hmgy"}, headers=headers)
    assert res.json()["items"][0]["title"] == "Hongmei Park"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "query_empty"),
        ({"q": ""}, "query_empty"),
        ({"q": "   "}, "query_empty"),
        ({"q": "!?。，…"}, "query_empty"),
        ({"q": "红" * 201}, "query_too_long"),
        ({"q": "a " * 150}, "query_too_long"),
        ({"q": "hongmei", "near": "north"}, "invalid_coordinates"),
        ({"q": "hongmei", "near": "91,0"}, "invalid_coordinates"),
        ({"q": "hongmei", "lang": "fr"}, "invalid_lang"),
        ({"q": "hongmei", "kind": "shop"}, "validation_error"),
        ({"q": "hongmei", "limit": "0"}, "validation_error"),
    ],
)
async def test_bad_input_is_a_coded_400(client, params, code):
    res = await client.get("/api/v1/search", params=params)
    assert res.status_code == 400, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == code


async def test_odd_inputs_never_fail(client):
    odd = [
        "🙂🏯",
        "' OR 1=1 --",
        "%",
        "_",
        "[(*+?",
        "\\",
        "a" * 200,
        "ä̈̈̈",
        "مرحبا",
        "𠀀𠀁",
        "\u3000红梅\u3000",
        "Ⅻ",
        "0",
        "12345678901234567890",
        "x" * 63 + "y",
        "q" * 7,
        "<script>alert(1)</script>",
        "红梅" * 100,
    ]
    rng = random.Random(20)
    alphabet = "红梅公园青果巷abcxyzHMGY0129 -_.,:;!?'\"()[]{}<>&%#@\u3000\u200b\U0001f600ü"
    odd += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))) for _ in range(60)]
    for q in odd:
        res = await client.get("/api/v1/search", params={"q": q, "near": CENTRE})
        assert res.status_code in (200, 400), (q, res.status_code, res.text)
        if res.status_code == 400:
            assert res.json()["code"] in ("query_empty", "query_too_long", "invalid_text"), (q, res.text)
        else:
            body = res.json()
            assert body["total"] >= len(body["items"])


async def test_published_content_is_found_and_unpublished_content_is_not(client, make_account):
    h = (await make_account("marketer"))["headers"]
    word = "zq" + uuid.uuid4().hex[:10]  # a word nothing else in the city says
    slug = f"test-search-{word}"
    body = {
        "slug": slug,
        "kind": "guide",
        "title": {"zh": "运河夜色攻略", "en": f"Canal nights {word}"},
        "summary": {"zh": "沿运河看夜景", "en": "Night views along the canal"},
        "body": {"zh": "正文", "en": "Body"},
    }
    item = (await client.post("/api/v1/admin/articles", json=body, headers=h)).json()
    move = lambda to, **x: client.post(  # noqa: E731
        f"/api/v1/admin/articles/{item['id']}/transition", json={"to": to, **x}, headers=h
    )
    assert (await _search(client, word))["total"] == 0  # a draft is not public
    assert (await move("in_review")).status_code == 200
    assert (await move("published")).status_code == 200
    found = await _search(client, word)
    assert _keys(found) == [("article", slug)], found
    assert (await move("draft")).status_code == 200
    assert (await _search(client, word))["total"] == 0
    # scheduled: public from its publish_at, with no rebuild in between
    at = (clock.now() + timedelta(hours=2)).replace(microsecond=0)
    assert (await move("in_review")).status_code == 200
    assert (await move("scheduled", publish_at=at.isoformat())).status_code == 200
    assert (await _search(client, word))["total"] == 0
    clock.set(at + timedelta(seconds=1))
    assert _keys(await _search(client, word)) == [("article", slug)]
    clock.reset()
    assert (await move("archived")).status_code == 200
    assert (await _search(client, word))["total"] == 0
