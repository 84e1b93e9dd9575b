"""Online shows (云演艺, issue 18, 4): HLS made with ffmpeg from a sample the project generates, served
only through signed URLs that expire; a free show streams for everyone, a paid one only for holders of a
confirmed ticket for a performance of its event."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.lib.clock import clock
from tests.api.reservation_helpers import visitor
from tests.api.ticket_helpers import book_hold, hold, performance

pytestmark = pytest.mark.anyio

FREE = "jiangnan-sizhu-online"
PAID = "xiju-pearl-pagoda-online"  # holders of a xiju-weekend-classics ticket


async def test_shows_are_listed_and_a_free_one_streams_for_everyone(client):
    listed = (await client.get("/api/v1/shows")).json()
    assert {s["slug"] for s in listed["items"]} >= {FREE, PAID}
    show = (await client.get(f"/api/v1/shows/{FREE}")).json()
    assert show["free"] is True and show["access"] == "free" and show["duration_s"] == 24
    url = show["stream"]["hls_url"]
    playlist = await client.get(url)
    assert playlist.status_code == 200 and playlist.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    text = playlist.text
    assert text.startswith("#EXTM3U") and "#EXT-X-ENDLIST" in text, "a whole recording: seekable"
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(segments) == 6 and all("sig=" in s and "exp=" in s for s in segments)
    segment = await client.get(f"/api/v1/shows/{FREE}/hls/{segments[3]}")
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
    assert segment.content[:1] == b"\x47", "an MPEG-TS packet"
    en = (await client.get(f"/api/v1/shows/{FREE}?lang=en")).json()
    assert en["title"].startswith("Online:")


async def test_a_stream_url_stops_working_when_it_expires_or_is_forged(client):
    show = (await client.get(f"/api/v1/shows/{FREE}")).json()
    url = show["stream"]["hls_url"]
    query = parse_qs(urlsplit(url).query)
    exp, sig = int(query["exp"][0]), query["sig"][0]
    forged = await client.get(f"/api/v1/shows/{PAID}/hls/index.m3u8", params={"exp": exp, "sig": sig})
    assert forged.status_code == 401 and forged.json()["code"] == "stream_signature_invalid"
    longer = await client.get(f"/api/v1/shows/{FREE}/hls/index.m3u8", params={"exp": exp + 3600, "sig": sig})
    assert longer.status_code == 401, "the expiry is signed"
    clock.set(clock.now() + timedelta(seconds=601))
    late = await client.get(url)
    assert late.status_code == 401 and late.json()["code"] == "stream_expired"
    assert (await client.get(f"/api/v1/shows/{FREE}/hls/seg001.ts", params={"exp": exp, "sig": sig})).status_code == 401
    fresh = (await client.get(f"/api/v1/shows/{FREE}")).json()["stream"]["hls_url"]
    assert (await client.get(fresh)).status_code == 200, "opening the show again gives a fresh URL"
    assert (await client.get(f"/api/v1/shows/{FREE}/hls/..%2Fsecret", params={"exp": exp, "sig": sig})).status_code in (
        400,
        404,
    )


async def test_a_paid_show_streams_only_for_ticket_holders(client, make_account):
    anonymous = (await client.get(f"/api/v1/shows/{PAID}")).json()
    assert anonymous["free"] is False and "stream" not in anonymous and anonymous["access"] == "sign_in"
    me = await make_account("tourist")
    mine = (await client.get(f"/api/v1/me/shows/{PAID}", headers=me["headers"])).json()
    assert "stream" not in mine and mine["access"] == "ticket_required"
    pid = await performance(event_slug="xiju-weekend-classics", zones={"A": 0, "B": 0, "C": 0, "D": 0})
    held = (await hold(client, me, pid, count=1, zone="D")).json()
    booked = await book_hold(client, me, pid, held["hold_id"], [visitor()])
    assert booked.status_code == 201 and booked.json()["status"] == "confirmed"
    holder = (await client.get(f"/api/v1/me/shows/{PAID}", headers=me["headers"])).json()
    assert holder["access"] == "holder" and holder["stream"]["hls_url"].startswith(f"/api/v1/shows/{PAID}/hls/")
    assert (await client.get(holder["stream"]["hls_url"])).status_code == 200
    assert (await client.get("/api/v1/shows/no-such-show")).status_code == 404
