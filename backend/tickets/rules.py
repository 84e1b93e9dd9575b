"""Ticket types per venue and the quote: the price of each visitor and the total, with the entry window, the
cancellation deadline and the refund rule, before anything is booked or paid. The quote prices visitors with
the very code booking uses (`reservations.pricing`), so what is quoted is what is charged."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from backend.lib.clock import CITY_TZ
from backend.lib.i18n import Lang
from backend.lib.id_documents import is_valid_id_number, normalise_id_number
from backend.lib.problems import InvalidInput, NotFound
from backend.lib.ticket_types import (
    CARDS,
    CHILD_UNDER,
    DEFAULT_RULES,
    SENIOR_AGE,
    TICKET_TYPES,
    PriceRule,
    TicketType,
    parse_rule,
)
from backend.reservations.ports import PerformanceTarget, Place
from backend.reservations.pricing import Asked, price_party
from backend.reservations.slots import slot_by_id
from backend.tickets.schemas import QuoteLine, QuoteOut, QuoteRequest, TicketTypeList, TicketTypeOut
from backend.tickets.tables import TicketRule
from backend.venues.services import catalog

_ELIGIBILITY: dict[TicketType, tuple[str, str]] = {
    "adult": ("成人", "Adults"),
    "child": (f"未满{CHILD_UNDER}周岁（按身份证出生日期）", f"Under {CHILD_UNDER} (from the ID's birth date)"),
    "senior": (f"{SENIOR_AGE}周岁及以上（按身份证自动识别）", f"Aged {SENIOR_AGE} or over (recognised from the ID)"),
    "student": ("全日制学生，入场时出示学生证", "Full-time students; show a student card at the gate"),
    "disabled": ("残疾人，入场时出示残疾人证", "Disabled visitors; show the disability certificate at the gate"),
    "military": ("现役军人及优抚对象，入场时出示证件", "Service members; show the service ID at the gate"),
}


RULES_CACHE_S = 10.0  # rules change only with a content load; a booking need not read them every time
_rules_cache: dict[str, tuple[float, dict[TicketType, PriceRule]]] = {}


async def venue_rules(venue_slug: str) -> dict[TicketType, PriceRule]:
    """The venue's rule of each ticket type; the city's usual concessions where it states none. Kept per
    process for `RULES_CACHE_S` (a content load's new rules apply within that on every replica)."""
    cached = _rules_cache.get(venue_slug)
    now = time.monotonic()
    if cached is not None and now - cached[0] < RULES_CACHE_S:
        return dict(cached[1])
    rules = dict(DEFAULT_RULES)
    for row in await TicketRule.select(TicketRule.ticket_type, TicketRule.rule).where(
        TicketRule.venue_slug == venue_slug
    ):
        if row["ticket_type"] in rules:
            rules[row["ticket_type"]] = parse_rule(row["rule"])
    _rules_cache[venue_slug] = (now, rules)
    return dict(rules)


def forget_rules() -> None:
    """After this process loaded content: read the rules afresh."""
    _rules_cache.clear()


def type_list(rules: Mapping[TicketType, PriceRule], full_fen: int, lang: Lang) -> list[TicketTypeOut]:
    out = []
    for kind in TICKET_TYPES:
        rule = rules[kind]
        zh, en = _ELIGIBILITY[kind]
        out.append(
            TicketTypeOut(
                ticket_type=kind,
                rule=rule.describe(),
                price_fen=0 if rule.kind == "none" else rule.price(full_fen),
                offered=rule.kind != "none",
                eligibility=en if lang == "en" else zh,
                check_at_gate=CARDS.get(kind),
            )
        )
    return out


async def ticket_types(venue_slug: str, lang: Lang) -> TicketTypeList:
    venue = await catalog.record(venue_slug)
    if venue is None:
        raise NotFound("venue_not_found", f"no venue {venue_slug!r}")
    full = venue.row["price_fen"]
    return TicketTypeList(
        venue_slug=venue_slug,
        full_price_fen=full,
        currency="CNY",
        items=type_list(await venue_rules(venue_slug), full, lang),
    )


def entry_note(minutes: int, lang: Lang) -> str:
    return f"Entry from {minutes} minutes before the start" if lang == "en" else f"可提前 {minutes} 分钟入场"


def refund_rule(cutoff_min: int, lang: Lang) -> str:
    if lang == "en":
        return (
            f"Free cancellation with a full refund until {cutoff_min} minutes before the start; no refunds after that."
        )
    return f"开始前 {cutoff_min} 分钟之前可免费取消并全额退款，之后不可退。"


async def quote(data: QuoteRequest, target: PerformanceTarget | None, lang: Lang) -> QuoteOut:
    """Each visitor's ticket and the total, priced as booking prices them."""
    if (data.slot_id is None) == (data.performance_id is None):
        raise InvalidInput("target_required", "give exactly one of slot_id and performance_id", field="slot_id")
    slot = await slot_by_id(target.slot_id if target else (data.slot_id or 0))
    if slot is None or (target is None and slot["kind"] == "performance"):
        raise NotFound("slot_not_found", "no such slot")
    places = target.places if target else [Place(zone="", full_fen=slot["price_fen"])] * len(data.visitors)
    venue = await catalog.record(slot["venue_slug"])
    row: dict[str, Any] = venue.row if venue else {"entry_early_minutes": 30, "cancel_cutoff_minutes": 30}
    rules = await venue_rules(slot["venue_slug"])
    day = slot["starts_at"].astimezone(CITY_TZ).date()
    asked = []
    for i, v in enumerate(data.visitors):
        number = normalise_id_number(v.id_number)
        if not is_valid_id_number(v.id_type, number):
            raise InvalidInput(
                "invalid_id_number", f"visitor {i + 1}: the number is not valid", field=f"visitors[{i}].id_number"
            )
        asked.append(Asked(v.id_type, number, v.ticket_type))
    priced = price_party(asked, places, day, rules)
    early, cutoff = row["entry_early_minutes"], row["cancel_cutoff_minutes"]
    return QuoteOut(
        lines=[
            QuoteLine(
                position=i,
                ticket_type=p.ticket.ticket_type,
                automatic=p.ticket.automatic,
                full_price_fen=p.place.full_fen,
                price_fen=p.ticket.price_fen,
                rule=p.ticket.rule,
                check_at_gate=p.ticket.check_at_gate,
                seat=p.place.seat_label,
                zone=p.place.zone or None,
            )
            for i, p in enumerate(priced)
        ],
        total_fen=sum(p.ticket.price_fen for p in priced),
        currency="CNY",
        starts_at=slot["starts_at"].astimezone(CITY_TZ),
        ends_at=slot["ends_at"].astimezone(CITY_TZ),
        entry_from=(slot["starts_at"] - timedelta(minutes=early)).astimezone(CITY_TZ),
        entry_note=entry_note(early, lang),
        cancel_deadline=(slot["starts_at"] - timedelta(minutes=cutoff)).astimezone(CITY_TZ),
        refund_rule=refund_rule(cutoff, lang),
        rules=type_list(rules, places[0].full_fen if places else slot["price_fen"], lang),
    )
