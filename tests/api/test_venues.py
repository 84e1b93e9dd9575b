"""Venues: the city's content through the API, filters, nearest-first search, languages, bad input."""

import anyio
import pytest
from geopy.distance import geodesic

from backend.lib.geo import CHANGZHOU_BBOX
from tests.conftest import run_cli as cli

pytestmark = pytest.mark.anyio


async def test_at_least_40_real_venues_in_6_categories_inside_changzhou(client):
    res = await client.get("/api/v1/venues", params={"limit": 200})
    assert res.status_code == 200
    body = res.json()
    assert body["total"] >= 40 and len(body["items"]) == body["total"]
    assert len({v["category"] for v in body["items"]}) >= 6
    assert len({v["district"] for v in body["items"]}) == 7
    min_lat, min_lng, max_lat, max_lng = CHANGZHOU_BBOX
    for venue in body["items"]:
        assert min_lat <= venue["location"]["lat"] <= max_lat and min_lng <= venue["location"]["lng"] <= max_lng
        assert venue["currency"] == "CNY" and venue["capacity"] <= venue["daily_capacity"]
        assert venue["live"]["status"] in {"open", "closed", "limited"}


async def test_english_names_differ_from_chinese(client):
    zh = (await client.get("/api/v1/venues", params={"limit": 200})).json()["items"]
    en = (await client.get("/api/v1/venues", params={"limit": 200, "lang": "en"})).json()["items"]
    assert [v["slug"] for v in zh] == [v["slug"] for v in en]
    for a, b in zip(zh, en, strict=True):
        assert a["name"] != b["name"], a["slug"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in a["name"])
        assert b["name"].isascii() or not any("\u4e00" <= ch <= "\u9fff" for ch in b["name"])


async def test_accept_language_picks_english(client):
    res = await client.get("/api/v1/venues/changzhou-museum", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert res.json()["name"] == "Changzhou Museum"
    assert (await client.get("/api/v1/venues/changzhou-museum")).json()["name"] == "常州博物馆"


async def test_filters_by_category_district_and_text(client):
    museums = (await client.get("/api/v1/venues", params={"category": "museum", "limit": 200})).json()
    assert museums["total"] >= 3 and all(v["category"] == "museum" for v in museums["items"])
    liyang = (await client.get("/api/v1/venues", params={"district": "liyang", "limit": 200})).json()
    assert liyang["total"] >= 2 and all(v["district"] == "liyang" for v in liyang["items"])
    found = (await client.get("/api/v1/venues", params={"q": "恐龙"})).json()
    assert any(v["slug"] for v in found["items"]) and all(
        "恐龙" in v["name"] or "恐龙" in v["address"] or "dinosaur" in " ".join(v["tags"]) for v in found["items"]
    )
    found_en = (await client.get("/api/v1/venues", params={"q": "museum", "lang": "en", "limit": 200})).json()
    assert found_en["total"] >= 3


async def test_near_orders_by_true_geodesic_distance_within_radius(client):
    center = (31.7795, 119.9561)  # 南大街, the old city centre
    res = await client.get(
        "/api/v1/venues", params={"near": f"{center[0]},{center[1]}", "radius_m": 5000, "limit": 200}
    )
    items = res.json()["items"]
    assert len(items) >= 5
    distances = [v["distance_m"] for v in items]
    assert distances == sorted(distances) and distances[-1] <= 5000
    for v in items:
        exact = geodesic(center, (v["location"]["lat"], v["location"]["lng"])).meters
        assert abs(exact - v["distance_m"]) < 1
    everything = (await client.get("/api/v1/venues", params={"limit": 200})).json()["items"]
    inside = [v for v in everything if geodesic(center, (v["location"]["lat"], v["location"]["lng"])).meters <= 5000]
    assert {v["slug"] for v in inside} == {v["slug"] for v in items}


async def test_paging(client):
    first = (await client.get("/api/v1/venues", params={"limit": 5})).json()
    second = (await client.get("/api/v1/venues", params={"limit": 5, "offset": 5})).json()
    assert len(first["items"]) == 5 and first["total"] == second["total"]
    assert not {v["slug"] for v in first["items"]} & {v["slug"] for v in second["items"]}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"near": "999,999"}, "invalid_coordinates"),
        ({"near": "abc"}, "invalid_coordinates"),
        ({"near": "31.7,nan"}, "invalid_coordinates"),
        ({"limit": -1}, "validation_error"),
        ({"limit": 201}, "validation_error"),
        ({"offset": -3}, "validation_error"),
        ({"category": "nonsense"}, "validation_error"),
        ({"district": "atlantis"}, "validation_error"),
        ({"radius_m": 500}, "radius_without_near"),
        ({"near": "31.7,119.9", "radius_m": -5}, "validation_error"),
        ({"lang": "fr"}, "invalid_lang"),
    ],
)
async def test_bad_query_is_400_problem(client, params, code):
    res = await client.get("/api/v1/venues", params=params)
    assert res.status_code == 400, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    body = res.json()
    assert body["code"] == code and body["status"] == 400 and body["title"] and body["type"]


async def test_unknown_venue_is_404(client):
    res = await client.get("/api/v1/venues/no-such-place")
    assert res.status_code == 404 and res.json()["code"] == "venue_not_found"


async def test_second_load_content_changes_no_row(client):
    from backend.venues.tables import Venue

    before = await Venue.select(Venue.slug, Venue.updated_at, Venue.content_hash).order_by(Venue.slug)
    out = await anyio.to_thread.run_sync(cli, "load-content")
    assert "created=0 updated=0" in out
    assert await Venue.select(Venue.slug, Venue.updated_at, Venue.content_hash).order_by(Venue.slug) == before
