"""Live and stored facts about the items the guide cites, each a sentence in the asked language and a
value: open now (and until when), opening hours, free places in today's timed-entry slots, the comfort
level and the warnings in force (the venue's live block), an event's next occurrence, prices, an
amenity's attributes, the distance from the visitor."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from opening_hours import OpeningHours

from backend.lib.clock import CITY_TZ
from backend.lib.geo import Point, distance_m
from backend.lib.i18n import Lang, pick
from backend.lib.problems import DomainError
from backend.reservations.services import reservations
from backend.search.documents import Document
from backend.search.schemas import Fact, FactType, FactValue, SearchKind
from backend.venues.services import catalog

log = logging.getLogger("changxiang.search")

COMFORT: dict[str, tuple[str, str]] = {
    "comfortable": ("舒适", "comfortable"),
    "fairly_comfortable": ("较舒适", "fairly comfortable"),
    "normal": ("一般", "moderately busy"),
    "fairly_crowded": ("较拥挤", "fairly crowded"),
    "crowded": ("拥挤", "crowded"),
    "full": ("已满", "full"),
}
WEEKDAYS_ZH = "一二三四五六日"


def when(dt: datetime, lang: Lang, today: datetime | None = None) -> str:
    local = dt.astimezone(CITY_TZ)
    same_day = today is not None and local.date() == today.astimezone(CITY_TZ).date()
    if lang == "zh":
        day = "今天" if same_day else f"{local.month}月{local.day}日（周{WEEKDAYS_ZH[local.weekday()]}）"
        return f"{day} {local:%H:%M}"
    day = "today" if same_day else local.strftime("%a %-d %b")
    return f"{day} {local:%H:%M}"


def money(fen: int, lang: Lang) -> str:
    if fen <= 0:
        return "免费" if lang == "zh" else "free"
    yuan = f"{fen / 100:.2f}".rstrip("0").rstrip(".")
    return f"{yuan} 元" if lang == "zh" else f"CNY {yuan}"


def _t(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def fact(kind: FactType, doc: tuple[str, str], lang: Lang, zh: str, en: str, value: FactValue = None) -> Fact:
    """A fact of `kind` about the item `doc` (its kind, slug), said in `lang`."""
    item_kind: SearchKind = doc[0]  # type: ignore[assignment]  # a Document.kind, one of the Literal's values
    return Fact(type=kind, kind=item_kind, slug=doc[1], text=_t(lang, zh, en), value=value)


def distance_fact(doc: Document, lang: Lang, near: Point | None) -> list[Fact]:
    if near is None or doc.location is None:
        return []
    metres = round(distance_m(near, doc.location))
    shown = f"{metres} 米" if metres < 1000 else f"{metres / 1000:.1f} 公里"
    if lang == "en":
        shown = f"{metres} m" if metres < 1000 else f"{metres / 1000:.1f} km"
    return [fact("distance", (doc.kind, doc.slug), lang, f"距你约 {shown}", f"about {shown} away", metres)]


def _hours_state(hours: str, now: datetime, lang: Lang) -> tuple[bool, str] | None:
    try:
        oh = OpeningHours(hours)
    except Exception:  # noqa: BLE001 - content checked at load; an odd value only loses this fact
        return None
    naive = now.astimezone(CITY_TZ).replace(tzinfo=None)
    is_open = oh.is_open(naive)
    change = oh.next_change(naive)
    if change is not None and change - naive > timedelta(days=8):
        change = None
    at = "" if change is None else when(change.replace(tzinfo=CITY_TZ), lang, now)
    if is_open:
        tail = _t(lang, f"，至 {at}", f" until {at}") if at else ""
        return True, _t(lang, f"现在开放{tail}", f"open now{tail}")
    tail = _t(lang, f"，下次开放：{at}", f"; opens {at}") if at else ""
    return False, _t(lang, f"现在不开放{tail}", f"closed now{tail}")


async def venue_facts(doc: Document, lang: Lang, now: datetime, want_access: bool) -> list[Fact]:
    facts: list[Fact] = []
    me = ("venue", doc.slug)
    try:
        venue = await catalog.get(doc.slug, lang)
    except DomainError:
        return facts
    state = _hours_state(venue.opening_hours, now, lang)
    live = venue.live
    if live.status == "closed" and state is not None and state[0]:
        facts.append(fact("open_now", me, lang, "今天临时关闭", "closed today by order", False))
    elif state is not None:
        limited = _t(lang, "（限流中）", " (entry limited)") if live.status == "limited" else ""
        facts.append(fact("open_now", me, lang, state[1] + limited, state[1] + limited, state[0]))
    hours = venue.opening_hours
    facts.append(fact("hours", me, lang, f"开放时间：{hours}", f"opening hours: {hours}", hours))
    if state is not None and state[0] and live.status != "closed":
        zh, en = COMFORT.get(live.comfort_level, (live.comfort_level, live.comfort_level))
        inside = live.occupancy
        facts.append(
            fact(
                "comfort",
                me,
                lang,
                f"舒适度：{zh}（现有 {inside} 人）",
                f"comfort: {en} ({inside} inside)",
                live.comfort_level,
            )
        )
    for alert in venue.alerts:
        facts.append(fact("warning", me, lang, f"预警：{alert.headline}", f"warning: {alert.headline}", alert.severity))
    price = money(venue.price_fen, lang)
    facts.append(fact("price", me, lang, f"门票：{price}", f"admission: {price}", venue.price_fen))
    if venue.reservation_required:
        facts += await free_places(doc.slug, lang, now)
    if want_access and venue.accessibility:
        access = venue.accessibility
        facts.append(fact("accessibility", me, lang, f"无障碍：{access}", f"access: {access}"))
    return facts


async def free_places(slug: str, lang: Lang, now: datetime) -> list[Fact]:
    """Today's timed-entry slots still ahead, with places left."""
    try:
        slots = await reservations.list_slots(slug, now.astimezone(CITY_TZ).date())
    except DomainError:
        return []
    ahead = [x for x in slots.items if x.status == "open" and x.starts_at > now]
    left = sum(x.remaining for x in ahead)
    if not ahead:
        text = _t(lang, "今天已无可预约的场次", "no bookable entry time left today")
    else:
        first = ahead[0]
        text = _t(
            lang,
            f"需预约：今天还有 {left} 个名额，最近一场 {first.starts_at:%H:%M}（余 {first.remaining}）",
            f"booking needed: {left} places left today, next entry {first.starts_at:%H:%M} ({first.remaining} left)",
        )
    return [fact("free_places", ("venue", slug), lang, text, text, left)]


