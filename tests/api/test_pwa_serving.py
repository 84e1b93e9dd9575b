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
