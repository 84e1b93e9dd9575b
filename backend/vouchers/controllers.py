"""HTTP doors of the vouchers room: parse, authorise, call one service, return."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_409_CONFLICT

from backend.lib.auth import PUBLIC, AuthUser, require_roles
from backend.lib.geo import parse_point
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit, Offset, Page
from backend.reservations.idempotency import Replay
from backend.vouchers.claim_tickets import ClaimTicketOut
from backend.vouchers.schemas import (
    ApplicationOut,
    CampaignOut,
    CouponOut,
    CouponStatus,
    DrawOut,
    MerchantCategory,
    MerchantOut,
    RedemptionIn,
    RedemptionOut,
    ReversalOut,
)
from backend.vouchers.services import vouchers

LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]
AnyRequest = Request[Any, Any, State]


class StateConflict(HTTPException):
    """For the schema only: a read that answers 409 (a lottery's draw before release, or asked of a
    first-come campaign); the refusal itself is a DomainError turned into problem+json."""

    status_code = HTTP_409_CONFLICT


AuthRequest = Request[AuthUser, Token, State]
CampaignId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]
IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        max_length=200,
        required=False,
        description="a replay with the same key returns the first answer and changes nothing",
    ),
]


ClaimTicket = Annotated[
    str | None,
    Parameter(
        header="X-Claim-Ticket",
        max_length=200,
        required=False,
        description="the app's claim ticket (GET /campaigns/{id}/claim-ticket), needed in a release's rush",
    ),
]


class MerchantController(Controller):
    path = "/merchants"
    tags = ["vouchers"]
    opt = PUBLIC

    @get("/")
    async def list_merchants(
        self,
        request: AnyRequest,
        category: MerchantCategory | None = None,
        near: Annotated[str | None, Parameter(description="LAT,LNG (WGS-84): nearest first")] = None,
        radius_m: Annotated[float | None, Parameter(gt=0, le=1_000_000, description="with near")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
        lang: LangParam = None,
    ) -> Page[MerchantOut]:
        """Merchants that take vouchers (restaurants, tea houses, craft shops, hotels, bookshops); with
        `near`, nearest first. `sample: true` marks the invented sample merchants."""
        point = parse_point(near) if near is not None else None
        items, total = await vouchers.merchants(
            request_lang(request, lang), category=category, near=point, radius_m=radius_m, limit=limit, offset=offset
        )
        return Page(items=items, total=total)

    @get("/{merchant_id:str}")
    async def get_merchant(self, request: AnyRequest, merchant_id: str, lang: LangParam = None) -> MerchantOut:
        """One merchant."""
        return await vouchers.merchant(merchant_id, request_lang(request, lang))


class CampaignController(Controller):
    path = "/campaigns"
    tags = ["vouchers"]

    @get("/", opt=PUBLIC)
    async def list_campaigns(
        self, request: AnyRequest, limit: Limit = 20, offset: Offset = 0, lang: LangParam = None
    ) -> Page[CampaignOut]:
        """Published voucher and card campaigns still valid, soonest release first, with live `issued`,
        `redeemed`, `remaining` (and `applicants` for lotteries)."""
        items, total = await vouchers.campaigns(request_lang(request, lang), limit, offset)
        return Page(items=items, total=total)

    @get("/{campaign_id:int}", opt=PUBLIC)
    async def get_campaign(self, request: AnyRequest, campaign_id: CampaignId, lang: LangParam = None) -> CampaignOut:
        """One campaign with its live figures; a lottery shows the SHA-256 of its seed from release on."""
        return await vouchers.campaign(campaign_id, request_lang(request, lang))

    @post("/{campaign_id:int}/claim-ticket", status_code=HTTP_200_OK)
    async def claim_ticket(self, request: AuthRequest, campaign_id: CampaignId) -> Response[ClaimTicketOut]:
        """The app's claim ticket for a first-come campaign: send it as `X-Claim-Ticket` with the claim. It
        names this account and campaign, lives two minutes, and claims need one during the release's
        rush (`required_from` … `required_until`); counted against the account's claim budget."""
        ticket = await vouchers.claim_ticket(request.user, campaign_id)
        return Response(ticket, headers={"Cache-Control": "no-store"})

    @post("/{campaign_id:int}/claim", status_code=HTTP_201_CREATED)
    async def claim(
        self,
        request: AuthRequest,
        campaign_id: CampaignId,
        idempotency_key: IdempotencyKey = None,
        claim_ticket: ClaimTicket = None,
        lang: LangParam = None,
    ) -> Response[CouponOut]:
        """Claim a coupon of a first-come campaign (needs a verified identity). 409 `sold_out`,
        `limit_reached`, `not_started`, `ended`, `identity_required`; 403 `claim_ticket_required`,
        `claim_ticket_invalid`, `claim_ticket_expired` in the release's rush without the app's valid ticket;
        never more than the quota, never more than `per_person` for one identity. A repeated
        `Idempotency-Key` returns the first coupon."""
        result = await vouchers.claim(
            request.user, campaign_id, idempotency_key, request_lang(request, lang), claim_ticket
        )
        if isinstance(result, Replay):
            return Response(result.body, status_code=result.status_code, headers={"Idempotent-Replayed": "true"})
        return Response(result, status_code=HTTP_201_CREATED)

    @post("/{campaign_id:int}/apply", status_code=HTTP_201_CREATED)
    async def apply(self, request: AuthRequest, campaign_id: CampaignId) -> Response[ApplicationOut]:
        """Apply to a lottery (needs a verified identity), from `release_at` until `claim_until`: 201 the
        application with my pseudonym; applying again answers 200 with the same application."""
        out, new = await vouchers.apply(request.user, campaign_id)
        return Response(out, status_code=HTTP_201_CREATED if new else HTTP_200_OK)

    @get("/{campaign_id:int}/application")
    async def my_application(self, request: AuthRequest, campaign_id: CampaignId) -> ApplicationOut:
        """My application to a lottery (`applied`, `won`, `not_drawn`), 404 `application_not_found`."""
        return await vouchers.my_application(request.user, campaign_id)

    @get("/{campaign_id:int}/draw", opt=PUBLIC, raises=[StateConflict])
    async def draw(self, campaign_id: CampaignId) -> DrawOut:
        """A lottery's public draw: the seed's SHA-256 from release on; after applications close, the seed,
        the sorted pseudonymous applicants, their hash and the winners (`changxiang verify-draw` checks it)."""
        return await vouchers.draw(campaign_id)


