"""Who is calling: JWT bearer tokens (and the same token in an HttpOnly cookie for the PWA),
password hashing (argon2id, computed off the event loop: `make_password_hash`, `password_matches`), and
the role guards every controller uses.

Roles are enforced here, on the server: a guard refuses before the handler runs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal, cast

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTCookieAuth, JWTCookieAuthenticationMiddleware, Token
from litestar.stores.base import Store
from litestar.types import Scope

from backend.lib import offload
from backend.lib.clock import clock
from backend.lib.problems import Forbidden, Unauthenticated
from backend.lib.stores import STORE_UNAVAILABLE

log = logging.getLogger("changxiang.auth")

Role = Literal["tourist", "staff", "marketer", "governance", "agency", "merchant", "admin"]
ROLES: tuple[Role, ...] = ("tourist", "staff", "marketer", "governance", "agency", "merchant", "admin")

AUTH_COOKIE = "cx_token"
PUBLIC = {"exclude_from_auth": True}  # route opt for endpoints anyone may call

_hasher = PasswordHasher()


class AuthUser(msgspec.Struct, frozen=True):
    """The caller, as the guards see it (loaded fresh from the database on every request)."""

    id: int
    email: str
    display_name: str
    roles: frozenset[str]
    venue_slugs: frozenset[str]
    merchant_ids: frozenset[str] = frozenset()  # the shops a `merchant` account redeems vouchers for
    phone_masked: str | None = None  # an account with a phone (phone sign-in): 139****5678

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def may_staff(self, venue_slug: str) -> bool:
        """Admins may act at every venue; staff only at the venues they are bound to."""
        return "admin" in self.roles or ("staff" in self.roles and venue_slug in self.venue_slugs)

    def may_merchant(self, merchant_id: str) -> bool:
        """Admins may act for every merchant; merchant accounts only for the merchants they are bound to."""
        return "admin" in self.roles or ("merchant" in self.roles and merchant_id in self.merchant_ids)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = hash_password("timing-equaliser")


async def make_password_hash(password: str) -> str:
    """`hash_password`, computed in a worker thread: argon2id takes tens of milliseconds of CPU by design,
    and on the event loop it would stall every other request of the replica (docs/security.md)."""
    return await offload.cpu(hash_password, password)


async def password_matches(password_hash: str, password: str) -> bool:
    """`verify_password`, computed in a worker thread (see `make_password_hash`)."""
    return await offload.cpu(verify_password, password_hash, password)


async def burn_password_check(password: str) -> None:
    """Spend the same time as a real check, so unknown emails can't be told apart by timing."""
    await password_matches(_DUMMY_HASH, password)


class RememberingJWTMiddleware(JWTCookieAuthenticationMiddleware):
    """Litestar's JWT cookie/bearer middleware, remembering what a token string decodes to.

    Decoding (base64, JSON, HMAC check, claims) gives the same answer for the same string every time,
    except for the expiry, which is checked again on every request; revocation and the user are looked
    up on every request as before. A gate's scanner sends one token hundreds of times a minute.
    """

    _decoded: dict[str, Token] = {}

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = self._decoded.get(encoded_token)
        if token is None or token.exp <= clock.now():
            token = self.token_cls.decode(  # raises NotAuthorizedException for a bad or expired token
                encoded_token=encoded_token,
                secret=self.token_secret,
                algorithm=self.algorithm,
                audience=self.token_audience,
                issuer=self.token_issuer,
                require_claims=self.require_claims,
                verify_exp=self.verify_expiry,
                verify_nbf=self.verify_not_before,
                strict_audience=self.strict_audience,
            )
            if len(self._decoded) >= 10_000:
                self._decoded.clear()
            self._decoded[encoded_token] = token
        user = await self.retrieve_user_handler(token, connection)
        if not user:
            raise NotAuthorizedException()
        scope = connection.scope
        if token.jti and self.revocation_checked_later is not None and self.revocation_checked_later(scope):
            scope[REVOCATION_PENDING] = token.jti  # type: ignore[literal-required]  # an extension key of ours
        elif self.revoked_token_handler and await self.revoked_token_handler(token, connection):
            raise NotAuthorizedException()
        return AuthenticationResult(user=user, auth=token)

    # Requests whose token's revocation a later middleware checks (the abuse limits, in the same round trip
    # to Redis as their counters: lib/rate_limits.py); None: every request's here.
    revocation_checked_later: Callable[[Scope], bool] | None = None


