"""HTTP doors of the tickets room: parse, authorise, call one service, return."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.auth import PUBLIC, AuthUser
from backend.lib.i18n import request_lang
from backend.lib.pagination import Page
from backend.tickets.schemas import (
    HoldIn,
    HoldOut,
    PerformanceOut,
    QuoteOut,
    QuoteRequest,
    SeatMapOut,
    ShowOut,
    TicketTypeList,
)
from backend.tickets.services import tickets

LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]
AnyRequest = Request[Any, Any, State]
AuthRequest = Request[AuthUser, Token, State]
PerformanceId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]
HoldId = Annotated[str, Parameter(min_length=1, max_length=40)]
ShowSlug = Annotated[str, Parameter(min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$")]


class TicketTypeController(Controller):
    path = "/venues/{slug:str}/ticket-types"
    tags = ["tickets"]
    opt = PUBLIC

    @get("/")
    async def ticket_types(self, request: AnyRequest, slug: str, lang: LangParam = None) -> TicketTypeList:
        """The venue's ticket types (adult, child, senior, student, disabled, military): each one's rule
        (full, half, free, fixed, none), price at the venue's standard price, who qualifies, and the card
        shown at the gate."""
        return await tickets.ticket_types(slug, request_lang(request, lang))


class QuoteController(Controller):
    path = "/tickets/quote"
    tags = ["tickets"]

    @post("/", status_code=200)
    async def quote(self, request: AuthRequest, data: QuoteRequest, lang: LangParam = None) -> QuoteOut:
        """What `POST /reservations` would charge, before booking: each visitor's ticket type (chosen from
        the resident ID's birth date when not asked for) and price, the total, the entry window, the
        cancellation deadline and the refund rule. Nothing is booked or held."""
        return await tickets.quote(request.user, data, request_lang(request, lang))


class PerformanceController(Controller):
    path = "/performances"
    tags = ["tickets"]

    @get("/{performance_id:int}", opt=PUBLIC)
    async def performance(self, performance_id: PerformanceId) -> PerformanceOut:
        """One performance: its time, price zones and places left."""
        return await tickets.performance(performance_id)

    @get("/{performance_id:int}/seats", opt=PUBLIC)
    async def seats(self, request: AnyRequest, performance_id: PerformanceId, lang: LangParam = None) -> SeatMapOut:
        """The seat map: sections, rows and seats with where each is drawn (x across, y away from the
        stage), its zone, `free`/`held`/`sold`/`blocked` and wheelchair places."""
        return await tickets.seat_map(performance_id, request_lang(request, lang))

    @post("/{performance_id:int}/holds", status_code=HTTP_201_CREATED)
    async def hold(self, request: AuthRequest, performance_id: PerformanceId, data: HoldIn) -> HoldOut:
        """Hold seats for ten minutes: the `seat_ids` picked, or the best `count` adjacent seats of `zone`.
        409 `seat_taken` when one went a moment ago; a new hold gives back your earlier one."""
        return await tickets.hold(request.user, performance_id, data)

    @delete("/{performance_id:int}/holds/{hold_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def release(self, request: AuthRequest, performance_id: PerformanceId, hold_id: HoldId) -> None:
        """Give a hold back before it lapses."""
        await tickets.release_hold(request.user, performance_id, hold_id)


class ShowController(Controller):
    path = "/shows"
    tags = ["tickets"]
    opt = PUBLIC

    @get("/")
    async def list_shows(self, request: AnyRequest, lang: LangParam = None) -> Page[ShowOut]:
        """Online shows (云演艺)."""
        items = await tickets.shows(request_lang(request, lang))
        return Page(items=items, total=len(items))

    @get("/{slug:str}")
    async def show(self, request: AnyRequest, slug: ShowSlug, lang: LangParam = None) -> ShowOut:
        """One show; a free one carries its signed, short-lived `stream`. For a paid one, ticket holders
        ask `GET /me/shows/{slug}` (signed in)."""
        return await tickets.show(slug, None, request_lang(request, lang))

    @get("/{slug:str}/hls/{name:str}", include_in_schema=False)
    async def stream_file(
        self,
        slug: ShowSlug,
        name: Annotated[str, Parameter(max_length=20)],
        exp: Annotated[int, Parameter(ge=0, le=2**40)],
        sig: Annotated[str, Parameter(min_length=1, max_length=80)],
    ) -> Response[bytes]:
        """The HLS playlist and segments, only with a valid, unexpired signature."""
        body, media_type = await tickets.stream_file(slug, name, exp, sig)
        return Response(body, media_type=media_type, headers={"Cache-Control": "private, max-age=60"})


class MyShowController(Controller):
    path = "/me/shows"
    tags = ["tickets"]

    @get("/{slug:str}")
    async def my_show(self, request: AuthRequest, slug: ShowSlug, lang: LangParam = None) -> ShowOut:
        """One show as the signed-in visitor sees it: with its signed `stream` when the show is free or
        they hold a confirmed ticket for a performance of its event."""
        return await tickets.show(slug, request.user, request_lang(request, lang))
