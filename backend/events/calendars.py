"""Events as iCalendar (RFC 5545): the public feed of the filtered events, one event's "add to
calendar" file, and the holder's own calendar of bookings behind a personal token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, vRecur
from icalendar import Event as VEvent

from backend.events.schemas import CalendarTokenStatus
from backend.events.services import EventQuery, EventRecord, events, utc_now
from backend.events.tables import CalendarToken
from backend.events.times import exdates_of, local
from backend.lib import offload
from backend.lib.db import write_transaction
from backend.lib.i18n import Lang, pick
from backend.lib.problems import NotFound
from backend.reservations.tables import Reservation
from backend.venues.services import catalog

PRODID = "-//Changxiang//Changzhou events 1.0//ZH"
UID_DOMAIN = "changxiang.app"


async def events_calendar(query: EventQuery, name: str, url_base: str) -> bytes:
    """The events with an occurrence in the range, one VEVENT per event (series keep RRULE/EXDATE)."""
    runs = sorted(await events.runs(query), key=lambda run: (run[1][0], run[0].row["slug"]))
    # building and serialising a feed of every event is CPU work: off the event loop
    return await offload.cpu(_feed, [rec for rec, _, _ in runs], name, query.lang, utc_now(), url_base)


def _feed(records: list[EventRecord], name: str, lang: Lang, stamp: datetime, url_base: str) -> bytes:
    cal = new_calendar(name, lang)
    for rec in records:
        cal.add_component(_vevent(rec, lang, stamp, url_base))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


async def event_calendar(slug: str, lang: Lang, url_base: str) -> bytes:
    """One event (the whole series) as a calendar file: what "add to calendar" opens."""
    rec = (await events.snapshot()).by_slug.get(slug)
    if rec is None or not rec.visible(utc_now()):
        raise NotFound("event_not_found", f"no event {slug!r}")
    cal = new_calendar(pick(rec.row["title_zh"], rec.row["title_en"], lang), lang)
    cal.add_component(_vevent(rec, lang, utc_now(), url_base))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def new_calendar(name: str, lang: Lang) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT6H")
    return cal


def _vevent(rec: EventRecord, lang: Lang, stamp: datetime, url_base: str) -> VEvent:
    r = rec.row
    ev = VEvent()
    ev.add("uid", f"event-{r['slug']}@{UID_DOMAIN}")
    ev.add("dtstamp", stamp)
    first = local(r["starts_at"])
    ev.add("dtstart", first)
    ev.add("dtend", first + rec.duration)
    ev.add("summary", pick(r["title_zh"], r["title_en"], lang))
    summary = pick(r["summary_zh"], r["summary_en"], lang)
    if summary:
        ev.add("description", summary)
    place = pick(r["place_zh"], r["place_en"], lang)
    address = pick(r["address_zh"], r["address_en"], lang)
    ev.add("location", ", ".join(x for x in (place, address) if x))
    ev.add("geo", (rec.point.lat, rec.point.lng))
    ev.add("categories", [r["category"]])
    ev.add("url", f"{url_base}/events/{r['slug']}")
    ev.add("status", "CONFIRMED")
    ev.add("sequence", r["sequence"] or 0)
    ev.add("last-modified", r["updated_at"].astimezone(UTC))
    if r["rrule"]:
        ev.add("rrule", vRecur.from_ical(r["rrule"]))
        exdates = exdates_of(r)
        if exdates:
            ev.add("exdate", exdates)
    return ev


# ---------------------------------------------------------------- the holder's own calendar


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PersonalCalendar:
    """`/me/calendar.ics?token=…`: the holder's reservations. The token is a 256-bit secret shown once;
    the database keeps its SHA-256 (enough for a random secret), so a leaked table opens nothing."""

    async def status(self, user_id: int) -> CalendarTokenStatus:
        row = await CalendarToken.select(CalendarToken.created_at).where(CalendarToken.user_id == user_id).first()
        return CalendarTokenStatus(active=row is not None, created_at=row["created_at"] if row else None)

    async def rotate(self, user_id: int, url_base: str) -> CalendarTokenStatus:
        token = secrets.token_urlsafe(32)
        now = utc_now()
        async with write_transaction():
            await CalendarToken.delete().where(CalendarToken.user_id == user_id)
            await CalendarToken.insert(CalendarToken(user_id=user_id, token_hash=_token_hash(token), created_at=now))
        return CalendarTokenStatus(
            active=True, created_at=now, token=token, url=f"{url_base}/api/v1/me/calendar.ics?token={token}"
        )

    async def revoke(self, user_id: int) -> None:
        await CalendarToken.delete().where(CalendarToken.user_id == user_id)

    async def feed(self, token: str, lang: Lang, url_base: str) -> bytes:
        row = None
        if 20 <= len(token) <= 100:
            row = (
                await CalendarToken.select(CalendarToken.user_id)
                .where(CalendarToken.token_hash == _token_hash(token))
                .first()
            )
        if row is None:
            raise NotFound("calendar_not_found", "no calendar for this token (revoked or never made)")
        rows = await Reservation.select(
            Reservation.public_id,
            Reservation.venue_slug,
            Reservation.status,
            Reservation.party_size,
            Reservation.created_at,
            Reservation.cancelled_at,
            Reservation.slot.starts_at.as_alias("starts_at"),
            Reservation.slot.ends_at.as_alias("ends_at"),
        ).where(
            (Reservation.user_id == row["user_id"])
            & Reservation.status.is_in(["confirmed", "pending_payment", "cancelled"])
        )
        cal = new_calendar("常享 · 我的预约" if lang == "zh" else "Changxiang · my bookings", lang)
        stamp = utc_now()
        for r in rows:
            venue = await catalog.record(r["venue_slug"])
            name = pick(venue.row["name_zh"], venue.row["name_en"], lang) if venue else r["venue_slug"]
            ev = VEvent()
            ev.add("uid", f"reservation-{r['public_id']}@{UID_DOMAIN}")
            ev.add("dtstamp", stamp)
            ev.add("dtstart", local(r["starts_at"]))
            ev.add("dtend", local(r["ends_at"]))
            ev.add("summary", f"{name} ({r['party_size']})")
            if venue:
                ev.add("location", pick(venue.row["address_zh"], venue.row["address_en"], lang))
                ev.add("geo", (venue.row["lat"], venue.row["lng"]))
            ev.add("url", f"{url_base}/bookings/{r['public_id']}")
            cancelled = r["status"] == "cancelled"
            ev.add("status", "CANCELLED" if cancelled else "CONFIRMED" if r["status"] == "confirmed" else "TENTATIVE")
            ev.add("sequence", 1 if cancelled else 0)
            ev.add("last-modified", (r["cancelled_at"] or r["created_at"]).astimezone(UTC))
            cal.add_component(ev)
        cal.add_missing_timezones()
        return bytes(cal.to_ical())


personal_calendar = PersonalCalendar()
