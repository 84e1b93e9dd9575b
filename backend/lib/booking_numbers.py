"""Booking numbers people can read out and type: ten characters of Crockford's base 32 (no I, L, O or U, so
nothing reads as 1 or 0), grouped five and five (`7KQ2M-9PAXD`), taken from the booking's UUID (its first
50 bits), so nothing is stored and the number never changes. The UUID stays the booking's id in the API;
at 1 million bookings the chance that two share a number is about 1 in 2,000, and nothing is looked up by it.
"""

from __future__ import annotations

import uuid

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def booking_number(public_id: uuid.UUID | str) -> str:
    value = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    bits = value.int >> (128 - 50)
    chars = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(10)))
    return f"{chars[:5]}-{chars[5:]}"
