"""Cards at the gate (惠民卡/年卡): a card admits its holder once a day at each venue it lists, for its
validity, without a booking (the passes room asks through `extensions.gate` when a holder has none).

An entry is a row of card_entries, unique (coupon, venue, day): two gates scanning the same card at
once admit once. It is written with the venue's gate count in one transaction; the scan log line is the
passes room's. An exit clears `inside` (counted out) so occupancy stays right. A repeated scan nonce
finds its own entry and is answered `ok` again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.lib.clock import CITY_TZ
from backend.lib.db import write_transaction
from backend.occupancy.counts import add_to_gate_count
from backend.occupancy.services import occupancy
from backend.passes.extensions import GateRequest
from backend.passes.schemas import ScanResult
from backend.venues.services import catalog
from backend.vouchers.tables import Campaign, CardEntry, Coupon


async def holder_cards(user_id: int, venue_slug: str, at: datetime) -> list[dict[str, Any]]:
    """The holder's active cards valid at `at` that list `venue_slug`, oldest first."""
    coupons = await Coupon.select(Coupon.id, Coupon.campaign_id).where(
        (Coupon.user_id == user_id) & (Coupon.status == "active")
    )
    ids = sorted({c["campaign_id"] for c in coupons})
    if not ids:
        return []
    campaigns = {
        k["id"]: k
        for k in await Campaign.select(
            Campaign.id, Campaign.card_venue_slugs, Campaign.valid_from, Campaign.valid_until
        ).where(Campaign.id.is_in(ids) & (Campaign.kind == "card"))
    }
    return sorted(
        (
            c
            for c in coupons
            if (k := campaigns.get(c["campaign_id"])) is not None
            and venue_slug in (k["card_venue_slugs"] or [])
            and k["valid_from"] <= at <= k["valid_until"]
        ),
        key=lambda c: int(c["id"]),
    )


async def admit(req: GateRequest) -> ScanResult | None:
    cards = await holder_cards(req.user_id, req.venue_slug, req.at)
    if not cards:
        return None
    venue = await catalog.record(req.venue_slug)
    if venue is None:
        return None
    day = req.at.astimezone(CITY_TZ).date().isoformat()
    if req.direction == "out":
        async with write_transaction():
            left = await CardEntry.raw(
                "UPDATE card_entries SET inside = FALSE WHERE venue_slug = {} AND local_date = {} AND inside "
                "AND coupon_id IN (" + ", ".join(["{}"] * len(cards)) + ") RETURNING id",
                req.venue_slug,
                day,
                *[c["id"] for c in cards],
            )
            if left:
                await add_to_gate_count(venue, req.at, "out", 1)
        if left:
            await occupancy.after_movement(req.venue_slug)
        return "ok" if left else "already_redeemed"
    if not req.offline and await occupancy.entry_refused(req.venue_slug, 1):
        return "venue_full"
    for card in cards:
        async with write_transaction():
            entered = await CardEntry.raw(
                "INSERT INTO card_entries (coupon_id, venue_slug, local_date, nonce, entered_at, inside) "
                "VALUES ({}, {}, {}, {}, {}, TRUE) ON CONFLICT DO NOTHING RETURNING id",
                card["id"],
                req.venue_slug,
                day,
                req.nonce,
                req.at,
            )
            if entered:
                await add_to_gate_count(venue, req.at, "in", 1)
        if entered:
            await occupancy.after_movement(req.venue_slug)
            return "ok"
    same_scan = await CardEntry.exists().where(
        (CardEntry.venue_slug == req.venue_slug) & (CardEntry.local_date == day) & (CardEntry.nonce == req.nonce)
    )
    return "ok" if same_scan else "already_redeemed"
