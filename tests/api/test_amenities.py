"""The finder: nearest toilets, chargers and car parks by true geodesic distance, filters, live
operator feeds (OCPI-shaped), and importers for OSM and OCPI data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from geopy.distance import geodesic

from backend.amenities.loading import load_amenities, ocpi_amenities, osm_amenities
from backend.amenities.services import amenities
from backend.amenities.tables import Amenity, Evse
from backend.lib.clock import clock
from integrations.ocpi import read_locations
from integrations.osm import geojson_to_elements, read_elements

pytestmark = pytest.mark.anyio

CENTRE = (31.7795, 119.9561)


async def test_the_city_has_its_toilets_chargers_and_car_parks(client):
    counts = {}
    for kind in ("toilet", "charger", "parking"):
        res = await client.get(
            "/api/v1/amenities", params={"kind": kind, "near": "31.7795,119.9561", "radius_m": 150_000, "limit": 200}
        )
        assert res.status_code == 200, res.text
        counts[kind] = res.json()["total"]
    assert counts["toilet"] >= 150 and counts["charger"] >= 80 and counts["parking"] >= 40, counts


@pytest.mark.parametrize("seed", range(4))
async def test_nearest_ten_equal_a_brute_force_geodesic_scan(client, seed):
    rng = random.Random(seed)
    points = [(rng.uniform(31.3, 32.0), rng.uniform(119.3, 120.1)) for _ in range(3)] + [(39.9, 116.4)]
    for kind in ("toilet", "charger", "parking"):
        rows = await Amenity.select(Amenity.ext_id, Amenity.lat, Amenity.lng).where(Amenity.kind == kind)
        for lat, lng in points:
            res = await client.get("/api/v1/amenities", params={"kind": kind, "near": f"{lat},{lng}", "limit": 10})
            got = res.json()["items"]
            brute = sorted((geodesic((lat, lng), (r["lat"], r["lng"])).meters, r["ext_id"]) for r in rows)[:10]
            assert [g["id"] for g in got] == [b[1] for b in brute]
            assert all(abs(g["distance_m"] - b[0]) < 1.0 for g, b in zip(got, brute, strict=True))


async def test_radius_and_filters_return_only_matches(client):
    near = f"{CENTRE[0]},{CENTRE[1]}"
    accessible = (
        await client.get(
            "/api/v1/amenities", params={"kind": "toilet", "near": near, "wheelchair": "true", "limit": 50}
        )
    ).json()
    assert accessible["items"] and all(i["attributes"]["wheelchair"] is True for i in accessible["items"])
    changing = (
        await client.get(
            "/api/v1/amenities", params={"kind": "toilet", "near": near, "baby_changing": "true", "free": "true"}
        )
    ).json()
    assert changing["items"] and all(
        i["attributes"]["baby_changing"] and i["attributes"]["fee"] is False for i in changing["items"]
    )
    fast = (
        await client.get(
            "/api/v1/amenities",
            params={"kind": "charger", "near": near, "connector": "gbt_dc", "min_kw": 60, "limit": 50},
        )
    ).json()
    assert fast["items"]
    for item in fast["items"]:
        assert any(c["type"] == "gbt_dc" and c["max_kw"] >= 60 for c in item["attributes"]["connectors"])
    open_now = (
        await client.get("/api/v1/amenities", params={"kind": "toilet", "near": near, "open_now": "true", "limit": 50})
    ).json()
    assert open_now["items"] and all(i["open_now"] for i in open_now["items"])
    within = (
        await client.get("/api/v1/amenities", params={"kind": "parking", "near": near, "radius_m": 3000, "limit": 200})
    ).json()
    assert all(i["distance_m"] <= 3000 for i in within["items"]) and within["total"] == len(within["items"])
    distances = [i["distance_m"] for i in within["items"]]
    assert distances == sorted(distances)


@pytest.mark.parametrize(
    "params",
    [
        {"near": "91,0"},
        {"near": "31.7,119.9", "radius_m": -5},
        {"near": "31.7,119.9", "kind": "spaceship"},
        {"near": "abc"},
        {},
        {"near": "31.7,119.9", "connector": "usb"},
        {"near": "31.7,119.9", "kind": "toilet", "min_kw": 50},
    ],
)
async def test_bad_finder_queries_are_400(client, params):
    res = await client.get("/api/v1/amenities", params=params)
    assert res.status_code == 400, res.text
    assert res.headers["content-type"].startswith("application/problem+json") and res.json()["code"]


async def test_operator_feed_moves_live_status_and_stale_reads_unknown(client):
    station = await Amenity.select().where(Amenity.kind == "charger").first()
    evses = await Evse.select().where(Evse.amenity == station["id"])
    key = await amenities.create_operator_key(station["operator"])
    other = await amenities.create_operator_key("Somebody Else Charging")
    near = f"{station['lat']},{station['lng']}"

    async def status():
        items = (await client.get("/api/v1/amenities", params={"kind": "charger", "near": near, "limit": 1})).json()
        return items["items"][0]

    now = clock.now()
    feed = {
        "evses": [{"evse_uid": e["evse_uid"], "status": "CHARGING", "last_updated": now.isoformat()} for e in evses]
    }
    assert (await client.post("/api/v1/amenities/status", json=feed)).status_code == 401
    assert (await client.post("/api/v1/amenities/status", json=feed, headers={"X-Api-Key": "nope"})).status_code == 401
    assert (await client.post("/api/v1/amenities/status", json=feed, headers={"X-Api-Key": other})).status_code == 403
    ok = await client.post("/api/v1/amenities/status", json=feed, headers={"X-Api-Key": key})
    assert ok.status_code == 200 and ok.json()["accepted"] == len(evses)
    assert (await status())["status"] == "occupied"
    feed["evses"][0]["status"] = "AVAILABLE"
    await client.post("/api/v1/amenities/status", json=feed, headers={"X-Api-Key": key})
    first = await status()
    assert first["status"] == "available" and first["attributes"]["available_evses"] >= 1
    available = (
        await client.get("/api/v1/amenities", params={"kind": "charger", "near": near, "available": "true", "limit": 5})
    ).json()
    assert available["items"][0]["id"] == station["ext_id"]
    assert all(i["status"] == "available" for i in available["items"])
    # two hours on with no news from the operator: past the 15-minute freshness limit, the status is unknown
    clock.advance(timedelta(hours=2))
    assert (await status())["status"] == "unknown"
    old = (clock.now() - timedelta(hours=2)).isoformat()  # an update sent two hours ago arrives only now
    stale_feed = {"evses": [{"evse_uid": evses[0]["evse_uid"], "status": "AVAILABLE", "last_updated": old}]}
    await client.post("/api/v1/amenities/status", json=stale_feed, headers={"X-Api-Key": key})
    assert (await status())["status"] == "unknown", "an old update is no news"


async def test_an_app_built_but_not_started_leaves_the_running_one_alone(client, app):
    """Building an app (to read its routes or schema, as some tests and tools do) must not rebind the
    process-wide rooms to its stores: the running app's imports must still reach its finder."""
    from backend.app import create_app

    create_app()
    await client.get("/api/v1/amenities", params={"kind": "toilet", "near": "31.7,119.9", "limit": 1})
    await anyio.sleep(1.1)
    node = random.randint(9_100_000, 9_999_999)
    lat, lng = 31.6 + random.random() / 100, 119.8 + random.random() / 100
    element = {"type": "node", "id": node, "lat": lat, "lon": lng, "tags": {"amenity": "toilets"}}
    await load_amenities(osm_amenities(read_elements([element])), app.stores.get("cache"), source="import")
    await anyio.sleep(1.1)  # replicas notice the new version within a second
    res = await client.get("/api/v1/amenities", params={"kind": "toilet", "near": f"{lat},{lng}", "limit": 1})
    assert [i["id"] for i in res.json()["items"]] == [f"osm:node/{node}"]


