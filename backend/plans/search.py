"""The planner's search: a beam search over partial days (docs/plans.md, "The search").

Pure computation on plain values, no database and no clock: `compose(problem)` is run in a worker thread
(`lib.offload.cpu`) by the service, which gathers the candidates first. Times are whole minutes from the
plan day's local midnight.

A state is a day begun: where the party is, when, what it has done. Expanding a state places one more
item after it — a candidate (venue, event, tour) at the first time it can start there (the party walks or
rides there, waits at most `max_wait`, and the whole visit lies inside one of the candidate's windows, in
a free slot when it needs one, at an event's real start), or a break. Every placement is checked against
every constraint when it is made, so every state of the beam is a feasible day; the search keeps the
`beam_width` best states per depth (one per set of places visited and position), and answers the best
state it has seen. Work is bounded by `max_depth`, `max_expansions` and a wall-time budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from backend.lib.geo import Point
from backend.plans.travel import Leg, TravelModel

Kind = Literal["venue", "event", "tour"]
BreakKind = Literal["rest", "lunch"]

COMFORT_BONUS: dict[str, float] = {
    "comfortable": 0.4,
    "fairly_comfortable": 0.25,
    "normal": 0.0,
    "fairly_crowded": -0.5,
    "crowded": -1.2,
}
COMFORT_RANK = {"comfortable": 0, "fairly_comfortable": 1, "normal": 2, "fairly_crowded": 3, "crowded": 4}
TRAVEL_COST_PER_MIN = 0.03
WAIT_COST_PER_MIN = 0.02
TAXI_COST = 0.4
REPEAT_CATEGORY_COST = 0.8
REST_COST = 0.05


@dataclass(frozen=True, slots=True)
class SlotOption:
    """A timed-entry slot with places for the whole party: entry from `start` until `end`."""

    slot_id: int
    start: int
    end: int
    comfort: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: Kind
    slug: str
    place: str  # one visit per place: a venue, and the tours and events held in it, share one
    category: str
    entry: Point
    exit: Point
    windows: tuple[tuple[int, int], ...]  # the whole visit lies inside one of these (open, running)
    dwell: int  # minutes the visit is planned for
    min_dwell: int  # the shortest visit worth planning (== dwell for an event with a fixed length)
    value: float
    fixed_starts: tuple[int, ...] = ()  # an event's real start times; empty: any time inside a window
    slots: tuple[SlotOption, ...] | None = None  # booking required: entry within one of these
    comfort: tuple[tuple[int, int, str], ...] = ()  # known comfort levels by time (live, forecast)

    def comfort_at(self, minute: int) -> str | None:
        for a, b, level in self.comfort:
            if a <= minute < b:
                return level
        return None


@dataclass(frozen=True, slots=True)
class Problem:
    start: Point
    t0: int  # the day starts here (minutes from local midnight)
    t1: int  # and every item ends by here
    candidates: tuple[Candidate, ...]
    travel: TravelModel = field(default_factory=TravelModel)
    break_every: int = 180  # minutes of visits and travel before a rest is due
    rest_len: int = 15
    lunch: tuple[int, int] | None = None  # lunch is taken from [0] and before any item ends past [1]
    lunch_len: int = 45
    max_wait: int = 45
    granularity: int = 5  # items start on 5-minute marks
    beam_width: int = 16
    branching: int = 10
    max_depth: int = 14
    max_expansions: int = 60_000
    budget_s: float = 1.5


@dataclass(frozen=True, slots=True)
class Placed:
    candidate: int | None  # index into Problem.candidates; None for a break
    break_kind: BreakKind | None
    start: int
    end: int
    leg: Leg
    slot_id: int | None = None
    comfort: str | None = None


@dataclass(slots=True)
class _State:
    score: float
    t: int
    node: int  # 0: the start; k + 1: the exit of candidate k
    used: frozenset[str]
    categories: frozenset[str]
    since_break: int
    lunched: bool
    step: Placed | None
    parent: _State | None

    def chain(self) -> list[Placed]:
        out: list[Placed] = []
        s: _State | None = self
        while s is not None and s.step is not None:
            out.append(s.step)
            s = s.parent
        out.reverse()
        return out


@dataclass(frozen=True, slots=True)
class Outcome:
    items: list[Placed]
    score: float
    expansions: int
    exhausted: bool  # stopped by a bound (size or time), not by running out of options


class _Legs:
    """Legs from the start and every candidate's exit to every candidate's entry, computed once each."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self._cache: dict[tuple[int, int], Leg] = {}

    def to(self, node: int, k: int) -> Leg:
        key = (node, k)
        leg = self._cache.get(key)
        if leg is None:
            c = self.problem.candidates
            origin = self.problem.start if node == 0 else c[node - 1].exit
            leg = self._cache[key] = self.problem.travel.leg(origin, c[k].entry)
        return leg


def _windows_at(c: Candidate, start: int) -> tuple[int, int] | None:
    for a, b in c.windows:
        if a <= start < b:
            return a, b
    return None


