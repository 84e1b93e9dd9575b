"""What an event body (a content file entry or a marketer's draft) becomes in the events table: the
place taken from the venue or given, checked times and recurrence, the search text; and the admin's
view of a row."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from backend.events.schemas import EventAdminOut, EventContent, EventIn, EventPatch
from backend.events.services import search_text
from backend.events.times import check_event_times, exdates_of, local
from backend.lib.geo import Point
from backend.lib.problems import InvalidInput
from backend.venues.schemas import Localised
from backend.venues.services import catalog


async def _place_columns(data: EventIn | EventContent | EventPatch, current: dict[str, Any] | None) -> dict[str, Any]:
    """Place, address, district and location: from the venue when one is named, else as given."""
    venue_slug = data.venue_slug if data.venue_slug is not None else (current or {}).get("venue_slug")
    cols: dict[str, Any] = {}
    if venue_slug and (data.venue_slug is not None or current is None):
        venue = await catalog.record(venue_slug)
        if venue is None:
            raise InvalidInput("unknown_venue", f"no venue {venue_slug!r}", field="venue_slug")
        v = venue.row
        cols.update(
            venue_slug=venue_slug,
            place_zh=v["name_zh"],
            place_en=v["name_en"],
            address_zh=v["address_zh"],
            address_en=v["address_en"],
            district=v["district"],
            lat=v["lat"],
            lng=v["lng"],
        )
    if data.place is not None:
        cols.update(place_zh=data.place.zh, place_en=data.place.en)
    if data.address is not None:
        cols.update(address_zh=data.address.zh, address_en=data.address.en)
    if data.district is not None:
        cols["district"] = data.district
    if data.location is not None:
        cols.update(lat=data.location.lat, lng=data.location.lng)
    if current is None:
        missing = [k for k in ("district", "lat", "place_zh") if k not in cols]
        if missing:
            raise InvalidInput("place_required", "give venue_slug, or place, district and location", field="venue_slug")
    return cols


def _search_columns(cols: dict[str, Any]) -> str:
    return search_text(
        cols.get("title_zh", ""),
        cols.get("title_en", ""),
        cols.get("summary_zh", ""),
        cols.get("summary_en", ""),
        cols.get("place_zh", ""),
        cols.get("place_en", ""),
        cols.get("category", ""),
    )


async def event_columns(data: EventIn | EventContent) -> dict[str, Any]:
    starts_at, ends_at = local(data.starts_at), local(data.ends_at)
    exdates = [local(x) for x in data.exdates]
    check_event_times(starts_at, ends_at, data.rrule, exdates)
    cols = {
        "slug": data.slug,
        "category": data.category,
        "venue_slug": None,
        "title_zh": data.title.zh,
        "title_en": data.title.en,
        "summary_zh": data.summary.zh.strip(),
        "summary_en": data.summary.en.strip(),
        "description_zh": data.description.zh.strip(),
        "description_en": data.description.en.strip(),
        "address_zh": "",
        "address_en": "",
        "starts_at": starts_at.astimezone(UTC),
        "ends_at": ends_at.astimezone(UTC),
        "rrule": (data.rrule or "").strip().upper(),
        "exdates": [x.isoformat() for x in exdates],
        "price_fen": data.price_fen,
        "image": data.image,
        **await _place_columns(data, None),
    }
    cols["search_text"] = _search_columns(cols)
    return cols


async def event_patch_columns(data: EventPatch, current: dict[str, Any]) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    for name in ("title", "summary", "description"):
        value = getattr(data, name)
        if value is not None:
            cols[f"{name}_zh"], cols[f"{name}_en"] = value.zh.strip(), value.en.strip()
    for name in ("category", "price_fen", "image"):
        if getattr(data, name) is not None:
            cols[name] = getattr(data, name)
    cols.update(await _place_columns(data, current))
    starts_at = local(data.starts_at) if data.starts_at is not None else local(current["starts_at"])
    ends_at = local(data.ends_at) if data.ends_at is not None else local(current["ends_at"])
    rrule = data.rrule.strip().upper() if data.rrule is not None else current["rrule"]
    exdates = [local(x) for x in data.exdates] if data.exdates is not None else exdates_of(current)
    if any(getattr(data, k) is not None for k in ("starts_at", "ends_at", "rrule", "exdates")):
        check_event_times(starts_at, ends_at, rrule or None, exdates)
        cols.update(
            starts_at=starts_at.astimezone(UTC),
            ends_at=ends_at.astimezone(UTC),
            rrule=rrule or "",
            exdates=[x.isoformat() for x in exdates],
        )
    merged = {**current, **cols}
    cols["search_text"] = _search_columns(merged)
    cols["sequence"] = (current["sequence"] or 0) + 1
    return cols


def event_admin_out(row: dict[str, Any]) -> EventAdminOut:
    return EventAdminOut(
        id=row["id"],
        slug=row["slug"],
        title=Localised(row["title_zh"], row["title_en"]),
        summary=Localised(row["summary_zh"], row["summary_en"]),
        description=Localised(row["description_zh"], row["description_en"]),
        category=row["category"],
        venue_slug=row["venue_slug"],
        district=row["district"],
        place=Localised(row["place_zh"], row["place_en"]),
        address=Localised(row["address_zh"], row["address_en"]),
        location=Point(row["lat"], row["lng"]),
        starts_at=local(row["starts_at"]),
        ends_at=local(row["ends_at"]),
        rrule=row["rrule"] or None,
        exdates=list(row["exdates"] or []),
        price_fen=row["price_fen"],
        image=row["image"],
        status=row["status"],
        publish_at=row["publish_at"],
        published_at=row["published_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
    )
