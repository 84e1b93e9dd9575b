"""The day planner's pure parts: travel legs, step-free reading of accessibility text, and the search's
guarantees over many random problems (hypothesis): every item inside its windows (open) and slots, at an
event's real time, inside the day, legs kept, no overlaps; calm slots preferred; rests and lunch."""

from __future__ import annotations

import math

from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.lib.geo import Point
from backend.plans.access import wheelchair_access
from backend.plans.search import Candidate, Problem, SlotOption, compose
from backend.plans.travel import DRIVE_DETOUR, TAXI_OVERHEAD_MIN, WALK_DETOUR, WALK_MAX_M, TravelModel

CENTRE = Point(31.7797, 119.9554)


# ---------------------------------------------------------------- travel


def test_walks_under_the_distance_and_rides_beyond_by_the_documented_speeds():
    model = TravelModel()
    near = Point(31.7830, 119.9600)
    metres = geodesic((CENTRE.lat, CENTRE.lng), (near.lat, near.lng)).meters  # geopy's number
    assert metres < WALK_MAX_M
    leg = model.leg(CENTRE, near)
    assert leg.mode == "walk"
    assert leg.distance_m == round(metres * WALK_DETOUR)
    assert leg.minutes == math.ceil(metres * WALK_DETOUR / (4.5 * 1000 / 60))
    far = Point(31.8106, 119.9656)  # the museum, ~3.5 km
    ride = model.leg(CENTRE, far)
    km = geodesic((CENTRE.lat, CENTRE.lng), (far.lat, far.lng)).km * DRIVE_DETOUR
    assert ride.mode == "taxi" and ride.minutes == math.ceil(km / 25 * 60) + TAXI_OVERHEAD_MIN
    assert model.leg(CENTRE, CENTRE).minutes == 0


def test_children_and_seniors_walk_less_far_and_slower():
    gentle, usual = TravelModel.for_party(children=1, seniors=0), TravelModel()
    assert gentle.leg_for(1000).mode == "taxi" and usual.leg_for(1000).mode == "walk"
    assert gentle.leg_for(700).minutes > usual.leg_for(700).minutes


# ---------------------------------------------------------------- accessibility


def test_accessibility_text_reads_as_osm_wheelchair_values():
    assert wheelchair_access("Step-free entrance and lifts; wheelchairs on loan") == "yes"
    assert wheelchair_access("Climbing requires steep timber stairs and there is no lift") == "no"
    assert wheelchair_access("Stone-paved streets and stepped bridges; difficult for wheelchairs") == "no"
    assert wheelchair_access("Level path along the foot of the wall; steps to the top") == "limited"
    assert wheelchair_access("", "") == "unknown"
    assert wheelchair_access("", "入口设坡道，馆内有电梯") == "yes"
    assert wheelchair_access("", "门槛较高，楼梯较陡") == "no"


# ---------------------------------------------------------------- the search


def _venue(slug: str, lat: float, lng: float, windows, dwell=60, value=1.0, slots=None, category="museum", **kw):
    point = Point(lat, lng)
    return Candidate(
        kind="venue",
        slug=slug,
        place=slug,
        category=category,
        entry=point,
        exit=point,
        windows=tuple(windows),
        dwell=dwell,
        min_dwell=max(30, int(dwell * 0.6)),
        value=value,
        slots=slots,
        **kw,
    )


def test_prefers_the_calm_slot_it_can_wait_for():
    slots = (
        SlotOption(1, 540, 600, "crowded"),  # 09:00, crowded
        SlotOption(2, 570, 630, "comfortable"),  # 09:30, calm: within the wait allowed
    )
    museum = _venue("museum", 31.7800, 119.9560, [(540, 1020)], dwell=90, value=3.0, slots=slots)
    out = compose(Problem(start=CENTRE, t0=540, t1=720, candidates=(museum,)))
    assert [(s.slot_id, s.start) for s in out.items] == [(2, 570)]


def test_an_event_is_planned_at_its_real_time_or_not_at_all():
    point = Point(31.7790, 119.9560)
    show = Candidate(
        kind="event",
        slug="show",
        place="event:show",
        category="performance",
        entry=point,
        exit=point,
        windows=((840, 930),),
        dwell=90,
        min_dwell=90,
        value=5.0,
        fixed_starts=(840,),
    )
    out = compose(Problem(start=CENTRE, t0=780, t1=1020, candidates=(show,)))
    assert [(s.start, s.end) for s in out.items] == [(840, 930)]
    late = compose(Problem(start=CENTRE, t0=845, t1=1020, candidates=(show,)))
    assert late.items == []


