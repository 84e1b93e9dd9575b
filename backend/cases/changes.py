"""How the cases room tells others what happened, without importing them.

- `case_changed` (a signal, lib/signals): opened, escalated, resolved. Sent *inside* the transaction that
  made the change, so what a receiver writes (governance: the platform's outbox message, the district's
  notifications) commits or rolls back with it: nothing is lost and nothing is sent twice.
- `publish` (lib/live_events, channel `cases`): the live stream of staff and governance screens, after the
  change is committed. Best effort; the database stays the record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.cases.schemas import CaseChange, ChangeEvent
from backend.lib import live_events
from backend.lib.clock import CITY_TZ
from backend.lib.signals import Signal

CHANNEL = "cases"

case_changed: Signal[CaseChange] = Signal("case_changed")


def change_of(row: dict[str, Any], event: ChangeEvent, at: datetime) -> CaseChange:
    return CaseChange(
        event=event,
        case_id=str(row["public_id"]),
        kind=row["kind"],
        priority=row["priority"],
        status=row["status"],
        venue_slug=row["venue_slug"],
        district=row["district"],
        opened_at=row["created_at"].astimezone(CITY_TZ),
        ack_due_at=row["ack_due_at"].astimezone(CITY_TZ),
        resolve_due_at=row["resolve_due_at"].astimezone(CITY_TZ),
        at=at.astimezone(CITY_TZ),
        contact_masked=row["contact_phone_masked"],
        escalation_reason=row.get("escalation_reason"),
    )


def publish(event: str, row: dict[str, Any], **extra: Any) -> None:
    """One event on the staff and governance stream: what the case is and where, never its text or phone.
    An SOS (and its location updates) carries the visitor's location: that is what staff need to reach them."""
    data: dict[str, Any] = {
        "event": event,
        "id": str(row["public_id"]),
        "kind": row["kind"],
        "priority": row["priority"],
        "status": row["status"],
        "venue_slug": row["venue_slug"],
        "district": row["district"],
        "created_at": row["created_at"].astimezone(CITY_TZ).isoformat(),
        "ack_due_at": row["ack_due_at"].astimezone(CITY_TZ).isoformat(),
    }
    if row["kind"] == "sos" and row["lat"] is not None:
        data["location"] = {"lat": row["lat"], "lng": row["lng"], "accuracy_m": row["accuracy_m"]}
        if row["located_at"] is not None:
            data["located_at"] = row["located_at"].astimezone(CITY_TZ).isoformat()
    live_events.publish(CHANNEL, data | extra)


def tell_visitor(row: dict[str, Any], kind: str) -> None:
    """A live note on the visitor's own notification stream (GET /me/notifications/stream)."""
    live_events.publish("notifications", {"user_id": row["visitor_id"], "kind": kind, "case_id": str(row["public_id"])})
