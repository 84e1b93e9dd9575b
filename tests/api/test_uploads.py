"""Issue 16, attachments: POST /uploads sniffs the content (not the name), limits size and length, strips
image metadata, and serves a case's files only to those who may see the case."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.api.case_helpers import OTHER_VENUE, VENUE, file_case
from tests.api.upload_helpers import GPS_IFD, mp3, photo_with_gps, upload

pytestmark = pytest.mark.anyio


async def test_a_jpeg_with_gps_comes_back_without_it(client, make_account):
    visitor = await make_account("tourist")
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    res = await upload(client, visitor, original)
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["content_type"] == "image/jpeg" and body["kind"] == "image"
    assert (body["width"], body["height"]) == (48, 64)  # the phone's rotation applied to the pixels
    stored = await client.get(body["url"], headers=visitor["headers"])
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("image/jpeg")
    assert len(stored.content) == body["bytes"]
    image = Image.open(io.BytesIO(stored.content))
    assert dict(image.getexif()) == {} and not image.getexif().get_ifd(GPS_IFD)
    assert b"Exif" not in stored.content and b"PhoneMaker" not in stored.content
    # nobody else reads it from /uploads
    stranger = await make_account("tourist")
    assert (await client.get(body["url"], headers=stranger["headers"])).status_code == 404


async def test_the_type_is_read_from_the_content_not_the_name(client, make_account):
    visitor = await make_account("tourist")
    res = await upload(client, visitor, b"<!doctype html><script>alert(1)</script>", name="cat.jpg")
    assert res.status_code == 415 and res.json()["code"] == "unsupported_file_type"
    res = await upload(client, visitor, b"\xff\xd8\xff\xe0 not really a jpeg" * 10, name="cat.jpg")
    assert res.status_code == 400 and res.json()["code"] == "invalid_image"
    png = photo_with_gps(fmt="PNG")
    res = await upload(client, visitor, png, name="page.html", content_type="text/html")
    assert res.status_code == 201 and res.json()["content_type"] == "image/png"
    webp = photo_with_gps(fmt="WEBP")
    res = await upload(client, visitor, webp, name="x.bin", content_type="application/octet-stream")
    assert res.status_code == 201 and res.json()["content_type"] == "image/webp"
    res = await client.post("/api/v1/uploads", headers=visitor["headers"], files={"other": ("a.jpg", png, "image/png")})
    assert res.status_code == 400 and res.json()["code"] == "file_required"


async def test_size_and_length_limits(client, make_account):
    visitor = await make_account("tourist")
    six_mb = b"\xff\xd8\xff\xe0" + b"\x00" * (6 * 1024 * 1024)
    res = await upload(client, visitor, six_mb)
    assert res.status_code == 413
    just_over = b"\xff\xd8\xff\xe0" + b"\x00" * (5 * 1024 * 1024)
    res = await upload(client, visitor, just_over)
    assert res.status_code == 413 and res.json()["code"] == "file_too_large"
    res = await upload(client, visitor, mp3(20), name="note.mp3", content_type="audio/mpeg")
    assert res.status_code == 201, res.text
    note = res.json()
    assert note["kind"] == "audio" and note["content_type"] == "audio/mpeg" and 19 < note["duration_s"] < 21
    stored = (await client.get(note["url"], headers=visitor["headers"])).content
    assert b"Home addr" not in stored and not stored.startswith(b"ID3")  # its tags are gone
    res = await upload(client, visitor, mp3(125), name="long.mp3", content_type="audio/mpeg")
    assert res.status_code == 400 and res.json()["code"] == "audio_too_long"


async def test_a_case_attachment_is_served_to_those_who_may_see_the_case(client, make_account):
    visitor, stranger = await make_account("tourist"), await make_account("tourist")
    staff, elsewhere = await make_account("staff", venues=(VENUE,)), await make_account("staff", venues=(OTHER_VENUE,))
    photo = (await upload(client, visitor, photo_with_gps())).json()
    theirs = (await upload(client, stranger, photo_with_gps())).json()
    res = await client.post(
        "/api/v1/cases",
        headers=visitor["headers"],
        json={"kind": "lost_found", "text": "红色背包", "venue_slug": VENUE, "attachment_ids": [theirs["id"]]},
    )
    assert res.status_code == 400 and res.json()["code"] == "unknown_attachment"
    case = await file_case(client, visitor, kind="lost_found", text="红色背包", attachment_ids=[photo["id"]])
    [attachment] = case["attachments"]
    assert attachment["id"] == photo["id"] and attachment["url"].startswith(f"/api/v1/cases/{case['id']}/")
    for who in (visitor, staff):
        res = await client.get(attachment["url"], headers=who["headers"])
        assert res.status_code == 200 and res.content[:3] == b"\xff\xd8\xff"
    for who in (stranger, elsewhere):
        assert (await client.get(attachment["url"], headers=who["headers"])).status_code == 404
    # a reply with a photo of the staff's own
    found = (await upload(client, staff, photo_with_gps(fmt="PNG"), name="found.png")).json()
    res = await client.post(
        f"/api/v1/cases/{case['id']}/messages",
        headers=staff["headers"],
        json={"text": "是这个吗？", "attachment_ids": [found["id"]]},
    )
    assert res.status_code == 201
    [reply_photo] = res.json()["attachments"]
    assert (await client.get(reply_photo["url"], headers=visitor["headers"])).status_code == 200
    # an upload id not attached to the case is not served through it
    other = f"/api/v1/cases/{case['id']}/attachments/{theirs['id']}"
    assert (await client.get(other, headers=visitor["headers"])).status_code == 404
