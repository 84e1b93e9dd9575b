"""Helpers for ticket tests: performances of the test's own (a hall of its own where seats matter), holds,
and bookings of held seats."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from backend.lib.clock import CITY_TZ, clock
from backend.tickets.content import HallContent, Localised, SectionContent, seat_rows
from backend.tickets.performances import create_performance
from backend.tickets.tables import Hall, Seat
from tests.api.reservation_helpers import visitor

THEATRE = "changzhou-grand-theatre"
MAIN_HALL = "changzhou-grand-theatre-main"
_n = itertools.count(1)


async def small_hall(rows: int = 2, seats: int = 10, venue: str = THEATRE) -> str:
    """A hall of the test's own: `rows` rows of `seats` seats, zone A, the last row's first seat a
    wheelchair place."""
    slug = f"test-hall-{next(_n)}-{clock.now().timestamp():.0f}"
    hall = HallContent(
        slug=slug,
        venue_slug=venue,
        name=Localised(zh="测试厅", en="Test hall"),
        section=[
            SectionContent(
                id="stalls",
                name=Localised(zh="池座", en="Stalls"),
                rows=rows,
                seats=(seats, seats),
                y=1.0,
                zones={"A": (1, rows)},
                accessible=[(rows, 1)],
            )
        ],
    )
    await Hall.insert(Hall(slug=slug, venue_slug=venue, name_zh="测试厅", name_en="Test hall"))
    await Seat.insert(*[Seat(**r) for r in seat_rows(hall)])
    return slug


async def performance(
    *,
    hall: str | None = MAIN_HALL,
    zones: dict[str, int] | None = None,
    days_ahead: int = 3,
    capacity: int | None = None,
    venue: str = THEATRE,
    event_slug: str | None = None,
) -> int:
    """A performance of the test's own, `days_ahead` days from the clock's today at 19:30."""
    day = clock.city_today() + timedelta(days=days_ahead)
    starts = datetime(day.year, day.month, day.day, 19, 30, tzinfo=CITY_TZ) + timedelta(seconds=next(_n))
    if zones is None:
        zones = {"A": 18000, "B": 12000, "C": 8000, "D": 5000} if hall == MAIN_HALL else {"A": 10000}
    return await create_performance(
        event_slug or f"test-event-{next(_n)}", venue, starts, starts + timedelta(hours=2), zones, hall, capacity
    )


async def hold(client, me, performance_id: int, **body):
    return await client.post(f"/api/v1/performances/{performance_id}/holds", headers=me["headers"], json=body)


async def book_hold(client, me, performance_id: int, hold_id: str, visitors: list[dict] | None = None, n: int = 0):
    return await client.post(
        "/api/v1/reservations",
        headers=me["headers"],
        json={
            "performance_id": performance_id,
            "hold_id": hold_id,
            "visitors": visitors if visitors is not None else [visitor() for _ in range(n)],
        },
    )