async def test_osm_and_ocpi_imports(client, app):
    overpass = [
        {
            "type": "node",
            "id": 9000001,
            "lat": 31.70001,
            "lon": 119.90001,
            "tags": {
                "amenity": "toilets",
                "wheelchair": "yes",
                "changing_table": "yes",
                "fee": "no",
                "opening_hours": "06:00-22:00",
                "name": "测试公厕",
            },
        },
        {
            "type": "node",
            "id": 9000002,
            "lat": 31.70011,
            "lon": 119.90011,
            "tags": {
                "amenity": "charging_station",
                "socket:gb_dc": "2",
                "socket:gb_dc:output": "120 kW",
                "socket:gb_ac": "4",
                "operator": "Test Grid",
            },
        },
    ]
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "node/9000003",
                "geometry": {"type": "Point", "coordinates": [119.90021, 31.70021]},
                "properties": {"amenity": "toilets", "wheelchair": "no"},
            }
        ],
    }
    ocpi = [
        {
            "id": "LOC9",
            "party_id": "TST",
            "name": "OCPI Test Station",
            "address": "Test Road 1",
            "coordinates": {"latitude": "31.70031", "longitude": "119.90031"},
            "operator": {"name": "Test CPO"},
            "opening_times": {"twentyfourseven": True},
            "evses": [
                {
                    "uid": "E1",
                    "evse_id": "CN*TST*E9*1",
                    "status": "AVAILABLE",
                    "connectors": [{"id": "1", "standard": "GBT_DC", "max_electric_power": 160000}],
                }
            ],
        }
    ]
    records = (
        osm_amenities(read_elements(overpass))
        + osm_amenities(read_elements(geojson_to_elements(geojson)))
        + ocpi_amenities(read_locations(ocpi))
    )
    report = await load_amenities(records, app.stores.get("cache"), source="import")
    assert report.created == 4
    assert (await load_amenities(records, app.stores.get("cache"), source="import")).created == 0
    await anyio.sleep(1.1)  # replicas notice the new version within a second
    res = (
        await client.get("/api/v1/amenities", params={"near": "31.70001,119.90001", "radius_m": 60, "limit": 10})
    ).json()
    ids = {i["id"]: i for i in res["items"]}
    assert {"osm:node/9000001", "osm:node/9000002", "osm:node/9000003", "ocpi:TST:LOC9"} <= set(ids)
    assert ids["osm:node/9000001"]["attributes"]["wheelchair"] is True
    plugs = {c["type"]: c for c in ids["osm:node/9000002"]["attributes"]["connectors"]}
    assert plugs["gbt_dc"]["max_kw"] == 120 and plugs["gbt_dc"]["count"] == 2 and plugs["gbt_ac"]["count"] == 4
    assert ids["ocpi:TST:LOC9"]["attributes"]["connectors"][0]["max_kw"] == 160


