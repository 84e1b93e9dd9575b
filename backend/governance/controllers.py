from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEvent
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.governance.orders import alerts, directives
from backend.governance.schemas import (
    AlertOut,
    DirectiveOut,
    OccupancyOut,
    TourGroupIn,
    TourGroupOut,
    VenueOccupancy,
    WalkInIn,
)
from backend.governance.services import occupancy
from backend.lib.auth import PUBLIC, AuthUser, require_roles
from integrations.gov_platform import SIGNATURE_HEADER, TIMESTAMP_HEADER

AuthRequest = Request[AuthUser, Token, object]


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

        async def events():
            yield {"event": "snapshot", "data": msgspec.json.encode(first).decode()}
            async with channels.start_subscription(["occupancy"]) as subscriber:
                async for message in subscriber.iter_events():
                    yield {"event": "occupancy", "data": message.decode()}

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @post("/walk-ins", guards=[require_roles("staff")], status_code=HTTP_201_CREATED)
    async def walk_in(self, request: AuthRequest, data: WalkInIn) -> VenueOccupancy:
        """Count visitors in (or out) at the manual window; refused with 409 `venue_full` at capacity."""
        return await occupancy.walk_in(request.user, data)

    @post("/directives", opt=PUBLIC, status_code=HTTP_200_OK)
    async def directive(self, request: Request) -> DirectiveOut:
        """An order of the platform (HMAC-signed): `limit`, `close` or `reopen` a venue or a district."""
        body = await request.body()
        return await directives.apply(
            body, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)
        )

    @post("/alerts", opt=PUBLIC, status_code=HTTP_200_OK)
    async def alert(self, request: Request) -> AlertOut:
        """A CAP 1.2 warning (HMAC-signed XML): shown on the venues in its area, told to their visitors."""
        body = await request.body()
        return await alerts.receive(body, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER))


class TourGroupController(Controller):
    path = "/tour-groups"
    tags = ["tour groups"]
    guards = [require_roles("agency")]

    @post("/", status_code=HTTP_201_CREATED)
    async def register(self, request: AuthRequest, data: TourGroupIn) -> TourGroupOut:
        """Register a tour group (guide, size, coach, itinerary); slots in the itinerary are booked for
        the whole party at once."""
        return await occupancy.register_group(request.user, data)

    @get("/")
    async def mine(self, request: AuthRequest) -> list[TourGroupOut]:
        """My agency's groups, newest first (the guide's details masked)."""
        return await occupancy.my_groups(request.user)
