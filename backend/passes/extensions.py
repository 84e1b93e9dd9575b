"""What other rooms add to the one pass, without the passes room knowing them (wired by create_app):

- `entitlements`: callables giving an account's extra entitlements for `GET /pass` (the vouchers room's
  active coupons and cards, shown with the same rotating code);
- `gate`: the gate's second opinion when a holder has no booking at the venue (`wrong_venue`): the
  vouchers room admits a card holder once a day per listed venue. It answers a scan result, or None to
  leave the answer as it was; it writes its own entry record and gate count, and scanning logs the scan
  as for any other result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from backend.passes.schemas import Entitlement, ScanResult


@dataclass(frozen=True)
class GateRequest:
    user_id: int  # the pass holder
    venue_slug: str
    direction: str
    at: datetime
    nonce: str  # "<venue>:<nonce>", the scan log's key: the same scan again is the same request
    offline: bool


PassEntitlements = Callable[[int], Awaitable[list[Entitlement]]]
GateAdmission = Callable[[GateRequest], Awaitable[ScanResult | None]]


@dataclass
class PassExtensions:
    entitlements: list[PassEntitlements] = field(default_factory=list)
    gate: GateAdmission | None = None

    async def extra_entitlements(self, user_id: int) -> list[Entitlement]:
        out: list[Entitlement] = []
        for provider in self.entitlements:
            out += await provider(user_id)
        return out


extensions = PassExtensions()
