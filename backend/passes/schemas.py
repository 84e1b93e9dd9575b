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
    "flagged",  # an offline scan the server cannot trust (batch only): logged for staff, never an admission
]
Direction = Literal["in", "out"]
Nonce = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class EntitledVisitor(msgspec.Struct, omit_defaults=True):
    """A visitor a booking names (issue 18): masked name, ticket type, seat, and the card the gate must see."""

    name: str
    ticket_type: str
    seat: str | None = None
    check_at_gate: str | None = None


class Entitlement(msgspec.Struct, omit_defaults=True):
    reservation_id: str | None  # None for a coupon or card (kind)
    venue_slug: str | None  # None for a voucher (it is redeemed at merchants)
    valid_from: datetime
    valid_until: datetime
    party_size: int
    status: str  # confirmed | pending_payment | cancelled | expired | used
    entries: int
    starts_at: datetime | None = None  # the slot or performance itself (valid_from is the gate's window)
    entry_early_minutes: int | None = None  # "可提前 30 分钟入场": why valid_from is before starts_at
    visitors: list[EntitledVisitor] = []
    kind: Literal["reservation", "coupon", "card"] = "reservation"  # coupons and cards: backend/vouchers
    coupon_id: str | None = None
    campaign_id: int | None = None
    title: str | None = None
    venue_slugs: list[str] = []  # a card's venues
    face_value_fen: int | None = None
    min_spend_fen: int | None = None


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
    # the gate device whose key signed this scan (POST /scans/device), and its signature (base64url r‖s)
    # over codes.scan_entry_message: unsigned scans are flagged, never admitted
    device_serial: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    signature: Annotated[str, msgspec.Meta(min_length=80, max_length=90, pattern=r"^[A-Za-z0-9_-]+$")] | None = None


class ScanOut(msgspec.Struct, omit_defaults=True):
    result: ScanResult
    nonce: str
    venue_slug: str
    direction: Direction
    reservation_id: str | None = None
    party_size: int | None = None
    holder_name_masked: str | None = None
    conflict: bool = False
    reason: str | None = None  # why a batch's scan was flagged (never on POST /scans)
    # who the booking names, their ticket types and seats: staff check a concession card or show the way
    visitors: list[EntitledVisitor] = []


class ScanBatchIn(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[OfflineScanIn], msgspec.Meta(min_length=1, max_length=500)]


class ScanBatchItemOut(msgspec.Struct, omit_defaults=True):
    nonce: str
    result: ScanResult
    conflict: bool
    reservation_id: str | None = None
    party_size: int | None = None
    reason: str | None = None  # with result `flagged`: why the scan was not trusted (docs/pass-code.md)


class ScanBatchOut(msgspec.Struct):
    items: list[ScanBatchItemOut]
    flagged: int = 0  # how many of `items` were not trusted, for staff to look at


class GateDeviceIn(msgspec.Struct, forbid_unknown_fields=True):
    public_key: Annotated[
        str,
        msgspec.Meta(min_length=40, max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="base64url P-256 point"),
    ]
    venue_slugs: Annotated[list[Label], msgspec.Meta(max_length=200)] | None = None  # default: all of mine


class GateDeviceOut(msgspec.Struct):
    certificate: str  # base64url: certificate ‖ server signature
    serial: int
    kid: int
    venue_slugs: list[str]
    expires_at: datetime


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
    device_synced_at: datetime | None = None  # when `?device=` named a gate device of mine: its sync, now


class VenueCountOut(msgspec.Struct):
    venue_slug: str
    date: str
    entries_today: int
    exits_today: int
    occupancy: int
    flagged_today: int = 0  # offline scans uploaded today that could not be trusted
