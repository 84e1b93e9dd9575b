from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK

from backend.forecast.peaks import PeaksOut, peaks
from backend.forecast.rebooking import rebooking
from backend.forecast.schemas import AcceptIn, AcceptOut, BestTimesOut, ForecastOut, OfferOut
from backend.forecast.services import MAX_DAYS, forecasts
from backend.lib.auth import PUBLIC, AuthUser, require_roles

# forecasts move by the hour (seats booked move them sooner): a minute in shared caches is plenty
FORECAST_CACHE = "public, max-age=60"


class ForecastController(Controller):
    path = "/venues/{slug:str}"
    tags = ["forecast"]
    opt = PUBLIC

    @get("/forecast")
    async def forecast(
        self,
        slug: str,
        days: Annotated[int, Parameter(ge=1, le=MAX_DAYS, description="how many days, from today")] = MAX_DAYS,
    ) -> Response[ForecastOut]:
        """People expected inside per hour for the next days, with an 80% band and the comfort level
        (LB/T 034): the seasonal model of docs/forecast.md, floored by the seats already booked."""
        return Response(await forecasts.forecast(slug, days), headers={"Cache-Control": FORECAST_CACHE})

    @get("/best-times")
    async def best_times(
        self,
        slug: str,
        date_: Annotated[date | None, Parameter(query="date", description="YYYY-MM-DD (default: today)")] = None,
    ) -> Response[BestTimesOut]:
        """The calmest slots (or hours) of the day with their expected levels, and from when it calms down."""
        return Response(await forecasts.best_times(slug, date_), headers={"Cache-Control": FORECAST_CACHE})


class PeaksController(Controller):
    """The city's view ahead (issue 19, 7): tomorrow's expected peaks per venue and district."""

    path = "/gov/forecast"
    tags = ["governance"]

    @get("/peaks", guards=[require_roles("governance")], cache_control=None)
    async def peaks(
        self,
        date_: Annotated[
            date | None, Parameter(query="date", description="YYYY-MM-DD, today … today + 6 (default: tomorrow)")
        ] = None,
    ) -> PeaksOut:
        """Each venue's busiest expected hour of the day and each district's (its venues together), the most
        crowded first, with how many venues reach 较拥挤 or worse: the same forecast as the venue pages."""
        return await peaks(date_)


class OfferController(Controller):
    """Rebooking offers to the holders of disrupted bookings (issue 19)."""

    path = "/me/offers"
    tags = ["reservations"]

    @get("/")
    async def list_offers(self, request: Request[AuthUser, Token, State]) -> list[OfferOut]:
        """My offers, newest first: each disrupted booking's one offer, its choices and until when it holds."""
        return await rebooking.mine(request.user)

    @post("/{offer_id:str}/accept", status_code=HTTP_200_OK)
    async def accept(self, request: Request[AuthUser, Token, State], offer_id: str, data: AcceptIn) -> AcceptOut:
        """Take one of the offer's choices, exactly once: move the booking to the chosen slot (of the venue
        or of the alternative), or refund it."""
        return await rebooking.accept(request.user, offer_id, data.choice)
