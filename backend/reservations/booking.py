"""Booking a slot: real-name visitors, a replayable `Idempotency-Key`, never oversold.

`book` runs its steps in order: check the party; replay a repeated key; check the slot; work out the
booking; then in one write transaction claim the key, hold the holder to their limit, write the booking
and its visitors, take the seats (or join the waitlist) and keep the answer for replays. Seats move only
in a conditional UPDATE (`reservations.seats`); one person per venue per day is a unique key.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from backend.lib.auth import AuthUser
from backend.lib.booking_numbers import booking_number
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import HotRowQueue, fetch, is_unique_violation, lock_row, write_transaction
from backend.lib.id_documents import is_valid_id_number, normalise_id_number
from backend.lib.personal_data import mask_id_number, mask_name, vault
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.occupancy.services import occupancy
from backend.reservations import seats, waitlist
from backend.reservations.contacts import Contact, contact_for
from backend.reservations.idempotency import (
    Claim,
    IdempotencyRace,
    Replay,
    claim_for,
    claim_key,
    replay_after_race,
    store_answer,
    stored_answer,
)
from backend.reservations.ports import PerformanceTarget, Place, Ticketing
from backend.reservations.pricing import performance_target, price_rows, venue_rules
from backend.reservations.schemas import BookingRequest, ReservationOut, ReservationStatus, VisitorOut
from backend.reservations.slots import slot_by_id, slot_out
from backend.reservations.tables import Reservation, Visitor
from backend.settings import get_settings
from backend.venues.services import catalog

log = logging.getLogger("changxiang.reservations")

# a slot everyone books at once (a release, a sell-out): its writers queue here, a few in the database at once
_slot_writers = HotRowQueue()


@dataclass(frozen=True)
class _Party:
    """A booking's visitors, checked: their ID numbers normalised, and a keyed fingerprint of each."""

    numbers: list[str]
    fingerprints: list[str]


@dataclass
class _Booking:
    """A booking on its way to the database: worked out before the write, changed by taking the seats."""

    user_id: int
    public_id: uuid.UUID
    slot: dict[str, Any]
    venue_slug: str
    visit_date: date
    party_size: int
    fingerprints: list[str]
    visitors: list[Visitor]
    waitlist: bool
    status: ReservationStatus
    hold: datetime | None
    now: datetime
    cancel_cutoff_min: int
    claim: Claim | None
    amount_fen: int = 0
    target: PerformanceTarget | None = None  # a performance's places and hold (issue 18)
    ticketing: Ticketing | None = None
    contact: Contact | None = None  # the number the venue may call (issue 21)


async def book(
    user: AuthUser, data: BookingRequest, idempotency_key: str | None = None, ticketing: Ticketing | None = None
) -> ReservationOut | Replay[ReservationOut]:
    """Book the visitors of `data` into a slot, or onto its waitlist, or into a performance through the
    tickets room (`ticketing`) (the steps: the module's docstring)."""
    party = _checked_party(data)
    claim = claim_for(user, data, party.numbers, idempotency_key)
    if claim is not None and (replay := await stored_answer(claim.key, claim.request_hash, ReservationOut)) is not None:
        return replay
    target = await performance_target(user.id, data, ticketing)
    slot = await slot_by_id(target.slot_id if target else (data.slot_id or 0))
    if slot is None or (target is None and slot["kind"] == "performance"):  # seats come with performance_id
        raise NotFound("slot_not_found", "no such slot")
    now = clock.now()
    await _check_bookable(slot, now, len(data.visitors), data.waitlist)
    booking = await _prepare(user, data, party, slot, now, claim)
    # the account's own phone is read only when it has one (its token's user says so: phone_masked)
    booking.contact = (
        await contact_for(user.id, data.contact_phone) if data.contact_phone or user.phone_masked else None
    )
    booking.target, booking.ticketing = target, ticketing
    await _price(booking, data, party, ticketing)
    try:
        async with _slot_writers.turn(slot["id"]), write_transaction():
            out = await _write(booking)
    except IdempotencyRace as race:
        return await replay_after_race(race.claim, ReservationOut)
    log.info(
        "reservation booked",
        extra={
            "reservation": str(booking.public_id),
            "status": out.status,
            "party": booking.party_size,
            "venue": booking.venue_slug,
        },
    )
    return out


