"""Guided tours, readable buildings and cloud exhibitions in the phone app, end to end in Debian's
Chromium on the real server: a tour saved for offline opens and plays its narration with the network
cut, the location-aware guide follows a walk, a plaque's POI page, the exhibition gallery, and our
IIIF Manifest opened by Mirador (from the npm registry) on another origin.

Run: `make test`, or `.venv/bin/pytest -m e2e tests/e2e/test_tours.py`.
Set CX_SCREENSHOTS=<dir> to also save screenshots of each screen in zh and en.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import threading
from collections.abc import AsyncIterator, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, CJK, Phone

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SHOTS = os.environ.get("CX_SCREENSHOTS")
TOUR = "qingguo-lane-walk"
STOP_1 = {"latitude": 31.77630, "longitude": 119.95600}  # 周有光故居
MIRADOR_VERSION = "3.4.3"  # v3 ships a self-contained UMD build, dist/mirador.min.js


@pytest.fixture(scope="module")
async def browser(playwright) -> AsyncIterator:
    """Chromium that may play audio without a click (the narration starts from a button anyway)."""
    browser = await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
    )
    yield browser
    await browser.close()


async def shot(phone: Phone, name: str) -> None:
    if SHOTS:
        await phone.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


async def controlled_by_service_worker(phone: Phone) -> None:
    await phone.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await phone.page.reload()
    await phone.page.wait_for_function("navigator.serviceWorker.controller != null")


async def test_saved_tour_opens_and_plays_a_stop_with_the_network_cut(phone: Phone) -> None:
    page = phone.page
    await phone.open(f"/tours/{TOUR}")
    await page.get_by_test_id("stop").first.wait_for()
    await controlled_by_service_worker(phone)
    await page.get_by_test_id("save-offline").click()
    saved = page.get_by_test_id("saved-size")
    await saved.wait_for()
    size = int(await saved.get_attribute("data-bytes"))
    assert size > 200_000  # five stops of narration in two languages, and the text
    assert "MB" in await saved.inner_text() or "KB" in await saved.inner_text()
    await page.get_by_test_id("storage-use").wait_for()
    await shot(phone, "tour-saved-zh")

    await phone.context.set_offline(True)
    try:
        await page.reload()
        stops = page.get_by_test_id("stop")
        await stops.first.wait_for()
        assert await stops.count() == 5
        assert CJK.search(await stops.first.inner_text())
        assert await page.get_by_test_id("route-line").get_attribute("d")  # the route, drawn without tiles
        await page.wait_for_function(  # the cover picture, from the saved copy
            "document.querySelector('[data-testid=tour-cover]')?.complete"
            " && document.querySelector('[data-testid=tour-cover]').naturalWidth === 960"
        )
        await page.get_by_test_id("play-2").click()
        await page.wait_for_function(
            """() => { const a = document.querySelector('[data-testid=tour-audio]');
                       return a && a.readyState >= 2 && a.currentTime > 0.3 }"""
        )
        audio = await page.evaluate(
            "(() => { const a = document.querySelector('[data-testid=tour-audio]');"
            " return {src: a.src, error: a.error && a.error.code, duration: a.duration} })()"
        )
        assert audio["src"].startswith("blob:") and audio["error"] is None and audio["duration"] > 10
        # a plaque's page of a saved tour opens too
        await phone.open("/pois/qingguo-zhao-yuanren-residence")
        await page.get_by_role("heading", name="赵元任故居").wait_for()
    finally:
        await phone.context.set_offline(False)
    assert not [e for e in phone.errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e]
    await phone.open(f"/tours/{TOUR}")

    await page.get_by_test_id("remove-offline").click()
    await page.get_by_test_id("save-offline").wait_for()
    assert await page.evaluate("caches.open('cx-saved-tours').then(c => c.keys()).then(k => k.length)") == 0


async def test_the_guide_follows_the_walk_and_offers_the_narration_on_arrival(phone: Phone) -> None:
    page = phone.page
    await phone.context.grant_permissions(["geolocation"])
    await phone.context.set_geolocation({"latitude": 31.77900, "longitude": 119.95600})  # ~300 m north
    await phone.open(f"/tours/{TOUR}")
    await page.get_by_test_id("guide-start").click()
    nxt = page.get_by_test_id("guide-next")
    await nxt.wait_for()
    assert await nxt.get_attribute("data-order") == "1"
    assert 280 <= int(await nxt.get_attribute("data-distance")) <= 320
    assert "周有光故居" in await nxt.inner_text()
    await page.get_by_test_id("route-here").wait_for()

    await phone.context.set_geolocation({"latitude": 31.77700, "longitude": 119.95600})  # closer
    await page.wait_for_function("document.querySelector('[data-testid=guide-next]').dataset.distance < 100")

    await phone.context.set_geolocation({"latitude": 31.77633, "longitude": 119.95603})  # at the door
    arrived = page.get_by_test_id("guide-arrived")
    await arrived.wait_for()
    assert await arrived.get_attribute("data-order") == "1"
    await page.wait_for_function("document.querySelector('[data-testid=guide-next]').dataset.order === '2'")
    assert 90 <= int(await nxt.get_attribute("data-distance")) <= 115  # 八桂堂 is about 100 m on
    await shot(phone, "tour-guide-zh")
    await page.get_by_test_id("guide-listen").click()
    await page.wait_for_function(
        "(() => { const a = document.querySelector('[data-testid=tour-audio]');"
        " return a.src.includes('qingguo-zhou-youguang-residence.zh.opus') && a.currentTime > 0 })()"
    )
    assert not phone.errors


async def test_tour_screens_in_both_languages(phone: Phone) -> None:
    page = phone.page
    await phone.open("/tours")
    cards = page.get_by_test_id("tour-card")
    await cards.first.wait_for()
    assert await cards.count() >= 8
    await shot(phone, "tours-zh")
    await phone.open(f"/tours/{TOUR}")
    await page.get_by_test_id("stop").first.wait_for()
    await shot(phone, "tour-zh")
    await page.get_by_test_id("lang-toggle").click()
    await page.get_by_role("heading", name="Qingguo Lane: Half a History of Changzhou").wait_for()
    assert not CJK.search(await page.get_by_test_id("stop").first.inner_text())
    await shot(phone, "tour-en")
    await phone.open("/tours")
    await page.get_by_text("Nanshan Bamboo Sea Trail").wait_for()
    await shot(phone, "tours-en")
    assert not phone.errors


async def test_a_plaque_opens_the_poi_page(phone: Phone) -> None:
    page = phone.page
    await phone.open("/pois/qingguo-bagui-hall")
    await page.get_by_role("heading", name="八桂堂").wait_for()
    assert "唐荆川" in await page.get_by_test_id("poi-text").inner_text()
    await page.get_by_role("link", name="青果巷：半部常州史").wait_for()
    await shot(phone, "poi-zh")
    await page.get_by_test_id("lang-toggle").click()
    await page.get_by_role("heading", name="Bagui Hall").wait_for()
    assert "osmanthus" in await page.get_by_test_id("poi-text").inner_text()
    await shot(phone, "poi-en")
    await phone.open("/pois/no-such-place")
    await page.get_by_role("alert").wait_for()
    assert not [e for e in phone.errors if "404" not in e]


async def test_exhibition_gallery_swipes_zooms_and_links_to_mirador(phone: Phone) -> None:
    page = phone.page
    await phone.open("/exhibitions")
    cards = page.get_by_test_id("exhibition-card")
    await cards.first.wait_for()
    assert await cards.count() >= 4
    await shot(phone, "exhibitions-zh")
    await cards.first.click()
    position = page.get_by_test_id("gallery-position")
    await position.wait_for()
    assert (await position.inner_text()).replace(" ", "") == "1/6"
    first = await page.get_by_test_id("gallery-commentary").inner_text()
    await shot(phone, "exhibition-zh")
    # swipe left with a finger (touch events through the DevTools protocol)
    box = await page.get_by_test_id("gallery-image").first.bounding_box()
    y = box["y"] + box["height"] / 2
    cdp = await phone.context.new_cdp_session(page)
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": box["x"] + 300, "y": y}]})
    for x in range(280, 20, -40):
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": box["x"] + x, "y": y}]})
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await page.wait_for_function("document.querySelector('[data-testid=gallery-position]').textContent.includes('2')")
    assert await page.get_by_test_id("gallery-commentary").inner_text() != first
    await page.get_by_test_id("gallery-next").click()
    await page.wait_for_function("document.querySelector('[data-testid=gallery-position]').textContent.includes('3')")

    mirador = await page.get_by_test_id("mirador-link").get_attribute("href")
    manifest = await page.get_by_test_id("manifest-link").get_attribute("href")
    assert manifest.endswith("/api/v1/exhibitions/changzhou-museum-treasures/manifest.json")
    assert mirador == f"https://projectmirador.org/embed/?iiif-content={quote(manifest, safe='')}"

    await page.get_by_test_id("gallery-image").nth(2).click()  # deep zoom (tests/e2e/test_exhibition_zoom.py)
    await page.get_by_test_id("zoom-viewer").wait_for()
    await page.get_by_test_id("zoom-close").click()
    await page.get_by_test_id("zoom-viewer").wait_for(state="detached")
    await page.get_by_test_id("lang-toggle").click()
    await page.get_by_role("heading", name="Treasures of the Dragon City: From the Changzhou Museum").wait_for()
    assert not CJK.search(await page.get_by_test_id("gallery-commentary").inner_text())
    await shot(phone, "exhibition-en")
    await phone.open("/exhibitions")
    await page.get_by_text("Needle and Paper", exact=False).first.wait_for()
    await shot(phone, "exhibitions-en")
    assert not phone.errors


# ---- Mirador, a real IIIF viewer, on another origin ----


@pytest.fixture(scope="module")
def mirador_js() -> Path:
    """Mirador's UMD build from the npm registry (`npm pack`, cached under var/; never in the PWA)."""
    target = ROOT / "var" / f"mirador-{MIRADOR_VERSION}" / "mirador.min.js"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        out = subprocess.run(
            ["npm", "pack", f"mirador@{MIRADOR_VERSION}", "--json", "--pack-destination", str(target.parent)],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"Mirador could not be had from the npm registry: {exc}")
    tarball = target.parent / json.loads(out.stdout)[0]["filename"]
    with tarfile.open(tarball) as tar:
        member = tar.getmember("package/dist/mirador.min.js")
        target.write_bytes(tar.extractfile(member).read())
    tarball.unlink()
    return target


