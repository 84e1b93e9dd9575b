"""The publishing states every marketer-managed item shares (events, articles, tours, exhibitions).

`draft → in_review → scheduled|published → archived` (API.md, Publishing). Each publishable table
carries the same columns (see `publication_columns`' docstring); public endpoints filter with
`visible_now(Table, now)` so that a `scheduled` item whose `publish_at` has passed is public at once,
even before the sweeper has flipped its state to `published`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from piccolo.columns import Column
from piccolo.columns.combination import Or
from piccolo.table import Table

STATES = ("draft", "in_review", "scheduled", "published", "archived")

# from -> the states a marketer may move an item to
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"in_review", "archived"}),
    "in_review": frozenset({"draft", "scheduled", "published", "archived"}),
    "scheduled": frozenset({"draft", "published", "archived"}),
    "published": frozenset({"draft", "archived"}),
    "archived": frozenset({"draft"}),
}


def publication_columns() -> None:
    """Documentation only: the columns every publishable Piccolo table declares, spelled the same way.

    status = Varchar(length=16, default="draft", index=True)
    publish_at = Timestamptz(null=True, default=None)       # when a scheduled item goes public
    published_at = Timestamptz(null=True, default=None)     # when it first went public
    created_by = Integer(null=True, default=None)           # users.id of the author
    updated_at = Timestamptz(default=TimestamptzNow())
    """


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
class PublicationColumns:
    """The columns of `publication_columns` on one table, typed as columns: Piccolo declares them per
    table, so code that handles any publishable table (`type[Table]`) reaches them through this."""

    id: Column
    status: Column
    publish_at: Column
    published_at: Column
    updated_at: Column


@cache
def columns_of(table: type[Table]) -> PublicationColumns:
    column = table._meta.get_column_by_name
    return PublicationColumns(
        id=table._meta.primary_key,
        status=column("status"),
        publish_at=column("publish_at"),
        published_at=column("published_at"),
        updated_at=column("updated_at"),
    )


def visible_now(table: type[Table], now: datetime) -> Or:
    """Where clause: published, or scheduled and due."""
    cols = columns_of(table)
    return (cols.status == "published") | ((cols.status == "scheduled") & (cols.publish_at <= now))
