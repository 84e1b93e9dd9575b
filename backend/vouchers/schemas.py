"""API shapes of the vouchers room (常州礼遇): merchants, campaigns, coupons, lotteries, redemptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

import msgspec

from backend.lib.geo import Point

MerchantCategory = Literal["restaurant", "tea_house", "craft_shop", "hotel", "bookshop"]
MERCHANT_CATEGORIES: tuple[str, ...] = get_args(MerchantCategory)
District = Literal["tianning", "zhonglou", "xinbei", "wujin", "jintan", "liyang", "jingkai"]
MerchantId = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class Localised(msgspec.Struct, forbid_unknown_fields=True):
    zh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    en: Annotated[str, msgspec.Meta(max_length=240)] = ""


# ---------------------------------------------------------------- merchants


class MerchantContent(msgspec.Struct, forbid_unknown_fields=True):
    """One `[[merchant]]` of content/merchants.toml, or one row of the city's register (import)."""

    id: MerchantId
    category: MerchantCategory
    district: District
    name: Localised
    address: Localised
    location: Point
    near_venue: Slug | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class MerchantOut(msgspec.Struct):
    id: str
    name: str
    category: str
    district: str
    address: str
    location: Point
    near_venue: str | None
    sample: bool  # an invented merchant of content/merchants.toml, not a real shop
    distance_m: float | None = None


class MerchantLoadReport(msgspec.Struct):
    created: int
    updated: int
    unchanged: int
    deactivated: int = 0


# ---------------------------------------------------------------- campaigns

CampaignKind = Literal["voucher", "card"]
Allocation = Literal["first_come", "lottery"]
Fen = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]


class CampaignIn(msgspec.Struct, forbid_unknown_fields=True):
    """POST /admin/campaigns (marketers; then the publishing flow). `quota_shards` (1–256, default
    min(16, quota)) is how many rows the quota is split over for the release burst (docs/vouchers.md)."""

    title: Localised
    kind: CampaignKind
    quota: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]
    release_at: datetime
    valid_from: datetime
    valid_until: datetime
    per_person: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    claim_until: datetime | None = None
    allocation: Allocation = "first_come"
    face_value_fen: Fen = 0
    min_spend_fen: Fen = 0
    card_venue_slugs: Annotated[list[Slug], msgspec.Meta(max_length=100)] = []
    merchant_ids: Annotated[list[MerchantId], msgspec.Meta(max_length=2000)] = []
    merchant_categories: Annotated[list[MerchantCategory], msgspec.Meta(max_length=5)] = []
    description: Localised | None = None
    quota_shards: Annotated[int, msgspec.Meta(ge=1, le=256)] | None = None
    publish_at: datetime | None = None