# The scope key of a request whose token's revocation is still to be checked: the token's id.
REVOCATION_PENDING = "changxiang.revocation_pending"


def revocation_key(jti: str) -> str:
    """The `auth` store's key that marks the token `jti` revoked (logout)."""
    return f"revoked:{jti}"


def build_jwt_auth(
    *,
    secret: str,
    ttl_s: int,
    secure_cookie: bool,
    retrieve_user: Callable[[Token, ASGIConnection[Any, Any, Any, Any]], Awaitable[AuthUser | None]],
    revoked_store: Callable[[], Store],
    revocation_checked_later: Callable[[Scope], bool] | None = None,
) -> JWTCookieAuth[AuthUser, Token]:
    """Litestar's JWT auth. `revocation_checked_later`: the requests whose token's revocation a later
    middleware checks instead (it must raise NotAuthorizedException for a revoked token)."""

    async def is_revoked(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
        if not token.jti:
            return False
        try:
            return await revoked_store().exists(revocation_key(str(token.jti)))
        except STORE_UNAVAILABLE:  # Redis down: gates and bookings go on; see docs/decisions.md
            log.warning("token revocation not checked: Redis unavailable")
            return False

    middleware_class = RememberingJWTMiddleware
    if revocation_checked_later is not None:
        middleware_class = cast(
            "type[RememberingJWTMiddleware]",
            type(
                "RevocationDeferringJWTMiddleware",
                (RememberingJWTMiddleware,),
                {"revocation_checked_later": staticmethod(revocation_checked_later)},
            ),
        )
    return JWTCookieAuth[AuthUser, Token](
        authentication_middleware_class=middleware_class,
        retrieve_user_handler=retrieve_user,
        revoked_token_handler=is_revoked,
        token_secret=secret,
        default_token_expiration=timedelta(seconds=ttl_s),
        key=AUTH_COOKIE,
        secure=secure_cookie,
        samesite="lax",
        exclude=["^/schema"],
        exclude_opt_key="exclude_from_auth",
    )


def new_token_id() -> str:
    return uuid.uuid4().hex


def _user(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthUser:
    user = connection.scope.get("user")
    if not isinstance(user, AuthUser):
        raise Unauthenticated("not_authenticated", "log in first")
    return user


def require_roles(
    *roles: Role,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard: the caller must hold one of `roles` (admin always passes). A coroutine function, though it
    awaits nothing: Litestar runs a plain function guard in a worker thread (`AsyncCallable`), a thread
    hop per request that cost a gate scan about a tenth of its CPU (issue 22)."""
    allowed = set(roles) | {"admin"}

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not _user(connection).roles.intersection(allowed):
            raise Forbidden("forbidden_role", f"requires one of: {', '.join(sorted(allowed))}")

    guard.__name__ = f"require_{'_or_'.join(roles)}"
    return guard


def roles_before_request(*roles: Role) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """`require_roles` as a route's `before_request` hook, for a hot route: Litestar runs it where it runs
    guards (before the body and parameters are read) but hands it the request as it is, where every guard
    call gets a copy of the route handler. Give the route `opt={"roles": roles}` too (the OpenAPI document
    lists its 403)."""
    guard = require_roles(*roles)

    async def check(request: Request[Any, Any, Any]) -> None:
        await guard(request, cast(BaseRouteHandler, None))

    return check


def require_venue_staff(user: AuthUser, venue_slug: str) -> None:
    """Raise unless the caller may act for `venue_slug` (staff bound to it, or admin)."""
    if not user.may_staff(venue_slug):
        raise Forbidden("forbidden_venue", "you are not staff of this venue")
