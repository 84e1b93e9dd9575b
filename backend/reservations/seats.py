"""The seats of a slot, the public seats API other rooms use (governance's tour groups and directives;
with `ReservationService.close_slot` and `ReservationService.book_group`).

Seats move only in conditional UPDATEs, so two requests can't both take the last one: `booked` counts
the seats held by confirmed and pending-payment bookings and never passes `capacity`.
"""

from __future__ import annotations

from typing import Any

from backend.lib.db import fetch
from backend.reservations.tables import Slot


async def take(slot_id: int, n: int) -> dict[str, Any] | None:
    """Hold `n` seats if they are free: one conditional UPDATE, so two requests can't both take the last.
    Returns the slot's new `booked` and `capacity`, or None when the seats weren't there."""
    rows = await fetch(
        "UPDATE slots SET booked = booked + {} WHERE id = {} AND status = 'open' AND booked + {} <= capacity "
        "RETURNING booked, capacity",
        n,
        slot_id,
        n,
    )
    return rows[0] if rows else None


async def release(slot_id: int, n: int) -> None:
    """Give `n` held seats back."""
    await Slot.raw("UPDATE slots SET booked = booked - {} WHERE id = {} AND booked >= {}", n, slot_id, n)


async def limit_to(slot_id: int, capacity: int) -> None:
    """The slot offers `capacity` seats from now on, never fewer than it has booked (what is booked stays
    booked)."""
    await Slot.raw(
        "UPDATE slots SET capacity = CASE WHEN booked > {} THEN booked ELSE {} END WHERE id = {}",
        capacity,
        capacity,
        slot_id,
    )


async def reopen(slot_id: int) -> None:
    """Sell the slot again (after a closure)."""
    await Slot.update({Slot.status: "open"}).where(Slot.id == slot_id)