# ---------------------------------------------------------------- the steps of `book`, in order


def _checked_party(data: BookingRequest) -> _Party:
    """Not too many visitors, each with a valid ID number and a name, nobody twice."""
    settings = get_settings()
    if len(data.visitors) > settings.max_party_size:
        raise InvalidInput(
            "party_too_large", f"at most {settings.max_party_size} visitors per booking", field="visitors"
        )
    numbers = []
    for i, visitor in enumerate(data.visitors):
        number = normalise_id_number(visitor.id_number)
        if not is_valid_id_number(visitor.id_type, number):
            raise InvalidInput(
                "invalid_id_number",
                f"visitor {i + 1}: the {visitor.id_type} number is not valid",
                field=f"visitors[{i}].id_number",
            )
        if not visitor.name.strip():
            raise InvalidInput("invalid_name", f"visitor {i + 1}: name is empty", field=f"visitors[{i}].name")
        numbers.append(number)
    box = vault()
    fingerprints = [box.fingerprint(f"{v.id_type}:{n}") for v, n in zip(data.visitors, numbers, strict=True)]
    if len(set(fingerprints)) != len(fingerprints):
        raise Conflict("duplicate_visitor", "the same person is listed twice")
    return _Party(numbers, fingerprints)


async def _price(b: _Booking, data: BookingRequest, party: _Party, ticketing: Ticketing | None) -> None:
    """Each visitor's ticket type and price (server-side), the total, and what a free total means."""
    places = b.target.places if b.target else [Place(zone="", full_fen=b.slot["price_fen"])] * b.party_size
    rules = await venue_rules(ticketing, b.venue_slug)
    b.amount_fen = price_rows(b.visitors, data, party.numbers, places, b.visit_date, rules)
    if b.amount_fen == 0:
        b.status, b.hold = "confirmed", None
    else:
        b.status, b.hold = "pending_payment", b.now + timedelta(seconds=get_settings().payment_hold_s)


async def _check_bookable(slot: dict[str, Any], now: datetime, party_size: int, wants_waitlist: bool) -> None:
    """The slot still sells: not over, not closed, the venue not full today, seats left (or the
    waitlist is wanted). Seats are only a fast path here; taking them decides."""
    if slot["ends_at"] <= now:
        raise Conflict("slot_past", "this slot has ended")
    if slot["status"] == "closed":
        raise Conflict("venue_closed", "the venue is closed at this time")
    if slot["starts_at"].astimezone(CITY_TZ).date() == clock.city_today():  # at 1.0 same-day sales stop
        if await occupancy.sales_stopped(slot["venue_slug"]):
            raise Conflict("venue_full", "the venue is full right now: same-day booking resumes when it empties")
    if slot["booked"] + party_size > slot["capacity"] and not wants_waitlist:
        raise Conflict("slot_full", "no seats left in this slot")