def event_facts(doc: Document, lang: Lang, now: datetime) -> list[Fact]:
    starts: list[datetime] = doc.data.get("starts", [])
    duration: timedelta = doc.data.get("duration", timedelta(0))
    nxt = next((s for s in starts if s + duration > now), None)
    facts: list[Fact] = []
    if nxt is not None:
        place = pick(doc.data.get("place_zh"), doc.data.get("place_en"), lang)
        running = nxt <= now
        label = _t(lang, "正在进行，至 " if running else "下一场：", "on now, until " if running else "next: ")
        at = when(nxt + duration if running else nxt, lang, now)
        text = label + at + (f"，{place}" if lang == "zh" and place else f", {place}" if place else "")
        facts.append(fact("next_occurrence", ("event", doc.slug), lang, text, text, nxt.isoformat()))
    fen = doc.data.get("price_fen")
    if isinstance(fen, int):
        price = money(fen, lang)
        facts.append(fact("price", ("event", doc.slug), lang, f"费用：{price}", f"price: {price}", fen))
    return facts


def amenity_facts(doc: Document, lang: Lang, now: datetime) -> list[Fact]:
    d = doc.data
    words = []
    if d.get("wheelchair"):
        words.append(_t(lang, "有无障碍设施", "wheelchair accessible"))
    if d.get("baby_changing"):
        words.append(_t(lang, "有母婴台", "baby changing"))
    if d.get("fee") is False:
        words.append(_t(lang, "免费", "free"))
    elif d.get("fee"):
        words.append(_t(lang, "收费", "fee"))
    if d.get("free_spaces") is not None:
        words.append(_t(lang, f"空余车位 {d['free_spaces']}", f"{d['free_spaces']} free spaces"))
    facts: list[Fact] = []
    me = ("amenity", doc.slug)
    if words:
        facts.append(fact("amenity", me, lang, "、".join(words), ", ".join(words)))
    state = _hours_state(str(d.get("opening_hours") or "24/7"), now, lang)
    if state is not None:
        facts.append(fact("open_now", me, lang, state[1], state[1], state[0]))
    address = pick(d.get("address_zh"), d.get("address_en"), lang)
    if address:
        facts.append(fact("address", me, lang, f"位置：{address}", f"where: {address}"))
    return facts


def tour_facts(doc: Document, lang: Lang) -> list[Fact]:
    minutes, metres = doc.data.get("duration_min"), doc.data.get("distance_m")
    if not minutes:
        return []
    km = f"{(metres or 0) / 1000:.1f}"
    zh, en = f"步行约 {minutes} 分钟，{km} 公里", f"about {minutes} min on foot, {km} km"
    return [fact("hours", ("tour", doc.slug), lang, zh, en, minutes)]


async def facts_for(
    doc: Document, lang: Lang, now: datetime, near: Point | None, want_access: bool = False
) -> list[Fact]:
    facts: list[Fact] = []
    if doc.kind == "venue":
        facts += await venue_facts(doc, lang, now, want_access)
    elif doc.kind == "event":
        facts += event_facts(doc, lang, now)
    elif doc.kind == "amenity":
        facts += amenity_facts(doc, lang, now)
    elif doc.kind == "tour":
        facts += tour_facts(doc, lang)
    return facts + distance_fact(doc, lang, near)
