"""Gate counts: the people each venue's gates (and its manual window) let in and out, per counting
window (from the venue's last closing time when it has closed today: the daily reset). A scan adds to its
venue's count in the same atomic write as its redemption (`GateMovement`); occupancy reads them here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opening_hours import State

from backend.lib.clock import CITY_TZ
from backend.lib.db import Statement, fetch
from backend.occupancy.tables import GateCount
from backend.venues.services import VenueRecord


def window_start(record: VenueRecord, now_local: datetime) -> datetime:
    """Where today's count starts: local midnight, or the venue's last closing time today (the reset)."""
    midnight = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
    naive_now = now_local.replace(tzinfo=None)
    start = midnight.astimezone(UTC)
    for closed in _closings(record, midnight.replace(tzinfo=None)):
        if closed >= naive_now:
            break
        start = closed.replace(tzinfo=CITY_TZ).astimezone(UTC)
    return start


# (opening hours, local midnight) → that day's closing times, in order: every scan asks for its counting
# window, and walking the opening hours' intervals cost more than the rest of its count (issue 22)
_day_closings: dict[tuple[int, datetime], tuple[Any, tuple[datetime, ...]]] = {}


def _closings(record: VenueRecord, midnight: datetime) -> tuple[datetime, ...]:
    """The ends of the venue's open intervals on the day starting at (naive, local) `midnight`."""
    key = (id(record.hours), midnight)
    found = _day_closings.get(key)
    if found is not None and found[0] is record.hours:
        return found[1]
    if len(_day_closings) > 4096:
        _day_closings.clear()
    ends = tuple(
        b for _a, b, state, _ in record.hours.intervals(midnight, midnight + timedelta(days=1)) if state == State.OPEN
    )
    _day_closings[key] = (record.hours, ends)
    return ends


_COUNT = (
    "INSERT INTO gate_counts (count_key, venue_slug, local_date, window_start, entries, exits) "
    "SELECT {}, {}, {}, {}, {}, {} WHERE {when} ON CONFLICT (count_key) DO UPDATE SET "
    "entries = gate_counts.entries + excluded.entries, exits = gate_counts.exits + excluded.exits"
)


def gate_count_sql(when: str) -> str:
    """The statement that adds people to a venue's gate count (six `{}` placeholders, the values of
    `gate_count_values`), only when the SQL condition `when` holds: a caller puts it in the same atomic
    write as the movement it counts (a scan's redemption)."""
    return _COUNT.replace("{when}", when)


def gate_count_values(
    record: VenueRecord, at: datetime, direction: str, people: int
) -> tuple[str, str, str, datetime, int, int]:
    """count_key, venue, local date, window start, entries, exits for people moving at `at`."""
    local = at.astimezone(CITY_TZ)
    start = window_start(record, local)
    slug = record.row["slug"]
    entries, exits = (people, 0) if direction == "in" else (0, people)
    return f"{slug}|{start.isoformat()}", slug, local.date().isoformat(), start, entries, exits


@dataclass(frozen=True, slots=True)
class GateMovement:
    """What a gate writes when people pass, handed to `OccupancyService.move` as statements: `act`, an
    UPDATE that changes one row when they may pass and none when they may not (a redemption), ending
    with its WHERE clause (occupancy adds its capacity condition there), and `record`, an INSERT of the
    gate's log line (`record_args` fill its `{}`s) that says `{moved}` where the SQL truth "act changed a
    row" belongs, `{full}` where "occupancy refused entry at capacity" belongs (after every `{}`), and
    returns a `moved` column with the first truth."""

    act: Statement
    record: str
    record_args: tuple[Any, ...]

    def __post_init__(self) -> None:
        if "{full}" not in self.record or self.record.rfind("{}") > self.record.index("{full}"):
            raise ValueError("a gate movement's record says {full} after all its {}s")


MOVED_IN_CTE = "EXISTS (SELECT 1 FROM acted)"  # PostgreSQL: one statement, the act a data-modifying CTE
MOVED_JUST_BEFORE = "changes() > 0"  # SQLite: the previous statement of the same write changed a row


async def add_to_gate_count(record: VenueRecord, at: datetime, direction: str, people: int) -> None:
    """Count people who moved without a scan (the manual window), inside the caller's transaction."""
    await GateCount.raw(gate_count_sql("TRUE"), *gate_count_values(record, at, direction, people))


_COUNTS = "SELECT venue_slug, window_start, entries, exits FROM gate_counts WHERE local_date = {}"


async def gate_counts(slugs: list[str] | None, day: str) -> dict[str, list[dict[str, Any]]]:
    """venue → today's counting windows (entries and exits by the gates and the manual window). Every
    scan reads its venue's here: a statement written once (lib.db.fetch), not built by Piccolo per call."""
    if slugs is None:
        rows = await fetch(_COUNTS, day)
    elif not slugs:
        return {}
    else:
        rows = await fetch(_COUNTS + " AND venue_slug IN (" + ", ".join(["{}"] * len(slugs)) + ")", day, *slugs)
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["venue_slug"], []).append(row)
    return out
