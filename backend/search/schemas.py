from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from backend.lib.geo import Point

SearchKind = Literal["venue", "event", "tour", "exhibition", "article", "poi", "amenity"]
MAX_QUERY_CHARS = 200
MAX_QUESTION_CHARS = 500


class SearchItem(msgspec.Struct, omit_defaults=True):
    kind: SearchKind
    slug: str  # the public id: a slug, a readable building's key, an amenity's id
    title: str
    snippet: str
    category: str | None = None  # a venue's or event's category, an amenity's kind, an article's kind
    location: Point | None = None
    distance_m: float | None = None


class SearchPage(msgspec.Struct):
    items: list[SearchItem]
    total: int


# ---- the guide


class NearIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class GuideQuestion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    question: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_QUESTION_CHARS)]
    lang: Literal["zh", "en"] | None = None
    near: NearIn | None = None


class Citation(msgspec.Struct, omit_defaults=True):
    kind: SearchKind
    slug: str
    title: str
    category: str | None = None  # an amenity's kind (the finder screen it opens), a venue's category


FactType = Literal[
    "open_now",
    "hours",
    "free_places",
    "comfort",
    "warning",
    "next_occurrence",
    "price",
    "accessibility",
    "distance",
    "address",
    "amenity",
]


FactValue = str | int | float | bool | None


class Fact(msgspec.Struct, omit_defaults=True):
    """One live or stored fact about a cited item, as a sentence in the asked language and as a value."""

    type: FactType
    kind: SearchKind
    slug: str
    text: str
    value: FactValue = None


class GuideAnswer(msgspec.Struct):
    answer: str
    citations: list[Citation]
    facts: list[Fact]
    source: Literal["retrieval", "model"]  # who wrote `answer`: built from the items, or the model
