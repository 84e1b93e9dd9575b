"""Campaigns as a publishing kind (`/admin/campaigns`, the publishing flow), and their public view.

A campaign's body is checked as a whole: a voucher has a face value and (optionally) eligible merchants
or merchant categories, none of which a card has; a card lists the venues it admits at. Times carry an
offset; validity ends after it starts; claiming (or applying) runs from `release_at` to `claim_until`
(default: the end of validity); a lottery names when applications close (`claim_until`). A lottery's
seed is drawn when the campaign is created, and only its SHA-256 is shown before the draw.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import msgspec

from backend.lib.clock import clock
from backend.lib.i18n import Lang, pick
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.lib.publication import visible_now
from backend.venues.tables import Venue
from backend.vouchers.merchants import known_merchants
from backend.vouchers.schemas import CampaignAdminOut, CampaignIn, CampaignOut, CampaignPatch, LocalisedOut
from backend.vouchers.tables import Campaign, Coupon, LotteryApplication, QuotaShard

DEFAULT_SHARDS = 16
_FIELDS = tuple(f for f in CampaignIn.__struct_fields__ if f != "publish_at")
# once claiming has begun these no longer change: the shards were cut from them
_FIXED_AT_RELEASE = ("quota", "per_person", "allocation", "quota_shards", "release_at", "kind")
COUNTS_TTL_S = 1.0


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput("invalid_date", f"{field} needs a UTC offset", field=field)
    return value.astimezone(UTC)


def seed_commitment(seed_hex: str) -> str:
    """SHA-256 of the seed's 32 bytes, hex: published at release, checked against the seed after the draw."""
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


async def _check(data: CampaignIn) -> dict[str, Any]:
    release = _aware(data.release_at, "release_at")
    valid_from, valid_until = _aware(data.valid_from, "valid_from"), _aware(data.valid_until, "valid_until")
    claim_until = _aware(data.claim_until, "claim_until") if data.claim_until is not None else None
    if valid_until <= valid_from:
        raise InvalidInput("invalid_validity", "valid_until must be after valid_from", field="valid_until")
    if claim_until is not None and claim_until <= release:
        raise InvalidInput("invalid_claim_window", "claim_until must be after release_at", field="claim_until")
    if data.allocation == "lottery":
        if claim_until is None:
            raise InvalidInput(
                "claim_until_required", "a lottery needs claim_until (applications close)", field="claim_until"
            )
        if valid_until <= claim_until:
            raise InvalidInput(
                "invalid_validity", "a lottery's coupons must be valid after the draw", field="valid_until"
            )
    if data.kind == "voucher":
        if data.face_value_fen < 1:
            raise InvalidInput("face_value_required", "a voucher has a face value", field="face_value_fen")
        if data.card_venue_slugs:
            raise InvalidInput("card_venues_for_cards", "card_venue_slugs are for cards", field="card_venue_slugs")
        missing = sorted(set(data.merchant_ids) - await known_merchants(sorted(set(data.merchant_ids))))
        if missing:
            raise InvalidInput("unknown_merchant", f"no such merchant: {', '.join(missing)}", field="merchant_ids")
    else:
        if not data.card_venue_slugs:
            raise InvalidInput("card_venues_required", "a card lists the venues it admits at", field="card_venue_slugs")
        if data.merchant_ids or data.merchant_categories or data.face_value_fen or data.min_spend_fen:
            raise InvalidInput("merchants_for_vouchers", "a card has no face value or merchants", field="kind")
        wanted = sorted(set(data.card_venue_slugs))
        found = {r["slug"] for r in await Venue.select(Venue.slug).where(Venue.slug.is_in(wanted))}
        missing = [s for s in wanted if s not in found]
        if missing:
            raise InvalidInput("unknown_venue", f"no such venue: {', '.join(missing)}", field="card_venue_slugs")
    if data.per_person > data.quota:
        raise InvalidInput("per_person_over_quota", "per_person is at most the quota", field="per_person")
    # no description: none (the title says it; a copy of the Chinese title showed twice, and in English too)
    description = data.description
    return {
        "title_zh": data.title.zh.strip(),
        "title_en": data.title.en.strip(),
        "description_zh": description.zh.strip() if description else "",
        "description_en": description.en.strip() if description else "",
        "kind": data.kind,
        "face_value_fen": data.face_value_fen,
        "min_spend_fen": data.min_spend_fen,
        "card_venue_slugs": sorted(set(data.card_venue_slugs)),
        "merchant_ids": sorted(set(data.merchant_ids)),
        "merchant_categories": sorted(set(data.merchant_categories)),
        "quota": data.quota,
        "per_person": data.per_person,
        "release_at": release,
        "claim_until": claim_until,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "allocation": data.allocation,
        "quota_shards": min(data.quota_shards or DEFAULT_SHARDS, data.quota),
    }