async def _prepare(
    user: AuthUser, data: BookingRequest, party: _Party, slot: dict[str, Any], now: datetime, claim: Claim | None
) -> _Booking:
    """Everything the write needs, worked out before it starts (visitors encrypted, the venue's
    cancel cutoff read), so the write transaction stays short."""
    venue_slug = slot["venue_slug"]
    venue = await catalog.record(venue_slug)  # the shared snapshot: no round trip
    box = vault()
    visitors = [
        Visitor(
            position=i,
            name_enc=box.encrypt(v.name.strip(), "visitor.name"),
            name_masked=mask_name(v.name),
            id_type=v.id_type,
            id_number_enc=box.encrypt(num, "visitor.id_number"),
            id_number_masked=mask_id_number(v.id_type, num),
            id_fingerprint=fp,
        )
        for i, (v, num, fp) in enumerate(zip(data.visitors, party.numbers, party.fingerprints, strict=True))
    ]
    status: ReservationStatus = "confirmed" if slot["price_fen"] == 0 else "pending_payment"
    return _Booking(
        user_id=user.id,
        public_id=uuid.uuid4(),
        slot=slot,
        venue_slug=venue_slug,
        visit_date=slot["starts_at"].astimezone(CITY_TZ).date(),
        party_size=len(data.visitors),
        fingerprints=party.fingerprints,
        visitors=visitors,
        waitlist=data.waitlist,
        status=status,
        hold=now + timedelta(seconds=get_settings().payment_hold_s) if status == "pending_payment" else None,
        now=now,
        cancel_cutoff_min=venue.row["cancel_cutoff_minutes"] if venue is not None else 30,
        claim=claim,
    )


async def _write(b: _Booking) -> ReservationOut:
    """The write, inside the caller's write transaction; the slot row is locked only at the end."""
    await lock_row("users", b.user_id)  # one user's bookings queue behind each other: the limit holds
    if b.claim is not None:  # claim the key first: a concurrent twin waits here, then replays
        await claim_key(b.claim)
    await _check_booking_limit(b.user_id)
    reservation_id = await _insert_reservation(b)
    await _claim_visitors(b, reservation_id)
    await _insert_visitors(b, reservation_id)
    await _take_seats_or_wait(b, reservation_id)  # seats last: the slot row stays locked from here to COMMIT
    out = await _answer(b, reservation_id)
    if b.claim is not None:
        await store_answer(b.claim, 201, out)
    return out


# An account's active bookings from a day on: read through the partial index `reservations_active_by_user`
# (its migration), so the count reads at most the limit's few rows whatever the account's history.
ACTIVE_BOOKINGS_SQL = (
    "SELECT count(*) AS n FROM reservations WHERE user_id = {} AND visit_date >= {} "
    "AND status IN ('confirmed', 'pending_payment', 'waitlisted')"
)


async def _check_booking_limit(user_id: int) -> None:
    settings = get_settings()
    active = await fetch(ACTIVE_BOOKINGS_SQL, user_id, clock.city_today())
    if active[0]["n"] >= settings.max_active_bookings:
        raise Conflict("booking_limit", f"at most {settings.max_active_bookings} active bookings")


# The booking's rows, written by statements of our own through `lib.db.fetch` (Piccolo's insert built per
# call cost more CPU than the database spends on it: issue 22). Every column is named, so nothing rests
# on a database default; `tests/api/test_reservations.py` reads the rows back on both databases.
INSERT_RESERVATION_SQL = (
    "INSERT INTO reservations (public_id, user_id, slot, venue_slug, visit_date, status, party_size, "
    "amount_fen, hold_expires_at, created_at, cancelled_at, cancel_reason, entries, inside, first_entry_at, "
    "contact_phone_enc, contact_phone_masked) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, NULL, NULL, 0, {}, NULL, {}, {}) RETURNING id"
)
VISITOR_COLUMNS = (
    "reservation",
    "position",
    "name_enc",
    "name_masked",
    "id_type",
    "id_number_enc",
    "id_number_masked",
    "id_fingerprint",
    "ticket_type",
    "price_fen",
    "check_at_gate",
    "seat_id",
    "seat_label",
)
_VISITOR_ROW = "(" + ", ".join(["{}"] * len(VISITOR_COLUMNS)) + ")"


