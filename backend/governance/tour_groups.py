"""Travel agencies' tour groups (旅行社组团): a guide, a coach, an itinerary, and the whole party's seats in
the itinerary's slots.

An agency account never gets seats for nothing (issue 15, finding 8):
- A paid slot's seats are **held** (`pending_payment`), not confirmed, and the hold expires like a
  visitor's unpaid booking (`CHANGXIANG_PAYMENT_HOLD_S`, swept by the same sweeper). The agency pays
  through the ordinary checkout of the stop's reservation, or governance (or staff of the venue)
  approve the hold when the group is settled on the agency's invoice (`approve`).
- A free slot's seats are confirmed at once, but count against the agency's quota like any other.
- Quota: at most `CHANGXIANG_AGENCY_SEATS_PER_DAY` seats held or booked per agency per visit day, and
  at most `CHANGXIANG_AGENCY_SLOT_SHARE` of any slot's capacity; beyond either, 409
  `agency_quota_exceeded` and nothing is written.
- Concurrency: a registration locks the agency's account row before it counts (the lock every booking
  of one account queues behind), so parallel registrations of one agency are counted one after another
  and never pass the quota; seats move in the slot's conditional UPDATE, so no registration passes the
  slot's capacity.
"""

from __future__ import annotations

import logging
import math
import uuid
from datetime import date
from typing import Any

from piccolo.query.functions.aggregate import Sum

from backend.governance.schemas import GroupStatus, ItineraryStop, TourGroupIn, TourGroupOut, TourStopOut
from backend.governance.tables import TourGroup, TourGroupStop
from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ
from backend.lib.db import lock_row, write_transaction
from backend.lib.personal_data import mask_name, vault
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.reservations.services import reservations
from backend.reservations.tables import Reservation, Slot
from backend.settings import get_settings
from backend.venues.services import catalog

log = logging.getLogger("changxiang.governance")

HOLDING = ["confirmed", "pending_payment"]  # a booking in these states has its seats


async def _agency_seats(agency_id: int, visit_date: date, slot_id: int | None = None) -> int:
    """Seats the agency holds or has booked on `visit_date` (in `slot_id` only, when given)."""
    where = (
        (Reservation.user_id == agency_id) & (Reservation.visit_date == visit_date) & Reservation.status.is_in(HOLDING)
    )
    if slot_id is not None:
        where &= Reservation.slot == slot_id
    rows = await Reservation.select(Sum(Reservation.party_size, alias="n")).where(where)
    return int(rows[0]["n"] or 0) if rows else 0


async def _check_quota(agency_id: int, slot: dict[str, Any], visit_date: date, size: int, stop: int) -> None:
    """Inside the registration's write transaction, after the agency's row is locked."""
    settings = get_settings()
    day = await _agency_seats(agency_id, visit_date)
    if day + size > settings.agency_seats_per_day:
        raise Conflict(
            "agency_quota_exceeded",
            f"stop {stop}: an agency may hold at most {settings.agency_seats_per_day} seats a day "
            f"({day} already held on {visit_date.isoformat()})",
            quota="seats_per_day",
            limit=settings.agency_seats_per_day,
            held=day,
        )
    share = math.floor(slot["capacity"] * settings.agency_slot_share)
    in_slot = await _agency_seats(agency_id, visit_date, slot["id"])
    if in_slot + size > share:
        raise Conflict(
            "agency_quota_exceeded",
            f"stop {stop}: an agency may hold at most {share} seats of this slot "
            f"({settings.agency_slot_share:.0%} of {slot['capacity']}; {in_slot} already held)",
            quota="slot_share",
            limit=share,
            held=in_slot,
        )


