"""Phone sign-in (the way Chinese apps sign in): `POST /auth/sms-code {phone}`, then `POST /auth/login
{phone, sms_code}`; and `PUT /me/phone` to add a phone to an account made with an e-mail.

- A code is 6 random digits, sent through the SMS adapter (integrations/sms) and kept only as a keyed
  HMAC (with the phone's fingerprint and a random nonce) in the shared `auth` store, for
  `sms_code_ttl_s` (5 minutes). It is never stored, logged or answered in clear.
- Sending is limited per phone (one code per `sms_resend_s`, `sms_per_phone_per_day` a city day) and per
  address (the abuse-limit middleware, `sms_limit_per_address` a minute).
- Checking is counted per phone *before* the code is looked at, in one atomic increment (the login
  lock-out's rule, lib/login_lockout.py): after `sms_code_failures` wrong codes the phone is refused,
  even with the right code, until none has come for `sms_lockout_s` (429 `phone_locked`). However many
  guesses arrive at once, only that many are checked. A right code is used once (an atomic counter on its
  nonce): two sign-ins racing with it get one account and one success.
- The number is encrypted at rest (AES-GCM, lib/personal_data), found by its keyed HMAC (unique: one
  account per number) and shown masked (139****5678). An unknown number gets a new tourist account.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from datetime import timedelta
from typing import Any

import msgspec
from litestar.stores.base import Store

from backend.accounts.tables import User
from backend.lib.auth import AuthUser
from backend.lib.clock import clock
from backend.lib.db import fetch, is_unique_violation
from backend.lib.login_lockout import LoginLockout
from backend.lib.personal_data import mask_phone, vault
from backend.lib.problems import Conflict, DomainError, InvalidInput, Unauthenticated
from backend.lib.rate_limits import count_hit
from backend.lib.stores import STORE_UNAVAILABLE
from backend.settings import Settings
from integrations.sms import ConsoleSms, HttpSms, SmsError, SmsSender

log = logging.getLogger("changxiang.accounts")

_MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_SEPARATORS = re.compile(r"[\s\-().]")
CODE_CONTEXT = "user.phone"


class TooMany(DomainError):
    status = 429


class _CodeRecord(msgspec.Struct):
    mac: str
    nonce: str


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as E.164 (`+8613912345678`); spaces, hyphens and a +86/0086 prefix are
    accepted; anything else is 400 `invalid_phone`."""
    digits = _SEPARATORS.sub("", raw.strip())
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _MAINLAND_MOBILE.match(digits):
        raise InvalidInput("invalid_phone", "a mainland China mobile number (11 digits, 1…)", field="phone")
    return "+86" + digits


def phone_fingerprint(e164: str) -> str:
    return vault().fingerprint(f"phone:{e164}")


def sms_sender(settings: Settings) -> SmsSender:
    """The provider's HTTP API when SMS_API_URL is set; the console in development only; else 503."""
    if settings.sms_api_url:
        return HttpSms(settings.sms_api_url, settings.sms_api_key, settings.sms_sign_name)
    if settings.dev:
        return ConsoleSms()
    raise DomainError("sms_unavailable", "phone sign-in is not configured (no SMS provider)", status=503)


def _lockout(store: Store, settings: Settings) -> LoginLockout:
    return LoginLockout(
        store,
        settings.sms_code_failures,
        settings.sms_lockout_s,
        prefix="sms-attempts",
        code="phone_locked",
        detail="too many wrong codes for this phone; try again later",
    )


def _mac(fp: str, nonce: str, code: str) -> str:
    return vault().fingerprint(f"sms-code:{fp}:{nonce}:{code}")


def _unavailable() -> DomainError:
    return DomainError("sms_unavailable", "phone sign-in is unavailable for a moment; try again", status=503)


def _seconds_to_city_midnight() -> int:
    now = clock.city_now()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