async def _insert_reservation(b: _Booking) -> int:
    inserted = await fetch(
        INSERT_RESERVATION_SQL,
        b.public_id,
        b.user_id,
        b.slot["id"],
        b.venue_slug,
        b.visit_date,
        b.status,
        b.party_size,
        b.amount_fen,
        b.hold,
        b.now,
        False,
        b.contact.sealed if b.contact else None,
        b.contact.masked if b.contact else None,
    )
    reservation_id: int = inserted[0]["id"]
    return reservation_id


async def _insert_visitors(b: _Booking, reservation_id: int) -> None:
    """The party's visitors, in one statement: each `VISITOR_COLUMNS` value read off its `Visitor`."""
    for v in b.visitors:
        v.reservation = reservation_id
    await fetch(
        f"INSERT INTO reservation_visitors ({', '.join(VISITOR_COLUMNS)}) VALUES "
        + ", ".join([_VISITOR_ROW] * len(b.visitors)),
        *[getattr(v, column) for v in b.visitors for column in VISITOR_COLUMNS],
    )


async def _claim_visitors(b: _Booking, reservation_id: int) -> None:
    """One person, one booking per venue per day: a unique key per visitor, or `duplicate_visitor`."""
    try:
        await fetch(
            "INSERT INTO visitor_claims (claim_key, reservation) VALUES " + ", ".join(["({}, {})"] * b.party_size),
            *[x for fp in b.fingerprints for x in (f"{_claim_scope(b)}|{b.visit_date}|{fp}", reservation_id)],
        )
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("duplicate_visitor", "a visitor already holds a booking at this venue on this day") from None
        raise


def _claim_scope(b: _Booking) -> str:
    """Per venue and day for timed entry; per performance for tickets (a matinee and an evening show)."""
    return f"performance:{b.target.performance_id}" if b.target else b.venue_slug


async def _take_seats_or_wait(b: _Booking, reservation_id: int) -> None:
    """Take the seats (the slot's new figures go into the answer), or join the waitlist when asked to,
    or refuse: `slot_full`."""
    taken = await seats.take(b.slot["id"], b.party_size)
    if taken:
        b.slot = {**b.slot, "booked": taken["booked"], "capacity": taken["capacity"]}
        if b.target is not None and b.target.hold_id is not None and b.ticketing is not None:
            if not await b.ticketing.sell_hold(b.target, b.user_id, reservation_id):
                raise Conflict("hold_expired", "the seats' hold has lapsed: hold them again")
    elif b.waitlist:
        b.status, b.hold = "waitlisted", None
        await Reservation.update({Reservation.status: b.status, Reservation.hold_expires_at: None}).where(
            Reservation.id == reservation_id
        )
    else:
        raise Conflict("slot_full", "no seats left in this slot")


async def _answer(b: _Booking, reservation_id: int) -> ReservationOut:
    slot = b.slot
    waitlisted = b.status == "waitlisted"
    return ReservationOut(
        id=str(b.public_id),
        number=booking_number(b.public_id),
        status=b.status,
        venue_slug=b.venue_slug,
        slot=slot_out(slot, b.now),
        visitors=[
            VisitorOut(
                name=v.name_masked,
                id_type=v.id_type,
                id_number_masked=v.id_number_masked,
                ticket_type=v.ticket_type,
                price_fen=v.price_fen,
                check_at_gate=v.check_at_gate,
                seat=v.seat_label,
                seat_id=v.seat_id,
            )
            for v in b.visitors
        ],
        party_size=b.party_size,
        amount_fen=b.amount_fen,
        currency="CNY",
        created_at=b.now.astimezone(CITY_TZ),
        hold_expires_at=b.hold.astimezone(CITY_TZ) if b.hold else None,
        cancel_deadline=None
        if waitlisted
        else (slot["starts_at"] - timedelta(minutes=b.cancel_cutoff_min)).astimezone(CITY_TZ),
        waitlist_position=await waitlist.position({"slot": slot["id"], "created_at": b.now, "id": reservation_id})
        if waitlisted
        else None,
        contact_phone_masked=b.contact.masked if b.contact else None,
    )
