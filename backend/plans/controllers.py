from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_201_CREATED

from backend.lib.auth import PUBLIC, AuthUser
from backend.lib.clock import clock
from backend.lib.i18n import request_lang
from backend.plans.calendar import plan_calendar
from backend.plans.schemas import PlanBookingOut, PlanBookRequest, PlanDropRequest, PlanOut, PlanRequest
from backend.plans.services import plans

ICS_MEDIA = "text/calendar"
LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]
PlanId = Annotated[str, Parameter(max_length=80, description="the plan's id; `<id>.ics` gives it as a calendar")]


class PlanController(Controller):
    path = "/plans"
    tags = ["day plans"]

    @post("/", opt=PUBLIC, status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, State], data: PlanRequest) -> PlanOut:
        """Compose a day from a start point and a time window: venues, events and tours that are open (and
        have a free slot where booking is required) at their times, travel between them, breaks, calm
        times preferred; `warnings` say what could not be satisfied. No account needed: the answer's `id`
        is the only key to the plan."""
        return await plans.create(data, data.lang or request_lang(request, None))

    @get("/{plan_id:str}", opt=PUBLIC, media_type="application/json")
    async def get_plan(
        self, request: Request[Any, Any, State], plan_id: PlanId, lang: LangParam = None
    ) -> Response[Any]:
        """A plan by its id, in `lang`; `/plans/{id}.ics` is the same plan as an RFC 5545 calendar (add to
        calendar)."""
        written = request_lang(request, lang)
        if plan_id.endswith(".ics"):
            plan = await plans.get(plan_id.removesuffix(".ics"), written)
            body = plan_calendar(plan, clock.now(), str(request.base_url).rstrip("/"))
            disposition = f'attachment; filename="plan-{plan.date}.ics"'
            return Response(
                body, media_type=ICS_MEDIA, headers={"Content-Disposition": disposition, "Cache-Control": "no-store"}
            )
        return Response(await plans.get(plan_id, written), headers={"Cache-Control": "no-store"})

    @post("/{plan_id:str}/drop", opt=PUBLIC, status_code=HTTP_201_CREATED)
    async def drop(
        self, request: Request[Any, Any, State], plan_id: PlanId, data: PlanDropRequest, lang: LangParam = None
    ) -> PlanOut:
        """The plan without one of its visits, as a new plan (the original is unchanged): the other items
        keep their times, the next visit's travel is worked out again. 409 `plan_edit_infeasible` when
        that would leave no visit or a leg that can't be made in time. To swap a visit for another, make
        the plan again with it in `exclude`."""
        return await plans.drop(plan_id, data.index, request_lang(request, lang))

    @post("/{plan_id:str}/book", status_code=HTTP_201_CREATED)
    async def book(
        self, request: Request[AuthUser, Token, State], plan_id: PlanId, data: PlanBookRequest
    ) -> PlanBookingOut:
        """Book every item of the plan that needs a slot, for the same visitors, all or nothing: when one
        can't be booked, none is (409 `plan_booking_failed` names the item and why)."""
        return await plans.book(request.user, plan_id, data)
