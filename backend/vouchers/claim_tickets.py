"""Claim tickets (issue 17, 7): a cheap proof, during a release's rush, that a claim comes from the app a
person opened rather than from a script firing at the claim URL.

The app asks for a ticket when the vouchers page opens (`GET /campaigns/{id}/claim-ticket`) and keeps it
fresh while the page is open; it sends it with the claim (`X-Claim-Ticket`). A ticket is
`ct1.<campaign>.<account>.<issued unix s>.<MAC>`, the MAC HMAC-SHA256 (truncated to 128 bits) under a key
derived from the server's secret: stateless, so every replica checks it without a lookup, and it names one
account and one campaign. It lives `claim_ticket_ttl_s` (120 s). It is required only inside the rush
window — from `release_at` for `claim_ticket_window_s` (15 minutes; 0 turns tickets off) — and its issuing
counts against the account's claim budget (the abuse limits), so a script must run the app's two steps at
the app's pace, from a signed-in, identity-verified account.

Its limits (docs/vouchers.md): it does not tell a person from a script that imitates the app step for step;
what bounds such a script is the per-identity limit (one real name and ID number per account, `per_person`
per identity) and the per-account budgets. It turns a blind flood of claims into a flood that needs one
extra, rate-limited request per account per two minutes, and refuses claims from links or replays of
another account's ticket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import msgspec

from backend.lib.clock import clock
from backend.lib.problems import Forbidden
from backend.settings import get_settings

VERSION = "ct1"
HEADER = "X-Claim-Ticket"


class ClaimTicketOut(msgspec.Struct):
    ticket: str  # send it as the X-Claim-Ticket header of POST /campaigns/{id}/claim
    expires_at: datetime  # fetch a fresh one before then
    required_from: datetime  # the rush window in which claims need a ticket (release_at …)
    required_until: datetime


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    """The tickets' own key, derived once per server secret (not on every claim)."""
    return hmac.new(secret.encode(), b"changxiang claim tickets v1", hashlib.sha256).digest()


def _mac(payload: str) -> str:
    digest = hmac.new(_key(get_settings().secret_key), payload.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def window(campaign: dict[str, Any]) -> tuple[datetime, datetime]:
    start = campaign["release_at"]
    return start, start + timedelta(seconds=get_settings().claim_ticket_window_s)


def issue(campaign: dict[str, Any], user_id: int) -> ClaimTicketOut:
    now = clock.now()
    payload = f"{VERSION}.{campaign['id']}.{user_id}.{int(now.timestamp())}"
    start, until = window(campaign)
    return ClaimTicketOut(
        ticket=f"{payload}.{_mac(payload)}",
        expires_at=now + timedelta(seconds=get_settings().claim_ticket_ttl_s),
        required_from=start,
        required_until=until,
    )


def required(campaign: dict[str, Any], now: datetime) -> bool:
    start, until = window(campaign)
    return start <= now < until


def check(ticket: str | None, campaign: dict[str, Any], user_id: int, now: datetime) -> None:
    """Refuse a claim inside the rush window without a valid ticket of this account for this campaign."""
    if not required(campaign, now):
        return
    if not ticket:
        raise Forbidden(
            "claim_ticket_required",
            f"during a release's first minutes a claim needs the app's ticket ({HEADER}): "
            f"GET /campaigns/{campaign['id']}/claim-ticket",
        )
    parts = ticket.split(".")
    if len(parts) != 5 or parts[0] != VERSION:
        raise Forbidden("claim_ticket_invalid", "this claim ticket is not one of ours")
    payload, mac = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(mac, _mac(payload)):
        raise Forbidden("claim_ticket_invalid", "this claim ticket is not one of ours")
    try:
        campaign_id, account, issued = int(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        raise Forbidden("claim_ticket_invalid", "this claim ticket is not one of ours") from None
    if campaign_id != campaign["id"] or account != user_id:
        raise Forbidden("claim_ticket_invalid", "this claim ticket is for another campaign or account")
    age = now.timestamp() - issued
    if age > get_settings().claim_ticket_ttl_s or age < -5:
        raise Forbidden("claim_ticket_expired", "this claim ticket has expired: fetch a fresh one")
