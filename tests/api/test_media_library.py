"""Issue 21, item 2: the marketers' photo library. Photos go through the upload inspection (sniffed by
content, EXIF and GPS removed) with alt text in both languages and a credit; the server makes WebP (AVIF
where it can) and JPEG variants at the picture widths, never upscaled, with immutable cache headers and a
tiny placeholder; galleries of library photos show on the public pages."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from PIL import Image

from backend.lib.clock import clock
from backend.media.library import avif_supported
from tests.api.publishing_helpers import content_for
from tests.api.upload_helpers import GPS_IFD, photo_with_gps

pytestmark = pytest.mark.anyio

ALT = {
    "alt_zh": "青果巷的白墙黛瓦",
    "alt_en": "White walls and dark tiles in Qingguo Lane",
    "credit": "常州文旅 / 王摄",
}


async def add_photo(client, who, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg", **fields):
    form = {**ALT, **fields}
    form = {k: v for k, v in form.items() if v is not None}
    return await client.post(
        "/api/v1/photos", headers=who["headers"], data=form, files={"file": (name, data, content_type)}
    )


def _event_body(slug: str, **extra) -> dict:
    start = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    return {
        "slug": slug,
        "title": {"zh": "测试图集活动", "en": "Test gallery event"},
        "category": "performance",
        "venue_slug": "qingguo-lane",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        **extra,
    }


async def test_a_photo_is_uploaded_with_alt_and_credit_and_comes_back_without_exif(client, make_account):
    marketer = await make_account("marketer")
    original = photo_with_gps(size=(1000, 750))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    res = await add_photo(client, marketer, original)
    assert res.status_code == 201, res.text
    photo = res.json()
    assert photo["alt"] == {"zh": ALT["alt_zh"], "en": ALT["alt_en"]} and photo["credit"] == ALT["credit"]
    assert (photo["width"], photo["height"]) == (750, 1000)  # the phone's rotation applied to the pixels
    assert photo["content_type"] == "image/jpeg" and photo["used_by"] == []
    assert photo["placeholder"].startswith("data:image/webp;base64,") and len(photo["placeholder"]) < 2000
    # never upscaled: 750 px wide gives 320, 640 and 750
    assert photo["widths"] == [320, 640, 750]
    assert photo["url"].endswith("/640.webp")
    for width in photo["widths"]:
        variant = await client.get(f"/media/p/{photo['id']}/{width}.jpg")
        assert variant.status_code == 200 and variant.headers["content-type"] == "image/jpeg"
        image = Image.open(io.BytesIO(variant.content))
        assert image.width == width and dict(image.getexif()) == {}
        assert b"PhoneMaker" not in variant.content
    assert (await client.get(f"/media/p/{photo['id']}/960.webp")).status_code == 404  # wider than the photo
    assert (await client.get(f"/media/p/{photo['id']}/640.gif")).status_code == 404
    assert (await client.get(f"/media/p/{uuid.uuid4()}/640.webp")).status_code == 404
    # and the library lists and finds it
    found = (await client.get("/api/v1/photos", params={"q": "Qingguo"}, headers=marketer["headers"])).json()
    assert photo["id"] in [p["id"] for p in found["items"]] and found["total"] >= 1
    assert (await client.get(f"/api/v1/photos/{photo['id']}", headers=marketer["headers"])).json()["id"] == photo["id"]


async def test_variants_are_webp_avif_and_jpeg_cached_for_good(client, make_account):
    marketer = await make_account("marketer")
    photo = (await add_photo(client, marketer, photo_with_gps(size=(1600, 1200), noise=True))).json()
    assert photo["widths"] == [320, 640, 960, 1200]  # rotated: 1200 wide
    assert photo["srcset"].split(", ")[0].endswith("/320.webp 320w")
    formats = {"webp": "image/webp", "jpg": "image/jpeg"}
    if avif_supported():
        formats["avif"] = "image/avif"
        assert photo["srcset_avif"].endswith("/1200.avif 1200w")
    else:
        assert "srcset_avif" not in photo
    for ext, media_type in formats.items():
        res = await client.get(f"/media/p/{photo['id']}/960.{ext}")
        assert res.status_code == 200 and res.headers["content-type"] == media_type
        cache = res.headers["cache-control"]
        assert "immutable" in cache and int(cache.split("max-age=")[1].split(",")[0]) >= 7 * 24 * 3600
        assert Image.open(io.BytesIO(res.content)).size == (960, 1280)
        again = await client.get(f"/media/p/{photo['id']}/960.{ext}")
        assert again.content == res.content


async def test_the_type_is_read_from_the_content_and_alt_and_credit_are_required(client, make_account):
    marketer = await make_account("marketer")
    png = photo_with_gps(fmt="PNG")
    res = await add_photo(client, marketer, png, name="holiday.jpg", content_type="image/jpeg")
    assert res.status_code == 201 and res.json()["content_type"] == "image/png"
    res = await add_photo(client, marketer, b"<!doctype html><script>alert(1)</script>", name="x.jpg")
    assert res.status_code == 415 and res.json()["code"] == "unsupported_file_type"
    res = await add_photo(client, marketer, png, alt_en=None)
    assert res.status_code == 400 and res.json()["code"] == "alt_required"
    res = await add_photo(client, marketer, png, alt_zh="   ")
    assert res.status_code == 400 and res.json()["code"] == "alt_required"
    res = await add_photo(client, marketer, png, alt_zh="长" * 301)
    assert res.status_code == 400 and res.json()["code"] == "alt_too_long"
    res = await add_photo(client, marketer, png, credit="")
    assert res.status_code == 400 and res.json()["code"] == "credit_required"
    res = await add_photo(client, marketer, png, credit="x" * 201)
    assert res.status_code == 400 and res.json()["code"] == "credit_too_long"
    assert res.headers["content-type"].startswith("application/problem+json")


async def test_a_gallery_set_through_the_marketer_api_shows_on_the_public_page(client, make_account):
    marketer = await make_account("marketer")
    h = marketer["headers"]
    first = (await add_photo(client, marketer, photo_with_gps(size=(800, 600)))).json()
    second = (await add_photo(client, marketer, photo_with_gps(size=(400, 300)), credit="游客 李")).json()
    slug = f"test-gallery-{uuid.uuid4().hex[:8]}"
    res = await client.post("/api/v1/admin/events", json=_event_body(slug, gallery=[str(uuid.uuid4())]), headers=h)
    assert res.status_code == 400 and res.json()["code"] == "unknown_photo"
    res = await client.post("/api/v1/admin/events", json=_event_body(slug, gallery=[second["id"]]), headers=h)
    assert res.status_code == 201, res.text
    item = res.json()
    res = await client.patch(
        f"/api/v1/admin/events/{item['id']}", json={"gallery": [first["id"], second["id"]]}, headers=h
    )
    assert res.status_code == 200, res.text
    assert res.json()["gallery"] == [first["id"], second["id"]]
    got = (await client.get(f"/api/v1/admin/events/{item['id']}", headers=h)).json()
    assert got["gallery"] == [first["id"], second["id"]] and item["gallery"] == [second["id"]]
    res = await client.patch(f"/api/v1/admin/events/{item['id']}", json={"gallery": ["not-a-photo"]}, headers=h)
    assert res.status_code == 400 and res.json()["code"] == "unknown_photo"
    for to in ("in_review", "published"):
        assert (
            await client.post(f"/api/v1/admin/events/{item['id']}/transition", json={"to": to}, headers=h)
        ).status_code == 200
    zh = (await client.get(f"/api/v1/events/{slug}", params={"lang": "zh"})).json()
    en = (await client.get(f"/api/v1/events/{slug}", params={"lang": "en"})).json()
    assert [p["id"] for p in zh["gallery"]] == [first["id"], second["id"]]
    assert zh["gallery"][0]["alt"] == ALT["alt_zh"] and en["gallery"][0]["alt"] == ALT["alt_en"]
    assert en["gallery"][1]["credit"] == "游客 李"
    one = en["gallery"][0]
    assert (one["width"], one["height"]) == (600, 800) and one["placeholder"].startswith("data:image/webp")
    assert one["widths"] == [320, 600] and one["srcset_jpeg"].endswith("/600.jpg 600w")
    assert "image" in en  # the event's own picture stays
    assert (await client.get(one["url"])).status_code == 200
    # a photo in a gallery cannot be deleted; the library says where it is used
    res = await client.delete(f"/api/v1/photos/{first['id']}", headers=h)
    assert res.status_code == 409 and res.json()["code"] == "photo_in_use"
    got = (await client.get(f"/api/v1/photos/{first['id']}", headers=h)).json()
    assert got["used_by"] == [{"kind": "events", "slug": slug}]
    # out of the gallery, it can go; its variants go with it
    gallery = await client.put(f"/api/v1/galleries/events/{slug}", json={"photo_ids": [second["id"]]}, headers=h)
    assert gallery.status_code == 200 and gallery.json()["photo_ids"] == [second["id"]]
    assert (await client.delete(f"/api/v1/photos/{first['id']}", headers=h)).status_code == 204
    assert (await client.get(f"/api/v1/photos/{first['id']}", headers=h)).status_code == 404
    assert (await client.get(one["url"])).status_code == 404
    shown = (await client.get(f"/api/v1/events/{slug}", params={"lang": "en"})).json()["gallery"]
    assert [p["id"] for p in shown] == [second["id"]]


async def test_a_venue_gallery_is_set_through_the_galleries_api(client, make_account):
    marketer = await make_account("marketer")
    h = marketer["headers"]
    photo = (await add_photo(client, marketer, photo_with_gps(size=(640, 480)))).json()
    res = await client.put("/api/v1/galleries/venues/no-such-venue", json={"photo_ids": [photo["id"]]}, headers=h)
    assert res.status_code == 404 and res.json()["code"] == "item_not_found"
    res = await client.put("/api/v1/galleries/castles/qingguo-lane", json={"photo_ids": []}, headers=h)
    assert res.status_code == 404 and res.json()["code"] == "unknown_kind"
    res = await client.put("/api/v1/galleries/venues/qingguo-lane", json={"photo_ids": ["x"]}, headers=h)
    assert res.status_code == 400 and res.json()["code"] == "unknown_photo"
    res = await client.put("/api/v1/galleries/venues/qingguo-lane", json={"photo_ids": [photo["id"]]}, headers=h)
    assert res.status_code == 200
    venue = (await client.get("/api/v1/venues/qingguo-lane", params={"lang": "en"})).json()
    assert [p["id"] for p in venue["gallery"]][-1] == photo["id"] and venue["images"]
    await client.put("/api/v1/galleries/venues/qingguo-lane", json={"photo_ids": []}, headers=h)
    assert "gallery" not in (await client.get("/api/v1/venues/qingguo-lane")).json()


async def test_only_marketers_and_admins_use_the_library(client, make_account):
    marketer, admin = await make_account("marketer"), await make_account("admin")
    photo = (await add_photo(client, marketer, photo_with_gps())).json()
    for role in ("tourist", "staff"):
        who = await make_account(role, venues=("qingguo-lane",)) if role == "staff" else await make_account(role)
        assert (await add_photo(client, who, photo_with_gps())).status_code == 403
        assert (await client.get("/api/v1/photos", headers=who["headers"])).status_code == 403
        assert (await client.delete(f"/api/v1/photos/{photo['id']}", headers=who["headers"])).status_code == 403
        res = await client.put(
            "/api/v1/galleries/venues/qingguo-lane", json={"photo_ids": [photo["id"]]}, headers=who["headers"]
        )
        assert res.status_code == 403
    assert (await client.get("/api/v1/photos")).status_code == 401
    assert (await client.get(f"/api/v1/photos/{photo['id']}", headers=admin["headers"])).status_code == 200
    res = await client.patch(
        f"/api/v1/photos/{photo['id']}", json={"alt": {"en": "A lane"}, "credit": "城市摄影"}, headers=admin["headers"]
    )
    assert res.status_code == 200 and res.json()["alt"]["en"] == "A lane" and res.json()["alt"]["zh"] == ALT["alt_zh"]
    res = await client.patch(f"/api/v1/photos/{photo['id']}", json={"alt": {"zh": ""}}, headers=admin["headers"])
    assert res.status_code == 400 and res.json()["code"] == "alt_required"
    # the photos themselves are public (they are made to be published)
    assert (await client.get(photo["url"])).status_code == 200


async def test_a_variant_is_made_once_however_many_ask(client, make_account, monkeypatch):
    import anyio

    from backend.media import library as lib

    made: list[tuple[int, str]] = []
    real = lib.make_photo_variant

    def counting(data: bytes, dst, width: int, ext: str) -> None:
        made.append((width, ext))
        real(data, dst, width, ext)

    monkeypatch.setattr(lib, "make_photo_variant", counting)
    marketer = await make_account("marketer")
    photo = (await add_photo(client, marketer, photo_with_gps(size=(900, 600), noise=True))).json()
    statuses: list[int] = []

    async def ask() -> None:
        statuses.append((await client.get(f"/media/p/{photo['id']}/320.webp")).status_code)

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(ask)
    assert statuses == [200] * 6 and made == [(320, "webp")]


async def test_articles_tours_and_exhibitions_show_their_galleries(client, make_account):
    marketer = await make_account("marketer")
    h = marketer["headers"]
    photo = (await add_photo(client, marketer, photo_with_gps(size=(640, 480)))).json()
    tag = uuid.uuid4().hex[:6]
    article = await client.post(
        "/api/v1/admin/articles",
        json={
            "slug": f"test-gallery-guide-{tag}",
            "kind": "guide",
            "title": {"zh": "图集攻略", "en": "A guide with photos"},
            "gallery": [photo["id"]],
        },
        headers=h,
    )
    tour = await client.post(
        "/api/v1/admin/tours",
        json={"slug": f"test-gallery-walk-{tag}", "title": {"zh": "图集步道", "en": "Photo walk"}, "gallery": ["x"]},
        headers=h,
    )
    assert tour.status_code == 400 and tour.json()["code"] == "unknown_photo"
    tour = await client.post(
        "/api/v1/admin/tours",
        json={
            "slug": f"test-gallery-walk-{tag}",
            "title": {"zh": "图集步道", "en": "Photo walk"},
            "gallery": [photo["id"]],
        },
        headers=h,
    )
    for kind, res in (("articles", article), ("tours", tour)):
        assert res.status_code == 201, res.text
        if kind == "tours":
            await content_for(kind, res.json()["id"])
        for to in ("in_review", "published"):
            moved = await client.post(f"/api/v1/admin/{kind}/{res.json()['id']}/transition", json={"to": to}, headers=h)
            assert moved.status_code == 200, moved.text
    shown = (await client.get(f"/api/v1/articles/test-gallery-guide-{tag}", params={"lang": "en"})).json()
    assert [p["alt"] for p in shown["gallery"]] == [ALT["alt_en"]]
    shown = (await client.get(f"/api/v1/tours/test-gallery-walk-{tag}", params={"lang": "zh"})).json()
    assert [p["alt"] for p in shown["gallery"]] == [ALT["alt_zh"]]
    exhibition = (await client.get("/api/v1/exhibitions")).json()["items"][0]["slug"]
    res = await client.put(f"/api/v1/galleries/exhibitions/{exhibition}", json={"photo_ids": [photo["id"]]}, headers=h)
    assert res.status_code == 200
    shown = (await client.get(f"/api/v1/exhibitions/{exhibition}")).json()
    assert [p["id"] for p in shown["gallery"]] == [photo["id"]]
    await client.put(f"/api/v1/galleries/exhibitions/{exhibition}", json={"photo_ids": []}, headers=h)
    used = (await client.get(f"/api/v1/photos/{photo['id']}", headers=h)).json()["used_by"]
    assert {u["kind"] for u in used} == {"articles", "tours"}
    # a one-stop test tour and a two-word guide are not for the city's lists that other tests read
    for kind, res in (("articles", article), ("tours", tour)):
        gone = await client.post(
            f"/api/v1/admin/{kind}/{res.json()['id']}/transition", json={"to": "archived"}, headers=h
        )
        assert gone.status_code == 200, gone.text
