"""Guided tours and readable buildings (issue 8): the city's routes through the API, their stops,
walking lines, narration and audio, the POI page a plaque opens, publishing, and printed plaques."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import uuid
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from geopy.distance import geodesic

from backend.lib.clock import clock
from backend.lib.geo import CHANGZHOU_BBOX
from tests.api.publishing_helpers import content_for
from tests.conftest import ROOT, arun_cli, run_cli

pytestmark = pytest.mark.anyio

CJK = range(0x4E00, 0xA000)


def has_cjk(text: str) -> bool:
    return any(ord(ch) in CJK for ch in text)


async def all_tours(client, lang: str = "zh", ours_only: bool = True) -> list[dict]:
    """The city's tours (content/tours.toml) as listed: other tests publish tours of their own, stops or not
    (`ours_only=False`: every tour listed)."""
    res = await client.get("/api/v1/tours", params={"limit": 200, "lang": lang})
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == len(body["items"])
    ours = {t["slug"] for t in tomllib.loads((ROOT / "content" / "tours.toml").read_text("utf-8"))["tour"]}
    return [t for t in body["items"] if t["slug"] in ours or not ours_only]


async def test_at_least_8_tours_of_5_stops_inside_changzhou(client):
    tours = await all_tours(client)
    assert len(tours) >= 8
    min_lat, min_lng, max_lat, max_lng = CHANGZHOU_BBOX
    poi_ids: set[str] = set()
    for tour in tours:
        assert len(tour["stops"]) >= 5, tour["slug"]
        assert [s["order"] for s in tour["stops"]] == list(range(1, len(tour["stops"]) + 1))
        assert tour["duration_min"] > 0 and tour["distance_m"] > 0
        assert tour["languages"] == ["zh", "en"]
        assert tour["images"] == [f"/media/tours/{tour['slug']}.png"]
        for point in [s["poi"]["location"] for s in tour["stops"]] + tour["line"]:
            assert min_lat <= point["lat"] <= max_lat and min_lng <= point["lng"] <= max_lng, tour["slug"]
        for stop in tour["stops"]:
            assert len(stop["text"]) >= 80 and has_cjk(stop["text"])
            poi_ids.add(stop["poi"]["id"])
    assert len(poi_ids) >= 40


async def test_the_walking_line_passes_every_stop_in_order_and_its_length_is_the_distance(client):
    for tour in await all_tours(client):
        line = [(p["lat"], p["lng"]) for p in tour["line"]]
        stops = [(s["poi"]["location"]["lat"], s["poi"]["location"]["lng"]) for s in tour["stops"]]
        positions = [line.index(stop) for stop in stops]
        assert positions == sorted(positions) and positions[0] == 0 and line[-1] == stops[-1], tour["slug"]
        length = sum(geodesic(a, b).meters for a, b in zip(line, line[1:], strict=False))
        assert abs(length - tour["distance_m"]) <= 1, tour["slug"]


async def test_english_is_written_not_echoed(client):
    zh, en = await all_tours(client, "zh"), await all_tours(client, "en")
    assert [t["slug"] for t in zh] == [t["slug"] for t in en]
    for a, b in zip(zh, en, strict=True):
        assert a["title"] != b["title"] and not has_cjk(b["title"]) and not has_cjk(b["summary"])
        for sa, sb in zip(a["stops"], b["stops"], strict=True):
            assert sa["poi"]["id"] == sb["poi"]["id"]
            assert sb["text"] != sa["text"] and len(sb["text"]) >= 80 and not has_cjk(sb["text"])
            assert sb["poi"]["name"] != sa["poi"]["name"] and not has_cjk(sb["poi"]["name"])


async def test_every_stop_has_playable_audio_in_the_asked_language(client):
    for lang in ("zh", "en"):
        tour = (await client.get("/api/v1/tours/qingguo-lane-walk", params={"lang": lang})).json()
        for stop in tour["stops"]:
            assert stop["audio_lang"] == lang and stop["audio_url"].endswith(f".{lang}.opus")
        res = await client.get(tour["stops"][0]["audio_url"])
        assert res.status_code == 200 and res.headers["content-type"].startswith("audio/ogg")
        assert res.content[:4] == b"OggS" and b"OpusHead" in res.content[:64]
    everything = await all_tours(client)
    assert all(stop.get("audio_url") for tour in everything for stop in tour["stops"])


async def test_poi_page_names_the_tours_that_stop_there(client):
    res = await client.get("/api/v1/pois/qingguo-zhao-yuanren-residence", params={"lang": "en"})
    assert res.status_code == 200
    poi = res.json()
    assert poi["id"] == "qingguo-zhao-yuanren-residence"
    assert poi["name"] == "Zhao Yuanren's Former Residence" and "linguist" in poi["text"]
    assert poi["tours"] == [
        {"slug": "qingguo-lane-walk", "title": "Qingguo Lane: Half a History of Changzhou", "order": 3}
    ]
    assert poi["audio_url"].endswith(".en.opus")
    zh = (await client.get("/api/v1/pois/qingguo-zhao-yuanren-residence")).json()
    assert zh["name"] == "赵元任故居"


@pytest.mark.parametrize(
    "path,code",
    [
        ("/api/v1/tours/no-such-tour", "tour_not_found"),
        ("/api/v1/pois/no-such-poi", "poi_not_found"),
        ("/api/v1/exhibitions/no-such-exhibition", "exhibition_not_found"),
        ("/api/v1/exhibitions/no-such-exhibition/manifest.json", "exhibition_not_found"),
    ],
)
async def test_unknown_things_are_404_problems(client, path, code):
    res = await client.get(path)
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == code


async def test_bad_language_is_a_400_problem(client):
    res = await client.get("/api/v1/tours", params={"lang": "fr"})
    assert res.status_code == 400 and res.json()["code"] == "invalid_lang"


async def move(client, headers, kind: str, item_id: int, *states: str, **extra) -> dict:
    """Move an item through the publishing API (`POST /admin/{kind}/{id}/transition`), state by state."""
    body: dict = {}
    for state in states:
        res = await client.post(
            f"/api/v1/admin/{kind}/{item_id}/transition", json={"to": state, **extra}, headers=headers
        )
        assert res.status_code == 200, res.text
        body = res.json()
    return body


async def admin_id(client, headers, kind: str, slug: str) -> int:
    res = await client.get(f"/api/v1/admin/{kind}", params={"limit": 200}, headers=headers)
    assert res.status_code == 200, res.text
    return next(i["id"] for i in res.json()["items"] if i["slug"] == slug)


async def test_only_published_tours_are_public(client, make_account):
    h = (await make_account("marketer"))["headers"]
    slug = "yancheng-spring-autumn"
    before = await all_tours(client)
    assert slug in [t["slug"] for t in before]
    tour_id = await admin_id(client, h, "tours", slug)
    await move(client, h, "tours", tour_id, "draft")
    try:
        assert slug not in [t["slug"] for t in await all_tours(client)]
        assert (await client.get(f"/api/v1/tours/{slug}")).status_code == 404
        # its stops' plaques still open, without naming the unpublished tour
        poi = (await client.get("/api/v1/pois/yancheng-inner-city")).json()
        assert poi["name"] == "淹城内城" and poi["tours"] == []
    finally:
        await move(client, h, "tours", tour_id, "in_review", "published")
    assert len(await all_tours(client)) == len(before)
    assert (await client.get(f"/api/v1/tours/{slug}")).status_code == 200


async def test_a_scheduled_tour_is_public_once_due(client, make_account):
    """A tour of the test's own, scheduled a day ahead: hidden until then; on the day (the clock moves) it
    is public as soon as it is due, whether or not the publishing sweep has flipped its state yet."""
    h = (await make_account("marketer"))["headers"]
    slug = f"test-scheduled-walk-{uuid.uuid4().hex[:6]}"
    made = await client.post(
        "/api/v1/admin/tours",
        headers=h,
        json={"slug": slug, "title": {"zh": "定时发布的步道", "en": "A walk published on time"}, "duration_min": 30},
    )
    assert made.status_code == 201, made.text
    tour_id = made.json()["id"]
    await content_for("tours", tour_id)
    publish_at = (clock.now() + timedelta(days=1)).replace(microsecond=0)
    try:
        await move(client, h, "tours", tour_id, "in_review")
        scheduled = await move(client, h, "tours", tour_id, "scheduled", publish_at=publish_at.isoformat())
        assert scheduled["status"] == "scheduled"
        assert (await client.get(f"/api/v1/tours/{slug}")).status_code == 404
        assert slug not in [t["slug"] for t in await all_tours(client, ours_only=False)]
        clock.set(publish_at + timedelta(minutes=1))
        assert (await client.get(f"/api/v1/tours/{slug}")).status_code == 200
        assert slug in [t["slug"] for t in await all_tours(client, ours_only=False)]
    finally:
        await move(client, h, "tours", tour_id, "archived")  # no test meets it afterwards
    assert (await client.get(f"/api/v1/tours/{slug}")).status_code == 404


async def test_reloading_content_changes_nothing_and_keeps_publication_state(client, make_account):
    h = (await make_account("marketer"))["headers"]
    slug = "dinosaur-park-highlights"
    tour_id = await admin_id(client, h, "tours", slug)
    await move(client, h, "tours", tour_id, "archived")
    try:
        out = await arun_cli("load-content")
        assert re.search(r"^tours: created=0 updated=0 unchanged=\d+$", out, re.M), out
        assert re.search(r"^exhibitions: created=0 updated=0 unchanged=\d+$", out, re.M), out
        assert (await client.get(f"/api/v1/tours/{slug}")).status_code == 404
    finally:
        await move(client, h, "tours", tour_id, "draft", "in_review", "published")


async def test_admin_shape_has_both_languages(client):
    from backend.tours.services import tour_admin
    from backend.tours.tables import Tour

    row = await Tour.select(Tour.id).where(Tour.slug == "qingguo-lane-walk").first()
    admin = await tour_admin(row["id"])
    assert admin.title == {"zh": "青果巷：半部常州史", "en": "Qingguo Lane: Half a History of Changzhou"}
    assert admin.status == "published" and admin.published_at
    assert [s.poi_id for s in admin.stops][:2] == ["qingguo-zhou-youguang-residence", "qingguo-bagui-hall"]


def _print_and_read_plaques(tmp_path: Path) -> tuple[str, list[str]]:
    """`changxiang plaques` as a marketer runs it, then the sheet printed (rsvg-convert) and scanned (zbarimg)."""
    sheet = tmp_path / "plaques.svg"
    run_cli(
        "plaques", "--tour", "tianning-hongmei-loop", "--out", str(sheet), "--base-url", "https://changxiang.example"
    )
    png = tmp_path / "plaques.png"
    subprocess.run(["rsvg-convert", "-w", "1400", "-o", str(png), str(sheet)], check=True)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, check=True).stdout
    return sheet.read_text(encoding="utf-8"), sorted(out.split())


async def test_plaque_sheet_qr_codes_open_the_poi_pages(client, tmp_path: Path):
    text, decoded = await anyio.to_thread.run_sync(_print_and_read_plaques, tmp_path)
    assert "天宁禅寺山门" in text and "Tianning Temple Gate" in text
    pois = ("tianning-temple-gate", "tianning-pagoda", "hongmei-wenbi-pagoda", "hongmei-pavilion", "hongmei-lake")
    assert decoded == sorted(f"https://changxiang.example/pois/{poi}" for poi in pois)
    for url in decoded:  # each code opens a POI that the API knows
        assert (await client.get("/api/v1" + url.removeprefix("https://changxiang.example"))).status_code == 200


def _plaques_for(tour: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "plaques", "--tour", tour, "--out", str(out)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        cwd=ROOT,
    )


async def test_plaques_for_an_unknown_tour_fail_cleanly(client, tmp_path: Path):
    out = await anyio.to_thread.run_sync(_plaques_for, "nope", tmp_path / "x.svg")
    assert out.returncode != 0 and "no tour 'nope'" in out.stderr and "Traceback" not in out.stderr
