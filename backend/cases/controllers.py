from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import ServerSentEvent
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.cases import stats
from backend.cases.changes import CHANNEL
from backend.cases.schemas import (
    CaseIn,
    CaseOut,
    CaseTransitionIn,
    ContactOut,
    Location,
    MessageIn,
    MessageOut,
    RatingIn,
    Status,
)
from backend.cases.services import cases
from backend.cases.stats import Summary
from backend.lib.auth import AuthUser, require_roles
from backend.lib.pagination import Limit, Offset, Page
from backend.media.controllers import serve

AuthRequest = Request[AuthUser, Token, State]
CaseId = Annotated[str, Parameter(max_length=64)]


def _sees(user: AuthUser, event: dict[str, object]) -> bool:
    """Governance and admin see every case's events; staff those of their venues."""
    if user.has_any("governance", "admin"):
        return True
    return event.get("venue_slug") in user.venue_slugs


class CaseController(Controller):
    path = "/cases"
    tags = ["help and SOS"]

    @post("/", status_code=HTTP_201_CREATED)
    async def file(self, request: AuthRequest, data: CaseIn) -> CaseOut:
        """File a complaint, question, lost-and-found report or SOS (an SOS needs `location`). Routed to the
        venue's staff, or to the district of the location; `ack_due_at` and `resolve_due_at` are its
        deadlines, after which it is escalated by itself."""
        return await cases.open(request.user, data)

    @get("/")
    async def list_cases(
        self,
        request: AuthRequest,
        status: Status | None = None,
        venue: Annotated[str | None, Parameter(max_length=80)] = None,
        overdue: bool | None = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[CaseOut]:
        """Mine (a visitor), my venues' (staff), every case (governance, admin); newest first."""
        return await cases.list(request.user, status, venue, overdue, limit, offset)

    @get("/stream", guards=[require_roles("staff", "governance")], media_type="text/event-stream")
    async def stream(self, request: AuthRequest, channels: ChannelsPlugin) -> ServerSentEvent:
        """Server-sent events for the case inbox: `opened`, `sos` (with the visitor's location), `location`,
        `status`, `message`, `escalated`, for the caller's venues (staff) or the whole city (governance)."""
        user = request.user

        async def events() -> AsyncIterator[dict[str, str]]:
            yield {"event": "ready", "data": "{}"}
            async with channels.start_subscription([CHANNEL]) as subscriber:
                async for raw in subscriber.iter_events():
                    try:
                        event = msgspec.json.decode(raw)
                    except msgspec.DecodeError:
                        continue
                    if isinstance(event, dict) and _sees(user, event):
                        yield {"event": str(event.get("event", "case")), "data": raw.decode()}

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @get("/summary", guards=[require_roles("governance")], cache_control=None)
    async def summary(self) -> Summary:
        """The governance board: cases by status, overdue, median hours to acknowledge and resolve, the share
        resolved in time, the mean rating."""
        return await stats.summary()

    @get("/{case_id:str}")
    async def get_case(self, request: AuthRequest, case_id: CaseId) -> CaseOut:
        """One case with its `messages` and `timeline`; a case the caller may not see is 404."""
        return await cases.get(request.user, case_id)

    @post("/{case_id:str}/messages", status_code=HTTP_201_CREATED)
    async def reply(self, request: AuthRequest, case_id: CaseId, data: MessageIn) -> MessageOut:
        """A message in the case's thread, from its visitor or from whoever handles it."""
        return await cases.message(request.user, case_id, data)

    @post("/{case_id:str}/transition", status_code=HTTP_200_OK)
    async def transition(self, request: AuthRequest, case_id: CaseId, data: CaseTransitionIn) -> CaseOut:
        """open → acknowledged → resolved → closed, and escalated (by staff, or by itself when overdue);
        409 `illegal_transition` for any other move."""
        return await cases.transition(request.user, case_id, data)

    @post("/{case_id:str}/rating", status_code=HTTP_200_OK)
    async def rate(self, request: AuthRequest, case_id: CaseId, data: RatingIn) -> CaseOut:
        """The visitor rates the outcome once it is resolved (a second rating is 409 `already_rated`)."""
        return await cases.rate(request.user, case_id, data)

    @post("/{case_id:str}/location", status_code=HTTP_200_OK)
    async def locate(self, request: AuthRequest, case_id: CaseId, data: Location) -> CaseOut:
        """An open SOS's newer position from the visitor's phone, passed at once to the stream."""
        return await cases.locate(request.user, case_id, data)

    @post("/{case_id:str}/contact", status_code=HTTP_200_OK)
    async def contact(self, request: AuthRequest, case_id: CaseId) -> ContactOut:
        """The contact phone in full, for the handler about to call (staff of the venue, governance);
        recorded on the case's timeline and the audit log."""
        return await cases.reveal_contact(request.user, case_id)

    @get("/{case_id:str}/attachments/{upload_id:str}", media_type="application/octet-stream")
    async def attachment(
        self, request: AuthRequest, case_id: CaseId, upload_id: Annotated[str, Parameter(max_length=64)]
    ) -> Response[bytes]:
        """A photo or voice note of the case, to those who may see the case."""
        stored = await cases.attachment(request.user, case_id, upload_id)
        return serve(stored.data, stored.content_type)
