"""First-come claiming (`POST /campaigns/{id}/claim`), built for the release minute.

The rules, cheapest first: the campaign is public and first-come; the account has a verified identity;
a repeated `Idempotency-Key` replays the first answer; claiming is open; in the release's rush the claim
carries the app's claim ticket (claim_tickets.py); the identity has not reached the
per-person limit; the quota is not known to be gone. Then one short write transaction:

1. the key's record (`idempotency_records`, the table bookings use; a twin request waits, then replays);
2. the coupon, numbered `n` among the identity's coupons of the campaign: `INSERT … ON CONFLICT DO
   NOTHING` against the unique (campaign_id, identity_hash, n), n from 1 to per_person — the per-person
   limit is the database's, whatever the burst;
3. one unit of quota from a shard: `UPDATE campaign_quota_shards SET issued = issued + 1 WHERE … AND
   issued < capacity`, on a random shard picked with `FOR UPDATE SKIP LOCKED` (PostgreSQL), falling over
   to the others, then — only if every open shard was busy — waiting on each one still open. Nothing
   taken: `sold_out`, and the transaction (coupon included) rolls back. Never over the quota: each shard
   never passes its capacity, and the shards add up to the quota.

The shard row is locked last, so it is held only for the commit; the burst spreads over `quota_shards`
rows instead of queueing on one (docs/vouchers.md; `make bench` compares 1 row with 16).
"""

from __future__ import annotations

import hashlib
import logging
import random
import uuid
from typing import Any

from backend.accounts.identity import identity_fingerprint
from backend.lib.auth import AuthUser
from backend.lib.clock import clock
from backend.lib.db import skip_locked, write_transaction
from backend.lib.i18n import Lang
from backend.lib.problems import Conflict
from backend.reservations.idempotency import (
    Claim,
    IdempotencyRace,
    Replay,
    claim_key,
    replay_after_race,
    store_answer,
    stored_answer,
)
from backend.vouchers import claim_tickets
from backend.vouchers.campaigns import claim_closes, ensure_shards, figures, published_campaign
from backend.vouchers.schemas import CouponOut
from backend.vouchers.tables import Coupon, QuotaShard
from backend.vouchers.wallet import coupon_out

log = logging.getLogger("changxiang.vouchers")


async def first_come_campaign(campaign_id: int) -> dict[str, Any]:
    """A published first-come campaign (claims and claim tickets), else 404, or 409 `lottery_campaign`."""
    campaign = await published_campaign(campaign_id)
    if campaign["allocation"] != "first_come":
        raise Conflict("lottery_campaign", "this campaign is a lottery: apply instead")
    return campaign


class _SoldOut(Exception):
    pass


class _LimitReached(Exception):
    pass


