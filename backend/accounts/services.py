"""Accounts: registration, login, the admin's user management, the start-up admin account."""

from __future__ import annotations

import logging
import time

from backend.accounts.schemas import CreateUserRequest, MeOut, RegisterRequest, UserOut
from backend.accounts.tables import User
from backend.lib.auth import AuthUser, burn_password_check, hash_password, verify_password
from backend.lib.db import is_unique_violation
from backend.lib.problems import Conflict, InvalidInput, Unauthenticated
from backend.venues.tables import Venue

log = logging.getLogger("changxiang.accounts")

USER_CACHE_S = 1.0


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _auth_user(row: dict) -> AuthUser:
    return AuthUser(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        roles=frozenset(row["roles"] or ()),
        venue_slugs=frozenset(row["venue_slugs"] or ()),
    )


def _user_out(row: dict) -> UserOut:
    return UserOut(id=row["id"], email=row["email"], display_name=row["display_name"], roles=list(row["roles"]))


def me_out(user: AuthUser) -> MeOut:
    return MeOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=sorted(user.roles),
        venue_slugs=sorted(user.venue_slugs),
    )


class AccountService:
    def __init__(self) -> None:
        self._recent: dict[int, tuple[float, AuthUser | None]] = {}

    async def _insert(self, email: str, password: str, display_name: str, roles: list[str], venues: list[str]) -> dict:
        try:
            rows = await User.insert(
                User(
                    email=email,
                    password_hash=hash_password(password),
                    display_name=display_name.strip(),
                    roles=roles,
                    venue_slugs=venues,
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
            await User.select(User.all_columns())
            .where((User.email == normalise_email(email)) & (User.is_active == True))  # noqa: E712
            .first()
        )
        if row is None:
            burn_password_check(password)
            raise Unauthenticated("invalid_credentials", "wrong email or password")
        if not verify_password(row["password_hash"], password):
            raise Unauthenticated("invalid_credentials", "wrong email or password")
        return _auth_user(row)

    async def load(self, user_id: int) -> AuthUser | None:
        """The caller behind a token. Each process remembers a user for USER_CACHE_S (a gate's scanner
        sends many requests a second with one token), so a role change, venue change or deactivation
        reaches every replica within that time; the process that made the change forgets at once."""
        now = time.monotonic()
        hit = self._recent.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = (
            await User.select(User.id, User.email, User.display_name, User.roles, User.venue_slugs)
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

    async def create_user(self, data: CreateUserRequest) -> UserOut:
        roles = sorted(set(data.roles))
        venues = await self._check_venues(data.venue_slugs)
        if venues and "staff" not in roles:
            raise InvalidInput("venues_need_staff_role", "venue_slugs are only for staff", field="venue_slugs")
        email = normalise_email(data.email)
        if await User.exists().where(User.email == email):
            raise Conflict("email_taken", "an account with this email exists")
        row = await self._insert(email, data.password, data.display_name, roles, venues)
        log.info("account created by admin", extra={"user_id": row["id"], "roles": roles})
        return _user_out(row)

    async def ensure_admin(self, email: str, password: str) -> None:
        """Create, or update the password and role of, the start-up admin account."""
        email = normalise_email(email)
        row = await User.select(User.id, User.roles).where(User.email == email).first()
        if row is None:
            try:
                await self._insert(email, password, "Administrator", ["admin"], [])
            except Conflict:
                pass  # another replica created it at the same moment
            return
        roles = sorted(set(row["roles"] or []) | {"admin"})
        await User.update({User.password_hash: hash_password(password), User.roles: roles, User.is_active: True}).where(
            User.id == row["id"]
        )
        self.forget(row["id"])


accounts = AccountService()
