"""A merchant's till (`POST /redemptions`): scan the holder's pass, enter the bill, redeem one coupon.

The decision, for the holder behind a fresh pass code and the merchant the account acts for: no
voucher at all (or a bad code) `invalid`; none this merchant takes `wrong_merchant`; all of those used
`already_redeemed`; all past their validity `expired`; none the bill reaches `below_min_spend`; else the
eligible coupon worth most is redeemed: one conditional UPDATE (`status = 'active'` → `redeemed`) and
the attempt's log row in one write transaction, so of racing tills exactly one gets `ok` (a partial
unique index on the log makes a second live `ok` for a coupon impossible besides). Every attempt is
logged; a repeated nonce (per merchant account) is answered as the first time, and a nonce that raced
in rolls its twin back and answers as the first. A reversal on the same city day, by the same merchant,
makes the coupon usable again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import is_unique_violation, write_transaction
from backend.lib.personal_data import mask_name
from backend.lib.problems import Conflict, Forbidden, InvalidInput, NotFound
from backend.passes.codes import CodeRejected, verify_code
from backend.passes.keys import keyring
from backend.passes.tables import Pass
from backend.vouchers.schemas import RedemptionIn, RedemptionOut, RedemptionResult, ReversalOut
from backend.vouchers.tables import Campaign, Coupon, Merchant, Redemption

log = logging.getLogger("changxiang.vouchers")


def eligible(campaign: dict[str, Any], merchant: dict[str, Any]) -> bool:
    """A voucher is taken by the merchants it names or of the categories it names (neither: every merchant)."""
    ids, categories = campaign["merchant_ids"] or [], campaign["merchant_categories"] or []
    if not ids and not categories:
        return True
    return merchant["merchant_id"] in ids or merchant["category"] in categories


async def _merchant_for(user: AuthUser, merchant_id: str | None) -> dict[str, Any]:
    if merchant_id is None:
        if len(user.merchant_ids) != 1:
            raise InvalidInput("merchant_id_required", "name the merchant this till is for", field="merchant_id")
        merchant_id = next(iter(user.merchant_ids))
    if not user.may_merchant(merchant_id):
        raise Forbidden("forbidden_merchant", "you do not act for this merchant")
    row = await Merchant.select().where((Merchant.merchant_id == merchant_id) & (Merchant.is_active == True)).first()  # noqa: E712
    if row is None:
        raise NotFound("merchant_not_found", f"no merchant {merchant_id!r}")
    return row


async def _holder(code: str, now: datetime) -> dict[str, Any] | None:
    try:
        verified = await verify_code(code, keyring, now)
    except CodeRejected:
        return None
    found = await Pass.raw(
        "SELECT p.user_id, u.display_name FROM passes p JOIN users u ON u.id = p.user_id "
        "WHERE p.pass_id = {} AND p.revoked_at IS NULL",
        verified.pass_id,
    )
    return found[0] if found else None


def _decide(
    held: list[tuple[dict[str, Any], dict[str, Any]]], merchant: dict[str, Any], amount: int, now: datetime
) -> tuple[RedemptionResult, tuple[dict[str, Any], dict[str, Any]] | None]:
    vouchers = [(c, k) for c, k in held if k["kind"] == "voucher"]
    if not vouchers:
        return "invalid", None
    here = [(c, k) for c, k in vouchers if eligible(k, merchant)]
    if not here:
        return "wrong_merchant", vouchers[0]
    unused = [(c, k) for c, k in here if c["status"] == "active"]
    if not unused:
        return "already_redeemed", here[0]
    valid = [(c, k) for c, k in unused if k["valid_from"] <= now <= k["valid_until"]]
    if not valid:
        return "expired", unused[0]
    reached = [(c, k) for c, k in valid if amount >= k["min_spend_fen"]]
    if not reached:
        return "below_min_spend", min(valid, key=lambda ck: ck[1]["min_spend_fen"])
    return "ok", max(reached, key=lambda ck: (ck[1]["face_value_fen"], -ck[1]["valid_until"].timestamp()))


async def _held(user_id: int, coupon_id: str | None) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    query = Coupon.select().where(Coupon.user_id == user_id)
    if coupon_id is not None:
        try:
            query = query.where(Coupon.public_id == uuid.UUID(coupon_id))
        except ValueError:
            return []
    coupons = await query.order_by(Coupon.id)
    ids = sorted({c["campaign_id"] for c in coupons})
    campaigns = {k["id"]: k for k in await Campaign.select().where(Campaign.id.is_in(ids))} if ids else {}
    return [(c, campaigns[c["campaign_id"]]) for c in coupons if c["campaign_id"] in campaigns]


def _out(row: dict[str, Any], coupon_public_id: str | None, min_spend: int | None, holder: str | None) -> RedemptionOut:
    return RedemptionOut(
        result=row["result"],
        discount_fen=row["discount_fen"],
        amount_fen=row["amount_fen"],
        payable_fen=row["amount_fen"] - row["discount_fen"],
        merchant_id=row["merchant_id"],
        nonce=row["nonce_key"].split(":", 1)[1],
        coupon_id=coupon_public_id,
        redemption_id=str(row["public_id"]) if row["result"] == "ok" else None,
        min_spend_fen=min_spend,
        holder_name_masked=holder,
    )


async def _stored(nonce_key: str) -> RedemptionOut | None:
    row = await Redemption.select().where(Redemption.nonce_key == nonce_key).first()
    if row is None:
        return None
    coupon = None
    if row["coupon_id"] is not None:
        coupon = await Coupon.select(Coupon.public_id).where(Coupon.id == row["coupon_id"]).first()
    return _out(row, str(coupon["public_id"]) if coupon else None, None, None)


async def redeem(user: AuthUser, data: RedemptionIn) -> RedemptionOut:
    merchant = await _merchant_for(user, data.merchant_id)
    nonce_key = f"{user.id}:{data.nonce or uuid.uuid4().hex}"
    if data.nonce and (stored := await _stored(nonce_key)) is not None:
        return stored
    now = clock.now()
    holder = await _holder(data.code, now)
    held = await _held(holder["user_id"], data.coupon_id) if holder else []
    result, chosen = _decide(held, merchant, data.amount_fen, now)
    coupon, campaign = chosen if chosen else (None, None)
    discount = min(campaign["face_value_fen"], data.amount_fen) if campaign is not None and result == "ok" else 0
    row: dict[str, Any] = {
        "public_id": uuid.uuid4(),
        "nonce_key": nonce_key,
        "merchant_user_id": user.id,
        "merchant_id": merchant["merchant_id"],
        "coupon_id": coupon["id"] if coupon else None,
        "campaign_id": campaign["id"] if campaign else None,
        "amount_fen": data.amount_fen,
        "discount_fen": discount,
        "result": result,
        "local_date": now.astimezone(CITY_TZ).date().isoformat(),
        "created_at": now,
    }
    try:
        async with write_transaction():
            if result == "ok" and coupon is not None:
                taken = await Coupon.raw(
                    "UPDATE coupons SET status = 'redeemed', redeemed_at = {} WHERE id = {} AND status = 'active' "
                    "RETURNING id",
                    now,
                    coupon["id"],
                )
                if not taken:  # another till redeemed it a moment ago
                    row["result"], row["discount_fen"] = "already_redeemed", 0
            await Redemption.insert(Redemption(**row))
    except Exception as exc:
        if is_unique_violation(exc) and (stored := await _stored(nonce_key)) is not None:
            return stored  # the same nonce raced in: answer as the first did
        raise
    log.info(
        "voucher redemption",
        extra={"merchant": merchant["merchant_id"], "result": row["result"], "discount_fen": row["discount_fen"]},
    )
    return _out(
        row,
        str(coupon["public_id"]) if coupon else None,
        campaign["min_spend_fen"] if campaign is not None and row["result"] == "below_min_spend" else None,
        mask_name(holder["display_name"]) if holder and row["result"] == "ok" else None,
    )


async def reverse(user: AuthUser, redemption_id: str) -> ReversalOut:
    try:
        public_id = uuid.UUID(redemption_id)
    except ValueError:
        raise NotFound("redemption_not_found", "no such redemption") from None
    row = await Redemption.select().where(Redemption.public_id == public_id).first()
    if row is None or row["result"] != "ok" or row["merchant_id"] is None:
        raise NotFound("redemption_not_found", "no such redemption")
    if not user.may_merchant(row["merchant_id"]):
        raise Forbidden("forbidden_merchant", "you do not act for this merchant")
    now = clock.now()
    if row["local_date"] != now.astimezone(CITY_TZ).date().isoformat():
        raise Conflict("not_reversible", "a redemption is reversed on the day it was made")
    async with write_transaction():
        reversed_ = await Redemption.raw(
            "UPDATE voucher_redemptions SET reversed_at = {} WHERE id = {} AND reversed_at IS NULL RETURNING id",
            now,
            row["id"],
        )
        if not reversed_:
            raise Conflict("not_reversible", "this redemption was reversed already")
        await Coupon.raw(
            "UPDATE coupons SET status = 'active', redeemed_at = NULL WHERE id = {} AND status = 'redeemed'",
            row["coupon_id"],
        )
    coupon = await Coupon.select(Coupon.public_id, Coupon.status).where(Coupon.id == row["coupon_id"]).first()
    if coupon is None:  # coupons are never deleted
        raise LookupError("coupon vanished")
    log.info("voucher redemption reversed", extra={"merchant": row["merchant_id"], "redemption": redemption_id})
    return ReversalOut(
        redemption_id=redemption_id,
        coupon_id=str(coupon["public_id"]),
        reversed_at=now.astimezone(CITY_TZ),
        coupon_status=coupon["status"],
    )