class MyCouponsController(Controller):
    path = "/me/coupons"
    tags = ["vouchers"]

    @get("/")
    async def my_coupons(
        self,
        request: AuthRequest,
        status: CouponStatus | None = None,
        limit: Limit = 20,
        offset: Offset = 0,
        lang: LangParam = None,
    ) -> Page[CouponOut]:
        """My coupons and cards (`active`, `redeemed`, `expired`), newest first."""
        items, total = await vouchers.my_coupons(request.user, request_lang(request, lang), status, limit, offset)
        return Page(items=items, total=total)


class RedemptionController(Controller):
    path = "/redemptions"
    tags = ["vouchers"]
    guards = [require_roles("merchant")]

    @post("/", status_code=HTTP_200_OK, opt={"audited_by": "voucher_redemptions"})
    async def redeem(self, request: AuthRequest, data: RedemptionIn) -> RedemptionOut:
        """Redeem a holder's voucher at my till: their pass code and the bill. A decision is always 200:
        `ok` with the discount, or `already_redeemed`, `below_min_spend`, `wrong_merchant`, `expired`,
        `invalid`. Exactly once under racing tills; a repeated nonce is answered as before."""
        return await vouchers.redeem(request.user, data)

    @post("/{redemption_id:str}/reverse", status_code=HTTP_200_OK)
    async def reverse(self, request: AuthRequest, redemption_id: str) -> ReversalOut:
        """Reverse one of my merchant's redemptions on the day it was made: the coupon is usable again
        (409 `not_reversible` on another day or twice)."""
        return await vouchers.reverse(request.user, redemption_id)


class SettlementController(Controller):
    path = "/merchant"
    tags = ["vouchers"]
    guards = [require_roles("merchant", "governance")]

    @get("/settlement", media_type="text/csv")
    async def settlement(
        self,
        request: AuthRequest,
        date_: Annotated[date | None, Parameter(query="date", description="the city's day (default: today)")] = None,
        merchant_id: Annotated[str | None, Parameter(max_length=80)] = None,
    ) -> Response[bytes]:
        """A day's standing redemptions and the subsidy owed, as CSV (UTF-8 with BOM): one line per
        redemption and a TOTAL line per merchant (merchants: their own; governance: every merchant)."""
        body, filename = await vouchers.settlement(request.user, date_, merchant_id)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )
