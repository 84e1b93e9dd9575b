from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.lib.auth import AuthUser, require_roles, roles_before_request
from backend.passes.devices import gate_devices
from backend.passes.gate_keys import gates
from backend.passes.scanning import scans
from backend.passes.schemas import (
    DeviceCertificateOut,
    DeviceKeyIn,
    GateDeviceIn,
    GateDeviceOut,
    PassCodeOut,
    PassOut,
    ScanBatchIn,
    ScanBatchOut,
    ScanIn,
    ScannerKeysOut,
    ScanOut,
    VenueCountOut,
)
from backend.passes.services import passes

AuthRequest = Request[AuthUser, Token, State]


class PassController(Controller):
    path = "/pass"
    tags = ["pass"]

    @get("/")
    async def my_pass(self, request: AuthRequest) -> PassOut:
        """My single code's entitlements: every upcoming booking, at every venue."""
        return await passes.view(request.user)

    @get("/code", cache_control=None)
    async def code(self, request: AuthRequest) -> Response[PassCodeOut]:
        """A server-made code for phones without a device key. It rotates: refresh after `refresh_after_s`."""
        return Response(await passes.server_code(request.user), headers={"Cache-Control": "no-store"})

    @get("/code.svg", media_type="image/svg+xml")
    async def code_svg(self, request: AuthRequest) -> Response[bytes]:
        """The same code as a QR image (segno, error correction M)."""
        return Response(
            await passes.code_svg(request.user), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
        )

    @post("/device", status_code=HTTP_201_CREATED)
    async def certify_device(self, request: AuthRequest, data: DeviceKeyIn) -> DeviceCertificateOut:
        """Certify this phone's own P-256 key for my pass, so it can show fresh codes offline for 48 h."""
        return await passes.certify_device(request.user, data.public_key)


class GateScanController(Controller):
    """The gate's one hot route, on its own: its role is checked before anything else as a guard would
    (`roles_before_request`), without the copy of the route handler Litestar makes for every guard call
    (about a twentieth of a scan's CPU: issue 22)."""

    path = "/scans"
    tags = ["scanning"]

    @post(
        "/",
        status_code=HTTP_200_OK,
        before_request=roles_before_request("staff"),
        opt={"audited_by": "scan_log", "roles": ("staff",)},
    )
    async def scan(self, request: AuthRequest, data: ScanIn, channels: ChannelsPlugin) -> ScanOut:
        """Decide one scan at a gate. A decision is always 200; a repeated nonce gets the first answer."""
        out = await scans.scan(request.user, data)
        channels.publish(
            {
                "venue_slug": out.venue_slug,
                "result": out.result,
                "direction": out.direction,
                "reservation_id": out.reservation_id,
                "party_size": out.party_size,
                "gate": data.gate,
            },
            "scans",
        )
        return out


class ScanController(Controller):
    path = "/scans"
    tags = ["scanning"]
    guards = [require_roles("staff")]

    @get("/stream", media_type="text/event-stream")
    async def stream(
        self,
        request: AuthRequest,
        channels: ChannelsPlugin,
        venue: Annotated[str, Parameter(query="venue", max_length=80)],
    ) -> ServerSentEvent:
        """Live decisions of every gate at one of my venues (Server-Sent Events): first a `ready` event
        with today's counts, then one `scan` event per decision, from any replica."""
        counts = await gates.counts(request.user, venue)  # refuses staff of other venues first

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            async with channels.start_subscription(["scans"]) as subscriber:
                yield ServerSentEventMessage(event="ready", data=msgspec.json.encode(counts).decode())
                async for message in subscriber.iter_events():
                    if msgspec.json.decode(message).get("venue_slug") == venue:
                        yield ServerSentEventMessage(event="scan", data=message.decode())

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @post("/batch", status_code=HTTP_200_OK, opt={"audited_by": "scan_log"})
    async def batch(self, request: AuthRequest, data: ScanBatchIn) -> ScanBatchOut:
        """Upload scans a gate decided offline, each signed by the gate device's key. Double admissions
        come back with `conflict: true`; scans that cannot be trusted (unsigned, another device's, dated
        before the device's last sync or past its offline window) come back `flagged` with a `reason`,
        logged for staff and never counted as an admission."""
        return await scans.batch(request.user, data.items)

    @post("/device", status_code=HTTP_201_CREATED)
    async def certify_gate(self, request: AuthRequest, data: GateDeviceIn) -> GateDeviceOut:
        """Certify this gate phone's own P-256 key for my staff account at my venues, so the scans it
        decides offline can be signed and trusted. The same key again renews its certificate."""
        return await gate_devices.certify(request.user, data.public_key, data.venue_slugs)

    @get("/keys")
    async def keys(
        self,
        request: AuthRequest,
        device: Annotated[int | None, Parameter(query="device", ge=1, le=2**31 - 1)] = None,
    ) -> ScannerKeysOut:
        """Public keys, revocations and today's entitlements for my venues: enough to decide offline.
        A gate naming its `device` (serial) records its sync: its offline scans are trusted from then on."""
        return await gates.scanner_keys(request.user, device)

    @get("/counts")
    async def counts(
        self, request: AuthRequest, venue: Annotated[str, Parameter(query="venue", max_length=80)]
    ) -> VenueCountOut:
        """Today's entries, exits and people inside at one of my venues (scan log and walk-ins)."""
        return await gates.counts(request.user, venue)
