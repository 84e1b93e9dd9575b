"""My coupons (`GET /me/coupons`) and their place on the one pass: active coupons and cards are
entitlements of `GET /pass`, shown with the same rotating code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.i18n import Lang, pick
from backend.passes.schemas import Entitlement
from backend.vouchers.schemas import CouponOut, CouponStatus
from backend.vouchers.tables import Campaign, Coupon


def coupon_status(coupon: dict[str, Any], campaign: dict[str, Any], now: datetime) -> CouponStatus:
    if coupon["status"] == "redeemed":
        return "redeemed"
    if now > campaign["valid_until"]:
        return "expired"
    return "active"


def coupon_out(coupon: dict[str, Any], campaign: dict[str, Any], lang: Lang, now: datetime) -> CouponOut:
    return CouponOut(
        id=str(coupon["public_id"]),
        campaign_id=campaign["id"],
        kind=campaign["kind"],
        title=pick(campaign["title_zh"], campaign["title_en"], lang),
        status=coupon_status(coupon, campaign, now),
        face_value_fen=campaign["face_value_fen"],
        min_spend_fen=campaign["min_spend_fen"],
        currency="CNY",
        valid_from=campaign["valid_from"].astimezone(CITY_TZ),
        valid_until=campaign["valid_until"].astimezone(CITY_TZ),
        claimed_at=coupon["claimed_at"].astimezone(CITY_TZ),
        card_venue_slugs=list(campaign["card_venue_slugs"] or []),
        redeemed_at=coupon["redeemed_at"].astimezone(CITY_TZ) if coupon.get("redeemed_at") else None,
    )


async def holder_coupons(user_id: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(coupon, campaign) of every coupon the account holds, newest first."""
    coupons = await Coupon.select().where(Coupon.user_id == user_id).order_by(Coupon.id, ascending=False)
    ids = sorted({c["campaign_id"] for c in coupons})
    campaigns = {r["id"]: r for r in await Campaign.select().where(Campaign.id.is_in(ids))} if ids else {}
    return [(c, campaigns[c["campaign_id"]]) for c in coupons if c["campaign_id"] in campaigns]


async def my_coupons(
    user: AuthUser, lang: Lang, status: CouponStatus | None, limit: int, offset: int
) -> tuple[list[CouponOut], int]:
    now = clock.now()
    out = [coupon_out(c, k, lang, now) for c, k in await holder_coupons(user.id)]
    if status is not None:
        out = [c for c in out if c.status == status]
    return out[offset : offset + limit], len(out)


async def pass_entitlements(user_id: int) -> list[Entitlement]:
    """The holder's active coupons and cards as entitlements of the one pass (GET /pass)."""
    now = clock.now()
    out = []
    for c, k in reversed(await holder_coupons(user_id)):
        if coupon_status(c, k, now) != "active":
            continue
        card = k["kind"] == "card"
        out.append(
            Entitlement(
                reservation_id=None,
                venue_slug=None,
                valid_from=k["valid_from"].astimezone(CITY_TZ),
                valid_until=k["valid_until"].astimezone(CITY_TZ),
                party_size=1,
                status="active",
                entries=0,
                kind="card" if card else "coupon",
                coupon_id=str(c["public_id"]),
                campaign_id=k["id"],
                title=k["title_zh"],
                venue_slugs=list(k["card_venue_slugs"] or []),
                face_value_fen=None if card else k["face_value_fen"],
                min_spend_fen=None if card else k["min_spend_fen"],
            )
        )
    return out
