"""Guided tours (景区导览) and readable buildings (建筑可阅读): public reading, content loading, and the
shapes the publishing admin needs.

A tour is an ordered list of stops at points of interest (POIs). A POI's `key` is its stable public
id (`/pois/{id}`, the URL a plaque's QR code carries); tours are publishable (lib/publication.py)
and the public endpoints show only those visible now. POIs are shown whether or not a tour that
passes them is published (a plaque stays readable), but only visible tours are listed on them.
"""

from __future__ import annotations

import builtins
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from backend.lib.clock import clock
from backend.lib.geo import CHANGZHOU_BBOX, Point, distance_m
from backend.lib.i18n import Lang, pick
from backend.lib.pagination import Page
from backend.lib.problems import NotFound
from backend.lib.publication import visible_now
from backend.tours.schemas import (
    LoadReport,
    PoiOut,
    PoiRef,
    StopOut,
    TourAdmin,
    TourAdminStop,
    TourContent,
    TourOnPoi,
    TourOut,
)
from backend.tours.tables import Poi, Stop, Tour

AUDIO_DIR = "media/audio"  # under the content directory, served at /media/audio


def line_length_m(line: list[tuple[float, float]]) -> float:
    """Geodesic length (WGS-84, geographiclib) of a walking line of (lat, lng) points."""
    return sum(distance_m(Point(*a), Point(*b)) for a, b in zip(line, line[1:], strict=False))


def _audio(row: dict[str, Any], lang: Lang) -> tuple[str | None, str | None]:
    other: Lang = "en" if lang == "zh" else "zh"
    for candidate in (lang, other):
        if row.get(f"audio_{candidate}"):
            return row[f"audio_{candidate}"], candidate
    return None, None


