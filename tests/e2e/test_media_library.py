"""The marketers' photo library (issue 21), end to end in Debian's Chromium on the real server: a marketer
takes a photo on the phone, describes it in both languages and credits it (the form refuses it without),
adds it to an event's gallery, and the event's public page shows the gallery: the photo with its alt text
in the reader's language, its credit, a placeholder until it loads, in zh, en and large text.

Run: `.venv/bin/pytest -m e2e tests/e2e/test_media_library.py`. CX_SCREENSHOTS=<dir> also saves screenshots.
"""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from backend.lib.clock import clock
from tests.e2e.conftest import Phone, live_account

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SHOTS = os.environ.get("CX_SCREENSHOTS")


async def shot(phone: Phone, name: str, full: bool = False) -> None:
    if SHOTS:
        await phone.page.wait_for_timeout(400)  # the photo's fade over its placeholder
        await phone.page.screenshot(path=str(Path(SHOTS) / f"media-{name}.png"), full_page=full)


def phone_photo() -> bytes:
    """A 1200×900 'photo' (sky, wall, roofs) with GPS in its EXIF, as a phone would send."""
    image = Image.new("RGB", (1200, 900), (150, 190, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 420, 1200, 900), fill=(235, 232, 225))
    for x in range(0, 1200, 150):
        draw.polygon([(x, 420), (x + 75, 330), (x + 150, 420)], fill=(60, 64, 70))
    draw.rectangle((520, 560, 680, 900), fill=(120, 70, 40))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 46.0, 12.0), 3: "E", 4: (119.0, 57.0, 1.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


async def test_a_marketer_adds_a_photo_to_an_event_gallery_and_the_public_sees_it(
    phone: Phone, live_server_url: str, tmp_path: Path
) -> None:
    marketer = await live_account(live_server_url, "marketer", name="市场部")
    slug = f"e2e-gallery-{uuid.uuid4().hex[:6]}"
    start = (clock.now() + timedelta(days=4)).replace(microsecond=0)
    async with httpx.AsyncClient(base_url=live_server_url, headers=marketer["headers"], timeout=20) as http:
        res = await http.post(
            "/api/v1/admin/events",
            json={
                "slug": slug,
                "title": {"zh": "青果巷摄影展", "en": "Qingguo Lane in photographs"},
                "summary": {"zh": "老街的白墙黛瓦", "en": "White walls and dark tiles of the old lane"},
                "category": "exhibition",
                "venue_slug": "qingguo-lane",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=3)).isoformat(),
            },
        )
        assert res.status_code == 201, res.text
        item_id = res.json()["id"]
        for to in ("in_review", "published"):
            assert (await http.post(f"/api/v1/admin/events/{item_id}/transition", json={"to": to})).status_code == 200

    await phone.context.add_cookies([{"name": "cx_token", "value": marketer["token"], "url": live_server_url}])
    page = phone.page
    await phone.open("/")
    await page.evaluate("localStorage.setItem('cx.signedIn', '1')")
    await phone.open("/marketer")
    await page.get_by_test_id("marketer-media").click()
    await page.get_by_test_id("photo-upload").wait_for()

    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(phone_photo())
    await page.get_by_test_id("photo-file").set_input_files(str(photo))
    # without alt text and credit the form says so and sends nothing
    await page.get_by_test_id("photo-send").click()
    await page.get_by_text("请填写中英文图片说明和署名").wait_for()
    await page.get_by_test_id("alt-zh").locator("textarea").fill("青果巷的白墙黛瓦与木门")
    alt_en = "White walls, dark roof tiles and a wooden door in Qingguo Lane"
    await page.get_by_test_id("alt-en").locator("textarea").fill(alt_en)
    await page.get_by_test_id("credit").locator("input").fill("常州文旅 / 王摄")
    await shot(phone, "upload-zh", full=True)
    await page.get_by_test_id("photo-send").click()
    card = page.get_by_test_id("photo-list").locator("li").first
    await card.get_by_text("青果巷的白墙黛瓦与木门").wait_for()
    assert await card.locator("[aria-pressed=true]").count() == 1  # the new photo is selected

    await page.get_by_test_id("attach-kind").select_option("events")
    await page.get_by_test_id("attach-item").locator(f"option[value='{slug}']").wait_for(state="attached")
    await page.get_by_test_id("attach-item").select_option(slug)
    await page.get_by_test_id("attach").click()
    await card.get_by_text("已用于 1 处").wait_for()
    await shot(phone, "library-zh", full=True)

    async with httpx.AsyncClient(base_url=live_server_url, timeout=20) as http:
        public = (await http.get(f"/api/v1/events/{slug}", params={"lang": "en"})).json()
        [shown] = public["gallery"]
        stored = await http.get(shown["url"])
    assert shown["alt"].startswith("White walls") and shown["credit"] == "常州文旅 / 王摄"
    assert stored.status_code == 200 and b"Exif" not in stored.content

    # the public page, in Chinese
    await phone.open(f"/events/{slug}")
    gallery = page.get_by_test_id("photo-gallery")
    await gallery.wait_for()
    await gallery.scroll_into_view_if_needed()
    img = gallery.locator("img")
    await img.and_(page.locator(".is-in")).wait_for()
    assert await img.get_attribute("alt") == "青果巷的白墙黛瓦与木门"
    assert "常州文旅 / 王摄" in await gallery.inner_text()
    box = await gallery.locator(".gallery__box").bounding_box()
    assert box and abs(box["width"] / box["height"] - 4 / 3) < 0.02
    await shot(phone, "event-zh")

    # English, and large text: nothing wider than the phone
    await page.evaluate("localStorage.setItem('cx.lang', 'en')")
    await phone.open(f"/events/{slug}")
    await gallery.wait_for()
    await gallery.scroll_into_view_if_needed()
    assert await gallery.locator("img").get_attribute("alt") == shown["alt"]
    assert "Photo: 常州文旅 / 王摄" in await gallery.inner_text()
    await gallery.locator("img.is-in").wait_for()
    await shot(phone, "event-en")
    await page.evaluate("localStorage.setItem('cx.largeText', '1')")
    await phone.open(f"/events/{slug}")
    await gallery.wait_for()
    await gallery.scroll_into_view_if_needed()
    await gallery.locator("img.is-in").wait_for()
    assert await page.evaluate("document.documentElement.classList.contains('cx-large')")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot(phone, "event-large")
    await phone.open("/marketer/media")
    await page.get_by_test_id("photo-list").locator("li").first.wait_for()
    await shot(phone, "library-en-large", full=True)
    assert not phone.errors, phone.errors