async def campaign_columns(data: CampaignIn) -> dict[str, Any]:
    cols = await _check(data)
    seed = secrets.token_hex(32)
    return {**cols, "seed": seed, "seed_sha256": seed_commitment(seed)}


def _as_body(row: dict[str, Any]) -> dict[str, Any]:
    """A campaign row in CampaignIn's shape (for re-checking it with a patch applied)."""
    return {
        "title": {"zh": row["title_zh"], "en": row["title_en"]},
        "description": {"zh": row["description_zh"], "en": row["description_en"]}
        if row["description_zh"] or row["description_en"]
        else None,
        **{k: row[k] for k in _FIELDS if k not in ("title", "description")},
    }


async def campaign_patch_columns(data: CampaignPatch, current: dict[str, Any]) -> dict[str, Any]:
    changes = {k: getattr(data, k) for k in _FIELDS if getattr(data, k) is not msgspec.UNSET}
    if not changes:
        return {}
    if clock.now() >= current["release_at"] and any(
        k in changes and changes[k] != current[k] for k in _FIXED_AT_RELEASE
    ):
        raise Conflict("campaign_released", f"after release {', '.join(_FIXED_AT_RELEASE)} no longer change")
    body = _as_body(current)
    for k, v in changes.items():
        body[k] = msgspec.to_builtins(v) if isinstance(v, msgspec.Struct) else v
    merged = msgspec.convert(body, CampaignIn, strict=False)
    cols = await _check(merged)
    return {k: v for k, v in cols.items() if v != current.get(k)}


