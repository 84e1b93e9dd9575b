"""The price of a booking, worked out on the server per visitor: each visitor's ticket type (asked for, or
chosen from the resident ID's birth date), the venue's rule for that type applied to the full price of
the visitor's place (the slot's price, or the seat's zone price at a performance). The total is the sum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from backend.lib.id_documents import IdType
from backend.lib.problems import InvalidInput, NotFound
from backend.lib.ticket_types import DEFAULT_RULES, PriceRule, Ticket, TicketType, ticket_for
from backend.reservations.ports import PerformanceTarget, Place, Ticketing
from backend.reservations.schemas import BookingRequest
from backend.reservations.tables import Visitor


@dataclass(frozen=True)
class PricedVisitor:
    ticket: Ticket
    place: Place


@dataclass(frozen=True)
class Asked:
    """One visitor as priced: the document (for the birth date) and the type asked for, if any."""

    id_type: IdType
    id_number: str
    ticket_type: TicketType | None


async def venue_rules(ticketing: Ticketing | None, venue_slug: str) -> Mapping[TicketType, PriceRule]:
    return await ticketing.rules(venue_slug) if ticketing is not None else DEFAULT_RULES


def price_party(
    asked: Sequence[Asked], places: Sequence[Place], visit_day: date, rules: Mapping[TicketType, PriceRule]
) -> list[PricedVisitor]:
    """Each visitor's ticket at their place (one place per visitor, in order). 400
    `ticket_type_not_eligible` / `ticket_type_not_offered` name the visitor."""
    return [
        PricedVisitor(
            ticket_for(a.ticket_type, a.id_type, a.id_number, visit_day, place.full_fen, rules, position=i), place
        )
        for i, (a, place) in enumerate(zip(asked, places, strict=True))
    ]


def price_rows(
    rows: Sequence[Visitor],
    data: BookingRequest,
    numbers: Sequence[str],
    places: Sequence[Place],
    visit_day: date,
    rules: Mapping[TicketType, PriceRule],
) -> int:
    """Price each visitor's row (type, price, gate check, seat) and answer the total."""
    asked = [Asked(v.id_type, n, v.ticket_type) for v, n in zip(data.visitors, numbers, strict=True)]
    priced = price_party(asked, places, visit_day, rules)
    for row, p in zip(rows, priced, strict=True):
        row.ticket_type = p.ticket.ticket_type
        row.price_fen = p.ticket.price_fen
        row.check_at_gate = p.ticket.check_at_gate
        row.seat_id = p.place.seat_id
        row.seat_label = p.place.seat_label
    return sum(p.ticket.price_fen for p in priced)


async def performance_target(
    user_id: int, data: BookingRequest, ticketing: Ticketing | None
) -> PerformanceTarget | None:
    """Exactly one of a slot and a performance; a performance's places come from the tickets room."""
    if (data.slot_id is None) == (data.performance_id is None):
        raise InvalidInput("target_required", "give exactly one of slot_id and performance_id", field="slot_id")
    if data.performance_id is None:
        return None
    if data.waitlist:
        raise InvalidInput("waitlist_not_offered", "performances have no waitlist", field="waitlist")
    if ticketing is None:
        raise NotFound("performance_not_found", "no such performance")
    return await ticketing.performance_target(user_id, data.performance_id, data.hold_id, data.zone, len(data.visitors))
