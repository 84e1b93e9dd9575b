"""Helpers for booking tests: real resident ID numbers, and slots no other test has touched.

Days are the city's, on the clock (`backend.lib.clock`): a test that has moved the clock finds slots from
its own "today" on."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from backend.lib.clock import CITY_TZ, clock
from backend.lib.id_documents import resident_id_check_char

_serial = itertools.count(1)
_claimed_slots: set[int] = set()


def resident_id(born: str = "19900307") -> str:
    """A valid 18-character resident ID (天宁区 320402), unique per call: the sequence number has three
    digits, so every thousand calls the birth date moves on a day."""
    n = next(_serial)
    day = date(int(born[:4]), int(born[4:6]), int(born[6:8])) + timedelta(days=n // 1000)
    first17 = f"320402{day:%Y%m%d}{n % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def visitor(name: str = "张三丰") -> dict:
    return {"name": name, "id_type": "resident_id", "id_number": resident_id()}


async def fresh_slot(client, venue: str, admin_headers: dict | None = None, capacity: int | None = None) -> dict:
    """An open slot, at least a day ahead, that no other test in this run has used."""
    for days in range(1, 8):
        day = (clock.city_today() + timedelta(days=days)).isoformat()
        res = await client.get(f"/api/v1/venues/{venue}/slots", params={"date": day})
        assert res.status_code == 200, res.text
        for slot in res.json()["items"]:
            if slot["status"] == "open" and slot["id"] not in _claimed_slots and slot["remaining"] == slot["capacity"]:
                _claimed_slots.add(slot["id"])
                if capacity is not None:
                    patched = await client.patch(
                        f"/api/v1/venues/{venue}/slots/{slot['id']}", json={"capacity": capacity}, headers=admin_headers
                    )
                    assert patched.status_code == 200, patched.text
                    slot = patched.json()
                return slot
    # the suite has used every slot of the week here: add one more, like tomorrow's first (a test-only
    # slot in the test database, booked through the API as any other)
    return await _extra_slot(client, venue, admin_headers, capacity)


_extra = itertools.count(1)


async def _extra_slot(client, venue: str, admin_headers: dict | None, capacity: int | None) -> dict:
    from backend.reservations.tables import Slot

    tomorrow = clock.city_today() + timedelta(days=1)
    day_slots = await Slot.select().where(
        (Slot.venue_slug == venue) & (Slot.local_date >= tomorrow) & (Slot.local_date <= tomorrow + timedelta(days=3))
    )
    assert day_slots, f"no slots in the next days at {venue}"
    model = min(day_slots, key=lambda r: r["starts_at"])
    usual = max(r["capacity"] for r in day_slots)  # other tests lowered some capacities
    n = next(_extra)
    row = await Slot.insert(
        Slot(
            key=f"{venue}|test-extra-{n}-{model['id']}",
            venue_slug=venue,
            local_date=model["local_date"],
            starts_at=model["starts_at"] + timedelta(seconds=n),
            ends_at=model["ends_at"],
            capacity=capacity if capacity is not None else usual,
            booked=0,
            status="open",
            price_fen=model["price_fen"],
        )
    ).returning(Slot.id)
    _claimed_slots.add(row[0]["id"])
    return await slot_by_id(client, venue, row[0]["id"])


async def slot_at(
    client, venue: str, starts_at: datetime, *, minutes: int = 60, capacity: int = 50, price_fen: int | None = None
) -> dict:
    """A new open slot of the test's own at `venue`, from `starts_at` for `minutes` (its day within the
    venue's booking window): for tests that need bookings at one chosen instant. It inserts a row and
    edits none; the day's planned slots are made first (listing them), so they stay as they would be.
    `price_fen` defaults to the venue's price."""
    from backend.reservations.tables import Slot

    local_date = starts_at.astimezone(CITY_TZ).date()
    res = await client.get(f"/api/v1/venues/{venue}/slots", params={"date": local_date.isoformat()})
    assert res.status_code == 200, res.text
    if price_fen is None:
        price_fen = (await client.get(f"/api/v1/venues/{venue}")).json()["price_fen"]
    n = next(_extra)
    row = await Slot.insert(
        Slot(
            key=f"{venue}|test-at-{n}-{starts_at.isoformat()}",
            venue_slug=venue,
            local_date=local_date,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            capacity=capacity,
            booked=0,
            status="open",
            price_fen=price_fen,
        )
    ).returning(Slot.id)
    _claimed_slots.add(row[0]["id"])
    return await slot_by_id(client, venue, row[0]["id"])


async def slot_by_id(client, venue: str, slot_id: int) -> dict:
    for days in range(0, 9):
        day = (clock.city_today() + timedelta(days=days)).isoformat()
        res = await client.get(f"/api/v1/venues/{venue}/slots", params={"date": day})
        if res.status_code != 200:
            continue
        for slot in res.json()["items"]:
            if slot["id"] == slot_id:
                return slot
    raise AssertionError(f"slot {slot_id} not found")
