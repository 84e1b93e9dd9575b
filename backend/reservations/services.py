"""Timed-entry reservations: slots from opening hours, real-name booking that never oversells,
holds that expire by themselves, a first-come waitlist, cancellation, and staff capacity control.

Seats move only in conditional UPDATEs (`booked + n <= capacity`) inside write transactions
(`BEGIN IMMEDIATE` on SQLite); one person per venue per day is a unique key in the database.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import msgspec
from opening_hours import OpeningHours, State

from backend.lib import live_events
from backend.lib.auth import AuthUser, require_venue_staff
from backend.lib.db import is_sqlite, is_unique_violation, write_transaction
from backend.lib.id_documents import is_valid_id_number, normalise_id_number
from backend.lib.personal_data import mask_id_number, mask_name, vault
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.reservations.schemas import (
    BookingRequest,
    CancelResult,
    NotificationOut,
    ReservationOut,
    SlotList,
    SlotOut,
    SlotPatch,
    VisitorOut,
)
from backend.reservations.tables import IdempotencyRecord, Notification, Reservation, Slot, Visitor, VisitorClaim
from backend.settings import get_settings
from backend.venues.services import CITY_TZ
from backend.venues.tables import Venue

log = logging.getLogger("changxiang.reservations")

ACTIVE = ("confirmed", "pending_payment", "waitlisted")
HOLDING_SEATS = ("confirmed", "pending_payment")


def utc_now() -> datetime:
    return datetime.now(UTC)


def city_today() -> date:
    return datetime.now(CITY_TZ).date()


# ---------------------------------------------------------------- slots


def plan_slots(venue: dict, day: date) -> list[dict]:
    """The slots of `day` from the venue's OSM opening hours and its slot rules."""
    length = timedelta(minutes=venue["slot_minutes"])
    step = timedelta(minutes=venue["slot_interval_minutes"] or venue["slot_minutes"])
    start = datetime(day.year, day.month, day.day)
    hours = OpeningHours(venue["opening_hours"])
    windows = [(a, b) for a, b, state, _ in hours.intervals(start, start + timedelta(days=1)) if state == State.OPEN]
    starts: list[tuple[datetime, datetime]] = []
    for opens, closes in windows:
        t = opens
        while t + length <= closes:
            starts.append((t, t + length))
            t += step
    if not starts:
        return []
    per_slot = max(1, min(venue["capacity"], venue["daily_capacity"] // len(starts)))
    plans = []
    for a, b in starts:
        starts_at = a.replace(tzinfo=CITY_TZ).astimezone(UTC)
        plans.append(
            {
                "key": f"{venue['slug']}|{starts_at.isoformat()}",
                "venue_slug": venue["slug"],
                "local_date": day,
                "starts_at": starts_at,
                "ends_at": b.replace(tzinfo=CITY_TZ).astimezone(UTC),
                "capacity": per_slot,
                "booked": 0,
                "status": "open",
                "price_fen": venue["price_fen"],
            }
        )
    return plans


def slot_out(row: dict, now: datetime | None = None) -> SlotOut:
    remaining = max(0, row["capacity"] - row["booked"])
    if row["status"] == "closed" or row["ends_at"] <= (now or utc_now()):
        status = "closed"
    elif remaining == 0:
        status = "full"
    else:
        status = "open"
    return SlotOut(
        id=row["id"],
        starts_at=row["starts_at"].astimezone(CITY_TZ),
        ends_at=row["ends_at"].astimezone(CITY_TZ),
        capacity=row["capacity"],
        remaining=remaining,
        price_fen=row["price_fen"],
        currency="CNY",
        status=status,  # type: ignore[arg-type]
    )


_SLOT_COLUMNS = (
    Slot.id,
    Slot.venue_slug,
    Slot.starts_at,
    Slot.ends_at,
    Slot.capacity,
    Slot.booked,
    Slot.status,
    Slot.price_fen,
)


async def _venue(slug: str) -> dict:
    row = await Venue.select().where(Venue.slug == slug).first()
    if row is None:
        raise NotFound("venue_not_found", f"no venue {slug!r}")
    return row


async def _slot(slot_id: int) -> dict | None:
    return await Slot.select(*_SLOT_COLUMNS).where(Slot.id == slot_id).first()


async def _take_seats(slot_id: int, n: int) -> dict | None:
    """Hold `n` seats if they are free: one conditional UPDATE, so two requests can't both take the last.
    Returns the slot's new `booked` and `capacity`, or None when the seats weren't there."""
    rows = await Slot.raw(
        "UPDATE slots SET booked = booked + {} WHERE id = {} AND status = 'open' AND booked + {} <= capacity "
        "RETURNING booked, capacity",
        n,
        slot_id,
        n,
    )
    return rows[0] if rows else None


async def _release_seats(slot_id: int, n: int) -> None:
    await Slot.raw("UPDATE slots SET booked = booked - {} WHERE id = {} AND booked >= {}", n, slot_id, n)


def _payments():
    """The payment service (imported late: payments build on reservations)."""
    from backend.payments.services import payments

    return payments


@dataclass(frozen=True)
class Replay:
    """A repeated `Idempotency-Key`: the first answer, unchanged."""

    status_code: int
    body: ReservationOut


class _IdempotencyRace(Exception):
    pass


class _Superseded(Exception):
    pass


class ReservationService:
    # ---- slots

    async def ensure_slots(self, venue: dict, day: date) -> None:
        if await Slot.exists().where((Slot.venue_slug == venue["slug"]) & (Slot.local_date == day)):
            return
        plans = plan_slots(venue, day)
        if plans:
            await Slot.insert(*[Slot(**p) for p in plans]).on_conflict(target=Slot.key, action="DO NOTHING")

    async def list_slots(self, slug: str, day: date) -> SlotList:
        venue = await _venue(slug)
        today = city_today()
        if not venue["reservation_required"]:
            return SlotList(venue_slug=slug, date=day, reservation_required=False, items=[])
        if day < today or day > today + timedelta(days=venue["advance_days"]):
            raise InvalidInput(
                "date_out_of_range",
                f"slots open {venue['advance_days']} days ahead: {today} to "
                f"{today + timedelta(days=venue['advance_days'])}",
                field="date",
            )
        await self.ensure_slots(venue, day)
        rows = (
            await Slot.select(*_SLOT_COLUMNS)
            .where((Slot.venue_slug == slug) & (Slot.local_date == day))
            .order_by(Slot.starts_at)
        )
        now = utc_now()
        return SlotList(venue_slug=slug, date=day, reservation_required=True, items=[slot_out(r, now) for r in rows])

    async def update_slot(self, user: AuthUser, slug: str, slot_id: int, patch: SlotPatch) -> SlotOut:
        require_venue_staff(user, slug)
        slot = await _slot(slot_id)
        if slot is None or slot["venue_slug"] != slug:
            raise NotFound("slot_not_found", "no such slot at this venue")
        if patch.capacity is None and patch.status is None:
            raise InvalidInput("empty_patch", "send capacity and/or status", field="capacity")
        if patch.capacity is not None:
            rows = await Slot.raw(
                "UPDATE slots SET capacity = {} WHERE id = {} AND booked <= {} RETURNING id",
                patch.capacity,
                slot_id,
                patch.capacity,
            )
            if not rows:
                raise Conflict(
                    "capacity_below_booked", f"{slot['booked']} seats are booked; capacity cannot go below that"
                )
        if patch.status == "closed" and slot["status"] != "closed":
            await self._close_slot(slot_id, slug)
        elif patch.status == "open":
            await Slot.update({Slot.status: "open"}).where(Slot.id == slot_id)
        await self.promote_waitlist(slot_id)
        log.info(
            "slot changed by staff",
            extra={
                "slot_id": slot_id,
                "venue": slug,
                "by": user.id,
                "capacity": patch.capacity,
                "status": patch.status,
            },
        )
        return slot_out(await _slot(slot_id))  # type: ignore[arg-type]

    async def _close_slot(self, slot_id: int, slug: str) -> None:
        await Slot.update({Slot.status: "closed"}).where(Slot.id == slot_id)
        holders = await Reservation.select(Reservation.id).where(
            (Reservation.slot == slot_id) & Reservation.status.is_in(list(ACTIVE))
        )
        for holder in holders:
            if await self._end(holder["id"], "cancelled", "slot_closed", notify="slot_closed"):
                await _payments().refund_reservation(holder["id"], "slot_closed")

    # ---- booking

    def _request_hash(self, data: BookingRequest, numbers: list[str]) -> str:
        people = [[v.name.strip(), v.id_type, n] for v, n in zip(data.visitors, numbers, strict=True)]
        canonical = msgspec.json.encode([data.slot_id, data.waitlist, people])
        return vault().fingerprint(canonical.decode())

    async def book(
        self, user: AuthUser, data: BookingRequest, idempotency_key: str | None = None
    ) -> ReservationOut | Replay:
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

        idem_key = request_hash = None
        if idempotency_key:
            idem_key = f"{user.id}:reservations.create:{idempotency_key}"
            request_hash = self._request_hash(data, numbers)
            replay = await self._replay(idem_key, request_hash)
            if replay is not None:
                return replay

        slot = await _slot(data.slot_id)
        if slot is None:
            raise NotFound("slot_not_found", "no such slot")
        now = utc_now()
        if slot["ends_at"] <= now:
            raise Conflict("slot_past", "this slot has ended")
        if slot["status"] == "closed":
            raise Conflict("venue_closed", "the venue is closed at this time")
        if slot["starts_at"].astimezone(CITY_TZ).date() == city_today():
            from backend.governance.services import occupancy  # at 1.0 same-day sales stop

            if await occupancy.sales_stopped(slot["venue_slug"]):
                raise Conflict("venue_full", "the venue is full right now: same-day booking resumes when it empties")
        if slot["booked"] + len(data.visitors) > slot["capacity"] and not data.waitlist:
            raise Conflict("slot_full", "no seats left in this slot")  # fast path; the UPDATE below decides
        venue_slug = slot["venue_slug"]
        cutoff = await Venue.select(Venue.cancel_cutoff_minutes).where(Venue.slug == venue_slug).first()
        visit_date = slot["starts_at"].astimezone(CITY_TZ).date()
        n = len(data.visitors)
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
            for i, (v, num, fp) in enumerate(zip(data.visitors, numbers, fingerprints, strict=True))
        ]
        public_id = uuid.uuid4()
        status = "confirmed" if slot["price_fen"] == 0 else "pending_payment"
        hold = now + timedelta(seconds=settings.payment_hold_s) if status == "pending_payment" else None
        try:
            async with write_transaction():
                if not is_sqlite():  # one user's bookings queue behind each other: the limit holds
                    await Slot.raw("SELECT id FROM users WHERE id = {} FOR UPDATE", user.id)
                if idem_key:  # claim the key first: a concurrent twin waits here, then replays
                    try:
                        await IdempotencyRecord.insert(
                            IdempotencyRecord(key=idem_key, request_hash=request_hash, status_code=0, body="")
                        )
                    except Exception as exc:
                        if is_unique_violation(exc):
                            raise _IdempotencyRace from None
                        raise
                active = await Slot.raw(
                    "SELECT count(*) AS n FROM reservations WHERE user_id = {} AND visit_date >= {} "
                    "AND status IN ('confirmed', 'pending_payment', 'waitlisted')",
                    user.id,
                    city_today(),
                )
                if active[0]["n"] >= settings.max_active_bookings:
                    raise Conflict("booking_limit", f"at most {settings.max_active_bookings} active bookings")
                inserted = await Reservation.insert(
                    Reservation(
                        public_id=public_id,
                        user_id=user.id,
                        slot=slot["id"],
                        venue_slug=venue_slug,
                        visit_date=visit_date,
                        status=status,
                        party_size=n,
                        amount_fen=slot["price_fen"] * n,
                        hold_expires_at=hold,
                        created_at=now,
                    )
                ).returning(Reservation.id)
                reservation_id = inserted[0]["id"]
                try:
                    await Slot.raw(
                        "INSERT INTO visitor_claims (claim_key, reservation) VALUES " + ", ".join(["({}, {})"] * n),
                        *[x for fp in fingerprints for x in (f"{venue_slug}|{visit_date}|{fp}", reservation_id)],
                    )
                except Exception as exc:
                    if is_unique_violation(exc):
                        raise Conflict(
                            "duplicate_visitor", "a visitor already holds a booking at this venue on this day"
                        ) from None
                    raise
                for v in visitors:
                    v.reservation = reservation_id
                await Visitor.insert(*visitors)
                # Seats last: the slot row stays locked only from here to COMMIT.
                taken = await _take_seats(slot["id"], n)
                if taken:
                    slot = {**slot, "booked": taken["booked"], "capacity": taken["capacity"]}
                elif data.waitlist:
                    status, hold = "waitlisted", None
                    await Reservation.update({Reservation.status: status, Reservation.hold_expires_at: None}).where(
                        Reservation.id == reservation_id
                    )
                else:
                    raise Conflict("slot_full", "no seats left in this slot")
                out = ReservationOut(
                    id=str(public_id),
                    status=status,
                    venue_slug=venue_slug,
                    slot=slot_out(slot, now),  # type: ignore[arg-type]
                    visitors=[
                        VisitorOut(name=v.name_masked, id_type=v.id_type, id_number_masked=v.id_number_masked)
                        for v in visitors
                    ],
                    party_size=n,
                    amount_fen=slot["price_fen"] * n,
                    currency="CNY",
                    created_at=now.astimezone(CITY_TZ),
                    hold_expires_at=hold.astimezone(CITY_TZ) if hold else None,
                    cancel_deadline=(
                        slot["starts_at"]
                        - timedelta(minutes=(cutoff or {"cancel_cutoff_minutes": 30})["cancel_cutoff_minutes"])
                    ).astimezone(CITY_TZ)
                    if status != "waitlisted"
                    else None,
                    waitlist_position=await self._waitlist_position(
                        {"slot": slot["id"], "created_at": now, "id": reservation_id}
                    )
                    if status == "waitlisted"
                    else None,
                )
                if idem_key:
                    await IdempotencyRecord.update(
                        {IdempotencyRecord.status_code: 201, IdempotencyRecord.body: msgspec.json.encode(out).decode()}
                    ).where(IdempotencyRecord.key == idem_key)
        except _IdempotencyRace:
            replay = await self._replay(idem_key, request_hash)  # type: ignore[arg-type]
            if replay is None:
                raise Conflict("idempotency_in_progress", "a request with this key is still running") from None
            return replay
        log.info(
            "reservation booked",
            extra={"reservation": str(public_id), "status": out.status, "party": n, "venue": venue_slug},
        )
        return out

    async def _replay(self, key: str, request_hash: str) -> Replay | None:
        record = await IdempotencyRecord.select().where(IdempotencyRecord.key == key).first()
        if record is None:
            return None
        if record["request_hash"] != request_hash:
            raise Conflict("idempotency_key_reused", "this Idempotency-Key was used for a different request")
        if record["status_code"] == 0:  # claimed by a request that has not finished
            return None
        return Replay(record["status_code"], msgspec.json.decode(record["body"], type=ReservationOut))

    # ---- reading

    async def _rows(self, where) -> list[tuple[dict, dict, list[dict]]]:
        rows = (
            await Reservation.select(
                Reservation.all_columns(), *[getattr(Reservation.slot, c._meta.name) for c in _SLOT_COLUMNS]
            )
            .where(where)
            .order_by(Reservation.created_at, ascending=False)
            .order_by(Reservation.id, ascending=False)
        )
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        people = (
            await Visitor.select(Visitor.reservation, Visitor.name_masked, Visitor.id_type, Visitor.id_number_masked)
            .where(Visitor.reservation.is_in(ids))
            .order_by(Visitor.position)
        )
        by_res: dict[int, list[dict]] = {}
        for p in people:
            by_res.setdefault(p["reservation"], []).append(p)
        out = []
        for r in rows:
            slot = {c._meta.name: r[f"slot.{c._meta.name}"] for c in _SLOT_COLUMNS}
            out.append((r, slot, by_res.get(r["id"], [])))
        return out

    async def _waitlist_position(self, r: dict) -> int:
        ahead = await Reservation.count().where(
            (Reservation.slot == r["slot"])
            & (Reservation.status == "waitlisted")
            & (
                (Reservation.created_at < r["created_at"])
                | ((Reservation.created_at == r["created_at"]) & (Reservation.id < r["id"]))
            )
        )
        return ahead + 1

    async def _to_out(
        self, r: dict, slot: dict, people: list[dict], cutoff_min: int | None = None, payment=None
    ) -> ReservationOut:
        if cutoff_min is None:
            cutoff_min = (
                await Venue.select(Venue.cancel_cutoff_minutes).where(Venue.slug == r["venue_slug"]).first()
                or {"cancel_cutoff_minutes": 30}
            )["cancel_cutoff_minutes"]
        return ReservationOut(
            id=str(r["public_id"]),
            status=r["status"],
            venue_slug=r["venue_slug"],
            slot=slot_out(slot),
            visitors=[
                VisitorOut(name=p["name_masked"], id_type=p["id_type"], id_number_masked=p["id_number_masked"])
                for p in people
            ],
            party_size=r["party_size"],
            amount_fen=r["amount_fen"],
            currency="CNY",
            created_at=r["created_at"].astimezone(CITY_TZ),
            hold_expires_at=r["hold_expires_at"].astimezone(CITY_TZ) if r["hold_expires_at"] else None,
            cancel_deadline=(slot["starts_at"] - timedelta(minutes=cutoff_min)).astimezone(CITY_TZ)
            if r["status"] in HOLDING_SEATS
            else None,
            waitlist_position=await self._waitlist_position(r) if r["status"] == "waitlisted" else None,
            cancel_reason=r["cancel_reason"],
            payment=payment,
        )

    async def list_mine(self, user: AuthUser, limit: int, offset: int) -> tuple[list[ReservationOut], int]:
        total = await Reservation.count().where(Reservation.user_id == user.id)
        rows = await self._rows(Reservation.user_id == user.id)
        page = rows[offset : offset + limit]
        paid = await _payments().views([r["id"] for r, _, _ in page])
        return [await self._to_out(r, s, p, payment=paid.get(r["id"])) for r, s, p in page], total

    async def _mine(self, user: AuthUser, public_id: str) -> tuple[dict, dict, list[dict]]:
        try:
            key = uuid.UUID(public_id)
        except ValueError:
            raise NotFound("reservation_not_found", "no such reservation") from None
        rows = await self._rows((Reservation.public_id == key) & (Reservation.user_id == user.id))
        if not rows:  # someone else's booking is indistinguishable from none
            raise NotFound("reservation_not_found", "no such reservation")
        return rows[0]

    async def get(self, user: AuthUser, public_id: str) -> ReservationOut:
        r, slot, people = await self._mine(user, public_id)
        paid = await _payments().views([r["id"]])
        return await self._to_out(r, slot, people, payment=paid.get(r["id"]))

    # ---- ending a booking: cancel, expiry, slot closure

    async def _end(
        self,
        reservation_id: int,
        status: str,
        reason: str,
        notify: str | None = None,
        only_from: tuple[str, ...] = ACTIVE,
    ) -> bool:
        """Move one booking out of the active states; give its seats and visitor claims back. Atomic."""
        async with write_transaction():
            current = (
                await Reservation.select(
                    Reservation.status,
                    Reservation.slot,
                    Reservation.party_size,
                    Reservation.user_id,
                    Reservation.public_id,
                    Reservation.venue_slug,
                )
                .where(Reservation.id == reservation_id)
                .first()
            )
            if current is None or current["status"] not in only_from:
                return False
            changed = (
                await Reservation.update(
                    {Reservation.status: status, Reservation.cancelled_at: utc_now(), Reservation.cancel_reason: reason}
                )
                .where((Reservation.id == reservation_id) & (Reservation.status == current["status"]))
                .returning(Reservation.id)
            )
            if not changed:
                return False
            if current["status"] in HOLDING_SEATS:
                await _release_seats(current["slot"], current["party_size"])
            await VisitorClaim.delete().where(VisitorClaim.reservation == reservation_id)
            if notify:
                await Notification.insert(
                    Notification(
                        user_id=current["user_id"],
                        kind=notify,
                        reservation_public_id=current["public_id"],
                        venue_slug=current["venue_slug"],
                    )
                )
        if notify:
            live_events.publish(
                "notifications",
                {"user_id": current["user_id"], "kind": notify, "venue_slug": current["venue_slug"]},
            )
        return True

    async def cancel(self, user: AuthUser, public_id: str) -> CancelResult:
        r, slot, _ = await self._mine(user, public_id)
        if r["status"] not in ACTIVE:
            raise Conflict("not_cancellable", f"the booking is {r['status']}")
        if r["status"] in HOLDING_SEATS:
            cutoff = (await _venue(r["venue_slug"]))["cancel_cutoff_minutes"]
            if utc_now() > slot["starts_at"] - timedelta(minutes=cutoff):
                raise Conflict("cancel_too_late", f"bookings can be cancelled until {cutoff} minutes before the slot")
        if not await self._end(r["id"], "cancelled", "holder"):
            raise Conflict("reservation_changed", "the booking changed meanwhile; reload it")
        refund = await _payments().refund_reservation(r["id"], "holder_cancelled") if r["amount_fen"] else None
        await self.promote_waitlist(slot["id"])
        log.info("reservation cancelled", extra={"reservation": public_id, "refunded": refund is not None})
        return CancelResult(id=public_id, status="cancelled", refund=refund)

    async def expire_holds(self) -> int:
        due = (
            await Reservation.select(Reservation.id, Reservation.slot)
            .where((Reservation.status == "pending_payment") & (Reservation.hold_expires_at < utc_now()))
            .limit(200)
        )
        expired = 0
        for row in due:
            if await self._end(
                row["id"], "expired", "hold_expired", notify="hold_expired", only_from=("pending_payment",)
            ):
                expired += 1
                await self.promote_waitlist(row["slot"])
        return expired

    async def promote_waitlist(self, slot_id: int) -> int:
        """Give freed seats to waitlisted bookings, strictly first come first served."""
        settings = get_settings()
        promoted = 0
        while True:
            nxt = (
                await Reservation.select(
                    Reservation.id,
                    Reservation.party_size,
                    Reservation.user_id,
                    Reservation.public_id,
                    Reservation.venue_slug,
                    Reservation.amount_fen,
                )
                .where((Reservation.slot == slot_id) & (Reservation.status == "waitlisted"))
                .order_by(Reservation.created_at)
                .order_by(Reservation.id)
                .first()
            )
            if nxt is None:
                return promoted
            try:
                async with write_transaction():
                    if not await _take_seats(slot_id, nxt["party_size"]):
                        return promoted
                    paid = nxt["amount_fen"] > 0
                    changed = (
                        await Reservation.update(
                            {
                                Reservation.status: "pending_payment" if paid else "confirmed",
                                Reservation.hold_expires_at: utc_now() + timedelta(seconds=settings.payment_hold_s)
                                if paid
                                else None,
                            }
                        )
                        .where((Reservation.id == nxt["id"]) & (Reservation.status == "waitlisted"))
                        .returning(Reservation.id)
                    )
                    if not changed:
                        raise _Superseded
                    await Notification.insert(
                        Notification(
                            user_id=nxt["user_id"],
                            kind="waitlist_promoted",
                            reservation_public_id=nxt["public_id"],
                            venue_slug=nxt["venue_slug"],
                        )
                    )
            except _Superseded:
                continue  # someone else moved it (cancelled, or another replica promoted it): look again
            live_events.publish(
                "notifications",
                {"user_id": nxt["user_id"], "kind": "waitlist_promoted", "venue_slug": nxt["venue_slug"]},
            )
            promoted += 1
            log.info("waitlist promoted", extra={"reservation": str(nxt["public_id"]), "slot_id": slot_id})

    async def sweep(self) -> None:
        """The periodic pass every replica runs: expire holds, then fill seats left free."""
        await self.expire_holds()
        waiting = await Reservation.select(Reservation.slot).where(Reservation.status == "waitlisted").distinct()
        for row in waiting:
            await self.promote_waitlist(row["slot"])

    # ---- notifications

    async def notifications(self, user: AuthUser, limit: int = 50) -> list[NotificationOut]:
        rows = (
            await Notification.select()
            .where(Notification.user_id == user.id)
            .order_by(Notification.id, ascending=False)
            .limit(limit)
        )
        return [
            NotificationOut(
                id=r["id"],
                kind=r["kind"],
                created_at=r["created_at"].astimezone(CITY_TZ),
                reservation_id=str(r["reservation_public_id"]) if r["reservation_public_id"] else None,
                venue_slug=r["venue_slug"],
                read=r["read_at"] is not None,
                detail=r["detail"],
            )
            for r in rows
        ]

    async def mark_read(self, user: AuthUser, notification_id: int) -> None:
        found = (
            await Notification.update({Notification.read_at: utc_now()})
            .where((Notification.id == notification_id) & (Notification.user_id == user.id))
            .returning(Notification.id)
        )
        if not found:
            raise NotFound("notification_not_found", "no such message")


reservations = ReservationService()