class CampaignPatch(msgspec.Struct, forbid_unknown_fields=True):
    """PATCH /admin/campaigns/{id}: any field of CampaignIn. Once released, the quota, the per-person
    limit, the allocation, the shards and the release time no longer change (`campaign_released`)."""

    title: Localised | msgspec.UnsetType = msgspec.UNSET
    kind: CampaignKind | msgspec.UnsetType = msgspec.UNSET
    quota: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] | msgspec.UnsetType = msgspec.UNSET
    release_at: datetime | msgspec.UnsetType = msgspec.UNSET
    valid_from: datetime | msgspec.UnsetType = msgspec.UNSET
    valid_until: datetime | msgspec.UnsetType = msgspec.UNSET
    per_person: Annotated[int, msgspec.Meta(ge=1, le=100)] | msgspec.UnsetType = msgspec.UNSET
    claim_until: datetime | None | msgspec.UnsetType = msgspec.UNSET
    allocation: Allocation | msgspec.UnsetType = msgspec.UNSET
    face_value_fen: Fen | msgspec.UnsetType = msgspec.UNSET
    min_spend_fen: Fen | msgspec.UnsetType = msgspec.UNSET
    card_venue_slugs: Annotated[list[Slug], msgspec.Meta(max_length=100)] | msgspec.UnsetType = msgspec.UNSET
    merchant_ids: Annotated[list[MerchantId], msgspec.Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET
    merchant_categories: Annotated[list[MerchantCategory], msgspec.Meta(max_length=5)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    description: Localised | None | msgspec.UnsetType = msgspec.UNSET
    quota_shards: Annotated[int, msgspec.Meta(ge=1, le=256)] | msgspec.UnsetType = msgspec.UNSET
    publish_at: datetime | None = None


class LocalisedOut(msgspec.Struct):
    zh: str
    en: str


class CampaignAdminOut(msgspec.Struct):
    id: int
    title: LocalisedOut
    description: LocalisedOut
    kind: str
    face_value_fen: int
    min_spend_fen: int
    currency: str
    card_venue_slugs: list[str]
    merchant_ids: list[str]
    merchant_categories: list[str]
    quota: int
    per_person: int
    release_at: datetime
    claim_until: datetime | None
    valid_from: datetime
    valid_until: datetime
    allocation: str
    quota_shards: int
    seed_sha256: str
    status: str
    publish_at: datetime | None
    published_at: datetime | None
    updated_at: datetime


class CampaignOut(msgspec.Struct):
    """A published campaign, with live figures. `phase`: `upcoming` (before release_at), `open`
    (claiming or applying), `closed` (applications closed, lottery not drawn yet), `drawn`, `ended`."""

    id: int
    title: str
    description: str
    kind: str
    face_value_fen: int
    min_spend_fen: int
    currency: str
    card_venue_slugs: list[str]
    merchant_ids: list[str]
    merchant_categories: list[str]
    quota: int
    per_person: int
    release_at: datetime
    claim_until: datetime | None
    valid_from: datetime
    valid_until: datetime
    allocation: str
    phase: str
    issued: int
    redeemed: int
    remaining: int
    applicants: int | None = None  # lotteries
    seed_sha256: str | None = None  # lotteries, from release_at on: the commitment to the draw's seed


# ---------------------------------------------------------------- coupons, lotteries

CouponStatus = Literal["active", "redeemed", "expired"]


class CouponOut(msgspec.Struct):
    id: str
    campaign_id: int
    kind: str
    title: str
    status: CouponStatus
    face_value_fen: int
    min_spend_fen: int
    currency: str
    valid_from: datetime
    valid_until: datetime
    claimed_at: datetime
    card_venue_slugs: list[str] = []
    redeemed_at: datetime | None = None


class ApplicationOut(msgspec.Struct):
    campaign_id: int
    pseudonym: str  # how the draw lists me (a hash of the campaign and my identity's fingerprint)
    applied_at: datetime
    status: Literal["applied", "won", "not_drawn"]


class DrawOut(msgspec.Struct):
    """GET /campaigns/{id}/draw: everything needed to check a lottery (docs/vouchers.md, "The draw")."""

    campaign_id: int
    algorithm: str
    seed_sha256: str
    seed: str | None  # revealed with the draw
    applicants_sha256: str | None
    applicants_count: int
    winners_count: int | None
    applicants: list[str] | None  # pseudonyms, sorted, after the draw
    winners: list[str] | None  # pseudonyms in draw order, after the draw
    claim_until: datetime
    drawn_at: datetime | None


# ---------------------------------------------------------------- redemption

RedemptionResult = Literal["ok", "already_redeemed", "below_min_spend", "wrong_merchant", "expired", "invalid"]


class RedemptionIn(msgspec.Struct, forbid_unknown_fields=True):
    """POST /redemptions: the holder's pass code (the QR the till scanned) and the bill. `merchant_id`
    is needed only by an account bound to several merchants; `coupon_id` picks one of the holder's
    coupons (default: the eligible one worth most)."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=600)]
    amount_fen: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]
    nonce: Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")] | None = None
    merchant_id: MerchantId | None = None
    coupon_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None


class RedemptionOut(msgspec.Struct):
    result: RedemptionResult
    discount_fen: int
    amount_fen: int
    payable_fen: int  # what the customer still pays: the bill less the discount
    merchant_id: str
    nonce: str
    coupon_id: str | None = None
    redemption_id: str | None = None
    min_spend_fen: int | None = None  # with below_min_spend: how much the bill must reach
    holder_name_masked: str | None = None


class ReversalOut(msgspec.Struct):
    redemption_id: str
    coupon_id: str
    reversed_at: datetime
    coupon_status: str