@pytest.fixture
def viewer_site(tmp_path: Path, mirador_js: Path) -> Iterator[tuple[str, Path]]:
    """A second, plain static web server (another origin: another port) for the viewer's page."""
    (tmp_path / "mirador.min.js").symlink_to(mirador_js)
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


async def test_our_manifest_opens_in_mirador_from_another_origin(phone: Phone, viewer_site) -> None:
    page = phone.page
    viewer, folder = viewer_site
    manifest = f"{phone.base_url}/api/v1/exhibitions/needle-and-paper/manifest.json"
    html = f"""<!doctype html><html><head><meta charset="utf-8"><title>Mirador</title>
      <meta name="viewport" content="width=device-width, initial-scale=1"></head>
      <body style="margin:0"><div id="viewer" style="position:absolute;inset:0"></div>
      <script src="mirador.min.js"></script>
      <script>window.mirador = Mirador.viewer({{ id: 'viewer',
        windows: [{{ manifestId: {json.dumps(manifest)}, thumbnailNavigationPosition: 'far-bottom' }}],
        window: {{ defaultSideBarPanel: 'annotations', sideBarOpenByDefault: true }} }});</script>
      </body></html>"""
    (folder / "index.html").write_text(html, encoding="utf-8")
    iiif: list[tuple[str, int]] = []  # the image service: Mirador deep-zooms from the Manifest
    page.on("response", lambda r: iiif.append((r.url, r.status)) if "/iiif/" in r.url else None)
    await page.goto(f"{viewer}/index.html")
    await page.wait_for_function(
        f"""() => {{ const m = window.mirador && window.mirador.store.getState().manifests[{json.dumps(manifest)}];
                    return m && !m.isFetching && (m.json || m.error) }}"""
    )
    state = await page.evaluate(
        f"(() => {{ const m = window.mirador.store.getState().manifests[{json.dumps(manifest)}];"
        " return {error: m.error || null, canvases: m.json && m.json.items.length} })()"
    )
    assert state == {"error": None, "canvases": 6}, "\n".join(phone.errors)
    # the viewer shows our label (in the phone's language, zh-Hans), the six canvases as thumbnails,
    # and the first canvas's commentary annotations in both languages
    await page.get_by_text("针与纸：乱针绣和金坛刻纸").first.wait_for()
    await page.get_by_text("Yang Shouyu of Changzhou invented random-stitch embroidery").wait_for()
    await page.get_by_text("乱针绣由常州人杨守玉在上世纪三十年代创立").wait_for()
    await page.locator(".openseadragon-canvas canvas").first.wait_for(state="attached")
    for _ in range(50):  # its OpenSeadragon reads the picture's info.json, then asks for tiles
        if any(url.endswith(".jpg") for url, _ in iiif):
            break
        await page.wait_for_timeout(200)
    assert any(url.endswith("/iiif/needle-and-paper~random-stitch-technique/info.json") for url, _ in iiif), iiif
    assert any(url.endswith("/default.jpg") for url, _ in iiif) and all(status == 200 for _, status in iiif), iiif
    await shot(phone, "mirador")
    assert not [e for e in phone.errors if "CORS" in e or "manifest" in e.lower()]