async def test_the_gallery_and_the_library_pass_axe_under_the_csp(strict_phone: Phone, live_server_url: str) -> None:
    """Under the server's real Content-Security-Policy (placeholders are data: URIs, previews blob: URLs),
    axe-core finds nothing serious on an event page with a gallery or on the library screen."""
    from tests.e2e.test_phone_quality import AXE, AXE_RUN

    marketer = await live_account(live_server_url, "marketer", name="市场部")
    slug = f"e2e-axe-gallery-{uuid.uuid4().hex[:6]}"
    start = (clock.now() + timedelta(days=5)).replace(microsecond=0)
    async with httpx.AsyncClient(base_url=live_server_url, headers=marketer["headers"], timeout=20) as http:
        photo = await http.post(
            "/api/v1/photos",
            data={"alt_zh": "红梅公园的梅花", "alt_en": "Plum blossom in Hongmei Park", "credit": "市民 陈"},
            files={"file": ("plum.jpg", phone_photo(), "image/jpeg")},
        )
        assert photo.status_code == 201, photo.text
        second = await http.post(
            "/api/v1/photos",
            data={"alt_zh": "老街夜景", "alt_en": "The old street at night", "credit": "常州文旅"},
            files={"file": ("night.jpg", phone_photo(), "image/jpeg")},
        )
        ids = [photo.json()["id"], second.json()["id"]]
        res = await http.post(
            "/api/v1/admin/events",
            json={
                "slug": slug,
                "title": {"zh": "梅花摄影", "en": "Plum blossom photographs"},
                "category": "exhibition",
                "venue_slug": "qingguo-lane",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=2)).isoformat(),
                "gallery": ids,
            },
        )
        assert res.status_code == 201, res.text
        for to in ("in_review", "published"):
            assert (await http.post(f"/api/v1/admin/events/{res.json()['id']}/transition", json={"to": to})).is_success

    phone = strict_phone
    page = phone.page
    await phone.context.add_cookies([{"name": "cx_token", "value": marketer["token"], "url": live_server_url}])
    await phone.context.add_init_script("localStorage.setItem('cx.signedIn', '1')")
    async with httpx.AsyncClient(base_url=live_server_url, timeout=20) as http:
        tour = (await http.get("/api/v1/tours")).json()["items"][0]["slug"]
    # a venue's and a tour's page show their galleries too (each set, looked at, and put back)
    for kind, item, page_path in (
        ("venues", "qingguo-lane", "/venues/qingguo-lane"),
        ("tours", tour, f"/tours/{tour}"),
    ):
        where = f"/api/v1/galleries/{kind}/{item}"
        async with httpx.AsyncClient(base_url=live_server_url, headers=marketer["headers"], timeout=20) as http:
            before = (await http.get(where)).json()["photo_ids"]
            assert (await http.put(where, json={"photo_ids": ids[1:]})).status_code == 200
        try:
            await phone.open(page_path)
            gallery = page.get_by_test_id("photo-gallery")
            await gallery.wait_for()
            await gallery.scroll_into_view_if_needed()
            await gallery.locator("img.is-in").wait_for()
            assert await gallery.locator("img").get_attribute("alt") == "老街夜景"
            await shot(phone, f"{kind}-zh")
        finally:
            async with httpx.AsyncClient(base_url=live_server_url, headers=marketer["headers"], timeout=20) as http:
                await http.put(where, json={"photo_ids": before})
    for path, ready in ((f"/events/{slug}", "photo-gallery"), ("/marketer/media", "photo-list")):
        await phone.open(path)
        await page.get_by_test_id(ready).wait_for()
        await page.wait_for_load_state("networkidle")
        if ready == "photo-gallery":
            gallery = page.get_by_test_id(ready)
            await gallery.scroll_into_view_if_needed()
            assert await gallery.locator("li").count() == 2
            assert "1 / 2" in await gallery.inner_text()
            await gallery.locator("img.is-in").first.wait_for()
            await shot(phone, "event-two-photos")
        await page.evaluate(AXE.read_text(encoding="utf-8"))
        violations = await page.evaluate(AXE_RUN)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], "\n".join(f"{path} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in serious)
    assert phone.errors == [], phone.errors
