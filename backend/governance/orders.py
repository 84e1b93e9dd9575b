"""What the supervision platform sends us: directives (limit, close, reopen a venue or a district for
a window) and CAP 1.2 warnings. Every call is verified first (HMAC and timestamp, API.md): a refused
call changes nothing. A directive or an alert is applied once: a repeated id answers as the first time.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.governance.schemas import AlertOut, DirectiveIn, DirectiveOut
from backend.governance.services import supervision
from backend.governance.tables import Alert, DirectiveSlot
from backend.lib import live_events
from backend.lib.bounds import within_calendar
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import is_unique_violation, write_transaction
from backend.lib.problems import DomainError, InvalidInput
from backend.occupancy.services import occupancy
from backend.occupancy.tables import Directive
from backend.reservations import seats
from backend.reservations.disruptions import Disruption, disrupt_holders
from backend.reservations.services import reservations
from backend.reservations.tables import Notification, Reservation, Slot
from backend.settings import get_settings
from backend.venues.services import catalog
from integrations.cap_alerts import CapAlert, CapInvalid, parse_cap
from integrations.gov_platform import SignatureRejected, verify

log = logging.getLogger("changxiang.governance.orders")

CITY_CODE = "320400"  # 常州市 (GB/T 2260)
DISTRICT_CODES = {
    "320402": "tianning",
    "320404": "zhonglou",
    "320411": "xinbei",
    "320412": "wujin",
    "320413": "jintan",
    "320481": "liyang",
}


def utc_now() -> datetime:
    return clock.now()


def verify_platform(timestamp: str | None, sig: str | None, body: bytes) -> None:
    try:
        verify(get_settings().gov_platform_secret, timestamp, sig, body)
    except SignatureRejected as exc:
        raise DomainError(exc.reason, exc.detail, status=401) from None


async def _targets(data: DirectiveIn) -> list[dict[str, Any]]:
    snap = await catalog.snapshot()
    if data.venue_slug is not None:
        rec = snap.by_slug.get(data.venue_slug)
        if rec is None:
            raise InvalidInput("unknown_venue", f"no venue {data.venue_slug!r}", field="venue_slug")
        return [rec.row]
    return [r.row for r in snap.records if r.row["district"] == data.district]


async def _slots_in_window(
    venues: list[dict[str, Any]], valid_from: datetime, valid_until: datetime
) -> list[dict[str, Any]]:
    """The slots of these venues that overlap the window, generating the days not generated yet."""
    today = utc_now().astimezone(CITY_TZ).date()
    first = max(today, valid_from.astimezone(CITY_TZ).date())
    last_local = valid_until.astimezone(CITY_TZ).date()
    slugs = []
    for venue in venues:
        if not venue["reservation_required"]:
            continue
        slugs.append(venue["slug"])
        day = first
        while day <= min(last_local, today + timedelta(days=venue["advance_days"])):
            await reservations.ensure_slots(venue, day)
            day += timedelta(days=1)
    if not slugs:
        return []
    return (
        await Slot.select()
        .where(Slot.venue_slug.is_in(slugs) & (Slot.starts_at < valid_until) & (Slot.ends_at > valid_from))
        .order_by(Slot.starts_at)
    )


class DirectiveService:
    async def apply(self, body: bytes, timestamp: str | None, sig: str | None) -> DirectiveOut:
        verify_platform(timestamp, sig, body)
        try:
            data = msgspec.json.decode(body, type=DirectiveIn)
        except msgspec.ValidationError as exc:
            raise InvalidInput("invalid_directive", str(exc)) from None
        except msgspec.DecodeError:
            raise InvalidInput("invalid_directive", "the body is not JSON") from None
        if (data.venue_slug is None) == (data.district is None):
            raise InvalidInput("invalid_directive", "name either venue_slug or district", field="venue_slug")
        if data.valid_from.tzinfo is None or data.valid_until.tzinfo is None:
            raise InvalidInput("invalid_directive", "valid_from and valid_until need an offset", field="valid_from")
        if data.valid_until <= data.valid_from:
            raise InvalidInput("invalid_directive", "valid_until must be after valid_from", field="valid_until")
        if data.type == "limit" and data.limit_ratio is None:
            raise InvalidInput("invalid_directive", "a limit needs limit_ratio (0..1)", field="limit_ratio")
        earlier = await Directive.select().where(Directive.directive_id == data.directive_id).first()
        if earlier is not None:
            return _directive_out(earlier)
        venues = await _targets(data)
        slugs = [v["slug"] for v in venues]
        try:
            rows = await Directive.insert(
                Directive(
                    directive_id=data.directive_id,
                    type=data.type,
                    venue_slug=data.venue_slug,
                    district=data.district,
                    limit_ratio=data.limit_ratio,
                    valid_from=data.valid_from,
                    valid_until=data.valid_until,
                    reason=data.reason,
                    venue_slugs=slugs,
                )
            ).returning(Directive.id)
        except Exception as exc:
            if is_unique_violation(exc):  # the same directive raced in on another request
                return await _stored_directive(data.directive_id)
            raise
        slots = await _slots_in_window(venues, data.valid_from, data.valid_until)
        cancelled = 0
        disruption = Disruption(
            "directive_close" if data.type == "close" else "directive_limit",
            venues=tuple(slugs),
            window=(data.valid_from, data.valid_until),
            detail=data.reason,
        )
        if data.type == "limit":
            await self._limit(slots, data.limit_ratio or 0.0, disruption)
        elif data.type == "close":
            cancelled = await self._close(slots, disruption)
        else:
            await self._reopen(slots)
        await Directive.update(
            {Directive.slots_affected: len(slots), Directive.reservations_cancelled: cancelled}
        ).where(Directive.id == rows[0]["id"])
        occupancy.directives_changed()
        catalog.forget_pages()
        log.warning(
            "platform directive applied",
            extra={"directive": data.directive_id, "type": data.type, "venues": len(slugs), "slots": len(slots)},
        )
        return await _stored_directive(data.directive_id)

    async def _remember(self, slot: dict[str, Any], closed: bool = False) -> int:
        """The slot's capacity before any directive touched it (kept once, for `reopen`)."""
        await DirectiveSlot.insert(
            DirectiveSlot(slot_id=slot["id"], original_capacity=slot["capacity"], closed=closed)
        ).on_conflict(target=DirectiveSlot.slot_id, action="DO NOTHING")
        if closed:
            await DirectiveSlot.update({DirectiveSlot.closed: True}).where(DirectiveSlot.slot_id == slot["id"])
        row = (
            await DirectiveSlot.select(DirectiveSlot.original_capacity)
            .where(DirectiveSlot.slot_id == slot["id"])
            .first()
        )
        if row is None:  # inserted just above, or kept by an earlier directive: never deleted meanwhile
            raise LookupError(f"no original capacity kept for slot {slot['id']}")
        original: int = row["original_capacity"]
        return original

    async def _limit(self, slots: list[dict[str, Any]], ratio: float, disruption: Disruption) -> None:
        """No slot offers more than `ratio` of its original seats; what is booked stays booked, and the holders
        of a slot booked beyond its new seats are offered another time or place (`disrupt_holders`)."""
        over = []
        for slot in slots:
            original = await self._remember(slot)
            limited = math.floor(original * ratio)
            await seats.limit_to(slot["id"], limited)
            if slot["booked"] > limited:
                over.append(slot["id"])
        await disrupt_holders(disruption, slot_ids=over)

    async def _close(self, slots: list[dict[str, Any]], disruption: Disruption) -> int:
        """Close every slot; its bookings are cancelled, their holders told and paid ones refunded."""
        cancelled = 0
        for slot in slots:
            await self._remember(slot, closed=True)
            cancelled += await Reservation.count().where(
                (Reservation.slot == slot["id"])
                & Reservation.status.is_in(["confirmed", "pending_payment", "waitlisted"])
            )
            await reservations.close_slot(slot["id"], slot["venue_slug"], disruption)
        return cancelled

    async def _reopen(self, slots: list[dict[str, Any]]) -> None:
        ids = [s["id"] for s in slots]
        if not ids:
            return
        for kept in await DirectiveSlot.select().where(DirectiveSlot.slot_id.is_in(ids)):
            await seats.limit_to(kept["slot_id"], kept["original_capacity"])
            if kept["closed"]:
                await seats.reopen(kept["slot_id"])
            await DirectiveSlot.delete().where(DirectiveSlot.slot_id == kept["slot_id"])
            await reservations.promote_waitlist(kept["slot_id"])