class ClaimService:
    def __init__(self) -> None:
        self._shards_ready: set[int] = set()
        self._sold_out: set[int] = set()
        self._identities: dict[int, str] = {}  # an account's identity never changes once verified

    def forget(self) -> None:
        self._shards_ready.clear()
        self._sold_out.clear()
        self._identities.clear()

    async def claim(
        self,
        user: AuthUser,
        campaign_id: int,
        idempotency_key: str | None,
        lang: Lang = "zh",
        ticket: str | None = None,
    ) -> CouponOut | Replay[CouponOut]:
        campaign = await first_come_campaign(campaign_id)
        identity = self._identities.get(user.id) or await identity_fingerprint(user.id)
        if identity is None:
            raise Conflict("identity_required", "verify your real name first (PUT /me/identity)")
        if len(self._identities) > 100_000:
            self._identities.clear()
        self._identities[user.id] = identity
        request_hash = hashlib.sha256(f"claim:{campaign_id}".encode()).hexdigest()
        key = Claim(f"{user.id}:vouchers.claim:{idempotency_key}", request_hash) if idempotency_key else None
        if key is not None and (replay := await stored_answer(key.key, request_hash, CouponOut)) is not None:
            return replay
        now = clock.now()
        if now < campaign["release_at"]:
            raise Conflict("not_started", "claiming has not started")
        if now > claim_closes(campaign):
            raise Conflict("ended", "claiming has ended")
        claim_tickets.check(ticket, campaign, user.id, now)  # the release's rush: only through the app
        if campaign_id in self._sold_out:  # every shard was full: coupons are never given back
            raise Conflict("sold_out", "all coupons have been claimed")
        taken = {
            r["n"]
            for r in await Coupon.select(Coupon.n).where(
                (Coupon.campaign_id == campaign_id) & (Coupon.identity_hash == identity)
            )
        }
        free = [n for n in range(1, campaign["per_person"] + 1) if n not in taken]
        if not free:
            raise Conflict("limit_reached", f"at most {campaign['per_person']} per person")
        if campaign_id not in self._shards_ready:
            await ensure_shards(campaign)
            self._shards_ready.add(campaign_id)
        coupon: dict[str, Any] = {
            "public_id": uuid.uuid4(),
            "campaign_id": campaign_id,
            "user_id": user.id,
            "identity_hash": identity,
            "status": "active",
            "claimed_at": now,
            "redeemed_at": None,
        }
        try:
            async with write_transaction():
                if key is not None:
                    await claim_key(key)
                n = await _insert_coupon(coupon, free)
                await _take_quota(campaign_id, campaign["quota_shards"])
                out = coupon_out({**coupon, "n": n}, campaign, lang, now)
                if key is not None:
                    await store_answer(key, 201, out)
        except IdempotencyRace as race:
            return await replay_after_race(race.claim, CouponOut)
        except _SoldOut:
            self._sold_out.add(campaign_id)
            raise Conflict("sold_out", "all coupons have been claimed") from None
        except _LimitReached:
            raise Conflict("limit_reached", f"at most {campaign['per_person']} per person") from None
        figures.forget()
        log.info("coupon claimed", extra={"campaign": campaign_id, "coupon": out.id})
        return out


async def _insert_coupon(row: dict[str, Any], free: list[int]) -> int:
    """The coupon under the first free number n of its identity; none left: the limit is reached."""
    for n in free:
        inserted = await Coupon.raw(
            "INSERT INTO coupons (public_id, campaign_id, user_id, identity_hash, n, status, claimed_at) "
            "VALUES ({}, {}, {}, {}, {}, 'active', {}) ON CONFLICT DO NOTHING RETURNING id",
            row["public_id"],
            row["campaign_id"],
            row["user_id"],
            row["identity_hash"],
            n,
            row["claimed_at"],
        )
        if inserted:
            return n
    raise _LimitReached


_TAKE_ANY = (
    "UPDATE campaign_quota_shards SET issued = issued + 1 WHERE id = (SELECT id FROM campaign_quota_shards "
    "WHERE campaign_id = {} AND issued < capacity ORDER BY (n + {}) % {} LIMIT 1{lock}) RETURNING n"
)
_TAKE_ONE = (
    "UPDATE campaign_quota_shards SET issued = issued + 1 "
    "WHERE campaign_id = {} AND n = {} AND issued < capacity RETURNING n"
)


async def _take_quota(campaign_id: int, shards: int) -> int:
    """One unit from a random open shard (skipping locked ones), else from any shard still open."""
    start = random.randrange(shards)
    taken: list[dict[str, Any]] = await QuotaShard.raw(
        _TAKE_ANY.replace("{lock}", skip_locked()), campaign_id, shards - start, shards
    )
    if taken:
        return int(taken[0]["n"])
    still_open = await QuotaShard.select(QuotaShard.n).where(
        (QuotaShard.campaign_id == campaign_id) & (QuotaShard.issued < QuotaShard.capacity)
    )
    for row in still_open:  # every open shard was busy a moment ago: wait for each in turn
        taken = await QuotaShard.raw(_TAKE_ONE, campaign_id, row["n"])
        if taken:
            return int(taken[0]["n"])
    raise _SoldOut


claims = ClaimService()
