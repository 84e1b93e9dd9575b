"""`/media` answers `Range` (issue 18, 6): 206 with exactly the bytes asked for, so audio and video seek on
every phone; 416 past the end; the whole file (200) without a range; nothing outside content/media."""

from __future__ import annotations

import pytest

from backend.lib.byte_ranges import parse_range
from backend.settings import get_settings

pytestmark = pytest.mark.anyio

AUDIO = "audio/biji-lane.zh.opus"


async def test_a_range_gets_206_with_those_bytes(client):
    whole = (get_settings().content_dir / "media" / AUDIO).read_bytes()
    res = await client.get(f"/media/{AUDIO}", headers={"Range": "bytes=100-199"})
    assert res.status_code == 206
    assert res.content == whole[100:200] and len(res.content) == 100
    assert res.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    assert res.headers["accept-ranges"] == "bytes" and res.headers["content-type"].startswith("audio/ogg")
    assert res.headers["access-control-allow-origin"] == "*"
    tail = await client.get(f"/media/{AUDIO}", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole[-10:]
    first = await client.get(f"/media/{AUDIO}", headers={"Range": "bytes=0-1"})  # what Safari asks first
    assert first.status_code == 206 and first.content == whole[:2]
    rest = await client.get(f"/media/{AUDIO}", headers={"Range": f"bytes={len(whole) - 5}-"})
    assert rest.content == whole[-5:]


async def test_no_range_or_a_bad_one_gets_the_file_and_past_the_end_416(client):
    whole = (get_settings().content_dir / "media" / AUDIO).read_bytes()
    plain = await client.get(f"/media/{AUDIO}")
    assert plain.status_code == 200 and plain.content == whole and plain.headers["accept-ranges"] == "bytes"
    assert (await client.get(f"/media/{AUDIO}", headers={"Range": "bytes=0-1,5-6"})).status_code == 200
    past = await client.get(f"/media/{AUDIO}", headers={"Range": f"bytes={len(whole)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(whole)}"
    head = await client.head(f"/media/{AUDIO}", headers={"Range": "bytes=100-199"})
    assert head.status_code == 206 and head.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    assert (await client.get("/media/nope.png")).status_code == 404
    assert (await client.get("/media/..%2F..%2Fpyproject.toml")).status_code in (400, 404)


def test_parse_range():
    assert parse_range("bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=90-200", 100) == (90, 99)
    assert parse_range("bytes=-200", 100) == (0, 99)
    assert parse_range("bytes=100-", 100) == "unsatisfiable"
    assert parse_range("bytes=9-3", 100) is None and parse_range("items=0-1", 100) is None
    assert parse_range(None, 100) is None and parse_range("bytes=-", 100) is None
