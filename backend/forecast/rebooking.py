"""Rebooking on disruption (issue 19): when a directive closes or limits a venue, a CAP warning covers it, or
staff close a slot, each holder of a disrupted booking gets exactly one offer — another slot of the same
venue, a slot at an alternative venue of the same kind nearby (indoors when the warning is about weather),
or a refund — open until it expires.

The offers hear of disruptions through reservations' `booking_disrupted` signal (connected by create_app),
inside the transaction that records the disruption; one offer per booking and disrupted slot (a unique
key). A booking its slot's closure ended is taken over: its refund is owed by the offer (the holder's
choice, or the offer's expiry). Accepting is exactly once: the offer's `open → accepted` is one
conditional UPDATE in the same write transaction as the move (seats taken in the new slot before they are
given back in the old, `reservations.moves`) or the refund (the payments port's path, once per reason).
Choices don't hold seats: holders who pick the same slot race for it, and the database decides.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from backend.forecast.schemas import AcceptOut, Choice, ChoiceIn, ChoiceKind, OfferOut
from backend.forecast.services import forecasts
from backend.forecast.simulation import INDOOR_CATEGORIES
from backend.forecast.tables import RebookingOffer
from backend.lib import live_events
from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import write_transaction
from backend.lib.geo import distance_m
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.occupancy.services import RANK
from backend.reservations import waitlist
from backend.reservations.disruptions import DisruptedBooking, Disruption
from backend.reservations.moves import move_booking
from backend.reservations.services import reservations
from backend.reservations.tables import Notification, Reservation, Slot
from backend.venues.schemas import ComfortLevel
from backend.venues.services import VenueRecord, catalog

log = logging.getLogger("changxiang.forecast.rebooking")

OFFER_HOURS = 24
MOVE_CHOICES = 3
ALTERNATIVES = 2
ALTERNATIVE_RADIUS_M = 60_000.0  # the city's area: Liyang to Xinbei is about 60 km
SEARCH_DAYS = 3  # the disrupted day and the next ones, within the venue's booking window
CLOSED_REFUND = "slot_closed"  # the reason a closure's refund is owed under (the same as without offers)
CHOSEN_REFUND = "disruption_refund"  # a still-valid booking given up for its money back
SWEEP_BATCH = 100


def _offer_out(row: dict[str, Any]) -> OfferOut:
    chosen = row["chosen"]
    return OfferOut(
        id=str(row["public_id"]),
        reservation_id=str(row["reservation.public_id"]),
        reason=row["reason"],
        choices=msgspec.json.decode(row["choices"], type=list[Choice]),
        expires_at=row["expires_at"].astimezone(CITY_TZ),
        status=row["status"],
        venue_slug=row["venue_slug"],
        created_at=row["created_at"].astimezone(CITY_TZ),
        detail=row["detail"] or "",
        chosen=msgspec.json.decode(chosen, type=Choice) if chosen else None,
    )


def _hour_of(at: datetime) -> datetime:
    return at.astimezone(CITY_TZ).replace(minute=0, second=0, microsecond=0)


_OFFER_COLUMNS = (*RebookingOffer.all_columns(), RebookingOffer.reservation.public_id)


class RebookingService:
    # ---------------------------------------------------------------- making offers

    async def on_booking_disrupted(self, booking: DisruptedBooking) -> None:
        """`booking_disrupted`'s receiver: one offer for the booking (inside the sender's transaction)."""
        now = clock.now()
        expires = now + timedelta(hours=OFFER_HOURS)
        if not booking.ended:
            expires = min(expires, booking.starts_at)  # a still-valid booking: until its visit starts
        if expires <= now:
            return
        d = booking.disruption
        choices = await self._choices(booking, now)
        key = f"{booking.reservation_id}|{booking.slot_id}"
        encoded = msgspec.json.encode(choices).decode()
        inserted = (
            await RebookingOffer.insert(
                RebookingOffer(
                    public_id=uuid.uuid4(),
                    offer_key=key,
                    user_id=booking.user_id,
                    reservation=booking.reservation_id,
                    venue_slug=booking.venue_slug,
                    slot_id=booking.slot_id,
                    reason=d.reason,
                    detail=d.detail[:300],
                    weather=d.weather,
                    ended_booking=booking.ended,
                    choices=encoded,
                    status="open",
                    created_at=now,
                    expires_at=expires,
                )
            )
            .on_conflict(target=RebookingOffer.offer_key, action="DO NOTHING")
            .returning(RebookingOffer.id)
        )
        if not inserted:
            existing = await RebookingOffer.select().where(RebookingOffer.offer_key == key).first()
            if existing is None or existing["status"] == "accepted":
                return  # a choice was made for this slot already; nothing more to offer
            if existing["status"] == "open" and (existing["ended_booking"] or not booking.ended):
                if booking.ended:
                    booking.take_over()
                return  # the one offer stands
            # the booking's slot closed under a standing (or lapsed) offer: the same offer, now owing the refund
            await RebookingOffer.update(
                {
                    RebookingOffer.status: "open",
                    RebookingOffer.ended_booking: existing["ended_booking"] or booking.ended,
                    RebookingOffer.reason: d.reason,
                    RebookingOffer.detail: d.detail[:300],
                    RebookingOffer.choices: encoded,
                    RebookingOffer.expires_at: expires,
                    RebookingOffer.resolved_at: None,
                }
            ).where(RebookingOffer.id == existing["id"])
        if booking.ended:
            booking.take_over()
        await Notification.insert(
            Notification(
                user_id=booking.user_id,
                kind="rebooking_offer",
                reservation_public_id=booking.public_id,
                venue_slug=booking.venue_slug,
                detail=d.detail[:300] or None,
            )
        )
        if d.reason != "warning":  # a warning's own message reaches the holder's stream first, then the offer
            live_events.publish(
                "notifications",
                {"user_id": booking.user_id, "kind": "rebooking_offer", "venue_slug": booking.venue_slug},
            )

    async def _choices(self, booking: DisruptedBooking, now: datetime) -> list[Choice]:
        record = await catalog.record(booking.venue_slug)
        slot = await Slot.select(Slot.price_fen, Slot.starts_at).where(Slot.id == booking.slot_id).first()
        if record is None or slot is None:
            return [Choice(kind="refund")]
        price = slot["price_fen"]
        day = max(slot["starts_at"].astimezone(CITY_TZ).date(), clock.city_today())
        d = booking.disruption
        moves = await self._free_slots(record, booking, day, price, now, avoid=d, limit=MOVE_CHOICES)
        choices = [self._choice("move", record, s, level) for s, level in moves]
        for alt in await self._alternatives(record, d, price):
            found = await self._free_slots(alt, booking, day, price, now, avoid=None, limit=1)
            if found:
                s, level = found[0]
                choice = self._choice("alternative", alt, s, level)
                choice.distance_m = round(distance_m(record.point, alt.point))
                choices.append(choice)
            if sum(c.kind == "alternative" for c in choices) >= ALTERNATIVES:
                break
        choices.append(Choice(kind="refund"))
        return choices

    @staticmethod
    def _choice(kind: ChoiceKind, record: VenueRecord, slot: dict[str, Any], level: ComfortLevel | None) -> Choice:
        return Choice(
            kind=kind,
            slot_id=slot["id"],
            venue_slug=record.row["slug"],
            starts_at=slot["starts_at"].astimezone(CITY_TZ),
            ends_at=slot["ends_at"].astimezone(CITY_TZ),
            venue_name=record.row["name_zh"],
            comfort_level=level,
        )

    async def _alternatives(self, record: VenueRecord, d: Disruption, price: int) -> list[VenueRecord]:
        """Venues of the same kind (indoors when the warning is about weather) that book by slot at the
        same price, not disrupted themselves, nearest first within the city."""
        records = (await catalog.snapshot()).records
        category = record.row["category"]
        wanted = INDOOR_CATEGORIES if d.weather else frozenset({category})
        out = []
        for other in records:
            r = other.row
            if r["slug"] == record.row["slug"] or r["slug"] in d.venues or not r["reservation_required"]:
                continue
            if r["category"] not in wanted or r["price_fen"] != price:
                continue
            distance = distance_m(record.point, other.point)
            if distance <= ALTERNATIVE_RADIUS_M:
                out.append((r["category"] != category, distance, other))
        return [o for _, _, o in sorted(out, key=lambda x: (x[0], x[1]))]

    async def _free_slots(
        self,
        record: VenueRecord,
        booking: DisruptedBooking,
        first_day: date,
        price: int,
        now: datetime,
        avoid: Disruption | None,
        limit: int,
    ) -> list[tuple[dict[str, Any], ComfortLevel | None]]:
        """Open slots of the venue with seats for the party, from `first_day` on (its booking window), the
        disrupted slot and the disruption's window left out: the calmest of the first day that has any (by
        the forecast), then the nearest in time to the disrupted visit."""
        row = record.row
        slug = row["slug"]
        horizon = clock.city_today() + timedelta(days=row["advance_days"])
        last_day = min(first_day + timedelta(days=SEARCH_DAYS), horizon)
        window = avoid.window if avoid is not None and slug in avoid.venues else None
        day = first_day
        while day <= last_day:
            await reservations.ensure_slots(row, day)
            rows = (
                await Slot.select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.booked)
                .where(
                    (Slot.venue_slug == slug)
                    & (Slot.local_date == day)
                    & (Slot.status == "open")
                    & (Slot.price_fen == price)
                    & (Slot.starts_at > now)
                    & (Slot.id != booking.slot_id)
                )
                .order_by(Slot.starts_at)
            )
            free = [
                r
                for r in rows
                if r["capacity"] - r["booked"] >= booking.party_size
                and not (window is not None and r["starts_at"] < window[1] and r["ends_at"] > window[0])
            ]
            if free:
                levels = {h.starts_at: h.comfort_level for h in await forecasts.hours(record, day, day)}
                rated = [(r, levels.get(_hour_of(r["starts_at"]))) for r in free]
                visit = booking.starts_at
                rated.sort(key=lambda x: (RANK.get(x[1] or "comfortable", 0), abs(x[0]["starts_at"] - visit)))
                return rated[:limit]
            day += timedelta(days=1)
        return []

    # ---------------------------------------------------------------- the holder's side

    async def mine(self, user: AuthUser) -> list[OfferOut]:
        rows = (
            await RebookingOffer.select(*_OFFER_COLUMNS)
            .where(RebookingOffer.user_id == user.id)
            .order_by(RebookingOffer.id, ascending=False)
            .limit(50)
        )
        return [_offer_out(r) for r in rows]

    async def _one(self, user: AuthUser, offer_id: str) -> dict[str, Any]:
        try:
            key = uuid.UUID(offer_id)
        except ValueError:
            raise NotFound("offer_not_found", "no such offer") from None
        row = await (
            RebookingOffer.select(*_OFFER_COLUMNS)
            .where((RebookingOffer.public_id == key) & (RebookingOffer.user_id == user.id))
            .first()
        )
        if row is None:  # someone else's offer is indistinguishable from none
            raise NotFound("offer_not_found", "no such offer")
        return row

    async def accept(self, user: AuthUser, offer_id: str, choice: ChoiceIn) -> AcceptOut:
        """Take one of the offer's choices, once: move (or revive) the booking into the chosen slot, or
        refund it. 409 `offer_closed` when the offer was taken or has expired; a move the seats or the
        visitors' other bookings refuse leaves the offer open (`slot_full`, `duplicate_visitor`)."""
        row = await self._one(user, offer_id)
        now = clock.now()
        if row["status"] != "open" or row["expires_at"] <= now:
            raise Conflict("offer_closed", f"the offer is {'expired' if row['status'] == 'open' else row['status']}")
        offered = msgspec.json.decode(row["choices"], type=list[Choice])
        match = next(
            (
                c
                for c in offered
                if c.kind == choice.kind
                and (choice.kind == "refund" or (c.slot_id == choice.slot_id and choice.slot_id is not None))
                and (choice.venue_slug is None or choice.venue_slug == c.venue_slug)
            ),
            None,
        )
        if match is None:
            raise InvalidInput("offer_choice_invalid", "choose one of the offer's choices", field="choice")
        reservation_id: int = row["reservation"]
        ended: bool = row["ended_booking"]
        payments = reservations.payments()
        moved = None
        old_slot = await Reservation.select(Reservation.slot).where(Reservation.id == reservation_id).first()
        async with write_transaction():
            claimed = (
                await RebookingOffer.update(
                    {
                        RebookingOffer.status: "accepted",
                        RebookingOffer.chosen: msgspec.json.encode(match).decode(),
                        RebookingOffer.resolved_at: now,
                    }
                )
                .where(
                    (RebookingOffer.id == row["id"])
                    & (RebookingOffer.status == "open")
                    & (RebookingOffer.expires_at > now)
                )
                .returning(RebookingOffer.id)
            )
            if not claimed:
                raise Conflict("offer_closed", "the offer was taken meanwhile")
            if match.slot_id is not None:
                moved = await move_booking(reservation_id, match.slot_id, revive=ended)
            elif ended:
                await payments.owe_refund(reservation_id, CLOSED_REFUND)
            elif not await waitlist.end_booking(
                reservation_id, "cancelled", "rebooking_refund", refund=(payments, CHOSEN_REFUND)
            ):
                raise Conflict("reservation_changed", "the booking changed meanwhile; reload it")
        refund = None
        if match.kind == "refund":
            refund = await payments.refund_reservation(reservation_id, CLOSED_REFUND if ended else CHOSEN_REFUND)
        if old_slot is not None and not ended:
            await waitlist.promote(old_slot["slot"])  # the seats given back go to the old slot's waitlist
        log.info("rebooking offer accepted", extra={"offer": offer_id, "choice": match.kind})
        accepted = await self._one(user, offer_id)
        status = await Reservation.select(Reservation.status).where(Reservation.id == reservation_id).first()
        return AcceptOut(
            offer=_offer_out(accepted),
            reservation_id=str(accepted["reservation.public_id"]),
            reservation_status=status["status"] if status else "cancelled",
            slot_id=moved.to_slot if moved else None,
            venue_slug=moved.venue_slug if moved else None,
            refund=refund,
        )

    # ---------------------------------------------------------------- expiry

    async def sweep(self) -> int:
        """Offers past their time expire (each once, across replicas); one owing a closed booking's refund
        owes it now and asks the provider (the sweeper retries what fails). How many expired."""
        now = clock.now()
        due = (
            await RebookingOffer.select(RebookingOffer.id, RebookingOffer.reservation, RebookingOffer.ended_booking)
            .where((RebookingOffer.status == "open") & (RebookingOffer.expires_at <= now))
            .order_by(RebookingOffer.id)
            .limit(SWEEP_BATCH)
        )
        payments = reservations.payments()
        refund: list[int] = []
        expired = 0
        for offer in due:
            async with write_transaction():
                claimed = (
                    await RebookingOffer.update({RebookingOffer.status: "expired", RebookingOffer.resolved_at: now})
                    .where((RebookingOffer.id == offer["id"]) & (RebookingOffer.status == "open"))
                    .returning(RebookingOffer.id)
                )
                if not claimed:
                    continue
                expired += 1
                if offer["ended_booking"] and await payments.owe_refund(offer["reservation"], CLOSED_REFUND):
                    refund.append(offer["reservation"])
        if refund:
            await payments.refund_reservations(refund, CLOSED_REFUND)
        return expired


rebooking = RebookingService()