class TourGroupService:
    async def register(self, agency: AuthUser, data: TourGroupIn) -> TourGroupOut:
        plate = data.coach_plate.replace(" ", "").upper()
        box = vault()
        public_id = uuid.uuid4()
        stops = await self._checked_stops(data)
        async with write_transaction():
            # one agency's registrations queue here, so the quota is counted one after another
            await lock_row("users", agency.id)
            group_rows = await TourGroup.insert(
                TourGroup(
                    public_id=public_id,
                    agency_user_id=agency.id,
                    visit_date=data.visit_date.isoformat(),
                    size=data.size,
                    coach_plate=plate,
                    guide_name_enc=box.encrypt(data.guide_name.strip(), "tour_group.guide_name"),
                    guide_name_masked=mask_name(data.guide_name),
                    guide_phone_enc=box.encrypt(data.guide_phone.strip(), "tour_group.guide_phone"),
                    guide_phone_masked=mask_phone(data.guide_phone),
                )
            ).returning(TourGroup.id)
            group_id = group_rows[0]["id"]
            for i, (stop, slot) in enumerate(stops):
                reservation_id = None
                if slot is not None:
                    await _check_quota(agency.id, slot, data.visit_date, data.size, i + 1)
                    booked = await reservations.book_group(agency.id, slot, data.visit_date, data.size)
                    if booked is None:
                        raise Conflict("slot_full", f"stop {i + 1}: not enough seats left for {data.size}")
                    reservation_id = booked[0]
                await TourGroupStop.insert(
                    TourGroupStop(
                        group_id=group_id,
                        position=i,
                        venue_slug=stop.venue_slug,
                        slot_id=slot["id"] if slot else None,
                        reservation_id=reservation_id,
                        arrives_at=stop.arrives_at,
                    )
                )
        log.info("tour group registered", extra={"group": str(public_id), "size": data.size, "stops": len(stops)})
        return await self._out(await self._group(public_id))

    async def _checked_stops(self, data: TourGroupIn) -> list[tuple[ItineraryStop, dict[str, Any] | None]]:
        stops: list[tuple[ItineraryStop, dict[str, Any] | None]] = []
        for i, stop in enumerate(data.itinerary):
            if await catalog.record(stop.venue_slug) is None:
                raise InvalidInput(
                    "unknown_venue", f"stop {i + 1}: no venue {stop.venue_slug!r}", field=f"itinerary[{i}]"
                )
            slot = None
            if stop.slot_id is not None:
                slot = await Slot.select().where(Slot.id == stop.slot_id).first()
                if slot is None or slot["venue_slug"] != stop.venue_slug:
                    raise InvalidInput("unknown_slot", f"stop {i + 1}: no such slot there", field=f"itinerary[{i}]")
                if slot["local_date"] != data.visit_date:
                    raise InvalidInput(
                        "slot_not_on_visit_date", f"stop {i + 1}: the slot is on another day", field=f"itinerary[{i}]"
                    )
            stops.append((stop, slot))
        return stops

    async def approve(self, user: AuthUser, group_public_id: str) -> TourGroupOut:
        """Confirm a group's held seats without payment (settled on the agency's invoice): governance
        (and admin) for every stop, venue staff for the stops at their venues. Only a hold that still
        runs can be approved; an expired one is gone."""
        group = await self._group(group_public_id)
        stops = await TourGroupStop.select().where(
            (TourGroupStop.group_id == group["id"]) & TourGroupStop.reservation_id.is_not_null()
        )
        governance = user.has_any("governance", "admin")
        mine = [s for s in stops if governance or user.may_staff(s["venue_slug"])]
        if not mine:
            raise NotFound("tour_group_not_found", "no such tour group at your venues")
        held = {
            r["id"]
            for r in await Reservation.select(Reservation.id).where(
                Reservation.id.is_in([s["reservation_id"] for s in mine]) & (Reservation.status == "pending_payment")
            )
        }
        approved = [
            s for s in mine if s["reservation_id"] in held and await reservations.approve_hold(s["reservation_id"])
        ]
        if not approved:
            raise Conflict(
                "not_held", "none of the group's seats awaits payment or approval (paid, confirmed or expired)"
            )
        log.info(
            "tour group approved",
            extra={"group": group_public_id, "by": user.id, "stops": [s["position"] for s in approved]},
        )
        return await self._out(group)

    async def _group(self, public_id: uuid.UUID | str) -> dict[str, Any]:
        try:
            key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(public_id)
        except ValueError:
            raise NotFound("tour_group_not_found", "no such tour group") from None
        row = await TourGroup.select().where(TourGroup.public_id == key).first()
        if row is None:
            raise NotFound("tour_group_not_found", "no such tour group")
        return row

    async def groups_by_venue(self, day: date) -> dict[str, dict[str, int]]:
        """Per venue: the day's groups, coaches (distinct plates) and group visitors."""
        groups = await TourGroup.select(TourGroup.id, TourGroup.size, TourGroup.coach_plate).where(
            TourGroup.visit_date == day.isoformat()
        )
        if not groups:
            return {}
        by_id = {g["id"]: g for g in groups}
        stops = await TourGroupStop.select(TourGroupStop.group_id, TourGroupStop.venue_slug).where(
            TourGroupStop.group_id.is_in(list(by_id))
        )
        acc: dict[str, dict[str, Any]] = {}
        for s in stops:
            g = by_id[s["group_id"]]
            a = acc.setdefault(s["venue_slug"], {"ids": set(), "plates": set(), "group_visitors": 0})
            if g["id"] not in a["ids"]:
                a["ids"].add(g["id"])
                a["plates"].add(g["coach_plate"])
                a["group_visitors"] += g["size"]
        return {
            slug: {"groups": len(a["ids"]), "coaches": len(a["plates"]), "group_visitors": a["group_visitors"]}
            for slug, a in acc.items()
        }

    async def mine(self, agency: AuthUser) -> list[TourGroupOut]:
        rows = (
            await TourGroup.select()
            .where(TourGroup.agency_user_id == agency.id)
            .order_by(TourGroup.id, ascending=False)
        )
        return [await self._out(g) for g in rows]

    async def _out(self, g: dict[str, Any]) -> TourGroupOut:
        stops = await TourGroupStop.select().where(TourGroupStop.group_id == g["id"]).order_by(TourGroupStop.position)
        res_ids = [s["reservation_id"] for s in stops if s["reservation_id"]]
        booked = (
            {
                r["id"]: r
                for r in await Reservation.select(
                    Reservation.id,
                    Reservation.public_id,
                    Reservation.status,
                    Reservation.hold_expires_at,
                    Reservation.amount_fen,
                ).where(Reservation.id.is_in(res_ids))
            }
            if res_ids
            else {}
        )
        out_stops = []
        for s in stops:
            r = booked.get(s["reservation_id"])
            out_stops.append(
                TourStopOut(
                    venue_slug=s["venue_slug"],
                    arrives_at=s["arrives_at"].astimezone(CITY_TZ),
                    reservation_id=str(r["public_id"]) if r else None,
                    slot_id=s["slot_id"],
                    status=r["status"] if r else None,
                    hold_expires_at=r["hold_expires_at"].astimezone(CITY_TZ) if r and r["hold_expires_at"] else None,
                    amount_fen=r["amount_fen"] if r else None,
                )
            )
        return TourGroupOut(
            id=str(g["public_id"]),
            visit_date=date.fromisoformat(g["visit_date"]),
            size=g["size"],
            coach_plate=g["coach_plate"],
            guide_name_masked=g["guide_name_masked"],
            guide_phone_masked=g["guide_phone_masked"],
            itinerary=out_stops,
            status=_group_status([st.status for st in out_stops if st.status is not None]),
        )


def _group_status(statuses: list[str]) -> GroupStatus:
    """`held` while any stop awaits payment or approval, `confirmed` when every booked stop is (or the
    group booked none), else `ended` (a hold expired or a booking was cancelled)."""
    if "pending_payment" in statuses:
        return "held"
    if all(s == "confirmed" for s in statuses):
        return "confirmed"
    return "ended"


def mask_phone(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7 if len(digits) > 7 else len(digits) - 4) + digits[-4:]


tour_groups = TourGroupService()
