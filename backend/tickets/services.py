"""Tickets for events and performances (issue 18): the room's public face.

- ticket types and concessions per venue, and the quote (`rules`);
- performances of events with price zones and places left (`performances`); booking one is
  `ReservationService.book` with a `performance_id`, through the `Ticketing` port this room implements;
- seat maps and seat holds that never sell a seat twice (`seating`);
- online shows with signed, short-lived HLS URLs (`shows`).
"""

from __future__ import annotations

from collections.abc import Mapping

from backend.events.schemas import EventTicketing, TicketedPerformance, TicketZone
from backend.lib.auth import AuthUser
from backend.lib.i18n import Lang
from backend.lib.ticket_types import PriceRule, TicketType
from backend.reservations.ports import PerformanceTarget
from backend.tickets import performances, rules, seating, shows
from backend.tickets.schemas import (
    HoldIn,
    HoldOut,
    PerformanceOut,
    QuoteOut,
    QuoteRequest,
    SeatMapOut,
    ShowOut,
    TicketTypeList,
)


class TicketService:
    # ---- ticket types and the quote

    async def ticket_types(self, venue_slug: str, lang: Lang) -> TicketTypeList:
        return await rules.ticket_types(venue_slug, lang)

    async def quote(self, user: AuthUser, data: QuoteRequest, lang: Lang) -> QuoteOut:
        target = None
        if data.performance_id is not None:
            target = await performances.target(
                user.id, data.performance_id, data.hold_id, data.zone, len(data.visitors)
            )
        return await rules.quote(data, target, lang)

    # ---- performances and seats

    async def performance(self, performance_id: int) -> PerformanceOut:
        return await performances.performance_out(await performances.performance_row(performance_id))

    async def seat_map(self, performance_id: int, lang: Lang) -> SeatMapOut:
        return await seating.seat_map(performance_id, lang)

    async def hold(self, user: AuthUser, performance_id: int, data: HoldIn) -> HoldOut:
        return await seating.hold(user, performance_id, data)

    async def release_hold(self, user: AuthUser, performance_id: int, hold_id: str) -> None:
        await seating.release(user, performance_id, hold_id)

    async def event_ticketing(self, event_slug: str) -> EventTicketing | None:
        """`ticketing` of `GET /events/{slug}` (bound into events by create_app)."""
        rows = await performances.upcoming(event_slug)
        if not rows:
            return None
        out = []
        for row in rows:
            p = await performances.performance_out(row)
            out.append(
                TicketedPerformance(
                    id=p.id,
                    starts_at=p.starts_at,
                    ends_at=p.ends_at,
                    seat_map=p.seat_map,
                    price_zones=[TicketZone(z.zone, z.price_fen, z.remaining) for z in p.price_zones],
                    remaining=p.remaining,
                    status=p.status,
                )
            )
        return EventTicketing(performances=out)

    # ---- online shows

    async def shows(self, lang: Lang) -> list[ShowOut]:
        return await shows.list_shows(lang)

    async def show(self, slug: str, user: AuthUser | None, lang: Lang) -> ShowOut:
        return await shows.show(slug, user, lang)

    async def stream_file(self, slug: str, name: str, exp: int, sig: str) -> tuple[bytes, str]:
        return await shows.stream_file(slug, name, exp, sig)


tickets = TicketService()


class BookingTicketing:
    """The tickets side of a booking (`reservations.ports.Ticketing`), bound by create_app."""

    async def rules(self, venue_slug: str) -> Mapping[TicketType, PriceRule]:
        return await rules.venue_rules(venue_slug)

    async def performance_target(
        self, user_id: int, performance_id: int, hold_id: str | None, zone: str | None, party: int
    ) -> PerformanceTarget:
        return await performances.target(user_id, performance_id, hold_id, zone, party)

    async def sell_hold(self, target: PerformanceTarget, user_id: int, reservation_id: int) -> bool:
        return await performances.sell_hold(target, user_id, reservation_id)


booking_ticketing = BookingTicketing()
