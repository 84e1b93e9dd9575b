from __future__ import annotations

from datetime import datetime

import msgspec

from backend.events.schemas import PublicationState


class TransitionIn(msgspec.Struct, forbid_unknown_fields=True):
    to: PublicationState
    publish_at: datetime | None = None  # with `to: scheduled` (or already set on the item)


class TransitionOut(msgspec.Struct):
    kind: str
    item_id: int
    from_state: str
    to_state: str
    user_id: int | None
    at: datetime


class AdminItems(msgspec.Struct):
    items: list[dict]
    total: int
