"""The heap settled after start-up and after the finder's index is rebuilt (backend/lib/heap.py): what
lives as long as the process is out of the garbage collector's scans, which otherwise stop every
request for a full collection of it."""

from __future__ import annotations

import gc

import pytest
from litestar.stores.memory import MemoryStore

from backend.amenities import services
from backend.amenities.index import AmenityIndex
from backend.lib import heap
from backend.lib.geo import parse_point
from backend.settings import get_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def freezing(monkeypatch):
    monkeypatch.setenv("CHANGXIANG_GC_FREEZE", "true")
    get_settings.cache_clear()
    yield
    gc.unfreeze()  # back into the oldest generation: the rest of the suite collects as before
    monkeypatch.undo()
    get_settings.cache_clear()


def _scanned(obj: object) -> bool:
    """Whether a collection would walk `obj` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


async def test_a_rebuilt_index_is_out_of_the_collectors_scans(client, freezing):
    index = AmenityIndex()
    index.configure(MemoryStore())
    await index.refresh()
    assert index.records, "the city's places are loaded"
    row = index.records[0].row
    assert gc.get_freeze_count() > 0
    assert not _scanned(row) and not _scanned(index.grid)


async def test_objects_made_after_settling_are_collected_as_before(freezing):
    assert heap.settle(collect=True)
    later: list[object] = ["made after"]  # a list is always tracked (a dict of strings is not)
    assert _scanned(later)
    cycle: list[object] = []
    cycle.append(cycle)
    assert _scanned(cycle)


def test_turned_off_nothing_is_frozen(monkeypatch):
    monkeypatch.setenv("CHANGXIANG_GC_FREEZE", "false")
    get_settings.cache_clear()
    try:
        before = gc.get_freeze_count()
        assert heap.settle(collect=True) is False
        assert gc.get_freeze_count() == before
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_a_country_sized_index_keeps_no_answer_templates(client, monkeypatch):
    """Past `KEEP_TEMPLATES_UP_TO` places, answer structs are made per request and dropped: nothing piles
    up in the collector's oldest generation. What is kept at any size is each answered place's encoded JSON
    fragments and its opening-hours text: bytes and a string in a tuple, which the collector stops tracking.
    Within it (a city), each place's template is made once and kept too."""
    params = {"kind": "toilet", "near": "31.7795,119.9561", "limit": 10}
    assert (await client.get("/api/v1/amenities", params=params)).status_code == 200  # the index is built
    for rec in services.index.records:
        rec.templates.clear()
    monkeypatch.setattr(services, "KEEP_TEMPLATES_UP_TO", 0)
    res = await client.get("/api/v1/amenities", params=params)
    assert res.status_code == 200 and len(res.json()["items"]) == 10
    kept = [(key, value) for rec in services.index.records for key, value in rec.templates.items()]
    assert len(kept) == 10 and all(key == ("json", "zh") for key, _ in kept), kept
    gc.collect()
    assert all(isinstance(part, bytes | str) for _, value in kept for part in value)  # no container inside
    assert not any(gc.is_tracked(value) for _, value in kept)
    monkeypatch.undo()
    again = await services.amenities.nearest(
        lang="zh", near=parse_point(params["near"]), kind="toilet", radius_m=None, limit=10
    )
    assert [(i.id, i.distance_m, i.name) for i in again.items] == [
        (i["id"], i["distance_m"], i["name"]) for i in res.json()["items"]
    ]
    assert sum(1 for rec in services.index.records if "zh" in rec.templates) >= 10