async def send_code(store: Store, settings: Settings, raw_phone: str) -> int:
    """Send a new sign-in code to `raw_phone`; return its lifetime in seconds. The answer is the same whether
    or not an account has this number."""
    phone = normalise_phone(raw_phone)
    fp = phone_fingerprint(phone)
    sender = sms_sender(settings)
    lockout = _lockout(store, settings)
    if await lockout.locked(fp):
        raise TooMany(lockout.code, lockout.detail, retry_after=settings.sms_lockout_s)
    try:
        if settings.sms_resend_s > 0 and await count_hit(store, f"sms-gap:{fp}", settings.sms_resend_s) > 1:
            raise TooMany(
                "sms_too_soon", "a code was sent to this phone a moment ago", retry_after=settings.sms_resend_s
            )
        day = clock.city_today().isoformat()
        if await count_hit(store, f"sms-day:{fp}:{day}", 86_400 + 60) > settings.sms_per_phone_per_day:
            raise TooMany(
                "sms_daily_limit", "this phone has had its codes for today", retry_after=_seconds_to_city_midnight()
            )
        code = f"{secrets.randbelow(1_000_000):06d}"
        nonce = secrets.token_hex(12)
        record = _CodeRecord(mac=_mac(fp, nonce, code), nonce=nonce)
        await store.set(f"sms-code:{fp}", msgspec.json.encode(record), expires_in=settings.sms_code_ttl_s)
    except STORE_UNAVAILABLE:
        raise _unavailable() from None
    try:
        await sender.send_code(phone, code, settings.sms_code_ttl_s)
    except SmsError as exc:
        log.warning("sign-in code not sent", extra={"phone": mask_phone(phone), "reason": str(exc)})
        await store.delete(f"sms-code:{fp}")
        raise DomainError("sms_unavailable", "the text message could not be sent; try again", status=503) from None
    log.info("sign-in code sent", extra={"phone": mask_phone(phone), "sender": sender.name})
    return settings.sms_code_ttl_s


async def _take_code(store: Store, fp: str, code: str) -> bool:
    """Whether `code` is this phone's current code, using it up if so (once, whoever races for it)."""
    raw = await store.get(f"sms-code:{fp}")
    if raw is None:
        return False
    try:
        record = msgspec.json.decode(raw, type=_CodeRecord)
    except msgspec.DecodeError:
        return False
    if not hmac.compare_digest(record.mac, _mac(fp, record.nonce, code.strip())):
        return False
    if await count_hit(store, f"sms-used:{record.nonce}", 3600) != 1:
        return False  # another request used it a moment ago
    await store.delete(f"sms-code:{fp}")
    return True


async def verify_code(store: Store, settings: Settings, raw_phone: str, code: str) -> str:
    """The phone (E.164) whose current code `code` is, the code used up; 401 `invalid_sms_code` otherwise,
    429 `phone_locked` once the phone has had its wrong codes."""
    phone = normalise_phone(raw_phone)
    fp = phone_fingerprint(phone)
    lockout = _lockout(store, settings)
    await lockout.attempt(fp)
    try:
        good = await _take_code(store, fp, code)
    except STORE_UNAVAILABLE:
        raise _unavailable() from None
    if not good:
        raise Unauthenticated("invalid_sms_code", "wrong or expired code")
    await lockout.succeeded(fp)
    return phone


_COLUMNS = (
    User.id,
    User.email,
    User.display_name,
    User.roles,
    User.venue_slugs,
    User.merchant_ids,
    User.phone_masked,
    User.is_active,
)


async def account_for_phone(phone: str) -> tuple[dict[str, Any], bool]:
    """The account with this number, made (a tourist) if there is none: (row, created). Two first sign-ins
    at once make one account (the unique fingerprint)."""
    fp = phone_fingerprint(phone)
    row = await User.select(*_COLUMNS).where(User.phone_fp == fp).first()
    if row is not None:
        return row, False
    masked = mask_phone(phone[3:])
    try:
        await User.insert(
            User(
                email=None,
                password_hash="",  # no password: this account signs in by phone (an empty hash matches nothing)
                display_name=masked,
                roles=["tourist"],
                venue_slugs=[],
                merchant_ids=[],
                phone_fp=fp,
                phone_enc=vault().encrypt(phone, CODE_CONTEXT),
                phone_masked=masked,
            )
        )
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        created = False  # the other sign-in made it
    else:
        created = True
        log.info("account registered by phone", extra={"phone": masked})
    row = await User.select(*_COLUMNS).where(User.phone_fp == fp).first()
    assert row is not None
    return row, created


async def attach_phone(user: AuthUser, phone: str) -> str:
    """Put a verified `phone` on `user`'s account (replacing any); 409 `phone_taken` when another account has
    it. Returns the mask."""
    fp = phone_fingerprint(phone)
    masked = mask_phone(phone[3:])
    other = await User.select(User.id).where((User.phone_fp == fp) & (User.id != user.id)).first()
    if other is not None:
        raise Conflict("phone_taken", "another account signs in with this phone")
    try:
        await User.update(
            {User.phone_fp: fp, User.phone_enc: vault().encrypt(phone, CODE_CONTEXT), User.phone_masked: masked}
        ).where(User.id == user.id)
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("phone_taken", "another account signs in with this phone") from None
        raise
    return masked


async def phone_of(user_id: int) -> str | None:
    """The account's phone in full (E.164), for a booking's contact number; None without one."""
    rows = await fetch("SELECT phone_enc FROM users WHERE id = {}", user_id)  # a booking's read: no builder
    if not rows or not rows[0]["phone_enc"]:
        return None
    return vault().decrypt(rows[0]["phone_enc"], CODE_CONTEXT)
