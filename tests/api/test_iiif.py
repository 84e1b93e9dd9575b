"""Deep zoom (issue 21): every exhibition picture is a IIIF Image API 3.0 service (level 1) whose tiles the server
cuts, so OpenSeadragon and Mirador zoom from the Manifest. What they ask is answered with the right pixels; what
the service does not do is a 4xx problem with a stable code, never a 500; identifiers name nothing but pictures."""

from __future__ import annotations

import asyncio
import io
import math
from pathlib import Path

import pytest
from PIL import Image

from backend.exhibitions import image_service

pytestmark = pytest.mark.anyio

IMAGE_3 = "http://iiif.io/api/image/3/context.json"
IDENT = "needle-and-paper~papercut-fish"
BASE = f"/iiif/{IDENT}"


def picture(res) -> Image.Image:
    return Image.open(io.BytesIO(res.content))


def assert_problem(res, status: int, code: str) -> None:
    assert res.status_code == status, (res.status_code, res.text[:300])
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == code
    assert res.headers["access-control-allow-origin"] == "*"


async def test_info_json_describes_the_picture_its_tiles_and_sizes(client):
    res = await client.get(f"{BASE}/info.json", headers={"Origin": "https://viewer.example.org"})
    assert res.status_code == 200
    assert res.headers["access-control-allow-origin"] == "*"
    assert "max-age=" in res.headers["cache-control"]
    info = res.json()
    assert info["@context"] == IMAGE_3
    assert info["id"] == f"http://testserver.local{BASE}"
    assert info["type"] == "ImageService3"
    assert info["protocol"] == "http://iiif.io/api/image"
    assert info["profile"] == "level1"
    with Image.open("content/media/exhibitions/needle-and-paper/papercut-fish.png") as original:
        assert (info["width"], info["height"]) == original.size
    [tiles] = info["tiles"]
    assert tiles["width"] == 512
    factors = tiles["scaleFactors"]
    assert factors[0] == 1 and all(b == 2 * a for a, b in zip(factors, factors[1:], strict=False))
    assert max(info["width"], info["height"]) / factors[-1] <= 512  # the coarsest scale is one tile
    widths = [s["width"] for s in info["sizes"]]
    assert widths == sorted(widths) and info["sizes"][-1] == {"width": info["width"], "height": info["height"]}
    # JSON-LD when asked for it
    ld = await client.get(f"{BASE}/info.json", headers={"Accept": "application/ld+json"})
    assert ld.headers["content-type"].startswith("application/ld+json")
    assert IMAGE_3 in ld.headers["content-type"]


async def test_a_viewer_on_another_origin_gets_its_preflight_answered(client):
    for path in (f"{BASE}/info.json", f"{BASE}/full/max/0/default.jpg"):
        res = await client.options(
            path,
            headers={
                "Origin": "https://viewer.example.org",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "accept",
            },
        )
        assert res.status_code == 204
        assert res.headers["access-control-allow-origin"] == "*"
        assert "GET" in res.headers["access-control-allow-methods"]


async def test_the_base_uri_redirects_to_info_json(client):
    res = await client.get(BASE)
    assert res.status_code == 303
    assert res.headers["location"].endswith(f"{BASE}/info.json")


async def test_every_listed_tile_has_its_pixel_size_and_is_a_jpeg(client):
    info = (await client.get(f"{BASE}/info.json")).json()
    width, height = info["width"], info["height"]
    for factor in info["tiles"][0]["scaleFactors"]:
        span = 512 * factor
        for y in range(0, height, span):
            for x in range(0, width, span):
                w, h = min(span, width - x), min(span, height - y)
                size = f"{math.ceil(w / factor)},{math.ceil(h / factor)}"
                res = await client.get(f"{BASE}/{x},{y},{w},{h}/{size}/0/default.jpg")
                assert res.status_code == 200, res.text
                assert res.headers["content-type"] == "image/jpeg"
                assert res.headers["access-control-allow-origin"] == "*"
                assert "max-age=2592000" in res.headers["cache-control"]
                assert "content-encoding" not in res.headers  # a JPEG is not gzipped again
                tile = picture(res)
                assert tile.format == "JPEG"
                assert tile.size == (math.ceil(w / factor), math.ceil(h / factor))
    # OpenSeadragon's IIIF 3 form (w,h) and the `w,` form give the same tile
    res = await client.get(f"{BASE}/512,512,448,512/448,/0/default.jpg")
    assert picture(res).size == (448, 512)


