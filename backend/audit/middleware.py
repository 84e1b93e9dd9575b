"""Every write by a privileged caller goes on the audit log, whatever route it is: endpoints added later
are covered without edits.

A request is audited when its method changes something (not GET/HEAD/OPTIONS) and the caller holds any
role other than `tourist`. The entry is appended once the answer's status is known and *before* the
answer leaves: a caller who saw the result of an action can rely on it being on the record.
A tourist's own bookings and cancellations are not audited: they act for themselves and their records
(reservations, scan log) already say who did what (docs/security.md). Routes whose handler carries the
opt `audited_by` (the gate's scans: `audited_by="scan_log"`) keep their own append-only record with the
same facts (who, device, gate, when, result) and are not audited twice.
"""

from __future__ import annotations

import logging

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from backend.audit.services import AuditEvent, audit_log, object_json
from backend.lib.auth import AuthUser
from backend.lib.request_log import request_id_var

log = logging.getLogger("changxiang.audit")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUDITED_ROLES = frozenset({"staff", "marketer", "governance", "agency", "merchant", "admin"})


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def audit_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] in READ_METHODS:
            await app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        if handler is not None and handler.opt.get("audited_by"):
            await app(scope, receive, send)
            return
        recorded = False

        async def send_after_audit(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                user = scope.get("user")
                if isinstance(user, AuthUser) and user.roles & AUDITED_ROLES:
                    await _record(scope, user, message["status"])
            await send(message)

        await app(scope, receive, send_after_audit)

    return middleware


async def _record(scope: HTTPScope, user: AuthUser, status: int) -> None:
    event = AuditEvent(
        actor_id=user.id,
        actor_roles=",".join(sorted(user.roles)),
        action=f"{scope['method']} {scope.get('path_template') or scope['path']}",
        object=object_json(scope.get("path_params") or {}),
        client=client_address(scope),
        status=status,
        request_id=request_id_var.get(),
    )
    try:
        await audit_log.record(event)
    except Exception:  # noqa: BLE001 - the action is done; a failed append is logged loudly, not hidden
        log.exception("audit append failed", extra={"action": event.action, "actor_id": event.actor_id})