def campaign_admin_out(row: dict[str, Any]) -> CampaignAdminOut:
    return CampaignAdminOut(
        id=row["id"],
        title=LocalisedOut(zh=row["title_zh"], en=row["title_en"]),
        description=LocalisedOut(zh=row["description_zh"], en=row["description_en"]),
        kind=row["kind"],
        face_value_fen=row["face_value_fen"],
        min_spend_fen=row["min_spend_fen"],
        currency="CNY",
        card_venue_slugs=list(row["card_venue_slugs"] or []),
        merchant_ids=list(row["merchant_ids"] or []),
        merchant_categories=list(row["merchant_categories"] or []),
        quota=row["quota"],
        per_person=row["per_person"],
        release_at=row["release_at"],
        claim_until=row["claim_until"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        allocation=row["allocation"],
        quota_shards=row["quota_shards"],
        seed_sha256=row["seed_sha256"],
        status=row["status"],
        publish_at=row["publish_at"],
        published_at=row["published_at"],
        updated_at=row["updated_at"],
    )


# ---------------------------------------------------------------- the public view


_published: dict[int, tuple[float, dict[str, Any]]] = {}
ROW_TTL_S = 1.0  # a release minute asks for the same campaign thousands of times a second


async def published_campaign(campaign_id: int, *, fresh: bool = False) -> dict[str, Any]:
    """A campaign the public may see (published, or scheduled and due), or 404 `campaign_not_found`.
    A published row is kept for ROW_TTL_S per process (the publishing flow's changes forget it here at
    once, on other replicas within that second); `fresh` reads the database."""
    if not 0 < campaign_id < 2**31:
        raise NotFound("campaign_not_found", f"no campaign {campaign_id}")
    hit = None if fresh else _published.get(campaign_id)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    row = await Campaign.select().where((Campaign.id == campaign_id) & visible_now(Campaign, clock.now())).first()
    if row is None:
        raise NotFound("campaign_not_found", f"no campaign {campaign_id}")
    if row["status"] == "published":
        if len(_published) > 1000:
            _published.clear()
        _published[campaign_id] = (time.monotonic() + ROW_TTL_S, row)
    return row


def claim_closes(row: dict[str, Any]) -> datetime:
    closes: datetime = row["claim_until"] or row["valid_until"]
    return closes


def phase(row: dict[str, Any], now: datetime) -> str:
    if now < row["release_at"]:
        return "upcoming"
    if now <= claim_closes(row):
        return "open"
    if row["allocation"] == "lottery":
        return "drawn" if row["drawn_at"] is not None else "closed"
    return "ended"


class CampaignFigures:
    """Issued, redeemed and applicants per campaign, from the database, kept for a second per process
    (the campaign page is what a release minute polls)."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[float, tuple[int, int, int]]] = {}

    def forget(self) -> None:
        self._kept.clear()

    async def of(self, ids: list[int]) -> dict[int, tuple[int, int, int]]:
        now = time.monotonic()
        out = {i: hit[1] for i in ids if (hit := self._kept.get(i)) is not None and hit[0] > now}
        missing = [i for i in ids if i not in out]
        if missing:
            issued: dict[int, int] = {}
            redeemed: dict[int, int] = {}
            applicants: dict[int, int] = {}
            marks = ", ".join(["{}"] * len(missing))
            for r in await Coupon.raw(
                "SELECT campaign_id, COUNT(*) AS issued, "
                "SUM(CASE WHEN status = 'redeemed' THEN 1 ELSE 0 END) AS redeemed "
                f"FROM coupons WHERE campaign_id IN ({marks}) GROUP BY campaign_id",
                *missing,
            ):
                issued[r["campaign_id"]] = int(r["issued"])
                redeemed[r["campaign_id"]] = int(r["redeemed"] or 0)
            for r in await LotteryApplication.raw(
                f"SELECT campaign_id, COUNT(*) AS n FROM lottery_applications WHERE campaign_id IN ({marks}) "
                "GROUP BY campaign_id",
                *missing,
            ):
                applicants[r["campaign_id"]] = int(r["n"])
            if len(self._kept) > 10_000:
                self._kept.clear()
            for i in missing:
                figures = (issued.get(i, 0), redeemed.get(i, 0), applicants.get(i, 0))
                self._kept[i] = (now + COUNTS_TTL_S, figures)
                out[i] = figures
        return out


figures = CampaignFigures()


def campaign_out(row: dict[str, Any], lang: Lang, counts: tuple[int, int, int], now: datetime) -> CampaignOut:
    issued, redeemed, applicants = counts
    lottery = row["allocation"] == "lottery"
    return CampaignOut(
        id=row["id"],
        title=pick(row["title_zh"], row["title_en"], lang),
        description=pick(row["description_zh"], row["description_en"], lang),
        kind=row["kind"],
        face_value_fen=row["face_value_fen"],
        min_spend_fen=row["min_spend_fen"],
        currency="CNY",
        card_venue_slugs=list(row["card_venue_slugs"] or []),
        merchant_ids=list(row["merchant_ids"] or []),
        merchant_categories=list(row["merchant_categories"] or []),
        quota=row["quota"],
        per_person=row["per_person"],
        release_at=row["release_at"],
        claim_until=row["claim_until"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        allocation=row["allocation"],
        phase=phase(row, now),
        issued=issued,
        redeemed=redeemed,
        remaining=max(0, row["quota"] - issued),
        applicants=applicants if lottery else None,
        seed_sha256=row["seed_sha256"] if lottery and now >= row["release_at"] else None,
    )


async def list_campaigns(lang: Lang, limit: int, offset: int) -> tuple[list[CampaignOut], int]:
    """Published campaigns whose validity has not ended, soonest release first."""
    now = clock.now()
    where = visible_now(Campaign, now) & (Campaign.valid_until > now)
    rows = (
        await Campaign.select()
        .where(where)
        .order_by(Campaign.release_at)
        .order_by(Campaign.id)
        .limit(limit)
        .offset(offset)
    )
    total = await Campaign.count().where(where)
    counts = await figures.of([r["id"] for r in rows])
    return [campaign_out(r, lang, counts[r["id"]], now) for r in rows], total


async def get_campaign(campaign_id: int, lang: Lang) -> CampaignOut:
    row = await published_campaign(campaign_id)
    counts = await figures.of([campaign_id])
    return campaign_out(row, lang, counts[campaign_id], clock.now())


async def ensure_shards(row: dict[str, Any]) -> None:
    """Cut the quota into `quota_shards` rows (once; a replica racing here inserts nothing)."""
    n = row["quota_shards"]
    base, extra = divmod(row["quota"], n)
    values = [(row["id"], i, base + (1 if i < extra else 0)) for i in range(n)]
    await QuotaShard.raw(
        "INSERT INTO campaign_quota_shards (campaign_id, n, capacity, issued) VALUES "
        + ", ".join(["({}, {}, {}, 0)"] * n)
        + " ON CONFLICT DO NOTHING",
        *[x for v in values for x in v],
    )


async def campaigns_changed() -> None:
    """The publishing flow changed a campaign: forget the figures and rows kept for it."""
    figures.forget()
    _published.clear()
