"""Cloud exhibitions (issue 8): the city's exhibitions through the API, every Manifest checked against
the IIIF Presentation 3.0 rules for the properties we use, cross-origin reads, images and publishing."""

from __future__ import annotations

import re
import struct
import uuid
from datetime import timedelta

import pytest

from backend.lib.clock import clock
from tests.api.publishing_helpers import content_for

pytestmark = pytest.mark.anyio

ORIGIN = "https://viewer.example.org"
PRESENTATION_3 = "http://iiif.io/api/presentation/3/context.json"
RIGHTS = re.compile(
    r"^https?://(creativecommons\.org/(licenses|publicdomain)/[a-z0-9\-/.]+/|rightsstatements\.org/vocab/[A-Za-z\-]+/[0-9.]+/)$"
)
HTTP_URI = re.compile(r"^https?://[^\s]+$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def is_language_map(value) -> bool:
    """IIIF 3.0 §4.3: a JSON object whose keys are BCP 47 tags (or "none") and values arrays of strings."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(re.fullmatch(r"[a-zA-Z]{2,3}(-[A-Za-z0-9]+)*|none", k) for k in value)
        and all(isinstance(v, list) and v and all(isinstance(s, str) and s for s in v) for v in value.values())
    )


def check_resource(obj: dict, type_: str, errors: list[str], where: str) -> None:
    if not isinstance(obj, dict):
        errors.append(f"{where}: not an object")
        return
    if obj.get("type") != type_:
        errors.append(f"{where}: type is {obj.get('type')!r}, not {type_!r}")
    if not isinstance(obj.get("id"), str) or not HTTP_URI.match(obj["id"]):
        errors.append(f"{where}: id {obj.get('id')!r} is not an HTTP(S) URI")


def validate_manifest(m: dict) -> list[str]:
    """The Presentation 3.0 requirements for a Manifest and what it contains, as far as we use them."""
    errors: list[str] = []
    context = m.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if PRESENTATION_3 not in contexts or (isinstance(context, list) and context[-1] != PRESENTATION_3):
        errors.append("@context must be (or end with) the Presentation 3 context")
    check_resource(m, "Manifest", errors, "manifest")
    for prop in ("label", "summary"):
        if not is_language_map(m.get(prop)):
            errors.append(f"manifest {prop} is not a language map")
    required = m.get("requiredStatement")
    if not (
        isinstance(required, dict) and is_language_map(required.get("label")) and is_language_map(required.get("value"))
    ):
        errors.append("requiredStatement must have label and value language maps")
    if not isinstance(m.get("rights"), str) or not RIGHTS.match(m["rights"]):
        errors.append(f"rights {m.get('rights')!r} is not a Creative Commons or RightsStatements.org URI")
    items = m.get("items")
    if not isinstance(items, list) or not items:
        errors.append("manifest items must be a non-empty list of Canvases")
        return errors
    ids: list[str] = [m.get("id")]
    canvas_ids = set()
    for i, canvas in enumerate(items):
        where = f"canvas {i}"
        check_resource(canvas, "Canvas", errors, where)
        canvas_ids.add(canvas.get("id"))
        ids.append(canvas.get("id"))
        if not is_language_map(canvas.get("label")):
            errors.append(f"{where}: label is not a language map")
        for dim in ("height", "width"):
            if not (isinstance(canvas.get(dim), int) and canvas[dim] > 0):
                errors.append(f"{where}: {dim} must be a positive integer")
        pages = canvas.get("items")
        if not (isinstance(pages, list) and pages):
            errors.append(f"{where}: items must be a non-empty list of AnnotationPages")
            continue
        for page in pages:
            check_resource(page, "AnnotationPage", errors, f"{where} page")
            ids.append(page.get("id"))
            for anno in page.get("items", []):
                check_resource(anno, "Annotation", errors, f"{where} annotation")
                ids.append(anno.get("id"))
                if anno.get("motivation") != "painting":
                    errors.append(f"{where}: content annotation motivation must be painting")
                if anno.get("target") != canvas.get("id"):
                    errors.append(f"{where}: painting annotation must target its canvas")
                body = anno.get("body", {})
                check_resource(body, "Image", errors, f"{where} body")
                if not str(body.get("format", "")).startswith("image/"):
                    errors.append(f"{where}: image format must be an image/* media type")
                if not (body.get("width") == canvas.get("width") and body.get("height") == canvas.get("height")):
                    errors.append(f"{where}: image size must match the canvas")
        for page in canvas.get("annotations", []):
            check_resource(page, "AnnotationPage", errors, f"{where} annotations")
            ids.append(page.get("id"))
            for anno in page.get("items", []):
                check_resource(anno, "Annotation", errors, f"{where} commentary")
                ids.append(anno.get("id"))
                if anno.get("motivation") != "commenting":
                    errors.append(f"{where}: commentary motivation must be commenting")
                body = anno.get("body", {})
                if body.get("type") != "TextualBody" or not body.get("value") or not body.get("language"):
                    errors.append(f"{where}: commentary body must be a TextualBody with value and language")
    for r, rng in enumerate(m.get("structures", [])):
        check_resource(rng, "Range", errors, f"range {r}")
        ids.append(rng.get("id"))
        if not is_language_map(rng.get("label")):
            errors.append(f"range {r}: label is not a language map")
        for ref in rng.get("items", []):
            if ref.get("type") != "Canvas" or ref.get("id") not in canvas_ids:
                errors.append(f"range {r}: {ref} does not reference a canvas of this manifest")
    if len(ids) != len(set(ids)):
        errors.append("ids are not unique")
    return errors


async def all_exhibitions(client, lang="zh") -> list[dict]:
    res = await client.get("/api/v1/exhibitions", params={"limit": 200, "lang": lang})
    assert res.status_code == 200
    return res.json()["items"]


async def test_at_least_4_exhibitions_of_6_items_in_both_languages(client):
    zh, en = await all_exhibitions(client), await all_exhibitions(client, "en")
    assert len(zh) >= 4
    for a, b in zip(zh, en, strict=True):
        assert a["item_count"] >= 6 and RIGHTS.match(a["rights"])
        assert CJK.search(a["title"]) and not CJK.search(b["title"]) and a["title"] != b["title"]
        detail_zh = (await client.get(f"/api/v1/exhibitions/{a['slug']}")).json()
        detail_en = (await client.get(f"/api/v1/exhibitions/{a['slug']}", params={"lang": "en"})).json()
        for x, y in zip(detail_zh["items"], detail_en["items"], strict=True):
            assert CJK.search(x["label"]) and CJK.search(x["commentary"])
            assert not CJK.search(y["label"]) and not CJK.search(y["commentary"]) and len(y["commentary"]) >= 80
            assert x["audio_url"].endswith(".zh.opus") and y["audio_url"].endswith(".en.opus")


async def test_every_manifest_is_valid_iiif_presentation_3(client):
    for exhibition in await all_exhibitions(client):
        res = await client.get(f"/api/v1/exhibitions/{exhibition['slug']}/manifest.json")
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("application/ld+json")
        assert PRESENTATION_3 in res.headers["content-type"]
        manifest = res.json()
        assert validate_manifest(manifest) == [], exhibition["slug"]
        assert manifest["id"] == exhibition["manifest_url"] == str(res.url)
        assert (
            manifest["label"]["zh-Hans"] == [exhibition["title"]] and manifest["label"]["en"][0] != exhibition["title"]
        )
        assert len(manifest["items"]) == exhibition["item_count"] >= 6
        assert len(manifest["structures"]) >= 2
        in_ranges = [ref["id"] for rng in manifest["structures"] for ref in rng["items"]]
        assert sorted(in_ranges) == sorted(c["id"] for c in manifest["items"])  # every item in one section
        for canvas in manifest["items"]:
            langs = {a["body"]["language"] for a in canvas["annotations"][0]["items"]}
            assert langs == {"zh-Hans", "en"}


async def test_the_validator_catches_what_is_wrong(client):
    manifest = (await client.get("/api/v1/exhibitions/needle-and-paper/manifest.json")).json()
    manifest["label"] = "a plain string"
    manifest["rights"] = "all rights reserved"
    manifest["items"][0]["width"] = "960"
    manifest["items"][1]["items"][0]["items"][0]["motivation"] = "commenting"
    errors = " | ".join(validate_manifest(manifest))
    for expected in ("label is not a language map", "rights", "width must be a positive integer", "must be painting"):
        assert expected in errors


async def test_images_are_phone_sized_and_match_their_canvas(client):
    total = 0
    for exhibition in await all_exhibitions(client):
        manifest = (await client.get(f"/api/v1/exhibitions/{exhibition['slug']}/manifest.json")).json()
        for canvas in manifest["items"]:
            image = canvas["items"][0]["items"][0]["body"]
            res = await client.get(image["id"].removeprefix("http://testserver.local"))
            assert res.status_code == 200 and res.headers["content-type"] == image["format"] == "image/png"
            width, height = struct.unpack(">II", res.content[16:24])
            assert (width, height) == (canvas["width"], canvas["height"]) and max(width, height) <= 1200
            total += len(res.content)
    assert total < 10_000_000


async def test_manifest_answers_a_cross_origin_request_and_its_preflight(client):
    url = "/api/v1/exhibitions/changzhou-museum-treasures/manifest.json"
    res = await client.get(url, headers={"Origin": ORIGIN})
    assert res.status_code == 200 and res.headers["access-control-allow-origin"] == "*"
    pre = await client.options(
        url,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "accept"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "GET" in pre.headers["access-control-allow-methods"]
    assert pre.headers["access-control-allow-headers"] == "accept"
    image = (await client.get(url)).json()["items"][0]["items"][0]["items"][0]["body"]["id"]
    res = await client.get(image.removeprefix("http://testserver.local"), headers={"Origin": ORIGIN})
    assert res.headers["access-control-allow-origin"] == "*"
    listing = await client.get("/api/v1/exhibitions", headers={"Origin": ORIGIN})
    assert listing.headers["access-control-allow-origin"] == "*"


async def test_a_manifest_missing_is_a_cross_origin_readable_404(client):
    res = await client.get("/api/v1/exhibitions/nope/manifest.json", headers={"Origin": ORIGIN})
    assert res.status_code == 404 and res.headers["content-type"].startswith("application/problem+json")


async def move(client, headers, item_id: int, *states: str, **extra) -> dict:
    """Move an exhibition through the publishing API (`POST /admin/exhibitions/{id}/transition`)."""
    body: dict = {}
    for state in states:
        res = await client.post(
            f"/api/v1/admin/exhibitions/{item_id}/transition", json={"to": state, **extra}, headers=headers
        )
        assert res.status_code == 200, res.text
        body = res.json()
    return body


async def test_only_published_exhibitions_are_public(client, make_account):
    h = (await make_account("marketer"))["headers"]
    slug = "bamboo-and-boxwood"
    listed = (await client.get("/api/v1/admin/exhibitions", params={"limit": 200}, headers=h)).json()["items"]
    item_id = next(i["id"] for i in listed if i["slug"] == slug)
    await move(client, h, item_id, "draft", "in_review")
    try:
        assert slug not in [e["slug"] for e in await all_exhibitions(client)]
        assert (await client.get(f"/api/v1/exhibitions/{slug}/manifest.json")).status_code == 404
    finally:
        await move(client, h, item_id, "published")
    assert (await client.get(f"/api/v1/exhibitions/{slug}/manifest.json")).status_code == 200


async def test_a_scheduled_exhibition_is_public_once_due(client, make_account):
    """An exhibition of the test's own, scheduled an hour ahead: its manifest is public once the clock
    reaches that hour (whether or not the publishing sweep has flipped its state yet)."""
    h = (await make_account("marketer"))["headers"]
    slug = f"test-scheduled-show-{uuid.uuid4().hex[:6]}"
    made = await client.post(
        "/api/v1/admin/exhibitions",
        headers=h,
        json={
            "slug": slug,
            "title": {"zh": "定时开幕的展览", "en": "A show that opens on time"},
            "rights": "https://creativecommons.org/licenses/by/4.0/",
        },
    )
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    await content_for("exhibitions", item_id)
    publish_at = (clock.now() + timedelta(hours=1)).replace(microsecond=0)
    try:
        await move(client, h, item_id, "in_review")
        scheduled = await move(client, h, item_id, "scheduled", publish_at=publish_at.isoformat())
        assert scheduled["status"] == "scheduled"
        assert (await client.get(f"/api/v1/exhibitions/{slug}/manifest.json")).status_code == 404
        clock.set(publish_at + timedelta(seconds=5))
        assert (await client.get(f"/api/v1/exhibitions/{slug}/manifest.json")).status_code == 200
    finally:
        await move(client, h, item_id, "archived")  # no test meets it afterwards


async def test_admin_shape_has_both_languages(client):
    from backend.exhibitions.services import exhibition_admin
    from backend.exhibitions.tables import Exhibition

    row = await Exhibition.select(Exhibition.id).where(Exhibition.slug == "liu-haisu-huangshan").first()
    admin = await exhibition_admin(row["id"])
    assert admin.title["zh"] == "刘海粟：十上黄山" and admin.title["en"] == "Liu Haisu: Ten Climbs of Mount Huang"
    assert len(admin.items) == 6 and admin.items[0].label["en"] == "A young painter (illustration)"