async def _stored_directive(directive_id: str) -> DirectiveOut:
    """The directive as stored (written by this request, or by a twin that raced it in first)."""
    row = await Directive.select().where(Directive.directive_id == directive_id).first()
    if row is None:  # written before this is asked; directives are never deleted
        raise LookupError(f"no directive {directive_id!r}")
    return _directive_out(row)


def _directive_out(row: dict[str, Any]) -> DirectiveOut:
    return DirectiveOut(
        directive_id=row["directive_id"],
        type=row["type"],
        venue_slugs=list(row["venue_slugs"] or []),
        slots_affected=row["slots_affected"],
        reservations_cancelled=row["reservations_cancelled"],
        received_at=row["received_at"].astimezone(CITY_TZ),
    )


async def venues_in(alert: CapAlert) -> list[str]:
    """Venues inside any area of any info block: polygons and circles by their coordinates, geocodes by
    the city's (320400) and districts' administrative codes."""
    snap = await catalog.snapshot()
    hit: list[str] = []
    for rec in snap.records:
        inside = False
        for info in alert.infos:
            for area in info.areas:
                codes = {value for _name, value in area.geocodes}
                if CITY_CODE in codes or any(DISTRICT_CODES.get(c) == rec.row["district"] for c in codes):
                    inside = True
                elif area.contains(rec.point.lat, rec.point.lng):
                    inside = True
        if inside:
            hit.append(rec.row["slug"])
    return hit


