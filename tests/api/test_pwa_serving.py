"""The app serves the PWA build at / and the app shell for client-side routes."""

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _built() -> None:
    assert (ROOT / "pwa" / "dist" / "index.html").is_file(), "the PWA is not built: `make test` builds it"


async def test_root_and_deep_links_serve_the_shell(client):
    root = await client.get("/")
    assert root.status_code == 200 and '<div id="app"' in root.text
    deep = await client.get("/venues/anything")
    assert deep.status_code == 200 and deep.text == root.text
    assert deep.headers["content-type"].startswith("text/html")


async def test_manifest_and_service_worker_are_served(client):
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    data = manifest.json()
    assert data["display"] == "standalone" and data["start_url"] == "/"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any("maskable" in icon.get("purpose", "") for icon in data["icons"])
    assert (await client.get("/sw.js")).status_code == 200


async def test_missing_asset_is_404_not_the_shell(client):
    assert (await client.get("/assets/nothing-1234.js")).status_code == 404
    assert (await client.get("/api/v1/nothing")).status_code == 404


async def test_a_venue_page_preloads_its_hero_picture_in_the_sizes_the_page_shows(client):
    """Issue 21 (Lighthouse): the venue page's largest paint is its hero picture; the shell names it in a
    preload with the same srcset and sizes as the page's <img> (VenueThumb big: 100vw), so the browser fetches it
    with the page. A venue we don't know gets the plain shell."""
    venue = (await client.get("/api/v1/venues/changzhou-museum")).json()
    hero = venue["images"][0]
    page = await client.get("/venues/changzhou-museum")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    head = page.text.split("</head>", 1)[0]
    stem = hero.removeprefix("/media/")
    srcset = ", ".join(f"/media/w/{w}/{stem} {w}w" for w in (320, 640, 960, 1280))
    assert (
        f'<link rel="preload" as="image" href="{hero}" imagesrcset="{srcset}" imagesizes="100vw" '
        'fetchpriority="high">' in head
    )
    for candidate in srcset.split(", "):
        assert (await client.get(candidate.split(" ")[0])).status_code == 200
    assert 'id="app"' in page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert (await client.head("/venues/changzhou-museum")).status_code == 200  # as the fallback answered HEAD
    plain = await client.get("/venues/no-such-venue")
    assert plain.status_code == 200 and "preload" not in plain.text.split("</head>", 1)[0].replace("modulepreload", "")
