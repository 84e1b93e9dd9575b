"""Accounts: registration, login (the lock-out, the password check, the audit of a privileged sign-in), the
admin's user management, the start-up admin account."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar.stores.base import Store

from backend.accounts.phone import account_for_phone, attach_phone, verify_code
from backend.accounts.schemas import CreateUserRequest, MeOut, RegisterRequest, UserOut
from backend.accounts.tables import User
from backend.audit.middleware import AUDITED_ROLES
from backend.audit.services import AuditEvent, audit_log
from backend.lib.auth import AuthUser, burn_password_check, make_password_hash, password_matches
from backend.lib.db import is_unique_violation
from backend.lib.login_lockout import LoginLockout
from backend.lib.problems import Conflict, InvalidInput, Unauthenticated
from backend.lib.request_log import request_id_var
from backend.settings import Settings
from backend.venues.tables import Venue

log = logging.getLogger("changxiang.accounts")

USER_CACHE_S = 1.0


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _auth_user(row: dict[str, Any]) -> AuthUser:
    return AuthUser(
        id=row["id"],
        email=row["email"] or "",  # "" for an account made by phone sign-in
        display_name=row["display_name"],
        roles=frozenset(row["roles"] or ()),
        venue_slugs=frozenset(row["venue_slugs"] or ()),
        merchant_ids=frozenset(row.get("merchant_ids") or ()),
        phone_masked=row.get("phone_masked"),
    )


def _user_out(row: dict[str, Any]) -> UserOut:
    return UserOut(id=row["id"], email=row["email"], display_name=row["display_name"], roles=list(row["roles"]))


def me_out(user: AuthUser) -> MeOut:
    return MeOut(
        id=user.id,
        email=user.email or None,
        display_name=user.display_name,
        roles=sorted(user.roles),
        venue_slugs=sorted(user.venue_slugs),
        merchant_ids=sorted(user.merchant_ids),
        phone_masked=user.phone_masked,
    )


MerchantDirectory = Callable[[list[str]], Awaitable[set[str]]]


class AccountService:
    def __init__(self) -> None:
        self._recent: dict[int, tuple[float, AuthUser | None]] = {}
        self._merchants: MerchantDirectory | None = None

    def use_merchants(self, known: MerchantDirectory) -> None:
        """Where merchant ids are looked up (the vouchers room's merchant register, wired by create_app):
        `known(ids)` answers the ids of `ids` that exist."""
        self._merchants = known

    async def _insert(
        self,
        email: str,
        password: str,
        display_name: str,
        roles: list[str],
        venues: list[str],
        merchants: list[str] | None = None,
    ) -> dict[str, Any]:
        try:
            rows = await User.insert(
                User(
                    email=email,
                    password_hash=await make_password_hash(password),
                    display_name=display_name.strip(),
                    roles=roles,
                    venue_slugs=venues,
                    merchant_ids=merchants or [],
                )
            ).returning(User.id, User.email, User.display_name, User.roles)
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict("email_taken", "an account with this email exists") from None
            raise
        return rows[0]

    async def register(self, data: RegisterRequest) -> UserOut:
        email = normalise_email(data.email)
        if await User.exists().where(User.email == email):
            raise Conflict("email_taken", "an account with this email exists")
        row = await self._insert(email, data.password, data.display_name, ["tourist"], [])
        log.info("account registered", extra={"user_id": row["id"]})
        return _user_out(row)

    async def authenticate(self, email: str, password: str) -> AuthUser:
        row = (
            await User.select(*User.all_columns())
            .where((User.email == normalise_email(email)) & (User.is_active == True))  # noqa: E712
            .first()
        )
        if row is None:
            await burn_password_check(password)
            raise Unauthenticated("invalid_credentials", "wrong email or password")
        if not await password_matches(row["password_hash"], password):
            raise Unauthenticated("invalid_credentials", "wrong email or password")
        return _auth_user(row)

    async def login(self, email: str, password: str, *, lockout: LoginLockout, address: str) -> AuthUser:
        """The login rule: the attempt is counted against the account before the password is looked at
        (refused once the account has used its attempts, docs/security.md), a right password clears the
        count; a privileged sign-in goes on the audit record (it is not an HTTP write, so the audit
        middleware does not see it). `address` is the client's."""
        await lockout.attempt(email)
        user = await self.authenticate(email, password)
        await lockout.succeeded(email)
        await self._audit_sign_in(user, address)
        return user

    async def login_by_phone(
        self, store: Store, settings: Settings, phone: str, code: str, *, address: str
    ) -> AuthUser:
        """Phone sign-in (accounts/phone.py): the code checked and used up, the number's account found or made
        (a tourist), a privileged sign-in audited as a password one is."""
        verified = await verify_code(store, settings, phone, code)
        row, _created = await account_for_phone(verified)
        if not row["is_active"]:
            raise Unauthenticated("invalid_credentials", "this account is closed")
        user = _auth_user(row)
        self.forget(user.id)
        await self._audit_sign_in(user, address)
        return user

    async def add_phone(self, store: Store, settings: Settings, user: AuthUser, phone: str, code: str) -> MeOut:
        """PUT /me/phone: a phone proved by its code becomes this account's (to sign in with, and the contact
        number its bookings carry)."""
        verified = await verify_code(store, settings, phone, code)
        masked = await attach_phone(user, verified)
        self.forget(user.id)
        return me_out(msgspec.structs.replace(user, phone_masked=masked))

    async def _audit_sign_in(self, user: AuthUser, address: str) -> None:
        if user.roles & AUDITED_ROLES:
            await audit_log.record(
                AuditEvent(
                    actor_id=user.id,
                    actor_roles=",".join(sorted(user.roles)),
                    action="auth.login",
                    object="{}",
                    client=address,
                    status=200,
                    request_id=request_id_var.get(),
                )
            )

    async def load(self, user_id: int) -> AuthUser | None:
        """The caller behind a token. Each process remembers a user for USER_CACHE_S (a gate's scanner
        sends many requests a second with one token), so a role change, venue change or deactivation
        reaches every replica within that time; the process that made the change forgets at once."""
        now = time.monotonic()
        hit = self._recent.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = (
            await User.select(
                User.id,
                User.email,
                User.display_name,
                User.roles,
                User.venue_slugs,
                User.merchant_ids,
                User.phone_masked,
            )
            .where((User.id == user_id) & (User.is_active == True))  # noqa: E712
            .first()
        )
        user = None if row is None else _auth_user(row)
        if len(self._recent) > 10_000:
            self._recent.clear()
        self._recent[user_id] = (now + USER_CACHE_S, user)
        return user

    def forget(self, user_id: int | None = None) -> None:
        """Drop remembered users (all of them without an id)."""
        if user_id is None:
            self._recent.clear()
        else:
            self._recent.pop(user_id, None)

    async def _check_venues(self, slugs: list[str]) -> list[str]:
        wanted = sorted(set(slugs))
        if not wanted:
            return []
        found = {r["slug"] for r in await Venue.select(Venue.slug).where(Venue.slug.is_in(wanted))}
        missing = [s for s in wanted if s not in found]
        if missing:
            raise InvalidInput("unknown_venue", f"no such venue: {', '.join(missing)}", field="venue_slugs")
        return wanted

    async def _check_merchants(self, ids: list[str], roles: list[str]) -> list[str]:
        """A `merchant` account is bound to at least one merchant of the register, and only merchants are."""
        wanted = sorted(set(ids))
        if wanted and "merchant" not in roles:
            raise InvalidInput(
                "merchants_need_merchant_role", "merchant_ids are only for the merchant role", field="merchant_ids"
            )
        if "merchant" in roles and not wanted:
            raise InvalidInput("merchant_ids_required", "a merchant account names its merchants", field="merchant_ids")
        if not wanted:
            return []
        found = await self._merchants(wanted) if self._merchants is not None else set()
        missing = [m for m in wanted if m not in found]
        if missing:
            raise InvalidInput("unknown_merchant", f"no such merchant: {', '.join(missing)}", field="merchant_ids")
        return wanted

    async def create_user(self, data: CreateUserRequest) -> UserOut:
        roles: list[str] = sorted(set(data.roles))
        venues = await self._check_venues(data.venue_slugs)
        if venues and "staff" not in roles:
            raise InvalidInput("venues_need_staff_role", "venue_slugs are only for staff", field="venue_slugs")
        merchants = await self._check_merchants(data.merchant_ids, roles)
        email = normalise_email(data.email)
        if await User.exists().where(User.email == email):
            raise Conflict("email_taken", "an account with this email exists")
        row = await self._insert(email, data.password, data.display_name, roles, venues, merchants)
        log.info("account created by admin", extra={"user_id": row["id"], "roles": roles})
        return _user_out(row)

    async def ensure_admin(self, email: str, password: str) -> None:
        """Create, or update the password and role of, the start-up admin account. An account that already
        is an active admin with this password is left alone: replicas starting together (and a second
        server on a shared SQLite file) write nothing at start-up, where each used to rewrite it."""
        email = normalise_email(email)
        row = (
            await User.select(User.id, User.roles, User.is_active, User.password_hash)
            .where(User.email == email)
            .first()
        )
        if row is None:
            try:
                await self._insert(email, password, "Administrator", ["admin"], [])
            except Conflict:
                pass  # another replica created it at the same moment
            return
        if (
            "admin" in (row["roles"] or [])
            and row["is_active"]
            and await password_matches(row["password_hash"] or "", password)
        ):
            return
        roles = sorted(set(row["roles"] or []) | {"admin"})
        await User.update(
            {User.password_hash: await make_password_hash(password), User.roles: roles, User.is_active: True}
        ).where(User.id == row["id"])
        self.forget(row["id"])


accounts = AccountService()