async def test_a_tile_shows_that_part_of_the_picture(client):
    res = await client.get(f"{BASE}/0,512,512,512/512,512/0/default.jpg")
    with Image.open("content/media/exhibitions/needle-and-paper/papercut-fish.png") as original:
        expected = original.convert("RGB").crop((0, 512, 512, 1024)).resize((8, 8))
    got = picture(res).convert("RGB").resize((8, 8))
    diff = sum(
        abs(a - b)
        for pa, pb in zip(got.getdata(), expected.getdata(), strict=True)
        for a, b in zip(pa, pb, strict=True)
    )
    assert diff / (8 * 8 * 3) < 12  # JPEG's loss only


@pytest.mark.parametrize(
    ("region", "size", "expected"),
    [
        ("full", "max", (960, 1200)),
        ("full", "240,", (240, 300)),
        ("full", ",600", (480, 600)),
        ("full", "!200,200", (160, 200)),
        ("full", "pct:25", (240, 300)),
        ("square", "100,100", (100, 100)),
        ("pct:0,0,50,50", "max", (480, 600)),
        ("900,1100,500,500", "max", (60, 100)),  # a region past the edge is cut at the edge
    ],
)
async def test_scaled_images_and_regions(client, region, size, expected):
    res = await client.get(f"{BASE}/{region}/{size}/0/default.jpg")
    assert res.status_code == 200, res.text
    assert picture(res).size == expected


async def test_webp_is_offered_and_served(client):
    info = (await client.get(f"{BASE}/info.json")).json()
    assert "webp" in info["extraFormats"]
    res = await client.get(f"{BASE}/full/240,/0/default.webp")
    assert res.headers["content-type"] == "image/webp"
    assert picture(res).format == "WEBP" and picture(res).size == (240, 300)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("full/max/0/default.gif", 400, "iiif_bad_format"),
        ("full/max/0/default", 400, "iiif_bad_format"),
        ("full/max/0/gray.jpg", 400, "iiif_bad_quality"),
        ("full/max/0/bitonal.jpg", 400, "iiif_bad_quality"),
        ("full/max/90/default.jpg", 400, "iiif_bad_rotation"),
        ("full/max/!0/default.jpg", 400, "iiif_bad_rotation"),
        ("full/max/abc/default.jpg", 400, "iiif_bad_rotation"),
        ("nowhere/max/0/default.jpg", 400, "iiif_bad_region"),
        ("0,0,0,10/max/0/default.jpg", 400, "iiif_bad_region"),
        ("960,0,10,10/max/0/default.jpg", 400, "iiif_bad_region"),  # wholly outside
        ("0,5000,10,10/max/0/default.jpg", 400, "iiif_bad_region"),
        ("-1,0,10,10/max/0/default.jpg", 400, "iiif_bad_region"),
        ("1,2,3/max/0/default.jpg", 400, "iiif_bad_region"),
        ("99999999999,0,1,1/max/0/default.jpg", 400, "iiif_bad_region"),
        ("full/^max/0/default.jpg", 400, "iiif_bad_size"),  # no upscaling
        ("full/^2000,/0/default.jpg", 400, "iiif_bad_size"),
        ("full/2000,/0/default.jpg", 400, "iiif_bad_size"),  # larger than the picture
        ("0,0,100,100/101,/0/default.jpg", 400, "iiif_bad_size"),
        ("full/0,/0/default.jpg", 400, "iiif_bad_size"),
        ("full/,/0/default.jpg", 400, "iiif_bad_size"),
        ("full/!100,/0/default.jpg", 400, "iiif_bad_size"),
        ("full/pct:0/0/default.jpg", 400, "iiif_bad_size"),
        ("full/pct:150/0/default.jpg", 400, "iiif_bad_size"),
        ("full/big/0/default.jpg", 400, "iiif_bad_size"),
    ],
)
async def test_what_the_service_does_not_do_is_a_coded_400(client, path, status, code):
    assert_problem(await client.get(f"{BASE}/{path}"), status, code)


@pytest.mark.parametrize(
    "identifier",
    [
        "needle-and-paper~no-such-item",
        "no-such-exhibition~papercut-fish",
        "needle-and-paper",
        "needle-and-paper~papercut-fish.png",
        "..~..~etc~passwd",
        "..%2F..%2Fsettings.py",
        "%2e%2e~papercut-fish",
        "needle-and-paper~..%2F..%2F..%2Fpyproject",
        "Needle-And-Paper~Papercut-Fish",
    ],
)
async def test_unknown_and_traversing_identifiers_are_404(client, identifier):
    for path in (f"/iiif/{identifier}/info.json", f"/iiif/{identifier}/full/max/0/default.jpg"):
        res = await client.get(path)
        assert res.status_code == 404, (path, res.status_code)
        assert res.headers["content-type"].startswith("application/problem+json")
        if "%2F" not in identifier:  # an encoded slash may end in the router's own 404
            assert res.json()["code"] == "iiif_not_found"