def _placements(p: Problem, s: _State, k: int, leg: Leg) -> Iterator[tuple[int, int, int | None, str | None]]:
    """(start, end, slot_id, comfort) for candidate k after state s: the earliest start, and for a booked
    place also the calmest slot within the wait allowed."""
    c = p.candidates[k]
    arrive = -(-(s.t + leg.minutes) // p.granularity) * p.granularity  # on the next 5-minute mark
    if c.fixed_starts:
        for fs in c.fixed_starts:
            if fs < arrive:
                continue
            if fs - arrive > max(p.max_wait, 60):
                break
            end = fs + c.dwell
            w = _windows_at(c, fs)
            if w is not None and end <= min(w[1], p.t1):
                yield fs, end, None, c.comfort_at(fs)
            break
        return
    if c.slots is not None:
        found: list[tuple[int, int, int | None, str | None]] = []
        for slot in c.slots:
            if slot.end <= arrive:
                continue
            start = max(arrive, slot.start)
            if start - arrive > p.max_wait:
                break
            w = _windows_at(c, start)
            if w is None:
                continue
            end = min(start + c.dwell, w[1], p.t1)
            if end - start >= c.min_dwell:
                found.append((start, end, slot.slot_id, slot.comfort or c.comfort_at(start)))
        if found:
            yield found[0]
            calmest = min(found, key=lambda f: (COMFORT_RANK.get(f[3] or "normal", 2), f[0]))
            if calmest is not found[0]:
                yield calmest
        return
    for a, b in c.windows:
        if b <= arrive:
            continue
        start = max(arrive, a)
        if start - arrive > p.max_wait:
            return
        end = min(start + c.dwell, b, p.t1)
        if end - start >= c.min_dwell:
            yield start, end, None, c.comfort_at(start)
            return


def _children(p: Problem, legs: _Legs, s: _State) -> list[_State]:
    last_was_break = s.step is not None and s.step.candidate is None
    out: list[_State] = []
    lunch_due = p.lunch is not None and not s.lunched and s.t >= p.lunch[0]
    if lunch_due:
        if s.t + p.lunch_len <= p.t1:
            step = Placed(None, "lunch", s.t, s.t + p.lunch_len, Leg("walk", 0, 0))
            out.append(_State(s.score, step.end, s.node, s.used, s.categories, 0, True, step, s))
        return out
    if not last_was_break and s.since_break >= 30 and s.t + p.rest_len <= p.t1:
        step = Placed(None, "rest", s.t, s.t + p.rest_len, Leg("walk", 0, 0))
        rest = _State(s.score - REST_COST, step.end, s.node, s.used, s.categories, 0, s.lunched, step, s)
        if s.since_break >= p.break_every:
            return [rest]  # a rest is due: nothing else may come first
        out.append(rest)
    options: list[_State] = []
    for k, c in enumerate(p.candidates):
        if c.place in s.used:
            continue
        leg = legs.to(s.node, k)
        if s.t + leg.minutes + c.min_dwell > p.t1:
            continue
        for start, end, slot_id, comfort in _placements(p, s, k, leg):
            if comfort == "full":
                continue
            if p.lunch is not None and not s.lunched and end > p.lunch[1]:
                continue  # lunch would come too late: it comes before an item that ends past lunch[1]
            active = s.since_break + leg.minutes + (end - start)
            if s.since_break > 0 and active > p.break_every + 30:
                continue  # rest first
            share = (end - start) / c.dwell if c.dwell else 1.0
            gain = c.value * (0.6 + 0.4 * min(1.0, share))
            gain += COMFORT_BONUS.get(comfort or "normal", 0.0)
            gain -= TRAVEL_COST_PER_MIN * leg.minutes + WAIT_COST_PER_MIN * (start - s.t - leg.minutes)
            if leg.mode == "taxi":
                gain -= TAXI_COST
            if c.category in s.categories:
                gain -= REPEAT_CATEGORY_COST
            step = Placed(k, None, start, end, leg, slot_id, comfort)
            options.append(
                _State(
                    s.score + gain,
                    end,
                    k + 1,
                    s.used | {c.place},
                    s.categories | {c.category},
                    active,
                    s.lunched,
                    step,
                    s,
                )
            )
    options.sort(key=lambda x: (-x.score, x.t))
    out.extend(options[: p.branching])
    return out


def _signature(s: _State) -> tuple[frozenset[str], int, bool]:
    return s.used, s.node, s.lunched


def compose(p: Problem) -> Outcome:
    """The best day the beam finds (every item feasible when placed; see the module's docstring)."""
    deadline = time.monotonic() + p.budget_s
    legs = _Legs(p)
    root = _State(0.0, p.t0, 0, frozenset(), frozenset(), 0, False, None, None)
    best, frontier, expansions, exhausted = root, [root], 0, False
    for _depth in range(p.max_depth):
        kept: dict[tuple[frozenset[str], int, bool], _State] = {}
        for s in frontier:
            for child in _children(p, legs, s):
                expansions += 1
                key = _signature(child)
                seen = kept.get(key)
                if seen is None or (child.score, -child.t) > (seen.score, -seen.t):
                    kept[key] = child
            if expansions >= p.max_expansions or time.monotonic() > deadline:
                exhausted = True
                break
        if not kept:
            break
        frontier = sorted(kept.values(), key=lambda x: (-x.score, x.t, x.node))[: p.beam_width]
        if frontier[0].score > best.score:
            best = frontier[0]
        if exhausted:
            break
    items = best.chain()
    while items and items[-1].candidate is None:  # a break at the end of the day is no use
        items.pop()
    return Outcome(items=items, score=best.score, expansions=expansions, exhausted=exhausted)
