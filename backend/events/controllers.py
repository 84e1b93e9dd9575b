from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_204_NO_CONTENT

from backend.events.articles import get_article, list_articles
from backend.events.calendars import event_calendar, events_calendar, personal_calendar
from backend.events.schemas import ArticleKind, ArticleOut, CalendarTokenStatus, EventItem, EventOut, EventSort
from backend.events.services import EventQuery, events
from backend.events.times import parse_when
from backend.lib import galleries
from backend.lib.auth import PUBLIC, AuthUser
from backend.lib.galleries import with_gallery
from backend.lib.geo import parse_point
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit, Offset, Page
from backend.lib.problems import InvalidInput
from backend.venues.schemas import DISTRICTS

from .schemas import EVENT_CATEGORIES

LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]
ICS_MEDIA = "text/calendar"


def _set(raw: str | None, field: str, allowed: tuple[str, ...] | None = None) -> frozenset[str]:
    """A comma-separated filter (`category=performance,festival`), each value checked when a list is known."""
    if not raw:
        return frozenset()
    values = frozenset(v.strip() for v in raw.split(",") if v.strip())
    if allowed is not None:
        bad = sorted(values - set(allowed))
        if bad:
            raise InvalidInput(f"invalid_{field}", f"unknown {field}: {', '.join(bad)}", field=field)
    return values


def _query(
    request: Request[Any, Any, State],
    lang: str | None,
    from_: str | None,
    to: str | None,
    category: str | None,
    venue: str | None,
    district: str | None,
    free: bool | None,
    q: str | None,
    near: str | None,
    radius_m: float | None,
    sort: str,
) -> EventQuery:
    return EventQuery(
        lang=request_lang(request, lang),
        start=parse_when(from_, "from") if from_ else None,
        end=parse_when(to, "to", end=True) if to else None,
        categories=_set(category, "category", EVENT_CATEGORIES),
        venues=_set(venue, "venue"),
        districts=_set(district, "district", DISTRICTS),
        free=free,
        q=q,
        near=parse_point(near) if near is not None else None,
        radius_m=radius_m,
        sort=sort,
    )


def _base_url(request: Request[Any, Any, State]) -> str:
    return str(request.base_url).rstrip("/")


FromParam = Annotated[str | None, Parameter(query="from", description="YYYY-MM-DD or ISO date-time (default: now)")]
ToParam = Annotated[str | None, Parameter(description="YYYY-MM-DD (inclusive day) or ISO date-time; default from+90d")]
CategoryParam = Annotated[str | None, Parameter(description="one or more event categories, comma-separated")]
VenueParam = Annotated[str | None, Parameter(description="venue slugs, comma-separated")]
DistrictParam = Annotated[str | None, Parameter(description="districts, comma-separated")]
QParam = Annotated[str | None, Parameter(max_length=100, description="words in title, summary or place (zh or en)")]
NearParam = Annotated[str | None, Parameter(description="LAT,LNG (WGS-84)")]
RadiusParam = Annotated[float | None, Parameter(gt=0, le=1_000_000, description="metres, with near")]


class EventController(Controller):
    path = "/events"
    tags = ["events"]
    opt = PUBLIC

    @get("/")
    async def list_events(
        self,
        request: Request[Any, Any, State],
        from_: FromParam = None,
        to: ToParam = None,
        category: CategoryParam = None,
        venue: VenueParam = None,
        district: DistrictParam = None,
        free: bool | None = None,
        q: QParam = None,
        near: NearParam = None,
        radius_m: RadiusParam = None,
        sort: EventSort = "soonest",
        limit: Limit = 20,
        offset: Offset = 0,
        lang: LangParam = None,
    ) -> Page[EventItem]:
        """Occurrences overlapping from … to, one item per occurrence, soonest (or nearest) first."""
        query = _query(request, lang, from_, to, category, venue, district, free, q, near, radius_m, sort)
        return await events.list(query, limit=limit, offset=offset)

    @get("/{slug:str}")
    async def get_event(
        self,
        request: Request[Any, Any, State],
        slug: str,
        occurrence_id: Annotated[str | None, Parameter(max_length=120, description="one occurrence")] = None,
        lang: LangParam = None,
    ) -> EventOut:
        """One event: the given (or the next) occurrence and the upcoming ones."""
        chosen = request_lang(request, lang)
        out = await events.get(slug, chosen, occurrence_id)
        return with_gallery(out, await galleries.gallery("events", out.slug, chosen))

    @get("/{slug:str}/calendar.ics", media_type=ICS_MEDIA)
    async def event_ics(self, request: Request[Any, Any, State], slug: str, lang: LangParam = None) -> Response[bytes]:
        """This event (with its recurrence) as an .ics file, for "add to calendar"."""
        body = await event_calendar(slug, request_lang(request, lang), _base_url(request))
        return Response(
            body,
            media_type=ICS_MEDIA,
            headers={"Content-Disposition": f'attachment; filename="{slug}.ics"', "Cache-Control": "max-age=300"},
        )


