"""Open data: the catalogue, the formats, and no personal data in any dataset."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from backend.lib.clock import clock
from backend.opendata.services import opendata
from tests.api.reservation_helpers import fresh_slot, resident_id
from tests.api.test_passes import booked_now, code_of, scan

pytestmark = pytest.mark.anyio

DATASETS = ("venues", "amenities", "daily_visitors")


async def test_catalogue_describes_every_dataset(client):
    res = await client.get("/api/v1/opendata")
    assert res.status_code == 200
    cat = res.json()
    assert cat["type"] == "dcat:Catalog" and cat["licence"] == "CC BY 4.0"
    by_id = {d["identifier"]: d for d in cat["datasets"]}
    assert set(DATASETS) <= set(by_id)
    for name in DATASETS:
        d = by_id[name]
        assert d["title"] and d["description"] and d["licence"] and d["update_frequency"]
        assert set(d["formats"]) == {"JSON", "CSV", "GeoJSON"}
        for dist in d["distributions"]:
            got = await client.get(dist["download_url"].split("testserver.local")[-1])
            assert got.status_code == 200, dist
    en = (await client.get("/api/v1/opendata", params={"lang": "en"})).json()
    assert next(d for d in en["datasets"] if d["identifier"] == "venues")["title"].startswith("Culture")


async def test_venues_csv_has_one_row_per_venue_and_opens_in_spreadsheets(client):
    total = (await client.get("/api/v1/venues", params={"limit": 1})).json()["total"]
    res = await client.get("/api/v1/opendata/venues.csv")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert res.content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    rows = list(csv.DictReader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert len(rows) == total
    assert len({r["slug"] for r in rows}) == total
    museum = next(r for r in rows if r["slug"] == "changzhou-museum")
    assert museum["name_zh"] == "常州博物馆"


async def test_geojson_is_a_feature_collection_in_lng_lat(client):
    res = await client.get("/api/v1/opendata/venues.geojson")
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/geo+json")
    fc = res.json()
    assert fc["type"] == "FeatureCollection"
    venue = (await client.get("/api/v1/venues/tianning-chan-temple")).json()
    feature = next(f for f in fc["features"] if f["properties"]["slug"] == "tianning-chan-temple")
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == [venue["location"]["lng"], venue["location"]["lat"]]
    for f in fc["features"]:
        lng, lat = f["geometry"]["coordinates"]
        assert 119 < lng < 121 and 31 < lat < 33  # Changzhou: longitude first
    amenities = (await client.get("/api/v1/opendata/amenities.geojson")).json()
    assert amenities["type"] == "FeatureCollection" and amenities["features"]


async def test_unknown_dataset_or_format_is_404(client):
    for path in ("nothing.json", "venues.xlsx", "venues"):
        res = await client.get(f"/api/v1/opendata/{path}")
        assert res.status_code == 404 and res.json()["code"] == "dataset_not_found"


async def test_daily_visitors_count_party_sizes_and_walk_ins(client, make_account):
    venue = "changzhou-three-heroes-memorial"
    staff = await make_account("staff", venues=(venue,))
    tourist = await make_account("tourist")
    await booked_now(client, tourist, venue, party=3)
    opendata.forget()
    day = clock.city_today().isoformat()

    def row_of(items):
        return next((r for r in items if r["venue_slug"] == venue and r["date"] == day), {"visitors": 0, "walk_ins": 0})

    before = row_of((await client.get("/api/v1/opendata/daily_visitors.json")).json()["items"])
    assert (await scan(client, staff, await code_of(client, tourist), venue)).json()["result"] == "ok"
    res = await client.post("/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": 4})
    assert res.status_code == 201
    opendata.forget()
    after = row_of((await client.get("/api/v1/opendata/daily_visitors.json")).json()["items"])
    assert after["visitors"] == before["visitors"] + 7
    assert after["walk_ins"] == before["walk_ins"] + 4
    await client.post(
        "/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": 4, "direction": "out"}
    )


async def test_no_name_or_id_number_in_any_dataset(client, make_account):
    tourist = await make_account("tourist")
    agency = await make_account("agency")
    name = "欧阳" + uuid.uuid4().hex[:4]
    number = resident_id("19811224")
    slot = await fresh_slot(client, "changzhou-museum")
    res = await client.post(
        "/api/v1/reservations",
        headers=tourist["headers"],
        json={"slot_id": slot["id"], "visitors": [{"name": name, "id_type": "resident_id", "id_number": number}]},
    )
    assert res.status_code == 201
    guide = "导游" + uuid.uuid4().hex[:4]
    res = await client.post(
        "/api/v1/tour-groups",
        headers=agency["headers"],
        json={
            "guide_name": guide,
            "guide_phone": "13912345678",
            "size": 12,
            "coach_plate": "苏D·A1234",
            "visit_date": slot["starts_at"][:10],
            "itinerary": [{"venue_slug": "changzhou-museum", "arrives_at": slot["starts_at"]}],
        },
    )
    assert res.status_code == 201, res.text
    opendata.forget()
    for dataset in DATASETS:
        for ext in ("json", "csv", "geojson"):
            for lang in ("zh", "en"):
                body = (await client.get(f"/api/v1/opendata/{dataset}.{ext}", params={"lang": lang})).content
                text = body.decode("utf-8-sig")
                for needle in (name, number, guide, "13912345678", tourist["email"], agency["email"]):
                    assert needle not in text, (dataset, ext, needle)


async def test_events_dataset_lists_the_published_calendar(client):
    catalogue = (await client.get("/api/v1/opendata")).json()
    assert "events" in {d["identifier"] for d in catalogue["datasets"]}
    rows = (await client.get("/api/v1/opendata/events.json")).json()
    items = rows["items"] if isinstance(rows, dict) else rows
    assert len(items) >= 20 and all(r["starts_at"] and r["category"] for r in items)
    geo = (await client.get("/api/v1/opendata/events.geojson")).json()
    assert geo["type"] == "FeatureCollection"
    lng, lat = geo["features"][0]["geometry"]["coordinates"]
    assert 119 < lng < 121 and 31 < lat < 33
