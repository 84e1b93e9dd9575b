"""What the search index holds: one `Document` per public thing of the city (venue, event, tour,
exhibition, article, readable building, amenity), read from the rooms that own them.

Each document has a title (zh, en), weighted text fields for matching, the text a snippet is cut from,
a location where it has one, and when it is visible: publishable items (events, tours, exhibitions,
articles) carry `visible_from` (a scheduled item's `publish_at`) so they appear at that instant without
a rebuild; an event's `visible_until` is the end of its last occurrence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.amenities.tables import Amenity
from backend.events.services import events as event_catalog
from backend.events.tables import Article
from backend.exhibitions.tables import Exhibition, ExhibitionItem
from backend.lib.geo import Point
from backend.tours.tables import Poi, Stop, Tour
from backend.venues.schemas import DISTRICT_NAMES
from backend.venues.services import catalog as venue_catalog

KINDS = ("venue", "event", "tour", "exhibition", "article", "poi", "amenity")

VENUE_CATEGORY_WORDS: dict[str, str] = {
    "museum": "博物馆 museum",
    "library": "图书馆 library",
    "art_gallery": "美术馆 艺术馆 art gallery",
    "cultural_center": "文化馆 cultural centre center",
    "theatre": "剧院 theatre theater",
    "scenic_area": "景区 景点 scenic area",
    "heritage_site": "古迹 文保 历史 heritage site",
    "park": "公园 park",
    "resort": "度假区 resort",
    "memorial_hall": "纪念馆 memorial hall",
    "intangible_heritage": "非遗 intangible heritage",
    "rural_tourism": "乡村游 rural",
    "sports": "体育 运动 sports",
}
EVENT_CATEGORY_WORDS: dict[str, str] = {
    "performance": "演出 表演 performance show",
    "exhibition": "展览 exhibition",
    "festival": "节 节庆 festival",
    "lecture": "讲座 lecture talk",
    "workshop": "工作坊 体验 workshop",
    "family": "亲子 家庭 儿童 family kids",
    "night_tour": "夜游 night tour",
    "rural_tourism": "乡村游 rural",
    "sports": "体育 运动 sports",
    "intangible_heritage": "非遗 intangible heritage",
}
AMENITY_WORDS: dict[str, str] = {
    "toilet": "厕所 公厕 卫生间 洗手间 toilet toilets restroom wc",
    "charger": "充电桩 充电站 充电 charger charging ev",
    "parking": "停车场 停车 parking car park",
}
ARTICLE_WORDS = {"guide": "攻略 出行攻略 guide", "news": "新闻 资讯 news"}
KIND_WORDS: dict[str, str] = {
    "event": "活动 event",
    "tour": "导览 游览路线 tour walk",
    "exhibition": "展览 云展览 exhibition",
    "poi": "建筑 可阅读 building",
}


@dataclass(slots=True)
class Document:
    kind: str
    slug: str
    title_zh: str
    title_en: str
    fields: dict[str, str]  # field name (index.FIELD_WEIGHTS) -> text
    snippet_zh: str
    snippet_en: str
    location: Point | None = None
    category: str | None = None
    venue_slug: str | None = None
    visible_from: datetime | None = None
    visible_until: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)  # what the guide's facts need (hours, attributes)

    def visible(self, now: datetime) -> bool:
        if self.visible_from is not None and self.visible_from > now:
            return False
        return self.visible_until is None or self.visible_until > now


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _public(row: dict[str, Any]) -> tuple[bool, datetime | None]:
    """(indexed at all, visible from): published now, or scheduled with a publish_at."""
    if row["status"] == "published":
        return True, None
    if row["status"] == "scheduled" and row["publish_at"] is not None:
        return True, row["publish_at"]
    return False, None


async def venue_documents() -> list[Document]:
    snap = await venue_catalog.snapshot()
    docs = []
    for rec in snap.records:
        r = rec.row
        district = DISTRICT_NAMES.get(r["district"], {})
        docs.append(
            Document(
                kind="venue",
                slug=r["slug"],
                title_zh=r["name_zh"],
                title_en=r["name_en"],
                fields={
                    "title": _join(r["name_zh"], r["name_en"], r["slug"].replace("-", " ")),
                    "tags": _join(
                        VENUE_CATEGORY_WORDS.get(r["category"], r["category"]),
                        " ".join(r["tags"] or []),
                        district.get("zh"),
                        district.get("en"),
                    ),
                    "body": _join(
                        r["description_zh"],
                        r["description_en"],
                        r["address_zh"],
                        r["address_en"],
                        r["accessibility_zh"],
                        r["accessibility_en"],
                    ),
                },
                snippet_zh=r["description_zh"],
                snippet_en=r["description_en"],
                location=rec.point,
                category=r["category"],
                venue_slug=r["slug"],
                data={
                    "opening_hours": r["opening_hours"],
                    "reservation_required": r["reservation_required"],
                    "price_fen": r["price_fen"],
                    "accessibility_zh": r["accessibility_zh"],
                    "accessibility_en": r["accessibility_en"],
                    "address_zh": r["address_zh"],
                    "address_en": r["address_en"],
                    "phone": r["phone"],
                },
            )
        )
    return docs


async def event_documents() -> list[Document]:
    snap = await event_catalog.snapshot()
    docs = []
    for rec in snap.records:
        r = rec.row
        indexed, since = _public(r)
        if not indexed or not rec.starts:
            continue
        docs.append(
            Document(
                kind="event",
                slug=r["slug"],
                title_zh=r["title_zh"],
                title_en=r["title_en"],
                fields={
                    "title": _join(r["title_zh"], r["title_en"]),
                    "tags": _join(
                        EVENT_CATEGORY_WORDS.get(r["category"], r["category"]),
                        KIND_WORDS["event"],
                        r["place_zh"],
                        r["place_en"],
                    ),
                    "body": _join(
                        r["summary_zh"],
                        r["summary_en"],
                        r["description_zh"],
                        r["description_en"],
                        r["address_zh"],
                        r["address_en"],
                    ),
                },
                snippet_zh=r["summary_zh"] or r["description_zh"],
                snippet_en=r["summary_en"] or r["description_en"],
                location=rec.point,
                category=r["category"],
                venue_slug=r["venue_slug"],
                visible_from=since,
                visible_until=rec.starts[-1] + rec.duration,
                data={
                    "starts": list(rec.starts),
                    "duration": rec.duration,
                    "price_fen": r["price_fen"],
                    "place_zh": r["place_zh"],
                    "place_en": r["place_en"],
                },
            )
        )
    return docs


async def tour_and_poi_documents() -> list[Document]:
    tours = await Tour.select().where(Tour.status.is_in(["published", "scheduled"])).order_by(Tour.sort_order)
    stops = await Stop.select(Stop.tour, Stop.position, Stop.poi).order_by(Stop.position)
    pois = {p["id"]: p for p in await Poi.select()}
    by_tour: dict[int, list[dict[str, Any]]] = {}
    for s in stops:
        by_tour.setdefault(s["tour"], []).append(pois[s["poi"]])
    docs = []
    for t in tours:
        indexed, since = _public(t)
        route = by_tour.get(t["id"], [])
        if not indexed:
            continue
        first = route[0] if route else None
        docs.append(
            Document(
                kind="tour",
                slug=t["slug"],
                title_zh=t["title_zh"],
                title_en=t["title_en"],
                fields={
                    "title": _join(t["title_zh"], t["title_en"]),
                    "tags": _join(KIND_WORDS["tour"], *(_join(p["name_zh"], p["name_en"]) for p in route)),
                    "body": _join(t["summary_zh"], t["summary_en"]),
                },
                snippet_zh=t["summary_zh"],
                snippet_en=t["summary_en"],
                location=Point(first["lat"], first["lng"]) if first else None,
                venue_slug=t["venue_slug"],
                visible_from=since,
                data={"duration_min": t["duration_min"], "distance_m": t["distance_m"]},
            )
        )
    for p in pois.values():
        docs.append(
            Document(
                kind="poi",
                slug=p["key"],
                title_zh=p["name_zh"],
                title_en=p["name_en"],
                fields={
                    "title": _join(p["name_zh"], p["name_en"]),
                    "tags": KIND_WORDS["poi"],
                    "body": _join(p["text_zh"], p["text_en"]),
                },
                snippet_zh=p["text_zh"],
                snippet_en=p["text_en"],
                location=Point(p["lat"], p["lng"]),
            )
        )
    return docs


async def exhibition_documents() -> list[Document]:
    rows = await Exhibition.select().where(Exhibition.status.is_in(["published", "scheduled"]))
    items = await ExhibitionItem.select(
        ExhibitionItem.exhibition, ExhibitionItem.label_zh, ExhibitionItem.label_en, ExhibitionItem.date_zh
    )
    labels: dict[int, list[str]] = {}
    for i in items:
        labels.setdefault(i["exhibition"], []).append(_join(i["label_zh"], i["label_en"], i["date_zh"]))
    venues = (await venue_catalog.snapshot()).by_slug
    docs = []
    for r in rows:
        indexed, since = _public(r)
        if not indexed:
            continue
        try:
            sections = json.loads(r["sections"] or "[]")
        except ValueError:
            sections = []
        section_words = " ".join(
            _join(s.get("label", {}).get("zh"), s.get("label", {}).get("en"))
            for s in sections
            if isinstance(s, dict) and isinstance(s.get("label"), dict)
        )
        venue = venues.get(r["venue_slug"] or "")
        docs.append(
            Document(
                kind="exhibition",
                slug=r["slug"],
                title_zh=r["title_zh"],
                title_en=r["title_en"],
                fields={
                    "title": _join(r["title_zh"], r["title_en"]),
                    "tags": _join(
                        KIND_WORDS["exhibition"],
                        section_words,
                        venue.row["name_zh"] if venue else None,
                        venue.row["name_en"] if venue else None,
                    ),
                    "body": _join(r["summary_zh"], r["summary_en"], " ".join(labels.get(r["id"], []))),
                },
                snippet_zh=r["summary_zh"],
                snippet_en=r["summary_en"],
                location=venue.point if venue else None,
                venue_slug=r["venue_slug"],
                visible_from=since,
            )
        )
    return docs


async def article_documents() -> list[Document]:
    rows = await Article.select().where(Article.status.is_in(["published", "scheduled"]))
    venues = (await venue_catalog.snapshot()).by_slug
    docs = []
    for r in rows:
        indexed, since = _public(r)
        if not indexed:
            continue
        first = next((venues[s] for s in r["venue_slugs"] or [] if s in venues), None)
        docs.append(
            Document(
                kind="article",
                slug=r["slug"],
                title_zh=r["title_zh"],
                title_en=r["title_en"],
                fields={
                    "title": _join(r["title_zh"], r["title_en"]),
                    "tags": ARTICLE_WORDS.get(r["kind"], r["kind"]),
                    "body": _join(r["summary_zh"], r["summary_en"], r["body_zh"], r["body_en"]),
                },
                snippet_zh=r["summary_zh"] or r["body_zh"],
                snippet_en=r["summary_en"] or r["body_en"],
                location=first.point if first else None,
                category=r["kind"],
                venue_slug=first.row["slug"] if first else None,
                visible_from=since,
            )
        )
    return docs


def _amenity_words(row: dict[str, Any]) -> str:
    words = [AMENITY_WORDS.get(row["kind"], row["kind"])]
    if row["wheelchair"]:
        words.append("无障碍 轮椅 accessible wheelchair step-free")
    if row["baby_changing"]:
        words.append("母婴 婴儿 尿布台 baby changing")
    if row["fee"] is False:
        words.append("免费 free")
    if row["kind"] == "parking" and row["coach_spaces"]:
        words.append("大巴 coach bus")
    return " ".join(words)


async def amenity_documents() -> list[Document]:
    rows = await Amenity.select()
    docs = []
    for r in rows:
        docs.append(
            Document(
                kind="amenity",
                slug=r["ext_id"],  # the id /amenities answers with
                title_zh=r["name_zh"],
                title_en=r["name_en"],
                fields={
                    "title": _join(r["name_zh"], r["name_en"]),
                    "tags": _join(_amenity_words(r), r["operator"]),
                    "body": _join(r["address_zh"], r["address_en"]),
                },
                snippet_zh=r["address_zh"],
                snippet_en=r["address_en"],
                location=Point(r["lat"], r["lng"]),
                category=r["kind"],
                venue_slug=r["near_venue"],
                data={
                    "opening_hours": r["opening_hours"],
                    "wheelchair": r["wheelchair"],
                    "baby_changing": r["baby_changing"],
                    "fee": r["fee"],
                    "free_spaces": r["free_spaces"],
                    "spaces": r["spaces"],
                    "address_zh": r["address_zh"],
                    "address_en": r["address_en"],
                },
            )
        )
    return docs


async def all_documents() -> list[Document]:
    docs: list[Document] = []
    docs += await venue_documents()
    docs += await event_documents()
    docs += await tour_and_poi_documents()
    docs += await exhibition_documents()
    docs += await article_documents()
    docs += await amenity_documents()
    return docs
