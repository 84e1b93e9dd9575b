"""Crowd levels for map apps (issue 19): the open dataset and the small polled feed with cache headers."""

from __future__ import annotations

from datetime import datetime

import pytest

from backend.lib.clock import CITY_TZ, clock

pytestmark = pytest.mark.anyio

LEVELS = {"comfortable", "fairly_comfortable", "normal", "fairly_crowded", "crowded", "full"}
FEED = "/api/v1/opendata/feeds/crowd-levels"


async def test_the_feed_gives_every_venues_level_now_and_next_with_cache_headers_and_etag(client):
    res = await client.get(FEED, params={"lang": "en"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/json")
    assert res.headers["cache-control"] == "public, max-age=60"
    assert res.headers["access-control-allow-origin"] == "*"
    etag = res.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    body = res.json()
    assert body["licence"] == "CC BY 4.0" and body["max_age_s"] == 60 and set(body["levels"]) == LEVELS
    venues = (await client.get("/api/v1/venues", params={"limit": 100})).json()["total"]
    assert len(body["venues"]) == venues
    museum = next(v for v in body["venues"] if v["slug"] == "changzhou-museum")
    assert museum["name"] == "Changzhou Museum"
    assert museum["comfort_level"] in LEVELS and museum["status"] in ("open", "limited", "closed")
    # GCJ-02 beside WGS-84: a few hundred metres apart in China
    assert 0.0005 < abs(museum["lat_gcj02"] - museum["lat"]) + abs(museum["lng_gcj02"] - museum["lng"]) < 0.02
    now = clock.now().astimezone(CITY_TZ).replace(minute=0, second=0, microsecond=0)
    for v in body["venues"]:
        assert len(v["next_hours"]) <= 6
        for h in v["next_hours"]:
            assert h["comfort_level"] in LEVELS and datetime.fromisoformat(h["starts_at"]) >= now

    again = await client.get(FEED, params={"lang": "en"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "public, max-age=60"
    other = await client.get(FEED, params={"lang": "en"}, headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200
    zh = (await client.get(FEED, params={"lang": "zh"})).json()
    assert next(v for v in zh["venues"] if v["slug"] == "changzhou-museum")["name"] == "常州博物馆"


async def test_crowd_levels_is_an_open_dataset_in_json_csv_and_geojson(client):
    catalogue = (await client.get("/api/v1/opendata")).json()
    entry = next(d for d in catalogue["datasets"] if d["identifier"] == "crowd_levels")
    assert entry["update_frequency"] == "continuous" and set(entry["formats"]) == {"JSON", "CSV", "GeoJSON"}
    rows = (await client.get("/api/v1/opendata/crowd_levels.json")).json()["items"]
    kinds = {r["kind"] for r in rows}
    assert kinds == {"now", "forecast"}
    now_rows = [r for r in rows if r["kind"] == "now"]
    assert len({r["venue_slug"] for r in now_rows}) == len(now_rows)
    for r in rows:
        assert r["comfort_level"] in LEVELS and r["capacity"] >= 0
        if r["kind"] == "forecast":
            assert r["low"] <= r["people"] <= r["high"]
    csv = await client.get("/api/v1/opendata/crowd_levels.csv")
    assert csv.status_code == 200 and csv.text.splitlines()[0].lstrip("\ufeff").startswith("venue_slug,")
    geo = (await client.get("/api/v1/opendata/crowd_levels.geojson")).json()
    assert geo["type"] == "FeatureCollection" and geo["features"][0]["geometry"]["type"] == "Point"
