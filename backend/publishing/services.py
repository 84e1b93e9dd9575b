"""Publishing for marketers: one generic flow (create, edit, delete, move between the states of
backend/lib/publication.py, log every move) over a registry of publishable kinds.

A kind is a table with the publication columns plus how to turn bodies into columns and rows into
the admin shape. Tours and exhibitions join with one `register(...)` line each in their own room.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.columns import Column
from piccolo.table import Table

from backend.lib.auth import AuthUser
from backend.lib.clock import clock
from backend.lib.db import is_unique_violation, write_transaction
from backend.lib.problems import Conflict, Forbidden, InvalidInput, NotFound
from backend.lib.publication import STATES, can_move, columns_of
from backend.media.library import library
from backend.publishing.schemas import TransitionIn, TransitionOut
from backend.publishing.tables import Transition
from backend.venues.services import catalog

log = logging.getLogger("changxiang.publishing")


@dataclass(frozen=True)
class Publishable:
    """How the flow handles one kind: the table, the body types, body → columns, row → admin shape,
    and what to tell the public side when an item changes."""

    table: type[Table]
    create: type[msgspec.Struct]
    patch: type[msgspec.Struct]
    columns: Callable[[Any], Awaitable[dict[str, Any]]]
    patch_columns: Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]
    out: Callable[[dict[str, Any]], msgspec.Struct]
    changed: Callable[[], Awaitable[None]] | None = None
    # raises a problem when the row has nothing to show yet (a tour without stops): before it goes public
    ready: Callable[[dict[str, Any]], Awaitable[None]] | None = None


KINDS: dict[str, Publishable] = {}


def register(kind: str, spec: Publishable) -> None:
    KINDS[kind] = spec


async def _gallery_ids(data: msgspec.Struct) -> builtins.list[str] | None:
    """The body's `gallery`, checked against the photo library (400 `unknown_photo`); None without one."""
    ids = getattr(data, "gallery", None)
    return None if ids is None else await library.check_ids(ids)


def utc_now() -> datetime:
    return clock.now()


def _kind(kind: str) -> Publishable:
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFound("unknown_kind", f"nothing publishable called {kind!r} (one of: {', '.join(sorted(KINDS))})")
    return spec


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise InvalidInput("invalid_date", "publish_at needs a UTC offset", field="publish_at")
    return dt.astimezone(UTC)


