"""Pictures (issue 21): every venue has a picture, every event and article a cover (our illustrations until the
city loads photographs), served from /media/; responsive sizes at /media/w/{width}/… (WebP, made with Pillow
off the event loop at content load, or on first request where a replica did not make them)."""

from __future__ import annotations

import io
import tomllib
import uuid
from datetime import timedelta

import anyio
import msgspec
import pytest
from PIL import Image

from backend.events.schemas import EVENT_CATEGORIES
from backend.events.services import events, search_text
from backend.events.tables import Event
from backend.lib.clock import clock
from backend.media.pictures import WIDTHS, variant_path, with_default_pictures
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio


async def all_pages(client, path: str) -> list[dict]:
    items, offset = [], 0
    while True:
        page = (await client.get(path, params={"limit": 200, "offset": offset})).json()
        items += page["items"]
        offset += 200
        if offset >= page["total"]:
            return items


async def test_every_venue_has_a_picture_that_is_served(client):
    venues = await all_pages(client, "/api/v1/venues")
    assert len(venues) >= 50
    for venue in venues:
        assert venue["images"] == [f"/media/illustrations/venues/{venue['slug']}.webp"], venue["slug"]
    for venue in venues[:5]:
        res = await client.get(venue["images"][0])
        assert res.status_code == 200 and res.headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(res.content)).size == (1280, 720)


async def test_every_event_and_article_has_a_cover(client):
    events = (await client.get("/api/v1/events", params={"limit": 200})).json()["items"]
    assert events
    for event in events:
        assert event["image"] == f"/media/illustrations/events/{event['category']}.webp"
    # Articles other tests write may have no picture; every article of the city's content has one that is served.
    ours = {a["slug"] for a in tomllib.loads((ROOT / "content" / "articles.toml").read_text("utf-8"))["article"]}
    articles = (await client.get("/api/v1/articles", params={"limit": 200})).json()["items"]
    ours_listed = [a for a in articles if a["slug"] in ours]
    assert ours_listed
    for article in ours_listed:
        assert (await client.get(article["image"])).status_code == 200


@pytest.mark.parametrize("category", EVENT_CATEGORIES)
async def test_an_event_made_without_a_picture_shows_its_category_cover(client, category):
    """A marketer's event (or one stored before pictures existed) has no `image`: the list and the page show the
    category's illustration, and there is one for every category."""
    slug = f"pic-{category}-{uuid.uuid4().hex[:8]}"
    start = clock.now().replace(microsecond=0) + timedelta(days=2)
    await Event.insert(
        Event(
            slug=slug,
            category=category,
            district="tianning",
            title_zh="无图活动",
            title_en="Event without a picture",
            lat=31.78,
            lng=119.95,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            rrule="",
            exdates=[],
            search_text=search_text("无图活动", "Event without a picture"),
            status="published",
            published_at=start - timedelta(days=1),
        )
    )
    try:
        await events.changed()
        page = (await client.get(f"/api/v1/events/{slug}")).json()
        assert page["image"] == f"/media/illustrations/events/{category}.webp"
        params = {"category": category, "q": "无图活动", "limit": 200}
        listed = (await client.get("/api/v1/events", params=params)).json()["items"]
        assert [e["image"] for e in listed if e["slug"] == slug] == [page["image"]]
        served = await client.get(page["image"])
        assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    finally:
        await Event.delete().where(Event.slug == slug)
        await events.changed()


@pytest.mark.parametrize("width", WIDTHS)
async def test_responsive_sizes_are_webp_of_that_width_cached_long(client, width):
    res = await client.get("/api/v1/venues/hongmei-park")
    original = res.json()["images"][0]
    variant = await client.get(original.replace("/media/", f"/media/w/{width}/", 1))
    assert variant.status_code == 200 and variant.headers["content-type"] == "image/webp"
    assert "max-age=604800" in variant.headers["cache-control"]
    image = Image.open(io.BytesIO(variant.content))
    assert image.format == "WEBP" and image.size == (width, width * 9 // 16)


@pytest.mark.parametrize(
    "path",
    [
        "/media/w/500/illustrations/venues/hongmei-park.webp",  # not one of the sizes
        "/media/w/640/illustrations/venues/no-such-venue.webp",
        "/media/w/640/illustrations/../../venues.toml",
        "/media/w/640/audio/biji-lane.zh.opus",  # not a picture
    ],
)
async def test_what_is_no_picture_or_size_is_404(client, path):
    assert (await client.get(path)).status_code == 404


async def test_a_missing_size_is_made_once_on_first_request(client, app, tmp_path):
    original = app.state.settings
    app.state.settings = msgspec.structs.replace(original, media_cache_dir=tmp_path)
    try:
        rel = "illustrations/venues/qingguo-lane.webp"
        bodies: list[bytes] = []

        async def fetch() -> None:
            res = await client.get(f"/media/w/320/{rel}")
            assert res.status_code == 200
            bodies.append(res.content)

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(fetch)
        assert len(set(bodies)) == 1
        made = variant_path(tmp_path, 320, rel)
        assert made.is_file() and made.read_bytes() == bodies[0]
        assert not [p for p in made.parent.iterdir() if p.name.endswith(".tmp")]
    finally:
        app.state.settings = original


def test_content_with_pictures_of_its_own_keeps_them():
    raw = tomllib.loads((ROOT / "content" / "venues.toml").read_text(encoding="utf-8"))["venue"][:2]
    raw[0]["images"] = ["https://example.org/photo.jpg"]
    out = with_default_pictures("venue", raw, ROOT / "content")
    assert out[0]["images"] == ["https://example.org/photo.jpg"]
    assert out[1]["images"] == [f"/media/illustrations/venues/{raw[1]['slug']}.webp"]
    assert "images" not in raw[1]  # the caller's items are not changed
    event = with_default_pictures(
        "event", [{"slug": "x", "category": "festival", "image": "/media/own.png"}], ROOT / "content"
    )
    assert event[0]["image"] == "/media/own.png"


def test_every_illustration_is_labelled_in_the_content_readme():
    readme = (ROOT / "content" / "README.md").read_text(encoding="utf-8")
    assert "illustrations/" in readme and "not photographs" in readme
