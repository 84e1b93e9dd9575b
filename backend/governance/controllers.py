from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from litestar.response import ServerSentEvent
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.governance.orders import alerts, directives
from backend.governance.schemas import AlertOut, DirectiveOut, TourGroupIn, TourGroupOut
from backend.governance.tour_groups import tour_groups
from backend.lib.auth import PUBLIC, AuthUser, require_roles
from backend.occupancy.schemas import OccupancyOut, VenueOccupancy, WalkInIn
from backend.occupancy.services import occupancy
from integrations.gov_platform import SIGNATURE_HEADER, TIMESTAMP_HEADER

AuthRequest = Request[AuthUser, Token, State]


class GovernanceController(Controller):
    path = "/gov"
    tags = ["supervision"]

    @get("/occupancy", guards=[require_roles("governance")], cache_control=None)
    async def occupancy_now(self) -> OccupancyOut:
        """People inside every venue now, its ratio to the instantaneous capacity and comfort level."""
        return await occupancy.report()

    @get("/occupancy/stream", guards=[require_roles("governance")], media_type="text/event-stream")
    async def occupancy_stream(self, channels: ChannelsPlugin) -> ServerSentEvent:
        """Server-sent events: a `snapshot` of every venue, then an `occupancy` event per movement."""
        first = await occupancy.report()

        async def events() -> AsyncIterator[dict[str, str]]:
            yield {"event": "snapshot", "data": msgspec.json.encode(first).decode()}
            async with channels.start_subscription(["occupancy"]) as subscriber:
                async for message in subscriber.iter_events():
                    yield {"event": "occupancy", "data": message.decode()}

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @post("/walk-ins", guards=[require_roles("staff")], status_code=HTTP_201_CREATED)
    async def walk_in(self, request: AuthRequest, data: WalkInIn) -> VenueOccupancy:
        """Count visitors in (or out) at the manual window; refused with 409 `venue_full` at capacity."""
        return await occupancy.walk_in(request.user, data)

    @post("/directives", opt=PUBLIC, status_code=HTTP_200_OK, raises=[NotAuthorizedException])
    async def directive(self, request: Request[Any, Any, State]) -> DirectiveOut:
        """An order of the platform (HMAC-signed): `limit`, `close` or `reopen` a venue or a district."""
        body = await request.body()
        return await directives.apply(
            body, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)
        )

    @post("/alerts", opt=PUBLIC, status_code=HTTP_200_OK, raises=[NotAuthorizedException])
    async def alert(self, request: Request[Any, Any, State]) -> AlertOut:
        """A CAP 1.2 warning (HMAC-signed XML): shown on the venues in its area, told to their visitors."""
        body = await request.body()
        return await alerts.receive(body, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER))


class TourGroupController(Controller):
    path = "/tour-groups"
    tags = ["tour groups"]

    @post("/", status_code=HTTP_201_CREATED, guards=[require_roles("agency")])
    async def register(self, request: AuthRequest, data: TourGroupIn) -> TourGroupOut:
        """Register a tour group (guide, size, coach, itinerary); the whole party's seats in the
        itinerary's slots are taken at once: held until paid (the stop's reservation checkout) or
        approved when the slot is paid, confirmed when it is free; within the agency's quota (409
        `agency_quota_exceeded`)."""
        return await tour_groups.register(request.user, data)

    @post("/{group_id:str}/approve", status_code=HTTP_200_OK, guards=[require_roles("governance", "staff")])
    async def approve(self, request: AuthRequest, group_id: str) -> TourGroupOut:
        """Confirm a group's held seats without payment (settled on the agency's invoice): governance for
        every stop, venue staff for their venues' stops; 409 `not_held` when nothing is held any more."""
        return await tour_groups.approve(request.user, group_id)

    @get("/", guards=[require_roles("agency")])
    async def mine(self, request: AuthRequest) -> list[TourGroupOut]:
        """My agency's groups, newest first (the guide's details masked)."""
        return await tour_groups.mine(request.user)
