from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.accounts.schemas import CreateUserRequest, LoginRequest, LoginResult, MeOut, RegisterRequest, UserOut
from backend.accounts.services import accounts, me_out
from backend.audit.middleware import AUDITED_ROLES, client_address
from backend.audit.services import AuditEvent, audit_log
from backend.lib.auth import AUTH_COOKIE, PUBLIC, AuthUser, new_token_id, require_roles
from backend.lib.login_lockout import LoginLockout
from backend.lib.problems import Unauthenticated
from backend.lib.request_log import request_id_var
from backend.settings import Settings


class AuthController(Controller):
    path = "/auth"
    tags = ["accounts"]

    @post("/register", opt=PUBLIC, status_code=HTTP_201_CREATED)
    async def register(self, data: RegisterRequest) -> UserOut:
        """Create a tourist account."""
        return await accounts.register(data)

    @post("/login", opt=PUBLIC, status_code=HTTP_200_OK)
    async def login(self, request: Request, data: LoginRequest) -> Response[LoginResult]:
        """Exchange email and password for a bearer token (also set as an HttpOnly cookie for the PWA)."""
        settings: Settings = request.app.state.settings
        lockout = LoginLockout(
            request.app.stores.get("auth"), settings.login_lockout_failures, settings.login_lockout_s
        )
        await lockout.check(data.email)
        try:
            user = await accounts.authenticate(data.email, data.password)
        except Unauthenticated:
            await lockout.failed(data.email)
            raise
        await lockout.succeeded(data.email)
        if user.roles & AUDITED_ROLES:  # a privileged sign-in is on the audit record (it is not an HTTP write)
            await audit_log.record(
                AuditEvent(
                    actor_id=user.id,
                    actor_roles=",".join(sorted(user.roles)),
                    action="auth.login",
                    object="{}",
                    client=client_address(request.scope),
                    status=200,
                    request_id=request_id_var.get(),
                )
            )
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
    async def logout(self, request: Request[AuthUser, Token, object]) -> None:
        """Revoke this token (every replica sees the revocation through the shared store)."""
        token = request.auth
        if token.jti:
            remaining = int((token.exp - datetime.now(UTC)).total_seconds())
            if remaining > 0:
                await request.app.stores.get("auth").set(f"revoked:{token.jti}", b"1", expires_in=remaining)


class MeController(Controller):
    path = "/me"
    tags = ["accounts"]

    @get("/")
    async def me(self, request: Request[AuthUser, Token, object]) -> MeOut:
        """The caller's profile, roles and (for staff) venues."""
        return me_out(request.user)


class AdminUsersController(Controller):
    path = "/admin/users"
    tags = ["admin"]
    guards = [require_roles("admin")]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_user(self, data: CreateUserRequest) -> UserOut:
        """Create an account with any roles; staff are bound to `venue_slugs`."""
        return await accounts.create_user(data)