def test_rests_come_when_due_and_lunch_before_an_item_that_ends_after_two():
    places = [_venue(f"v{i}", 31.7790 + i * 0.001, 119.9560, [(480, 1080)], dwell=60, value=2.0) for i in range(8)]
    out = compose(
        Problem(start=CENTRE, t0=540, t1=1020, candidates=tuple(places), break_every=90, lunch=(705, 840), lunch_len=60)
    )
    kinds = [s.break_kind or "visit" for s in out.items]
    assert "lunch" in kinds and "rest" in kinds
    since = 0
    lunch_at = next(s for s in out.items if s.break_kind == "lunch")
    for s in out.items:
        if s.candidate is None:
            since = 0
            continue
        since += s.leg.minutes + (s.end - s.start)
        assert since <= 90 + 30 + 60  # a visit may run past the due rest by at most its own length
        if s.start < lunch_at.start:
            assert s.end <= 840


def _check(problem: Problem, items) -> None:
    t, where = problem.t0, problem.start
    for s in items:
        assert problem.t0 <= s.start and s.end <= problem.t1
        if s.candidate is None:
            assert s.start >= t
            t = s.end
            continue
        c = problem.candidates[s.candidate]
        leg = problem.travel.leg(where, c.entry)
        assert leg == s.leg
        assert s.start >= t + s.leg.minutes, "the leg fits between the items"
        assert any(a <= s.start and s.end <= b for a, b in c.windows), "open the whole visit"
        if c.fixed_starts:
            assert s.start in c.fixed_starts and s.end - s.start == c.dwell
        if c.slots is not None:
            slot = next(x for x in c.slots if x.slot_id == s.slot_id)
            assert slot.start <= s.start < slot.end
        assert s.end - s.start >= c.min_dwell
        t, where = s.end, c.exit
    places = [problem.candidates[s.candidate].place for s in items if s.candidate is not None]
    assert len(places) == len(set(places))


@st.composite
def problems(draw) -> Problem:
    n = draw(st.integers(1, 14))
    candidates = []
    for i in range(n):
        lat = draw(st.floats(31.70, 31.85))
        lng = draw(st.floats(119.88, 120.05))
        opens = draw(st.integers(0, 20)) * 30
        closes = min(1440, opens + draw(st.integers(1, 28)) * 30)
        windows = [(opens, closes)]
        dwell = draw(st.sampled_from([30, 45, 60, 90, 120, 180]))
        kind = draw(st.sampled_from(["plain", "slots", "event"]))
        point = Point(lat, lng)
        if kind == "event":
            start = draw(st.integers(12, 40)) * 30
            candidates.append(
                Candidate(
                    kind="event",
                    slug=f"e{i}",
                    place=f"event:e{i}",
                    category="performance",
                    entry=point,
                    exit=point,
                    windows=((start, start + dwell),),
                    dwell=dwell,
                    min_dwell=dwell,
                    value=draw(st.floats(0.5, 5)),
                    fixed_starts=(start,),
                )
            )
            continue
        slots = None
        if kind == "slots":
            slots = tuple(
                SlotOption(100 * i + j, t, t + 60, draw(st.sampled_from([None, "comfortable", "crowded", "full"])))
                for j, t in enumerate(range(opens, closes - 59, 60))
            )
        category = draw(st.sampled_from(["museum", "park", "heritage_site"]))
        candidates.append(
            _venue(
                f"v{i}", lat, lng, windows, dwell=dwell, value=draw(st.floats(0.5, 5)), slots=slots, category=category
            )
        )
    t0 = draw(st.integers(10, 40)) * 30
    t1 = min(1439, t0 + draw(st.integers(2, 28)) * 30)
    gentle = draw(st.booleans())
    return Problem(
        start=Point(draw(st.floats(31.70, 31.85)), draw(st.floats(119.88, 120.05))),
        t0=t0,
        t1=t1,
        candidates=tuple(candidates),
        travel=TravelModel.for_party(int(gentle), 0),
        break_every=90 if gentle else 180,
        lunch=(705, 840) if t0 <= 690 and t1 >= 840 else None,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_plan_the_search_answers_is_feasible(problem):
    out = compose(problem)
    _check(problem, out.items)
    assert all(s.comfort != "full" for s in out.items)
