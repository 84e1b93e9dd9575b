"""lib.db.fetch (issue 22): the hot paths' reads straight through the driver give what Piccolo gives, and
inside a transaction they see its writes (they go through the transaction's connection)."""

from __future__ import annotations

import uuid

import pytest

from backend.lib.db import fetch, write_transaction
from backend.venues.tables import Venue

pytestmark = pytest.mark.anyio

SQL = "SELECT slug, capacity, reservation_required FROM venues WHERE slug = {} OR slug = {} ORDER BY slug"


async def test_fetch_answers_as_piccolo_does(client):
    args = ("changzhou-museum", "wujin-museum")
    ours = await fetch(SQL, *args)
    theirs = await Venue.raw(SQL, *args)
    assert ours == [dict(r) for r in theirs] and len(ours) == 2
    assert all(isinstance(r, dict) for r in ours)
    assert await fetch(SQL, "no-such-venue", "nor-this-one") == []


async def test_fetch_inside_a_transaction_sees_its_writes(client):
    slug = "changzhou-museum"
    before = (await fetch(SQL, slug, slug))[0]["capacity"]
    marker = before + 1 + uuid.uuid4().int % 1000
    try:
        async with write_transaction():
            await Venue.update({Venue.capacity: marker}).where(Venue.slug == slug)
            inside = (await fetch(SQL, slug, slug))[0]["capacity"]
            assert inside == marker  # the transaction's own connection, not another from the pool
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert (await fetch(SQL, slug, slug))[0]["capacity"] == before
