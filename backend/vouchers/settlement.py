"""Settlement and transparency: a merchant's day of redemptions as CSV (`GET /merchant/settlement`), and
the public tally per campaign (the open dataset `vouchers`).

The settlement lists every redemption of the day (the city's day, Asia/Shanghai) that stands — `ok` and
not reversed — with the bill, the discount and the subsidy the city owes (the discount: the city funds
the voucher's face value used), then one total line per merchant. The totals are sums of the same rows
in integer fen, so they reconcile to the fen with the redemption log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.i18n import Lang, pick
from backend.lib.problems import Forbidden
from backend.lib.publication import visible_now
from backend.lib.spreadsheet import csv_bytes
from backend.vouchers.tables import Campaign, Coupon, LotteryApplication, Merchant, Redemption

COLUMNS = (
    "date",
    "merchant_id",
    "merchant_name",
    "redemption_id",
    "redeemed_at",
    "campaign_id",
    "campaign_title",
    "coupon_id",
    "bill_fen",
    "discount_fen",
    "subsidy_fen",
    "payable_fen",
    "currency",
)


def _merchants_for(user: AuthUser, merchant_id: str | None) -> list[str] | None:
    """The merchants the caller may settle (None: all of them, for governance and admins)."""
    if user.has_any("governance", "admin"):
        return None if merchant_id is None else [merchant_id]
    if merchant_id is not None:
        if merchant_id not in user.merchant_ids:
            raise Forbidden("forbidden_merchant", "you do not act for this merchant")
        return [merchant_id]
    return sorted(user.merchant_ids)


async def settlement_csv(user: AuthUser, day: date, merchant_id: str | None) -> tuple[bytes, str]:
    merchants = _merchants_for(user, merchant_id)
    where = (Redemption.local_date == day.isoformat()) & (Redemption.result == "ok") & Redemption.reversed_at.is_null()
    if merchants is not None:
        where = where & Redemption.merchant_id.is_in(merchants or [""])
    rows = await Redemption.select().where(where).order_by(Redemption.merchant_id).order_by(Redemption.id)
    names = {
        m["merchant_id"]: m["name_zh"]
        for m in await Merchant.select(Merchant.merchant_id, Merchant.name_zh).where(
            Merchant.merchant_id.is_in(sorted({r["merchant_id"] for r in rows}) or [""])
        )
    }
    campaign_ids = sorted({r["campaign_id"] for r in rows})
    titles = (
        {
            k["id"]: k["title_zh"]
            for k in (await Campaign.select(Campaign.id, Campaign.title_zh).where(Campaign.id.is_in(campaign_ids)))
        }
        if campaign_ids
        else {}
    )
    coupon_ids = sorted({r["coupon_id"] for r in rows})
    coupons = (
        {
            c["id"]: str(c["public_id"])
            for c in (await Coupon.select(Coupon.id, Coupon.public_id).where(Coupon.id.is_in(coupon_ids)))
        }
        if coupon_ids
        else {}
    )
    lines: list[list[Any]] = []
    totals: dict[str, list[int]] = {}
    for r in rows:
        m = r["merchant_id"]
        lines.append(
            [
                day.isoformat(),
                m,
                names.get(m, ""),
                str(r["public_id"]),
                r["created_at"].astimezone(CITY_TZ).isoformat(timespec="seconds"),
                r["campaign_id"],
                titles.get(r["campaign_id"], ""),
                coupons.get(r["coupon_id"], ""),
                r["amount_fen"],
                r["discount_fen"],
                r["discount_fen"],
                r["amount_fen"] - r["discount_fen"],
                "CNY",
            ]
        )
        t = totals.setdefault(m, [0, 0, 0, 0])
        t[0] += 1
        t[1] += r["amount_fen"]
        t[2] += r["discount_fen"]
        t[3] += r["amount_fen"] - r["discount_fen"]
    for m, (count, bill, discount, payable) in sorted(totals.items()):
        lines.append(
            [
                day.isoformat(),
                m,
                names.get(m, ""),
                "TOTAL",
                f"{count} redemptions",
                "",
                "",
                "",
                bill,
                discount,
                discount,
                payable,
                "CNY",
            ]
        )
    name = f"settlement-{merchant_id or ('all' if merchants is None else '-'.join(merchants) or 'none')}-{day}.csv"
    return csv_bytes(COLUMNS, lines), name


async def tally_rows(lang: Lang) -> list[dict[str, Any]]:
    """Per published campaign: quota, issued, redeemed (standing redemptions), the subsidy they carry,
    and a lottery's applicants. Counts and sums only."""
    campaigns = await Campaign.select().where(visible_now(Campaign, clock.now())).order_by(Campaign.id)
    ids = [k["id"] for k in campaigns]
    if not ids:
        return []
    marks = ", ".join(["{}"] * len(ids))
    issued = {
        r["campaign_id"]: int(r["n"])
        for r in await Coupon.raw(
            f"SELECT campaign_id, COUNT(*) AS n FROM coupons WHERE campaign_id IN ({marks}) GROUP BY campaign_id", *ids
        )
    }
    redeemed = {
        r["campaign_id"]: (int(r["n"]), int(r["subsidy"] or 0))
        for r in await Redemption.raw(
            "SELECT campaign_id, COUNT(*) AS n, SUM(discount_fen) AS subsidy FROM voucher_redemptions "
            f"WHERE result = 'ok' AND reversed_at IS NULL AND campaign_id IN ({marks}) GROUP BY campaign_id",
            *ids,
        )
    }
    applicants = {
        r["campaign_id"]: int(r["n"])
        for r in await LotteryApplication.raw(
            f"SELECT campaign_id, COUNT(*) AS n FROM lottery_applications WHERE campaign_id IN ({marks}) "
            "GROUP BY campaign_id",
            *ids,
        )
    }
    return [
        {
            "campaign_id": k["id"],
            "title": pick(k["title_zh"], k["title_en"], lang),
            "kind": k["kind"],
            "allocation": k["allocation"],
            "face_value_fen": k["face_value_fen"],
            "quota": k["quota"],
            "issued": issued.get(k["id"], 0),
            "redeemed": redeemed.get(k["id"], (0, 0))[0],
            "subsidy_fen": redeemed.get(k["id"], (0, 0))[1],
            "applicants": applicants.get(k["id"]) if k["allocation"] == "lottery" else None,
            "release_at": k["release_at"].astimezone(CITY_TZ).isoformat(),
            "valid_until": k["valid_until"].astimezone(CITY_TZ).isoformat(),
        }
        for k in campaigns
    ]