def _languages(row: dict[str, Any], prefix: str) -> list[str]:
    return [lang for lang in ("zh", "en") if row.get(f"{prefix}_{lang}")]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class TourService:
    async def _stops(self, tour_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        if not tour_ids:
            return {}
        rows = (
            await Stop.select(
                Stop.tour,
                Stop.position,
                Stop.text_zh,
                Stop.text_en,
                *Stop.poi.all_columns(),
            )
            .where(Stop.tour.is_in(tour_ids))
            .order_by(Stop.position)
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            out.setdefault(row["tour"], []).append(row)
        return out

    def _stop_out(self, row: dict[str, Any], lang: Lang) -> StopOut:
        poi = {k.removeprefix("poi."): v for k, v in row.items() if k.startswith("poi.")}
        audio_url, audio_lang = _audio(poi, lang)
        return StopOut(
            order=row["position"],
            poi=PoiRef(
                id=poi["key"], name=pick(poi["name_zh"], poi["name_en"], lang), location=Point(poi["lat"], poi["lng"])
            ),
            text=pick(row["text_zh"], row["text_en"], lang),
            images=list(poi["images"] or []),
            audio_url=audio_url,
            audio_lang=audio_lang,
        )

    def _tour_out(self, row: dict[str, Any], stops: list[dict[str, Any]], lang: Lang) -> TourOut:
        line = [Point(lat, lng) for lat, lng in msgspec.json.decode(row["line"])]
        audio_langs = sorted(
            {lang_ for s in stops for lang_ in ("zh", "en") if s.get(f"poi.audio_{lang_}")}, reverse=True
        )
        return TourOut(
            slug=row["slug"],
            title=pick(row["title_zh"], row["title_en"], lang),
            summary=pick(row["summary_zh"], row["summary_en"], lang),
            duration_min=row["duration_min"],
            distance_m=round(row["distance_m"]),
            languages=_languages(row, "title"),
            audio_languages=audio_langs,
            line=line,
            stops=[self._stop_out(s, lang) for s in stops],
            images=list(row["images"] or []),
            venue_slug=row["venue_slug"],
        )

    async def list(self, lang: Lang, limit: int = 20, offset: int = 0, now: datetime | None = None) -> Page[TourOut]:
        visible = visible_now(Tour, now or clock.now())
        total = await Tour.count().where(visible)
        rows = (
            await Tour.select().where(visible).order_by(Tour.sort_order).order_by(Tour.slug).limit(limit).offset(offset)
        )
        stops = await self._stops([r["id"] for r in rows])
        return Page(items=[self._tour_out(r, stops.get(r["id"], []), lang) for r in rows], total=total)

    async def get(self, slug: str, lang: Lang, now: datetime | None = None) -> TourOut:
        row = await Tour.select().where((Tour.slug == slug) & visible_now(Tour, now or clock.now())).first()
        if row is None:
            raise NotFound("tour_not_found", f"no published tour {slug!r}")
        stops = await self._stops([row["id"]])
        return self._tour_out(row, stops.get(row["id"], []), lang)

    async def poi(self, key: str, lang: Lang, now: datetime | None = None) -> PoiOut:
        row = await Poi.select().where(Poi.key == key).first()
        if row is None:
            raise NotFound("poi_not_found", f"no point of interest {key!r}")
        visible = [r["id"] for r in await Tour.select(Tour.id).where(visible_now(Tour, now or clock.now()))]
        on = (
            await Stop.select(Stop.position, Stop.tour.slug, Stop.tour.title_zh, Stop.tour.title_en)
            .where((Stop.poi == row["id"]) & Stop.tour.is_in(visible or [0]))
            .order_by(Stop.tour.sort_order)
        )
        audio_url, audio_lang = _audio(row, lang)
        return PoiOut(
            id=row["key"],
            name=pick(row["name_zh"], row["name_en"], lang),
            location=Point(row["lat"], row["lng"]),
            text=pick(row["text_zh"], row["text_en"], lang),
            images=list(row["images"] or []),
            tours=[
                TourOnPoi(
                    slug=t["tour.slug"], title=pick(t["tour.title_zh"], t["tour.title_en"], lang), order=t["position"]
                )
                for t in on
            ],
            audio_url=audio_url,
            audio_lang=audio_lang,
        )

    async def poi_keys(self, tour_slug: str) -> builtins.list[tuple[int, str, str, str]]:
        """(order, poi id, zh name, en name) of a tour's stops, published or not (for printing plaques)."""
        tour = await Tour.select(Tour.id).where(Tour.slug == tour_slug).first()
        if tour is None:
            raise NotFound("tour_not_found", f"no tour {tour_slug!r}")
        rows = (
            await Stop.select(Stop.position, Stop.poi.key, Stop.poi.name_zh, Stop.poi.name_en)
            .where(Stop.tour == tour["id"])
            .order_by(Stop.position)
        )
        return [(r["position"], r["poi.key"], r["poi.name_zh"], r["poi.name_en"]) for r in rows]


tours = TourService()


# ---- the publishing admin's view of a tour (for the /admin/tours registry) ----

LOCALISED_FIELDS = ("title", "summary")  # each stored as <field>_zh / <field>_en; stops' `text` too


def tour_admin_shape(row: dict[str, Any], stops: list[dict[str, Any]]) -> TourAdmin:
    """A tours row (any state) and its stop rows joined to their POI (as `TourService._stops` returns
    them) in the admin shape: localised fields as {zh, en}."""
    return TourAdmin(
        id=row["id"],
        slug=row["slug"],
        title={"zh": row["title_zh"], "en": row["title_en"]},
        summary={"zh": row["summary_zh"], "en": row["summary_en"]},
        venue_slug=row["venue_slug"],
        duration_min=row["duration_min"],
        distance_m=round(row["distance_m"]),
        stops=[
            TourAdminStop(order=s["position"], poi_id=s["poi.key"], text={"zh": s["text_zh"], "en": s["text_en"]})
            for s in stops
        ],
        status=row["status"],
        publish_at=_iso(row["publish_at"]),
        published_at=_iso(row["published_at"]),
        updated_at=_iso(row["updated_at"]),
    )


async def tour_admin(tour_id: int) -> TourAdmin:
    """One tour (any state) in the admin shape."""
    row = await Tour.select().where(Tour.id == tour_id).first()
    if row is None:
        raise NotFound("tour_not_found", f"no tour {tour_id}")
    return tour_admin_shape(row, (await tours._stops([tour_id])).get(tour_id, []))


def tour_public(row: dict[str, Any], stops: list[dict[str, Any]], lang: Lang) -> TourOut:
    """A tours row (+ its stop rows joined to their POI, as `_stops` returns them) in the public shape."""
    return tours._tour_out(row, stops, lang)


# ---- content loading ----


def _inside_changzhou(lat: float, lng: float) -> bool:
    min_lat, min_lng, max_lat, max_lng = CHANGZHOU_BBOX
    return min_lat <= lat <= max_lat and min_lng <= lng <= max_lng


def parse_tour_content(raw: list[dict[str, Any]], content_dir: Path | None = None) -> list[TourContent]:
    """Validate content/tours.toml; a bad record fails the load, naming it (nothing is written). With
    `content_dir`, every image a tour or stop names must exist under it (`/media/…`)."""
    items: list[TourContent] = []
    seen: set[str] = set()
    pois: dict[str, object] = {}
    for index, entry in enumerate(raw):
        label = entry.get("slug", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            item = msgspec.convert(entry, TourContent)
        except msgspec.ValidationError as exc:
            raise ValueError(f"tour {label}: {exc}") from None
        if item.slug in seen:
            raise ValueError(f"tour {label}: duplicate slug")
        seen.add(item.slug)
        images = [*item.images, *(img for stop in item.stop for img in stop.images)]
        if content_dir is not None:
            for image in images:
                if not image.startswith("/media/") or not (content_dir / image.lstrip("/")).is_file():
                    raise ValueError(f"tour {label}: image {image} is not a file under content/media")
        for stop in item.stop:
            points = [(stop.location.lat, stop.location.lng), *stop.via]
            if not all(_inside_changzhou(lat, lng) for lat, lng in points):
                raise ValueError(f"tour {label}: stop {stop.poi} lies outside Changzhou")
            key = (stop.name, stop.location)
            if pois.setdefault(stop.poi, key) != key:
                raise ValueError(f"tour {label}: poi {stop.poi} is described differently in another tour")
        items.append(item)
    return items


def _walking_line(item: TourContent) -> list[tuple[float, float]]:
    line: list[tuple[float, float]] = []
    for stop in item.stop:
        line.append((stop.location.lat, stop.location.lng))
        line.extend(stop.via)
    return line


def _digest(columns: dict[str, Any]) -> str:
    return hashlib.sha256(msgspec.json.encode(columns, order="sorted")).hexdigest()


async def load_tours(items: list[TourContent], content_dir: Path) -> LoadReport:
    """Upsert POIs by key and tours by slug; unchanged content is not written. New tours load as
    `published` (the city's seed content); a reload never changes a tour's publication state."""
    now = clock.now()
    existing_pois = {r["key"]: r for r in await Poi.select(Poi.id, Poi.key, Poi.content_hash)}
    poi_ids: dict[str, int] = {}
    for item in items:
        for stop in item.stop:
            if stop.poi in poi_ids:
                continue
            audio = {
                lang: f"/{AUDIO_DIR}/{stop.poi}.{lang}.opus"
                for lang in ("zh", "en")
                if (content_dir / AUDIO_DIR / f"{stop.poi}.{lang}.opus").is_file()
            }
            columns: dict[str, Any] = {
                "key": stop.poi,
                "name_zh": stop.name.zh,
                "name_en": stop.name.en,
                "lat": stop.location.lat,
                "lng": stop.location.lng,
                "text_zh": stop.text.zh.strip(),
                "text_en": stop.text.en.strip(),
                "audio_zh": audio.get("zh"),
                "audio_en": audio.get("en"),
                "images": list(stop.images),
            }
            digest = _digest(columns)
            current = existing_pois.get(stop.poi)
            if current is None:
                poi_ids[stop.poi] = (await Poi.insert(Poi(**columns, content_hash=digest)).returning(Poi.id))[0]["id"]
            else:
                poi_ids[stop.poi] = current["id"]
                if current["content_hash"] != digest:
                    values = {getattr(Poi, k): v for k, v in columns.items()}
                    await Poi.update({**values, Poi.content_hash: digest, Poi.updated_at: now}).where(
                        Poi.id == current["id"]
                    )

    existing = {r["slug"]: r for r in await Tour.select(Tour.id, Tour.slug, Tour.content_hash)}
    created = updated = unchanged = 0
    for order, item in enumerate(items):
        line = _walking_line(item)
        columns = {
            "slug": item.slug,
            "venue_slug": item.venue_slug,
            "title_zh": item.title.zh,
            "title_en": item.title.en,
            "summary_zh": item.summary.zh.strip(),
            "summary_en": item.summary.en.strip(),
            "duration_min": item.duration_min,
            "distance_m": line_length_m(line),
            "line": msgspec.json.encode(line).decode(),
            "images": list(item.images),
            "sort_order": order,
        }
        stops = [(pos, poi_ids[s.poi], s.text.zh.strip(), s.text.en.strip()) for pos, s in enumerate(item.stop, 1)]
        digest = _digest({"tour": columns, "stops": stops})
        current = existing.get(item.slug)
        if current is not None and current["content_hash"] == digest:
            unchanged += 1
            continue
        if current is None:
            tour_id = (
                await Tour.insert(
                    Tour(**columns, content_hash=digest, status="published", published_at=now, updated_at=now)
                ).returning(Tour.id)
            )[0]["id"]
            created += 1
        else:
            tour_id = current["id"]
            values = {getattr(Tour, k): v for k, v in columns.items()}
            await Tour.update({**values, Tour.content_hash: digest, Tour.updated_at: now}).where(Tour.id == tour_id)
            await Stop.delete().where(Stop.tour == tour_id)
            updated += 1
        await Stop.insert(
            *[Stop(tour=tour_id, position=pos, poi=poi_id, text_zh=zh, text_en=en) for pos, poi_id, zh, en in stops]
        )
    return LoadReport(created=created, updated=updated, unchanged=unchanged)