class AlertService:
    async def receive(self, body: bytes, timestamp: str | None, sig: str | None) -> AlertOut:
        verify_platform(timestamp, sig, body)
        try:
            alert = parse_cap(body)
        except CapInvalid as exc:
            raise InvalidInput("invalid_cap", exc.detail, field=exc.field) from None
        _storable(alert)
        zh, en = alert.info("zh"), alert.info("en")
        if alert.msg_type == "Cancel":
            refs = [r.split(",")[1] for r in alert.references.split() if r.count(",") == 2]
            if refs:
                await Alert.update({Alert.cancelled: True}).where(Alert.identifier.is_in(refs))
            supervision.forget_alerts()
            return AlertOut(alert.identifier, zh.event, zh.severity, alert.msg_type, [], 0)
        earlier = await Alert.select().where(Alert.identifier == alert.identifier).first()
        if earlier is not None:
            return AlertOut(
                alert.identifier,
                earlier["event"],
                earlier["severity"],
                earlier["msg_type"],
                list(earlier["venue_slugs"]),
                0,
            )
        slugs = await venues_in(alert) if alert.status == "Actual" else []
        # the warning, what it supersedes and its messages to visitors are written together or not at all:
        # a refusal halfway must not leave a stored warning whose repeat answers "already had it" unsent
        try:
            async with write_transaction():
                await Alert.insert(
                    Alert(
                        identifier=alert.identifier,
                        sender=alert.sender,
                        sent=alert.sent,
                        msg_type=alert.msg_type,
                        event=zh.event,
                        severity=zh.severity,
                        urgency=zh.urgency,
                        certainty=zh.certainty,
                        headline_zh=zh.headline or zh.event,
                        headline_en=en.headline or en.event,
                        instruction_zh=zh.instruction,
                        instruction_en=en.instruction,
                        effective=zh.effective,
                        expires=zh.expires,
                        area_desc="; ".join(a.description for a in zh.areas),
                        venue_slugs=slugs,
                        cancelled=alert.status != "Actual",
                    )
                )
                if alert.references and alert.msg_type == "Update":
                    refs = [r.split(",")[1] for r in alert.references.split() if r.count(",") == 2]
                    if refs:
                        await Alert.update({Alert.cancelled: True}).where(Alert.identifier.is_in(refs))
                notes = await self._write_messages(slugs, zh.headline or zh.event, zh.expires)
                # each holder of a visit the warning covers gets one rebooking offer (reservations' signal)
                await disrupt_holders(
                    Disruption(
                        "warning",
                        venues=tuple(slugs),
                        window=(zh.effective or utc_now(), zh.expires) if zh.expires else None,
                        detail=(zh.headline or zh.event)[:300],
                        weather="Met" in zh.categories,
                    )
                )
        except Exception as exc:
            if is_unique_violation(exc):
                return AlertOut(alert.identifier, zh.event, zh.severity, alert.msg_type, slugs, 0)
            raise
        for n in notes:
            live_events.publish(
                "notifications",
                {"user_id": n.user_id, "kind": "warning", "venue_slug": n.venue_slug, "detail": n.detail},
            )
        supervision.forget_alerts()
        log.warning(
            "warning received", extra={"identifier": alert.identifier, "venues": len(slugs), "notified": len(notes)}
        )
        return AlertOut(alert.identifier, zh.event, zh.severity, alert.msg_type, slugs, len(notes))

    async def _write_messages(self, slugs: list[str], headline: str, expires: datetime | None) -> list[Notification]:
        """One in-app message per holder and venue for bookings from today until the warning expires."""
        if not slugs:
            return []
        today = utc_now().astimezone(CITY_TZ).date()
        where = (
            Reservation.venue_slug.is_in(slugs)
            & Reservation.status.is_in(["confirmed", "pending_payment", "waitlisted"])
            & (Reservation.visit_date >= today)
        )
        if expires is not None:
            where = where & (Reservation.visit_date <= expires.astimezone(CITY_TZ).date())
        rows = await Reservation.select(Reservation.user_id, Reservation.venue_slug, Reservation.public_id).where(where)
        seen: set[tuple[int, str]] = set()
        notes = []
        for r in rows:
            key = (r["user_id"], r["venue_slug"])
            if key in seen:
                continue
            seen.add(key)
            notes.append(
                Notification(
                    user_id=r["user_id"],
                    kind="warning",
                    venue_slug=r["venue_slug"],
                    reservation_public_id=r["public_id"],
                    detail=headline[:300],
                )
            )
        if notes:
            await Notification.insert(*notes)
        return notes


def _storable(alert: CapAlert) -> None:
    """Refuse, before anything is written, a warning whose texts don't fit their columns or whose dates
    name a year arithmetic can't reach (an `expires` in 9999 overflows turning into the city's time)."""
    texts = [("alert.identifier", alert.identifier, Alert.identifier), ("alert.sender", alert.sender, Alert.sender)]
    for info in alert.infos:
        texts.append(("info.event", info.event, Alert.event))
    for field, value, column in texts:
        most = column.length or 0
        if len(value) > most:
            raise InvalidInput("invalid_cap", f"{field} may be at most {most} characters", field=field)
    within_calendar(alert.sent, "alert.sent")
    for info in alert.infos:
        if info.effective is not None:
            within_calendar(info.effective, "info.effective")
        if info.expires is not None:
            within_calendar(info.expires, "info.expires")


directives = DirectiveService()
alerts = AlertService()