async def test_open_now_follows_the_city_clock(client):
    local = clock.city_now()
    res = (
        await client.get("/api/v1/amenities", params={"kind": "toilet", "near": "31.7795,119.9561", "limit": 50})
    ).json()
    from opening_hours import OpeningHours

    for item in res["items"]:
        assert item["open_now"] == OpeningHours(item["opening_hours"]).is_open(local.replace(tzinfo=None))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_answer_spliced_from_encoded_fragments_is_the_pages_own_encoding(client, lang):
    """The API's page is spliced from each toilet's kept JSON fragments (`nearest_json`); it must be byte
    for byte what msgspec makes of the page's struct (`nearest`, which the guide uses), for every kind,
    open or closed, near and far, asked once or again (fragments kept), with and without filters."""
    import msgspec

    from backend.lib.geo import parse_point

    rng = random.Random(5)
    queries = [
        {"kind": kind, "radius_m": radius, "limit": limit}
        for kind in ("toilet", "charger", "parking", None)
        for radius, limit in ((None, 10), (8_000.0, 50), (None, 1))
    ] + [{"kind": "toilet", "radius_m": None, "limit": 20, "wheelchair": True, "free": True}]
    opens: set[bool] = set()
    for hour in (3, 14):  # some toilets are closed at night
        clock.freeze(datetime(2026, 12, 3, (hour - 8) % 24, 30, tzinfo=UTC))
        for query in queries:
            for _ in range(2):
                near = parse_point(f"{rng.uniform(31.74, 31.82)},{rng.uniform(119.92, 120.0)}")
                for again in range(2):
                    page = await amenities.nearest(lang=lang, near=near, **query)
                    encoded = await amenities.nearest_json(lang=lang, near=near, **query)
                    assert page.items, query
                    assert encoded == msgspec.json.encode(page), (query, again)
                    opens |= {item.open_now for item in page.items}
    assert opens == {True, False}
    res = await client.get("/api/v1/amenities", params={"kind": "toilet", "near": "31.7795,119.9561", "lang": lang})
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/json")
    assert res.json()["items"] and res.json()["total"] == len(res.json()["items"])
