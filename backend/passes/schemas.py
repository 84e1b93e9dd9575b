from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

ScanResult = Literal[
    "ok",
    "already_redeemed",
    "invalid",
    "stale_code",
    "revoked",
    "canceled",
    "unpaid",
    "invalid_time",
    "wrong_venue",
    "venue_full",
]
Direction = Literal["in", "out"]
Nonce = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class Entitlement(msgspec.Struct):
    reservation_id: str
    venue_slug: str
    valid_from: datetime
    valid_until: datetime
    party_size: int
    status: str  # confirmed | pending_payment | cancelled | expired | used
    entries: int


class PassOut(msgspec.Struct):
    pass_id: str
    holder_name_masked: str
    entitlements: list[Entitlement]


class PassCodeOut(msgspec.Struct):
    code: str
    expires_at: datetime
    refresh_after_s: int


class DeviceKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    public_key: Annotated[str, msgspec.Meta(min_length=40, max_length=100, description="base64url P-256 point")]


class DeviceCertificateOut(msgspec.Struct):
    certificate: str  # base64url: certificate ‖ server signature
    serial: int
    kid: int
    expires_at: datetime
    window_s: int


class ScanIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=600)]
    venue_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    direction: Direction = "in"
    gate: Label | None = None
    device_id: Label | None = None
    nonce: Nonce | None = None
    scanned_at: datetime | None = None


class OfflineScanIn(ScanIn, forbid_unknown_fields=True):
    offline_result: ScanResult | None = None  # what the gate decided on its own


class ScanOut(msgspec.Struct, omit_defaults=True):
    result: ScanResult
    nonce: str
    venue_slug: str
    direction: Direction
    reservation_id: str | None = None
    party_size: int | None = None
    holder_name_masked: str | None = None
    conflict: bool = False


class ScanBatchIn(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[OfflineScanIn], msgspec.Meta(min_length=1, max_length=500)]


class ScanBatchItemOut(msgspec.Struct, omit_defaults=True):
    nonce: str
    result: ScanResult
    conflict: bool
    reservation_id: str | None = None
    party_size: int | None = None


class ScanBatchOut(msgspec.Struct):
    items: list[ScanBatchItemOut]


class PublicKeyOut(msgspec.Struct):
    kid: int
    alg: str
    public_key: str


class RevokedOut(msgspec.Struct, omit_defaults=True):
    pass_id: str | None = None
    device_serial: int | None = None


class GateEntitlement(msgspec.Struct):
    pass_id: str
    reservation_id: str
    venue_slug: str
    valid_from: datetime
    valid_until: datetime
    party_size: int
    status: str
    entries: int
    inside: bool
    holder_name_masked: str
    allow_reentry: bool = False  # may the holder come back in after an exit (the venue's rule)


class ScannerKeysOut(msgspec.Struct):
    keys: list[PublicKeyOut]
    revoked: list[RevokedOut]
    generated_at: datetime
    window_s: int
    skew_s: int
    venue_slugs: list[str]
    entitlements: list[GateEntitlement]


class VenueCountOut(msgspec.Struct):
    venue_slug: str
    date: str
    entries_today: int
    exits_today: int
    occupancy: int
