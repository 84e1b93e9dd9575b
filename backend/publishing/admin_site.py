"""Piccolo Admin at `/admin`, for marketers and admins only, on our own login.

Piccolo Admin has its own session auth (piccolo_api's `SessionsAuthBackend` over `BaseUser` and
`SessionsBase`). Rather than a second login, our guard decides (JWT cookie, role marketer or admin)
and this gate then hands Piccolo Admin a session of a shadow Piccolo user bound to the account
(`cx-<id>`, admin, no usable password). A tourist never reaches Piccolo Admin's code: 403 here.

Admin is a read-only window on the publishable tables and their transition history (issue 15: 2).
Writes there would bypass what the publishing flow guarantees: the body validators (a recurrence
rule the catalogue can expand, https-only URLs…), the draft → in_review → published moves with the
second-reviewer rule, and the append-only transition log. So Piccolo Admin runs `read_only`, and this
gate answers every unsafe method (POST, PUT, PATCH, DELETE) itself with 405 `admin_read_only` before
Piccolo sees it; marketers edit through `/api/v1/admin/{kind}` (the PWA's editor), which validates
every body and logs every move. The transition table is also append-only in the database (triggers,
publishing migration 2026-12-02).
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta

import msgspec
from litestar import asgi
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from backend.lib.auth import AuthUser, require_roles
from backend.lib.problems import PROBLEM_TYPE_BASE

SESSION_S = 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PiccoloAdminGate:
    def __init__(self) -> None:
        self._app = None
        self._sessions: dict[int, tuple[str, float]] = {}

    def _admin(self):
        if self._app is None:
            from piccolo_admin.endpoints import create_admin

            from backend.publishing.services import KINDS
            from backend.publishing.tables import Transition

            self._app = create_admin(
                tables=[spec.table for spec in KINDS.values()] + [Transition],
                site_name="常享 Changxiang",
                session_expiry=timedelta(seconds=SESSION_S),
                production=False,
                read_only=True,  # see the module docstring: edits go through the publishing flow
            )
        return self._app

    async def _session(self, user: AuthUser) -> str:
        from piccolo.apps.user.tables import BaseUser
        from piccolo_api.session_auth.tables import SessionsBase

        cached = self._sessions.get(user.id)
        if cached and cached[1] > time.monotonic() + 60:
            return cached[0]
        username = f"cx-{user.id}"
        row = await BaseUser.select(BaseUser.id).where(BaseUser.username == username).first()
        if row is None:
            shadow = BaseUser(
                username=username,
                password=secrets.token_urlsafe(24),  # hashed by Piccolo; never told to anyone
                email=user.email,
                admin=True,
                active=True,
            )
            await shadow.save()
            piccolo_id = shadow.id
        else:
            piccolo_id = row["id"]
        # Piccolo's session table compares against its own naive wall clock, not ours
        expiry = datetime.now() + timedelta(seconds=SESSION_S)  # noqa: DTZ005
        session = await SessionsBase.create_session(user_id=piccolo_id, expiry_date=expiry, max_expiry_date=expiry)
        self._sessions[user.id] = (session.token, time.monotonic() + SESSION_S)
        return session.token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        assert isinstance(user, AuthUser)  # the guard let only marketers and admins through
        if scope.get("method", "GET") not in SAFE_METHODS:
            await _read_only(send)
            return
        token = await self._session(user)
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"cookie"]
        cookies = [c for c in _cookie_header(scope).split(";") if c.strip() and not c.strip().startswith("id=")]
        cookies.append(f"id={token}")
        headers.append((b"cookie", "; ".join(c.strip() for c in cookies).encode("latin-1")))
        await self._admin()({**scope, "headers": headers}, receive, send)


async def _read_only(send: Send) -> None:
    body = msgspec.json.encode(
        {
            "type": PROBLEM_TYPE_BASE + "admin_read_only",
            "title": "Method not allowed",
            "status": 405,
            "code": "admin_read_only",
            "detail": "Admin is read-only: edit and publish through /api/v1/admin/{kind} (the publishing flow)",
        }
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 405,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"allow", b"GET, HEAD, OPTIONS"),
        ],
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)


def _cookie_header(scope: Scope) -> str:
    for k, v in scope.get("headers", []):
        if k.lower() == b"cookie":
            return v.decode("latin-1")
    return ""


gate = PiccoloAdminGate()


@asgi("/admin", is_mount=True, guards=[require_roles("marketer")], include_in_schema=False, copy_scope=True)
async def piccolo_admin_site(scope: Scope, receive: Receive, send: Send) -> None:
    """Piccolo Admin, behind our login (marketer or admin)."""
    await gate(scope, receive, send)
