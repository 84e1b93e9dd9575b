"""content/tickets.toml: venues' concession rules, halls drawn as seat maps, the events that sell tickets
(each upcoming occurrence a performance), and the online shows. Loading is idempotent (keys)."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import msgspec

from backend.events.tables import Event
from backend.events.times import HORIZON, exdates_of, expand, local
from backend.lib.clock import clock
from backend.lib.ticket_types import TICKET_TYPES, parse_rule
from backend.tickets.performances import create_performance
from backend.tickets.rules import forget_rules
from backend.tickets.tables import Hall, Performance, Seat, Show, TicketRule
from backend.venues.schemas import LoadReport

SALE_HORIZON = timedelta(days=400)  # performances go on sale up to this far ahead of load-content

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]


class Localised(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    zh: str
    en: str


class SectionContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: Slug
    name: Localised
    rows: Annotated[int, msgspec.Meta(ge=1, le=60)]
    seats: tuple[int, int]  # seats in the front row, in the back row
    y: float
    zones: dict[str, tuple[int, int]]  # zone -> first and last row
    accessible: list[tuple[int, int]] = []
    blocked: list[tuple[int, int]] = []


class HallContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: Slug
    venue_slug: Slug
    name: Localised
    section: list[SectionContent]


class TicketingContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    event_slug: Slug
    zones: dict[str, Annotated[int, msgspec.Meta(ge=0)]]
    hall: Slug | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1)] | None = None


class ShowContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: Slug
    title: Localised
    summary: Localised
    price_fen: Annotated[int, msgspec.Meta(ge=0)] = 0
    event_slug: Slug | None = None
    venue_slug: Slug | None = None


class TicketsContent(msgspec.Struct, frozen=True):
    rules: list[dict[str, str]] = []
    hall: list[HallContent] = []
    ticketing: list[TicketingContent] = []
    show: list[ShowContent] = []


def parse_tickets_content(text: str) -> TicketsContent:
    content = msgspec.convert(tomllib.loads(text), type=TicketsContent)
    for rule in content.rules:
        for kind, value in rule.items():
            if kind != "venue_slug":
                if kind not in TICKET_TYPES:
                    raise ValueError(f"rules of {rule.get('venue_slug')}: unknown ticket type {kind!r}")
                parse_rule(value)
    return content


def seat_rows(hall: HallContent) -> list[dict[str, Any]]:
    """Every seat of the hall drawn: each row centred on x = 0, a little curved towards the stage."""
    out = []
    for order, section in enumerate(hall.section):
        front, back = section.seats
        for row in range(1, section.rows + 1):
            n = round(front + (back - front) * (row - 1) / max(1, section.rows - 1))
            zone = next((z for z, (a, b) in section.zones.items() if a <= row <= b), None)
            if zone is None:
                raise ValueError(f"{hall.slug}/{section.id}: row {row} is in no zone")
            for number in range(1, n + 1):
                x = number - (n + 1) / 2
                out.append(
                    {
                        "key": f"{hall.slug}|{section.id}|{row}|{number}",
                        "hall_slug": hall.slug,
                        "section": section.id,
                        "section_zh": section.name.zh,
                        "section_en": section.name.en,
                        "section_order": order,
                        "row": row,
                        "number": number,
                        "x": round(x, 2),
                        "y": round(section.y + (row - 1) * 1.1 + 0.004 * x * x, 2),
                        "zone": zone,
                        "accessible": (row, number) in section.accessible,
                        "blocked": (row, number) in section.blocked,
                    }
                )
    return out


async def load_tickets(content: TicketsContent, content_dir: Path) -> LoadReport:
    for rule in content.rules:
        venue = rule["venue_slug"]
        for kind, value in rule.items():
            if kind == "venue_slug":
                continue
            key = f"{venue}|{kind}"
            await TicketRule.insert(TicketRule(key=key, venue_slug=venue, ticket_type=kind, rule=value)).on_conflict(
                target=TicketRule.key, action="DO UPDATE", values=[TicketRule.rule]
            )
    forget_rules()
    for hall in content.hall:
        await Hall.insert(
            Hall(slug=hall.slug, venue_slug=hall.venue_slug, name_zh=hall.name.zh, name_en=hall.name.en)
        ).on_conflict(target=Hall.slug, action="DO UPDATE", values=[Hall.name_zh, Hall.name_en])
        rows = seat_rows(hall)
        for first in range(0, len(rows), 200):
            await Seat.insert(*[Seat(**r) for r in rows[first : first + 200]]).on_conflict(
                target=Seat.key, action="DO NOTHING"
            )
    now = clock.now()
    before = await Performance.count()
    for t in content.ticketing:
        event = await Event.select().where(Event.slug == t.event_slug).first()
        if event is None or event["venue_slug"] is None:
            continue
        duration = event["ends_at"] - event["starts_at"]
        for start in expand(event["starts_at"], event["rrule"] or None, exdates_of(event), local(now) + HORIZON):
            if start <= now or start > now + SALE_HORIZON:
                continue
            await create_performance(
                t.event_slug, event["venue_slug"], start, start + duration, t.zones, t.hall, t.capacity
            )
    created = await Performance.count() - before
    for show in content.show:
        playlist = content_dir / "shows" / show.slug / "index.m3u8"
        seconds = _duration(playlist)
        values: dict[str, Any] = {
            "event_slug": show.event_slug,
            "venue_slug": show.venue_slug,
            "title_zh": show.title.zh,
            "title_en": show.title.en,
            "summary_zh": show.summary.zh,
            "summary_en": show.summary.en,
            "price_fen": show.price_fen,
            "duration_s": seconds,
        }
        await Show.insert(Show({Show.slug: show.slug, **{getattr(Show, k): v for k, v in values.items()}})).on_conflict(
            target=Show.slug, action="DO UPDATE", values=[getattr(Show, k) for k in values]
        )
    return LoadReport(created=created, updated=0, unchanged=0)


def _duration(playlist: Path) -> int:
    if not playlist.is_file():
        return 0
    total = 0.0
    for line in playlist.read_text(encoding="utf-8").splitlines():
        if line.startswith("#EXTINF:"):
            total += float(line.removeprefix("#EXTINF:").split(",")[0])
    return round(total)


async def load_tickets_file(content_dir: Path) -> LoadReport | None:
    """`changxiang load-content`'s step for content/tickets.toml (after the events: their occurrences
    become performances); None when the file is absent."""
    path = content_dir / "tickets.toml"
    if not path.exists():
        return None
    return await load_tickets(parse_tickets_content(path.read_text(encoding="utf-8")), content_dir)
