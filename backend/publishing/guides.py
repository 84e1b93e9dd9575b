"""Tours and exhibitions in the publishing flow (issue 8, item 6).

Their stops, walking lines and exhibition items are written in `content/` and loaded by
`changxiang load-content` (narration, audio and images are files); through the flow a marketer creates
a draft, edits the headline texts (title, summary, venue, duration, attribution) and moves the item
through draft → in_review → scheduled|published → archived like events and articles. A new tour
created here has no stops until the content that holds them is loaded, and goes public (scheduled or
published) only once it has some: 409 `tour_has_no_stops` (an exhibition: `exhibition_has_no_items`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import msgspec

from backend.exhibitions.schemas import RightsUri
from backend.exhibitions.tables import ExhibitionItem
from backend.lib.galleries import GalleryIds
from backend.lib.problems import Conflict
from backend.tours.tables import Stop
from backend.venues.schemas import Localised, Slug

Minutes = Annotated[int, msgspec.Meta(ge=1, le=24 * 60)]


class TourIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    title: Localised
    summary: Localised = Localised(zh="", en="")
    venue_slug: Slug | None = None
    duration_min: Minutes = 60
    gallery: GalleryIds | None = None
    publish_at: datetime | None = None


class TourPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Localised | None = None
    summary: Localised | None = None
    venue_slug: Slug | None = None
    duration_min: Minutes | None = None
    gallery: GalleryIds | None = None
    publish_at: datetime | None = None


class TourAdminOut(msgspec.Struct):
    id: int
    slug: str
    title: Localised
    summary: Localised
    venue_slug: str | None
    duration_min: int
    distance_m: float
    status: str
    publish_at: datetime | None
    published_at: datetime | None
    created_by: int | None
    updated_at: datetime


class ExhibitionIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    title: Localised
    rights: RightsUri
    summary: Localised = Localised(zh="", en="")
    attribution: Localised = Localised(zh="", en="")
    venue_slug: Slug | None = None
    gallery: GalleryIds | None = None
    publish_at: datetime | None = None


class ExhibitionPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Localised | None = None
    summary: Localised | None = None
    attribution: Localised | None = None
    rights: RightsUri | None = None
    venue_slug: Slug | None = None
    gallery: GalleryIds | None = None
    publish_at: datetime | None = None


class ExhibitionAdminOut(msgspec.Struct):
    id: int
    slug: str
    title: Localised
    summary: Localised
    attribution: Localised
    rights: str
    venue_slug: str | None
    status: str
    publish_at: datetime | None
    published_at: datetime | None
    created_by: int | None
    updated_at: datetime


def _texts(data: msgspec.Struct, names: tuple[str, ...]) -> dict:
    cols = {}
    for name in names:
        value = getattr(data, name, None)
        if value is not None:
            cols[f"{name}_zh"], cols[f"{name}_en"] = value.zh.strip(), value.en.strip()
    return cols


async def tour_columns(data: TourIn) -> dict:
    return {
        "slug": data.slug,
        "venue_slug": data.venue_slug,
        "duration_min": data.duration_min,
        "distance_m": 0.0,
        "line": json.dumps([]),
        "images": [],
        **_texts(data, ("title", "summary")),
    }


async def tour_patch_columns(data: TourPatch, current: dict) -> dict:
    cols = _texts(data, ("title", "summary"))
    for name in ("venue_slug", "duration_min"):
        if getattr(data, name) is not None:
            cols[name] = getattr(data, name)
    return cols


async def tour_ready(row: dict) -> None:
    if not await Stop.exists().where(Stop.tour == row["id"]):
        raise Conflict("tour_has_no_stops", "a tour goes public with its stops: load the content that holds them first")


async def exhibition_ready(row: dict) -> None:
    if not await ExhibitionItem.exists().where(ExhibitionItem.exhibition == row["id"]):
        raise Conflict(
            "exhibition_has_no_items",
            "an exhibition goes public with its items: load the content that holds them first",
        )


def tour_admin_out(row: dict) -> TourAdminOut:
    return TourAdminOut(
        id=row["id"],
        slug=row["slug"],
        title=Localised(row["title_zh"], row["title_en"]),
        summary=Localised(row["summary_zh"], row["summary_en"]),
        venue_slug=row["venue_slug"],
        duration_min=row["duration_min"],
        distance_m=row["distance_m"],
        status=row["status"],
        publish_at=row["publish_at"],
        published_at=row["published_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
    )


async def exhibition_columns(data: ExhibitionIn) -> dict:
    return {
        "slug": data.slug,
        "venue_slug": data.venue_slug,
        "rights": data.rights,
        "sections": json.dumps([]),
        **_texts(data, ("title", "summary", "attribution")),
    }


async def exhibition_patch_columns(data: ExhibitionPatch, current: dict) -> dict:
    cols = _texts(data, ("title", "summary", "attribution"))
    for name in ("venue_slug", "rights"):
        if getattr(data, name) is not None:
            cols[name] = getattr(data, name)
    return cols


def exhibition_admin_out(row: dict) -> ExhibitionAdminOut:
    return ExhibitionAdminOut(
        id=row["id"],
        slug=row["slug"],
        title=Localised(row["title_zh"], row["title_en"]),
        summary=Localised(row["summary_zh"], row["summary_en"]),
        attribution=Localised(row["attribution_zh"], row["attribution_en"]),
        rights=row["rights"],
        venue_slug=row["venue_slug"],
        status=row["status"],
        publish_at=row["publish_at"],
        published_at=row["published_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
    )