class PublishingService:
    def __init__(self, second_reviewer: bool = False) -> None:
        self.second_reviewer = second_reviewer
        # told after any item of any kind changed (search's index: create_app connects it)
        self.listeners: list[Callable[[], Awaitable[None]]] = []

    async def _row(self, spec: Publishable, item_id: int) -> dict[str, Any]:
        row = await spec.table.select().where(columns_of(spec.table).id == item_id).first()
        if row is None:
            raise NotFound("item_not_found", f"no item {item_id}")
        return row

    async def _changed(self, spec: Publishable) -> None:
        if spec.changed is not None:
            await spec.changed()
        for listener in self.listeners:
            await listener()

    async def list(
        self, kind: str, status: str | None, limit: int, offset: int
    ) -> tuple[builtins.list[msgspec.Struct], int]:
        spec = _kind(kind)
        table, pub = spec.table, columns_of(spec.table)
        query = table.select()
        count = table.count()
        if status:
            if status not in STATES:
                raise InvalidInput("invalid_status", f"status is one of {', '.join(STATES)}", field="status")
            query = query.where(pub.status == status)
            count = count.where(pub.status == status)
        rows = await query.order_by(pub.updated_at, ascending=False).order_by(pub.id).limit(limit).offset(offset)
        return [spec.out(r) for r in rows], await count

    async def get(self, kind: str, item_id: int) -> msgspec.Struct:
        spec = _kind(kind)
        return spec.out(await self._row(spec, item_id))

    def decode(self, kind: str, body: bytes, patch: bool = False) -> msgspec.Struct:
        spec = _kind(kind)
        try:
            return msgspec.json.decode(body, type=spec.patch if patch else spec.create)
        except msgspec.ValidationError as exc:
            raise InvalidInput("validation_error", f"invalid input: {exc}") from None
        except msgspec.DecodeError:
            raise InvalidInput("bad_request", "the body is not JSON") from None

    async def create(self, kind: str, user: AuthUser, data: msgspec.Struct) -> msgspec.Struct:
        """A new item starts as a draft, whatever the body says."""
        spec = _kind(kind)
        gallery = await _gallery_ids(data)
        cols = await spec.columns(data)
        publish_at = getattr(data, "publish_at", None)
        table = spec.table
        try:
            rows = await table.insert(
                table(
                    **cols,
                    status="draft",
                    publish_at=_aware(publish_at) if publish_at else None,
                    created_by=user.id,
                    updated_at=utc_now(),
                )
            ).returning(columns_of(table).id)
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict("slug_taken", f"{cols.get('slug')!r} is taken") from None
            raise
        row = await self._row(spec, rows[0]["id"])
        if gallery is not None:
            await library.set_gallery(kind, row["slug"], gallery)
        return spec.out(row)

    async def update(self, kind: str, item_id: int, data: msgspec.Struct) -> msgspec.Struct:
        spec = _kind(kind)
        current = await self._row(spec, item_id)
        gallery = await _gallery_ids(data)
        cols = await spec.patch_columns(data, current)
        publish_at = getattr(data, "publish_at", None)
        if publish_at is not None:
            cols["publish_at"] = _aware(publish_at)
        if not cols and gallery is None:
            raise InvalidInput("empty_patch", "nothing to change")
        if gallery is not None:
            await library.set_gallery(kind, current["slug"], gallery)
        table, pub = spec.table, columns_of(spec.table)
        values: dict[Column | str, Any] = {getattr(table, k): v for k, v in cols.items()}
        values[pub.updated_at] = utc_now()
        await table.update(values).where(pub.id == item_id)
        await self._changed(spec)
        return spec.out(await self._row(spec, item_id))

    async def delete(self, kind: str, item_id: int) -> None:
        """Only drafts and archived items may go: what the public has seen is archived first."""
        spec = _kind(kind)
        table, pub = spec.table, columns_of(spec.table)
        row = await self._row(spec, item_id)
        deleted = (
            await table.delete().where((pub.id == item_id) & pub.status.is_in(["draft", "archived"])).returning(pub.id)
        )
        if not deleted:
            raise Conflict("not_deletable", f"a {row['status']} item can't be deleted: archive it first")
        if "slug" in row:
            await library.set_gallery(kind, row["slug"], [])  # its photos may be deleted from the library now
        await self._changed(spec)

    async def transition(self, kind: str, item_id: int, user: AuthUser, data: TransitionIn) -> msgspec.Struct:
        spec = _kind(kind)
        table, pub = spec.table, columns_of(spec.table)
        row = await self._row(spec, item_id)
        current, target = row["status"], data.to
        if not can_move(current, target):
            raise Conflict("illegal_transition", f"{current} → {target} is not a move the flow allows")
        now = utc_now()
        values: dict[Column | str, Any] = {pub.status: target, pub.updated_at: now}
        if target == "scheduled":
            publish_at = _aware(data.publish_at) if data.publish_at else row["publish_at"]
            if publish_at is None:
                raise InvalidInput("publish_at_required", "scheduling needs publish_at", field="publish_at")
            values[pub.publish_at] = publish_at
        if target == "published":
            values[pub.published_at] = row["published_at"] or now
        if target in ("scheduled", "published") and spec.ready is not None:
            await spec.ready(row)
        if self.second_reviewer and target in ("scheduled", "published") and current == "in_review":
            submitted = (
                await Transition.select(Transition.user_id)
                .where(
                    (Transition.kind == kind) & (Transition.item_id == item_id) & (Transition.to_state == "in_review")
                )
                .order_by(Transition.id, ascending=False)
                .first()
            )
            if submitted is not None and submitted["user_id"] == user.id and "admin" not in user.roles:
                raise Forbidden("second_reviewer_required", "another marketer must approve what you submitted")
        async with write_transaction():
            moved = await table.update(values).where((pub.id == item_id) & (pub.status == current)).returning(pub.id)
            if not moved:
                raise Conflict("state_changed", "the item changed state meanwhile; reload and retry")
            await Transition.insert(
                Transition(kind=kind, item_id=item_id, from_state=current, to_state=target, user_id=user.id, at=now)
            )
        await self._changed(spec)
        return spec.out(await self._row(spec, item_id))

    async def item_exists(self, kind: str, slug: str) -> bool:
        """Is there a venue (kind `venues`) or an item of a publishable kind with this slug? (The photo
        library asks before it sets a gallery.)"""
        if kind == "venues":
            return await catalog.record(slug) is not None
        spec = KINDS.get(kind)
        slug_column = getattr(spec.table, "slug", None) if spec is not None else None
        if spec is None or slug_column is None:
            return False
        return bool(await spec.table.exists().where(slug_column == slug))

    async def history(self, kind: str, item_id: int) -> builtins.list[TransitionOut]:
        spec = _kind(kind)
        await self._row(spec, item_id)
        rows = (
            await Transition.select()
            .where((Transition.kind == kind) & (Transition.item_id == item_id))
            .order_by(Transition.id)
        )
        return [
            TransitionOut(
                kind=r["kind"],
                item_id=r["item_id"],
                from_state=r["from_state"],
                to_state=r["to_state"],
                user_id=r["user_id"],
                at=r["at"],
            )
            for r in rows
        ]

    async def publish_due(self) -> int:
        """Scheduled items whose publish_at has come become published (the move is logged with no user).
        Each UPDATE is conditional, so replicas sweeping at once move each item once."""
        now = utc_now()
        moved_total = 0
        for kind, spec in KINDS.items():
            table, pub = spec.table, columns_of(spec.table)
            due = await table.select(pub.id, pub.publish_at).where(
                (pub.status == "scheduled") & (pub.publish_at <= now)
            )
            for row in due:
                async with write_transaction():
                    moved = (
                        await table.update(
                            {pub.status: "published", pub.published_at: row["publish_at"], pub.updated_at: now}
                        )
                        .where((pub.id == row["id"]) & (pub.status == "scheduled"))
                        .returning(pub.id)
                    )
                    if moved:
                        await Transition.insert(
                            Transition(
                                kind=kind, item_id=row["id"], from_state="scheduled", to_state="published", at=now
                            )
                        )
                moved_total += len(moved)
            if due:
                await self._changed(spec)
        return moved_total