@pytest.mark.parametrize(
    "path",
    [
        "/iiif/%00/info.json",
        "/iiif/%FF%FE/info.json",
        f"{BASE}/%00/max/0/default.jpg",
        f"{BASE}/full/%FF/0/default.jpg",
        f"{BASE}/full/max/%00/default.jpg",
        f"{BASE}/full/max/0/default.%00",
        f"{BASE}/0,0,99999999999999999999999,1/max/0/default.jpg",
        f"{BASE}/full/99999999999999999999,/0/default.jpg",
        f"{BASE}/full/pct:99999999999999999999/0/default.jpg",
    ],
)
async def test_nasty_input_is_a_4xx_problem_never_a_500(client, path):
    res = await client.get(path)
    assert 400 <= res.status_code < 500, (path, res.status_code)
    assert res.headers["content-type"].startswith("application/problem+json")


def test_identifiers_are_slug_pairs_only():
    assert image_service.identifier_for("/media/exhibitions/needle-and-paper/papercut-fish.png") == IDENT
    for path in ("/media/exhibitions/../x.png", "/media/illustrations/venues/a.webp", "/media/exhibitions/a/b/c.png"):
        assert image_service.identifier_for(path) is None


async def test_the_manifest_references_each_pictures_image_service(client):
    manifest = (await client.get("/api/v1/exhibitions/needle-and-paper/manifest.json")).json()
    for canvas in manifest["items"]:
        body = canvas["items"][0]["items"][0]["body"]
        [service] = body["service"]
        assert service["type"] == "ImageService3" and service["profile"] == "level1"
        res = await client.get(service["id"].removeprefix("http://testserver.local") + "/info.json")
        assert res.status_code == 200
        info = res.json()
        assert info["id"] == service["id"]
        assert (info["width"], info["height"]) == (body["width"], body["height"]) == (canvas["width"], canvas["height"])


async def test_a_listed_tile_is_cut_once_and_then_served_from_the_cache(client, app, monkeypatch):
    settings = app.state.settings
    info = (await client.get(f"{BASE}/info.json")).json()
    span = 512 * info["tiles"][0]["scaleFactors"][1]  # scale factor 2
    w, h = min(span, info["width"]), min(span, info["height"])
    size = f"{math.ceil(w / 2)},{math.ceil(h / 2)}"
    path = f"{BASE}/0,0,{w},{h}/{size}/0/default.jpg"  # scale factor 2's first tile
    wanted = image_service.parse_request(f"0,0,{w},{h}", size, "0", "default.jpg", info["width"], info["height"])
    assert wanted.listed
    cached = image_service.cache_path(settings.media_cache_dir, IDENT, wanted)
    cached.unlink(missing_ok=True)

    cuts = []
    real_cut = image_service.cut

    def counting_cut(*args):
        cuts.append(args)
        return real_cut(*args)

    monkeypatch.setattr(image_service, "cut", counting_cut)
    first = await asyncio.gather(*(client.get(path) for _ in range(6)))  # many ask at once: one cut
    assert {r.status_code for r in first} == {200}
    assert len(cuts) == 1
    assert cached.is_file()

    def no_cut(*_args):
        raise AssertionError("cut again")

    monkeypatch.setattr(image_service, "cut", no_cut)
    second = await client.get(path)
    assert second.status_code == 200 and second.content == first[0].content


async def test_each_item_of_an_exhibition_names_its_image_service(client):
    detail = (await client.get("/api/v1/exhibitions/needle-and-paper")).json()
    for item in detail["items"]:
        assert item["image_service"] == f"http://testserver.local/iiif/needle-and-paper~{item['key']}"
        info = (await client.get(item["image_service"].removeprefix("http://testserver.local") + "/info.json")).json()
        assert (info["width"], info["height"]) == (item["width"], item["height"])


def test_load_content_cuts_every_listed_tile_ahead(tmp_path):
    """`changxiang load-content` cuts what info.json lists (make_all_tiles), so a replica rarely cuts on request."""
    content = tmp_path / "content"
    pictures = content / "media" / "exhibitions" / "needle-and-paper"
    pictures.mkdir(parents=True)
    (pictures / "papercut-fish.png").write_bytes(
        Path("content/media/exhibitions/needle-and-paper/papercut-fish.png").read_bytes()
    )
    (pictures / "notes.txt").write_text("not a picture")
    cache = tmp_path / "cache"
    listed = image_service.listed_requests(960, 1200)
    # 512 px tiles at factors 1, 2 and 4, and the three sizes: factor 4's one tile is the smallest size
    assert len(listed) == 6 + 2 + 1 + 3 - 1
    assert image_service.make_all_tiles(content, cache) == len(listed)
    for request in listed:
        with Image.open(image_service.cache_path(cache, IDENT, request)) as tile:
            assert tile.size == request.size
    assert image_service.make_all_tiles(content, cache) == 0  # kept while newer than the picture
