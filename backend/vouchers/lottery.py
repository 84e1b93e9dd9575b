"""Lottery campaigns: applications from release until `claim_until`, then a public draw (draw.py).

Timeline: the seed is drawn when the campaign is created and only its SHA-256 is public (from
`release_at`, shown on the campaign and its draw page); applications run from `release_at` to
`claim_until`, one per verified identity; after `claim_until` the first request or sweep that finds the
lottery undrawn draws it once (a conditional UPDATE on `drawn_at`), gives each winner `per_person`
coupons in the same transaction, and the seed, the sorted applicant list and the winners are published.
Applicants appear only as pseudonyms: SHA-256 of the campaign id and the identity's keyed fingerprint,
truncated to 20 hex characters — stable within a campaign, unlinkable across campaigns, and the
applicant is told theirs.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime
from typing import Any, Literal

from backend.accounts.identity import identity_fingerprint
from backend.lib.auth import AuthUser
from backend.lib.clock import clock
from backend.lib.db import is_unique_violation, write_transaction
from backend.lib.problems import Conflict
from backend.vouchers.campaigns import figures, published_campaign
from backend.vouchers.draw import ALGORITHM_TEXT, draw
from backend.vouchers.schemas import ApplicationOut, DrawOut
from backend.vouchers.tables import Campaign, Coupon, LotteryApplication

log = logging.getLogger("changxiang.vouchers")


def pseudonym(campaign_id: int, identity_hash: str) -> str:
    return hashlib.sha256(f"cx-lottery:{campaign_id}:{identity_hash}".encode()).hexdigest()[:20]


def _application_out(row: dict[str, Any], campaign: dict[str, Any]) -> ApplicationOut:
    status: Literal["applied", "won", "not_drawn"] = (
        "applied" if campaign["drawn_at"] is None else ("won" if row["won"] else "not_drawn")
    )
    return ApplicationOut(
        campaign_id=row["campaign_id"], pseudonym=row["pseudonym"], applied_at=row["applied_at"], status=status
    )


async def apply(user: AuthUser, campaign_id: int) -> tuple[ApplicationOut, bool]:
    """Apply once per identity: (the application, whether it is new). Applying again answers the same."""
    campaign = await published_campaign(campaign_id)
    if campaign["allocation"] != "lottery":
        raise Conflict("first_come_campaign", "this campaign is first come: claim instead")
    identity = await identity_fingerprint(user.id)
    if identity is None:
        raise Conflict("identity_required", "verify your real name first (PUT /me/identity)")
    where = (LotteryApplication.campaign_id == campaign_id) & (LotteryApplication.identity_hash == identity)
    existing = await LotteryApplication.select().where(where).first()
    if existing is not None:
        return _application_out(existing, campaign), False
    now = clock.now()
    if now < campaign["release_at"]:
        raise Conflict("not_started", "applications have not opened")
    if now > campaign["claim_until"]:
        raise Conflict("ended", "applications have closed")
    try:
        await LotteryApplication.insert(
            LotteryApplication(
                campaign_id=campaign_id,
                user_id=user.id,
                identity_hash=identity,
                pseudonym=pseudonym(campaign_id, identity),
                applied_at=now,
                won=False,
            )
        )
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        row = await LotteryApplication.select().where(where).first()
        if row is None:
            raise
        return _application_out(row, campaign), False
    figures.forget()
    row = await LotteryApplication.select().where(where).first()
    if row is None:  # written just above; applications are never deleted
        raise LookupError("application vanished")
    return _application_out(row, campaign), True


async def my_application(user: AuthUser, campaign_id: int) -> ApplicationOut | None:
    campaign = await published_campaign(campaign_id)
    identity = await identity_fingerprint(user.id)
    if identity is None:
        return None
    row = (
        await LotteryApplication.select()
        .where((LotteryApplication.campaign_id == campaign_id) & (LotteryApplication.identity_hash == identity))
        .first()
    )
    return None if row is None else _application_out(row, campaign)


async def draw_campaign(campaign: dict[str, Any], now: datetime) -> bool:
    """Draw a lottery whose applications have closed, once: True when this call drew it."""
    if campaign["allocation"] != "lottery" or campaign["drawn_at"] is not None or now <= campaign["claim_until"]:
        return False
    cid = campaign["id"]
    async with write_transaction():
        apps = await LotteryApplication.select(
            LotteryApplication.pseudonym, LotteryApplication.user_id, LotteryApplication.identity_hash
        ).where(LotteryApplication.campaign_id == cid)
        result = draw(campaign["seed"], [a["pseudonym"] for a in apps], campaign["quota"] // campaign["per_person"])
        moved = (
            await Campaign.update({Campaign.drawn_at: now, Campaign.applicants_sha256: result.applicants_sha256})
            .where((Campaign.id == cid) & Campaign.drawn_at.is_null())
            .returning(Campaign.id)
        )
        if not moved:
            return False  # another replica drew it first
        by_pseudonym = {a["pseudonym"]: a for a in apps}
        coupons = [
            Coupon(
                public_id=uuid.uuid4(),
                campaign_id=cid,
                user_id=by_pseudonym[p]["user_id"],
                identity_hash=by_pseudonym[p]["identity_hash"],
                n=n,
                status="active",
                claimed_at=now,
            )
            for p in result.winners
            for n in range(1, campaign["per_person"] + 1)
        ]
        for start in range(0, len(coupons), 500):
            await Coupon.insert(*coupons[start : start + 500])
        for start in range(0, len(result.winners), 500):
            await LotteryApplication.update({LotteryApplication.won: True}).where(
                (LotteryApplication.campaign_id == cid)
                & LotteryApplication.pseudonym.is_in(result.winners[start : start + 500])
            )
    figures.forget()
    log.info("lottery drawn", extra={"campaign": cid, "applicants": len(apps), "winners": len(result.winners)})
    return True


async def draw_due() -> int:
    """Draw every lottery whose applications have closed (the publisher's sweep calls this)."""
    now = clock.now()
    due = await Campaign.select().where(
        (Campaign.allocation == "lottery") & Campaign.drawn_at.is_null() & (Campaign.claim_until < now)
    )
    drawn = 0
    for campaign in due:
        drawn += await draw_campaign(campaign, now)
    return drawn


async def draw_document(campaign_id: int) -> DrawOut:
    campaign = await published_campaign(campaign_id)
    if campaign["allocation"] != "lottery":
        raise Conflict("first_come_campaign", "this campaign is first come: it has no draw")
    now = clock.now()
    if now < campaign["release_at"]:
        raise Conflict("not_started", "the lottery opens at release_at")
    if await draw_campaign(campaign, now) or campaign["drawn_at"] is None:
        campaign = await published_campaign(campaign_id, fresh=True)
    apps = await LotteryApplication.select(LotteryApplication.pseudonym, LotteryApplication.won).where(
        LotteryApplication.campaign_id == campaign_id
    )
    drawn = campaign["drawn_at"] is not None
    winners_count = min(len(apps), campaign["quota"] // campaign["per_person"]) if drawn else None
    # everyone in draw order; the winners are the ones the database marked (the coupons were given to
    # them), listed in that order: `verify-draw` then checks them against the algorithm
    result = draw(campaign["seed"], [a["pseudonym"] for a in apps], len(apps)) if drawn else None
    won = {a["pseudonym"] for a in apps if a["won"]}
    return DrawOut(
        campaign_id=campaign_id,
        algorithm=ALGORITHM_TEXT,
        seed_sha256=campaign["seed_sha256"],
        seed=campaign["seed"] if drawn else None,
        applicants_sha256=campaign["applicants_sha256"],
        applicants_count=len(apps),
        winners_count=winners_count,
        applicants=result.applicants if result else None,
        winners=[p for p in result.winners if p in won] if result else None,
        claim_until=campaign["claim_until"],
        drawn_at=campaign["drawn_at"],
    )