publishing = PublishingService()


def _register_builtin() -> None:
    from backend.events import articles as ar
    from backend.events import editing as ed
    from backend.events.schemas import ArticleIn, ArticlePatch, EventIn, EventPatch
    from backend.events.services import events
    from backend.events.tables import Article, Event

    register(
        "events",
        Publishable(
            Event, EventIn, EventPatch, ed.event_columns, ed.event_patch_columns, ed.event_admin_out, events.changed
        ),
    )
    register(
        "articles",
        Publishable(
            Article, ArticleIn, ArticlePatch, ar.article_columns, ar.article_patch_columns, ar.article_admin_out
        ),
    )

    from backend.exhibitions.tables import Exhibition
    from backend.publishing import guides
    from backend.tours.tables import Tour

    register(
        "tours",
        Publishable(
            Tour,
            guides.TourIn,
            guides.TourPatch,
            guides.tour_columns,
            guides.tour_patch_columns,
            guides.tour_admin_out,
            ready=guides.tour_ready,
        ),
    )
    register(
        "exhibitions",
        Publishable(
            Exhibition,
            guides.ExhibitionIn,
            guides.ExhibitionPatch,
            guides.exhibition_columns,
            guides.exhibition_patch_columns,
            guides.exhibition_admin_out,
            ready=guides.exhibition_ready,
        ),
    )

    from backend.vouchers import campaigns as vc
    from backend.vouchers.schemas import CampaignIn, CampaignPatch
    from backend.vouchers.tables import Campaign

    register(
        "campaigns",
        Publishable(
            Campaign,
            CampaignIn,
            CampaignPatch,
            vc.campaign_columns,
            vc.campaign_patch_columns,
            vc.campaign_admin_out,
            vc.campaigns_changed,
        ),
    )

    from backend.publishing import featured as fe
    from backend.publishing.tables import FeaturedList

    register(
        "featured",
        Publishable(
            FeaturedList,
            fe.FeaturedIn,
            fe.FeaturedPatch,
            fe.featured_columns,
            fe.featured_patch_columns,
            fe.featured_admin_out,
        ),
    )


_register_builtin()
