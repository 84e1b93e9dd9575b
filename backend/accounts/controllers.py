from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import Cookie, State
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from backend.accounts.identity import get_identity, set_identity
from backend.accounts.phone import send_code
from backend.accounts.schemas import (
    CreateUserRequest,
    IdentityIn,
    IdentityOut,
    LoginRequest,
    LoginResult,
    MeOut,
    PhoneIn,
    RegisterRequest,
    SmsCodeRequest,
    SmsCodeSent,
    UserOut,
)
from backend.accounts.services import accounts, me_out
from backend.audit.middleware import client_address
from backend.lib.auth import AUTH_COOKIE, PUBLIC, AuthUser, new_token_id, require_roles, revocation_key
from backend.lib.clock import clock
from backend.lib.login_lockout import LoginLockout
from backend.lib.problems import InvalidInput
from backend.settings import Settings


class AuthController(Controller):
    path = "/auth"
    tags = ["accounts"]

    @post("/register", opt=PUBLIC, status_code=HTTP_201_CREATED)
    async def register(self, data: RegisterRequest) -> UserOut:
        """Create a tourist account."""
        return await accounts.register(data)

    @post("/sms-code", opt=PUBLIC, status_code=HTTP_202_ACCEPTED)
    async def sms_code(self, request: Request[Any, Any, State], data: SmsCodeRequest) -> SmsCodeSent:
        """Text a 6-digit sign-in code to a mainland mobile number (good for 5 minutes; one a minute and a few
        a day per phone, a budget per address). The same answer whether or not the number has an account."""
        settings: Settings = request.app.state.settings
        ttl = await send_code(request.app.stores.get("auth"), settings, data.phone)
        return SmsCodeSent(sent=True, expires_in=ttl, resend_after=settings.sms_resend_s)

    @post("/login", opt=PUBLIC, status_code=HTTP_200_OK, raises=[NotAuthorizedException])
    async def login(self, request: Request[Any, Any, State], data: LoginRequest) -> Response[LoginResult]:
        """Exchange `{email, password}`, or `{phone, sms_code}` (the code POST /auth/sms-code sent; an unknown
        number gets a new account), for a bearer token (also set as an HttpOnly cookie for the PWA)."""
        settings: Settings = request.app.state.settings
        address = client_address(request.scope)
        if data.phone is not None and data.sms_code is not None and data.email is None and data.password is None:
            user = await accounts.login_by_phone(
                request.app.stores.get("auth"), settings, data.phone, data.sms_code, address=address
            )
        elif data.email is not None and data.password is not None and data.phone is None and data.sms_code is None:
            lockout = LoginLockout(
                request.app.stores.get("auth"), settings.login_lockout_failures, settings.login_lockout_s
            )
            user = await accounts.login(data.email, data.password, lockout=lockout, address=address)
        else:
            raise InvalidInput("invalid_login_request", "send {email, password} or {phone, sms_code}")
        jwt_auth = request.app.state.jwt_auth
        token = jwt_auth.create_token(identifier=str(user.id), token_unique_jwt_id=new_token_id())
        return Response(
            LoginResult(access_token=token, token_type="bearer", expires_in=settings.token_ttl_s),
            cookies=[
                Cookie(
                    key=AUTH_COOKIE,
                    value=f"Bearer {token}",
                    max_age=settings.token_ttl_s,
                    httponly=True,
                    secure=settings.cookie_secure,
                    samesite="lax",
                    path="/",
                )
            ],
            headers={"Cache-Control": "no-store"},
        )

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        response_cookies=[Cookie(key=AUTH_COOKIE, value="", max_age=0, path="/", httponly=True)],
    )
    async def logout(self, request: Request[AuthUser, Token, State]) -> None:
        """Revoke this token (every replica sees the revocation through the shared store)."""
        token = request.auth
        if token.jti:
            remaining = int((token.exp - clock.now()).total_seconds())
            if remaining > 0:
                await request.app.stores.get("auth").set(revocation_key(str(token.jti)), b"1", expires_in=remaining)


class MeController(Controller):
    path = "/me"
    tags = ["accounts"]

    @get("/")
    async def me(self, request: Request[AuthUser, Token, State]) -> MeOut:
        """The caller's profile, roles and (for staff) venues."""
        return me_out(request.user)

    @put("/identity", status_code=HTTP_200_OK)
    async def put_identity(self, request: Request[AuthUser, Token, State], data: IdentityIn) -> IdentityOut:
        """Verify my real name (name, ID type and number, checked as bookings check them): vouchers and cards
        are bound to it. One identity per account (409 `identity_already_set`), one account per identity
        (409 `identity_taken`); the same identity again answers as the first time. Masked when read back."""
        return await set_identity(request.user, data)

    @put("/phone", status_code=HTTP_200_OK)
    async def put_phone(self, request: Request[AuthUser, Token, State], data: PhoneIn) -> MeOut:
        """Add (or change) my phone, proved by the code POST /auth/sms-code sent to it: I can then sign in with
        it, and my bookings carry it as their contact number. 409 `phone_taken` if another account has it."""
        return await accounts.add_phone(
            request.app.stores.get("auth"), request.app.state.settings, request.user, data.phone, data.sms_code
        )

    @get("/identity", raises=[NotFoundException])
    async def my_identity(self, request: Request[AuthUser, Token, State]) -> IdentityOut:
        """My verified identity, masked (404 `identity_not_found` before PUT /me/identity)."""
        return await get_identity(request.user)


class AdminUsersController(Controller):
    path = "/admin/users"
    tags = ["admin"]
    guards = [require_roles("admin")]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_user(self, data: CreateUserRequest) -> UserOut:
        """Create an account with any roles; staff are bound to `venue_slugs`, merchants to `merchant_ids`."""
        return await accounts.create_user(data)