class EventFeedController(Controller):
    """`/events.ics` sits beside `/events/…` (a dot is not part of a slug)."""

    path = "/events.ics"
    tags = ["events"]
    opt = PUBLIC

    @get("/", media_type=ICS_MEDIA)
    async def feed(
        self,
        request: Request[Any, Any, State],
        from_: FromParam = None,
        to: ToParam = None,
        category: CategoryParam = None,
        venue: VenueParam = None,
        district: DistrictParam = None,
        free: bool | None = None,
        q: QParam = None,
        near: NearParam = None,
        radius_m: RadiusParam = None,
        lang: LangParam = None,
    ) -> Response[bytes]:
        """The same filters as a subscribable RFC 5545 calendar (series keep their RRULE/EXDATE)."""
        query = _query(request, lang, from_, to, category, venue, district, free, q, near, radius_m, "soonest")
        name = "常享 · 常州活动" if query.lang == "zh" else "Changxiang · What's on in Changzhou"
        body = await events_calendar(query, name, _base_url(request))
        return Response(
            body,
            media_type=ICS_MEDIA,
            headers={"Content-Disposition": 'inline; filename="changzhou-events.ics"', "Cache-Control": "max-age=300"},
        )


class MyCalendarController(Controller):
    path = "/me"
    tags = ["events"]

    @get("/calendar.ics", opt=PUBLIC, media_type=ICS_MEDIA, raises=[NotFoundException])
    async def my_feed(
        self,
        request: Request[Any, Any, State],
        token: Annotated[str, Parameter(max_length=200, description="the secret from POST /me/calendar/token")],
        lang: LangParam = None,
    ) -> Response[bytes]:
        """The token holder's reservations as a subscribable calendar (no login: calendar apps can't)."""
        body = await personal_calendar.feed(token, request_lang(request, lang), _base_url(request))
        return Response(
            body,
            media_type=ICS_MEDIA,
            headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
        )

    @get("/calendar")
    async def token_status(self, request: Request[AuthUser, Token, State]) -> CalendarTokenStatus:
        """Whether the caller has a calendar link (the secret itself is shown only when made)."""
        return await personal_calendar.status(request.user.id)

    @post("/calendar/token")
    async def rotate_token(self, request: Request[AuthUser, Token, State]) -> Response[CalendarTokenStatus]:
        """Make a new calendar link; the previous one stops working at once."""
        out = await personal_calendar.rotate(request.user.id, _base_url(request))
        return Response(out, status_code=201, headers={"Cache-Control": "no-store"})

    @delete("/calendar/token", status_code=HTTP_204_NO_CONTENT)
    async def revoke_token(self, request: Request[AuthUser, Token, State]) -> None:
        """Revoke the calendar link."""
        await personal_calendar.revoke(request.user.id)


class ArticleController(Controller):
    path = "/articles"
    tags = ["articles"]
    opt = PUBLIC

    @get("/")
    async def list_articles(
        self,
        request: Request[Any, Any, State],
        kind: ArticleKind | None = None,
        limit: Limit = 20,
        offset: Offset = 0,
        lang: LangParam = None,
    ) -> Page[ArticleOut]:
        """Published travel guides (出行攻略) and news, newest first."""
        return await list_articles(request_lang(request, lang), kind, limit, offset)

    @get("/{slug:str}")
    async def get_article(self, request: Request[Any, Any, State], slug: str, lang: LangParam = None) -> ArticleOut:
        chosen = request_lang(request, lang)
        out = await get_article(slug, chosen)
        return with_gallery(out, await galleries.gallery("articles", out.slug, chosen))
