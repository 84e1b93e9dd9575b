"""The visitors each booking names, as the pass and the gate show them (issue 18): masked names, ticket
types, seats, and the card staff must see for a concession. Nothing here is personal beyond the masks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from backend.lib.db import fetch
from backend.passes.schemas import EntitledVisitor


async def visitors_of(public_ids: Iterable[Any]) -> dict[str, list[EntitledVisitor]]:
    """Each booking's visitors in booking order, by the booking's public id (as a string)."""
    keys = [str(p) for p in public_ids]
    if not keys:
        return {}
    rows = await fetch(
        "SELECT r.public_id AS public_id, v.name_masked AS name, v.ticket_type AS ticket_type, "
        "v.seat_label AS seat, v.check_at_gate AS check_at_gate FROM reservation_visitors v "
        "JOIN reservations r ON r.id = v.reservation WHERE r.public_id IN ("
        + ", ".join(["{}"] * len(keys))
        + ") ORDER BY v.reservation, v.position",
        *[uuid.UUID(k) for k in keys],
    )
    out: dict[str, list[EntitledVisitor]] = {}
    for row in rows:
        out.setdefault(str(row["public_id"]), []).append(
            EntitledVisitor(
                name=row["name"], ticket_type=row["ticket_type"], seat=row["seat"], check_at_gate=row["check_at_gate"]
            )
        )
    return out
