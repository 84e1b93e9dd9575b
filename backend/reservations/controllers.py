from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import ServerSentEvent
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.auth import PUBLIC, AuthUser, require_roles
from backend.lib.pagination import Limit, Offset, Page
from backend.reservations.idempotency import Replay
from backend.reservations.schemas import (
    BookingRequest,
    CancelResult,
    NotificationOut,
    ReservationOut,
    SlotList,
    SlotOut,
    SlotPatch,
)
from backend.reservations.services import reservations

IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        max_length=200,
        required=False,
        description="a replay with the same key returns the first answer and changes nothing",
    ),
]


class SlotController(Controller):
    path = "/venues/{slug:str}/slots"
    tags = ["timed entry"]

    @get("/", opt=PUBLIC)
    async def list_slots(self, slug: str, date_: Annotated[date, Parameter(query="date")]) -> SlotList:
        """The day's timed-entry slots with seats left (`open`, `full`, `closed`)."""
        return await reservations.list_slots(slug, date_)

    @patch("/{slot_id:int}", guards=[require_roles("staff")])
    async def update_slot(
        self, request: Request[AuthUser, Token, State], slug: str, slot_id: int, data: SlotPatch
    ) -> SlotOut:
        """Staff of the venue change a slot's capacity (never below what is booked) or close it."""
        return await reservations.update_slot(request.user, slug, slot_id, data)


class ReservationController(Controller):
    path = "/reservations"
    tags = ["reservations"]

    @post("/", status_code=HTTP_201_CREATED)
    async def book(
        self, request: Request[AuthUser, Token, State], data: BookingRequest, idempotency_key: IdempotencyKey = None
    ) -> Response[ReservationOut]:
        """Book a slot for 1–5 named visitors (real-name; ID numbers are checked, encrypted and masked)."""
        result = await reservations.book(request.user, data, idempotency_key)
        if isinstance(result, Replay):
            return Response(result.body, status_code=result.status_code, headers={"Idempotent-Replayed": "true"})
        return Response(result, status_code=HTTP_201_CREATED)

    @get("/")
    async def list_mine(
        self, request: Request[AuthUser, Token, State], limit: Limit = 20, offset: Offset = 0
    ) -> Page[ReservationOut]:
        """My bookings, newest first."""
        items, total = await reservations.list_mine(request.user, limit, offset)
        return Page(items=items, total=total)

    @get("/{reservation_id:str}")
    async def get_one(self, request: Request[AuthUser, Token, State], reservation_id: str) -> ReservationOut:
        """One of my bookings (another person's is a 404)."""
        return await reservations.get(request.user, reservation_id)

    @post("/{reservation_id:str}/cancel", status_code=HTTP_200_OK)
    async def cancel(self, request: Request[AuthUser, Token, State], reservation_id: str) -> CancelResult:
        """Cancel up to the venue's cut-off before the slot; the seats go back (and to the waitlist)."""
        return await reservations.cancel(request.user, reservation_id)


class NotificationController(Controller):
    path = "/me/notifications"
    tags = ["accounts"]

    @get("/")
    async def list_notifications(self, request: Request[AuthUser, Token, State]) -> list[NotificationOut]:
        """In-app messages: waitlist promoted, slot closed, hold expired, warnings."""
        return await reservations.notifications(request.user)

    @post("/{notification_id:int}/read", status_code=HTTP_204_NO_CONTENT)
    async def mark_read(self, request: Request[AuthUser, Token, State], notification_id: int) -> None:
        """Mark one of my messages read."""
        await reservations.mark_read(request.user, notification_id)

    @get("/stream", media_type="text/event-stream")
    async def stream(self, request: Request[AuthUser, Token, State], channels: ChannelsPlugin) -> ServerSentEvent:
        """My new messages as server-sent events, the moment they are written (any replica)."""
        me = request.user.id

        async def events() -> AsyncIterator[dict[str, str]]:
            yield {"event": "ready", "data": "{}"}
            async with channels.start_subscription(["notifications"]) as subscriber:
                async for raw in subscriber.iter_events():
                    try:
                        message = msgspec.json.decode(raw)
                    except msgspec.DecodeError:
                        continue
                    if isinstance(message, dict) and message.get("user_id") == me:
                        message.pop("user_id", None)
                        yield {"event": "notification", "data": msgspec.json.encode(message).decode()}

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
