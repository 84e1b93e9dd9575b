"""Search across everything (`GET /search`): the index each process keeps (backend/search/index.py),
rebuilt when the city's content changes, and the answers cut from it.

Freshness: the index is stamped with the shared version keys of the rooms whose content it holds
(venues, events, amenities: each bumps its key when its content changes) and search's own key, which
publishing (articles, tours, exhibitions) and `load-content` bump; every process compares the stamps
at most once a second (`cache` store: Redis when configured, so one replica's change reaches all) and
rebuilds at the latest after `INDEX_TTL_S`. A rebuild reads the rows, then segments and indexes them in a
worker thread (backend/lib/offload.py); requests arriving meanwhile are answered from the index they
have. Redis down: the index stays as it is.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime

import anyio
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from backend.amenities.index import VERSION_KEY as AMENITIES_VERSION
from backend.events.services import VERSION_KEY as EVENTS_VERSION
from backend.lib import offload
from backend.lib.clock import clock
from backend.lib.geo import Point, distance_m
from backend.lib.i18n import Lang, pick
from backend.lib.problems import InvalidInput
from backend.lib.stores import STORE_UNAVAILABLE, shared_version
from backend.search import text
from backend.search.documents import all_documents
from backend.search.index import Hit, SearchIndex
from backend.search.schemas import MAX_QUERY_CHARS, SearchItem, SearchPage
from backend.venues.services import VERSION_KEY as VENUES_VERSION

log = logging.getLogger("changxiang.search")

VERSION_KEY = "search:version"
WATCHED = (VENUES_VERSION, EVENTS_VERSION, AMENITIES_VERSION, VERSION_KEY)
VERSION_CHECK_S = 1.0
INDEX_TTL_S = 300.0
SNIPPET_CHARS = 80
_SPACE = re.compile(r"\s+")
_SENTENCE = re.compile(r"(?<=[。！？!?])|(?<=\.)\s")


def check_query(q: str | None, field: str = "q", limit: int = MAX_QUERY_CHARS) -> str:
    """The query, trimmed; 400 `query_empty` when nothing is left to search for, `query_too_long` past
    `limit` characters."""
    cleaned = _SPACE.sub(" ", q or "").strip()
    if len(cleaned) > limit:
        raise InvalidInput("query_too_long", f"{field} is at most {limit} characters", field=field)
    if not text.compact(cleaned):
        raise InvalidInput("query_empty", f"{field} needs a letter, digit or Chinese character", field=field)
    return cleaned


def snippet(body: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of `body` around the first matched term (its start when none shows)."""
    flat = _SPACE.sub(" ", body).strip()
    if len(flat) <= width:
        return flat
    lower = flat.lower()
    at = min((i for i in (lower.find(t) for t in terms if t) if i >= 0), default=-1)
    if at < 0:
        return flat[:width].rstrip() + "…"
    start = max(0, at - width // 4)
    end = min(len(flat), start + width)
    start = max(0, end - width)
    return _cut(flat, start, end)


def lead(body: str, width: int = SNIPPET_CHARS) -> str:
    """The opening sentence of `body`, at most about `width` characters."""
    flat = _SPACE.sub(" ", body).strip()
    first = _SENTENCE.split(flat, maxsplit=1)[0]
    end = min(len(flat), len(first), width)
    return _cut(flat, 0, end)


def _cut(flat: str, start: int, end: int) -> str:
    """flat[start:end] with ellipses, not splitting a Latin word at either end."""
    if start > 0 and flat[start - 1].isascii() and flat[start - 1].isalnum():
        space = flat.find(" ", start, start + 16)
        start = space + 1 if space >= 0 else start
    if end < len(flat) and flat[end].isascii() and flat[end].isalnum():
        space = flat.rfind(" ", max(start, end - 16), end)
        end = space if space > start else end
    return ("…" if start > 0 else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")


def search_item(hit: Hit, lang: Lang, near: Point | None) -> SearchItem:
    doc = hit.doc
    body = pick(doc.snippet_zh, doc.snippet_en, lang)
    distance = None
    if near is not None and doc.location is not None:
        distance = round(distance_m(near, doc.location), 1)  # geodesic, as every other distance_m
    return SearchItem(
        kind=doc.kind,  # type: ignore[arg-type]  # Document.kind is one of KINDS, the Literal's values
        slug=doc.slug,
        title=pick(doc.title_zh, doc.title_en, lang),
        snippet=snippet(body, hit.matched),
        category=doc.category,
        location=doc.location,
        distance_m=distance,
    )


class SearchService:
    def __init__(self) -> None:
        self._store: Store | None = None
        self._index: SearchIndex | None = None
        self._stamp: tuple[str, ...] | None = None
        self._checked = 0.0
        self._built = 0.0
        self._lock: anyio.Lock | None = None
        self._generation = 0

    def configure(self, store: Store) -> None:
        self._store, self._stamp, self._index = store, None, None

    async def changed(self) -> None:
        """Content this index holds changed here: rebuild in this process, and tell the others."""
        self._generation += 1
        self._stamp = None
        if self._store is None:
            return
        try:
            await self._store.set(VERSION_KEY, str(time.time_ns()).encode())
        except STORE_UNAVAILABLE:
            log.warning("search index version not bumped: Redis unavailable")

    async def _stamps(self, store: Store) -> tuple[str, ...] | None:
        found = []
        for key in WATCHED:
            version = await shared_version(store, key, "search index")
            if version is None:
                return None
            found.append(version)
        return tuple(found)

    async def index(self) -> SearchIndex:
        """The index, rebuilt first when a watched version moved (or it is older than INDEX_TTL_S)."""
        mono = time.monotonic()
        current = self._index
        if current is not None and self._stamp is not None and mono - self._checked < VERSION_CHECK_S:
            return current
        if self._lock is None:
            self._lock = anyio.Lock()
        if self._lock.locked() and current is not None:
            return current  # a rebuild is under way: answer from the index we have
        async with self._lock:
            return await self._refresh()

    async def _refresh(self) -> SearchIndex:
        mono = time.monotonic()
        current = self._index
        if current is not None and self._stamp is not None and mono - self._checked < VERSION_CHECK_S:
            return current
        store = self._store
        if store is None:
            store = self._store = MemoryStore()
        stamp = await self._stamps(store)
        self._checked = mono
        if stamp is None:  # Redis down: keep what we have, or build from the database
            if current is not None:
                return current
            stamp = ("unknown",)
        if current is not None and stamp == self._stamp and mono - self._built < INDEX_TTL_S:
            return current
        generation = self._generation
        docs = await all_documents()
        built = await offload.cpu(SearchIndex.build, docs)
        if generation == self._generation:
            self._stamp = stamp
        self._index, self._built = built, mono
        log.info("search index built", extra={"documents": len(docs)})
        return built

    async def hits(
        self,
        query: str,
        near: Point | None = None,
        kinds: list[str] | None = None,
        min_coverage: float | None = None,
        now: datetime | None = None,
    ) -> list[Hit]:
        index = await self.index()
        return index.search(query, now or clock.now(), near=near, kinds=kinds, min_coverage=min_coverage)

    async def search(
        self,
        q: str | None,
        lang: Lang,
        near: Point | None = None,
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchPage:
        query = check_query(q)
        found = await self.hits(query, near=near, kinds=[kind] if kind else None)
        page = found[offset : offset + limit]
        return SearchPage(items=[search_item(h, lang, near) for h in page], total=len(found))


search = SearchService()
