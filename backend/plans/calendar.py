"""A day plan as iCalendar (RFC 5545): one event per visit, the travel to it in its description, the
same calendar shape as the events room's files (`events.calendars.new_calendar`)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from icalendar import Event as VEvent

from backend.events.calendars import UID_DOMAIN, new_calendar
from backend.lib.clock import CITY_TZ
from backend.lib.i18n import Lang
from backend.plans.schemas import PlanOut

MODE_WORDS = {"walk": ("步行", "walk"), "taxi": ("打车", "taxi")}


def plan_calendar(plan: PlanOut, stamp: datetime, url_base: str) -> bytes:
    lang: Lang = "en" if plan.lang == "en" else "zh"
    name = f"常享 · {plan.date} 行程" if lang == "zh" else f"Changxiang · day plan {plan.date}"
    cal = new_calendar(name, lang)
    uid_base = hashlib.sha256(plan.id.encode()).hexdigest()[:20]  # the id itself is the plan's key: not in the file
    for index, item in enumerate(plan.items):
        if item.kind == "break":
            continue
        ev = VEvent()
        ev.add("uid", f"plan-{uid_base}-{index}@{UID_DOMAIN}")
        ev.add("dtstamp", stamp.astimezone(UTC))
        ev.add("dtstart", item.starts_at.astimezone(CITY_TZ))  # TZID=Asia/Shanghai, not a bare offset
        ev.add("dtend", item.ends_at.astimezone(CITY_TZ))
        ev.add("summary", item.title)
        zh, en = MODE_WORDS[item.travel.mode]
        if lang == "zh":
            travel = f"前往：{zh} {item.travel.minutes} 分钟（约 {item.travel.distance_m} 米）"
        else:
            travel = f"Getting there: {en}, {item.travel.minutes} min (about {item.travel.distance_m} m)"
        ev.add("description", f"{item.why}\n{travel}")
        if item.location is not None:
            ev.add("geo", (item.location.lat, item.location.lng))
        if item.slug and item.kind == "venue":
            ev.add("url", f"{url_base}/venues/{item.slug}")
        elif item.slug and item.kind == "event":
            ev.add("url", f"{url_base}/events/{item.slug}")
        elif item.slug:
            ev.add("url", f"{url_base}/tours/{item.slug}")
        ev.add("status", "CONFIRMED")
        cal.add_component(ev)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
