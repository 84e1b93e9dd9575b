"""The bridge's side of cases (issue 16): it hears `case_changed` (connected by create_app), inside the
transaction that changed the case, and
- writes the platform's outbox message of type `case` (opened, escalated, resolved; deduplicated per case
  and event), with no personal data beyond the masked contact phone: no text, no location;
- on an escalation, notifies the district's governance users (an in-app message each, and live on their
  notification stream).

Governance users of a district: active accounts with the `governance` role bound to a venue of that
district, and those bound to no venue (the city's), who hear of every district (docs/cases.md)."""

from __future__ import annotations

from typing import Any

from backend.accounts.tables import User
from backend.cases.schemas import CaseChange
from backend.governance import outbox
from backend.lib import live_events
from backend.reservations.tables import Notification
from backend.venues.services import catalog
from backend.vouchers.tables import Merchant


async def merchant_district(merchant_id: str) -> str | None:
    """The district of an active merchant of the register: the cases room's routing port (a case about a
    merchant goes to the merchant's district), wired by create_app."""
    row = (
        await Merchant.select(Merchant.district)
        .where((Merchant.merchant_id == merchant_id) & (Merchant.is_active == True))  # noqa: E712 - Piccolo SQL
        .first()
    )
    return str(row["district"]) if row else None


async def governance_users(district: str | None) -> list[int]:
    """The ids of the governance users who watch `district` (None: the city's only)."""
    rows = await User.select(User.id, User.roles, User.venue_slugs).where(
        User.roles.any("governance") & (User.is_active == True)  # noqa: E712 - Piccolo builds SQL from ==
    )
    snap = await catalog.snapshot()
    out = []
    for r in rows:
        if "governance" not in (r["roles"] or []):
            continue  # SQLite's `any` is a LIKE: check the role exactly
        venues = r["venue_slugs"] or []
        districts = {snap.by_slug[v].row["district"] for v in venues if v in snap.by_slug}
        if not venues or (district is not None and district in districts):
            out.append(r["id"])
    return out


def _platform_message(change: CaseChange) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event": change.event,
        "case_id": change.case_id,
        "kind": change.kind,
        "priority": change.priority,
        "status": change.status,
        "venue_slug": change.venue_slug,
        "district": change.district,
        "opened_at": change.opened_at.isoformat(),
        "ack_due_at": change.ack_due_at.isoformat(),
        "resolve_due_at": change.resolve_due_at.isoformat(),
        "at": change.at.isoformat(),
    }
    if change.contact_masked:
        data["contact_masked"] = change.contact_masked
    if change.escalation_reason:
        data["escalation_reason"] = change.escalation_reason
    return data


async def on_case_changed(change: CaseChange) -> None:
    await outbox.enqueue("case", _platform_message(change), dedup_key=f"case:{change.event}:{change.case_id}")
    if change.event != "escalated":
        return
    users = await governance_users(change.district)
    if not users:
        return
    detail = f"{change.kind} {change.case_id[:8]} ({change.escalation_reason or 'overdue'})"
    await Notification.insert(
        *[Notification(user_id=u, kind="case_escalated", venue_slug=change.venue_slug, detail=detail) for u in users]
    )
    for u in users:
        live_events.publish(
            "notifications",
            {"user_id": u, "kind": "case_escalated", "case_id": change.case_id, "venue_slug": change.venue_slug},
        )
