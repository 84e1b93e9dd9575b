"""The vouchers room (常州礼遇): what its controllers and the CLI call.

The rules live in sub-modules, one use case each: merchants.py (the register), campaigns.py (the
publishing kind and the public view), claiming.py (first come) with claim_tickets.py (the app's ticket in
a release's rush), lottery.py and draw.py (the lottery and its public, reproducible draw), wallet.py (my
coupons, the pass's entitlements), redemption.py (a merchant's till), cards.py (the gate), settlement.py
(the daily CSV, the open-data tally). docs/vouchers.md explains the design.
"""

from __future__ import annotations

from datetime import date

from backend.lib.auth import AuthUser
from backend.lib.clock import clock
from backend.lib.geo import Point
from backend.lib.i18n import Lang
from backend.lib.problems import InvalidInput, NotFound
from backend.reservations.idempotency import Replay
from backend.vouchers import claim_tickets
from backend.vouchers.campaigns import get_campaign, list_campaigns
from backend.vouchers.claim_tickets import ClaimTicketOut
from backend.vouchers.claiming import claims, first_come_campaign
from backend.vouchers.lottery import apply, draw_document, my_application
from backend.vouchers.merchants import list_merchants, merchant_out
from backend.vouchers.redemption import redeem, reverse
from backend.vouchers.schemas import (
    ApplicationOut,
    CampaignOut,
    CouponOut,
    CouponStatus,
    DrawOut,
    MerchantOut,
    RedemptionIn,
    RedemptionOut,
    ReversalOut,
)
from backend.vouchers.settlement import settlement_csv
from backend.vouchers.tables import Merchant
from backend.vouchers.wallet import my_coupons


class VoucherService:
    async def merchants(
        self,
        lang: Lang,
        *,
        category: str | None,
        near: Point | None,
        radius_m: float | None,
        limit: int,
        offset: int,
    ) -> tuple[list[MerchantOut], int]:
        if radius_m is not None and near is None:
            raise InvalidInput("radius_without_near", "radius_m needs near=LAT,LNG", field="radius_m")
        return await list_merchants(lang, category=category, near=near, radius_m=radius_m, limit=limit, offset=offset)

    async def merchant(self, merchant_id: str, lang: Lang) -> MerchantOut:
        row = await Merchant.select().where(Merchant.merchant_id == merchant_id).first()
        if row is None:
            raise NotFound("merchant_not_found", f"no merchant {merchant_id!r}")
        return merchant_out(row, lang)

    async def campaigns(self, lang: Lang, limit: int, offset: int) -> tuple[list[CampaignOut], int]:
        return await list_campaigns(lang, limit, offset)

    async def campaign(self, campaign_id: int, lang: Lang) -> CampaignOut:
        return await get_campaign(campaign_id, lang)

    async def claim(
        self, user: AuthUser, campaign_id: int, idempotency_key: str | None, lang: Lang, ticket: str | None = None
    ) -> CouponOut | Replay[CouponOut]:
        return await claims.claim(user, campaign_id, idempotency_key, lang, ticket)

    async def claim_ticket(self, user: AuthUser, campaign_id: int) -> ClaimTicketOut:
        """A claim ticket for the app's vouchers page (claim_tickets.py): first-come campaigns only."""
        return claim_tickets.issue(await first_come_campaign(campaign_id), user.id)

    async def my_coupons(
        self, user: AuthUser, lang: Lang, status: CouponStatus | None, limit: int, offset: int
    ) -> tuple[list[CouponOut], int]:
        return await my_coupons(user, lang, status, limit, offset)

    async def apply(self, user: AuthUser, campaign_id: int) -> tuple[ApplicationOut, bool]:
        return await apply(user, campaign_id)

    async def my_application(self, user: AuthUser, campaign_id: int) -> ApplicationOut:
        out = await my_application(user, campaign_id)
        if out is None:
            raise NotFound("application_not_found", "you have not applied to this lottery")
        return out

    async def draw(self, campaign_id: int) -> DrawOut:
        return await draw_document(campaign_id)

    async def redeem(self, user: AuthUser, data: RedemptionIn) -> RedemptionOut:
        return await redeem(user, data)

    async def reverse(self, user: AuthUser, redemption_id: str) -> ReversalOut:
        return await reverse(user, redemption_id)

    async def settlement(self, user: AuthUser, day: date | None, merchant_id: str | None) -> tuple[bytes, str]:
        return await settlement_csv(user, day or clock.city_today(), merchant_id)


vouchers = VoucherService()
