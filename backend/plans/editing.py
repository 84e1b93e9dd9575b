"""Editing a composed day (issue 20, 2: "swap or drop an item").

- **Drop** (`POST /plans/{id}/drop {index}`): the same day without one visit, as a new plan (plans are
  immutable: a link someone shared keeps meaning what it said). Every other item keeps its time; the next
  visit's travel leg is worked out again from the previous stop (its entrance: a tour's end point is not
  kept in the plan) or the start point, with the party's travel model; if that leg would not fit before the
  next visit's time (it always does with geodesic legs, the direct way being no longer than the way round),
  the drop is refused (409 `plan_edit_infeasible`) rather than a plan that can't be walked. A break whose
  reason named the dropped place says a plain reason instead.
- **Swap** is a new plan from the same request with the item left out (`PlanRequest.exclude`, the items'
  `kind:slug` keys): the search (docs/plans.md) fills the time with the best candidate left, and may move
  the rest to keep the day feasible.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec

from backend.lib.geo import Point
from backend.lib.i18n import Lang
from backend.lib.problems import Conflict, InvalidInput
from backend.plans.schemas import PlanItem, PlanOut, Travel
from backend.plans.travel import TravelModel

PLAIN_BREAK = {"zh": "歇一歇：用餐或休息", "en": "A break: eat or rest"}


def item_key(item: PlanItem) -> str:
    """`kind:slug`, what `PlanRequest.exclude` names."""
    return f"{item.kind}:{item.slug}"


def without(plans: dict[Lang, PlanOut], index: int) -> dict[Lang, PlanOut]:
    """Both languages' plan without item `index` (a visit, not a break)."""
    first = next(iter(plans.values()))
    if not 0 <= index < len(first.items) or first.items[index].kind == "break":
        raise InvalidInput("invalid_item", "index names no visit of this plan", field="index")
    travel = TravelModel.for_party(first.party.children, first.party.seniors)
    return {lang: _without(plan, index, travel, lang) for lang, plan in plans.items()}


def _without(plan: PlanOut, index: int, travel: TravelModel, lang: Lang) -> PlanOut:
    dropped = plan.items[index]
    items = plan.items[:index] + plan.items[index + 1 :]
    if not any(item.kind != "break" for item in items):
        raise Conflict("plan_edit_infeasible", "a plan keeps at least one visit: make a new plan instead")
    where: Point = plan.start
    for item in plan.items[:index]:  # where the party is when the dropped visit would have begun
        if item.kind != "break" and item.location is not None:
            where = item.location
    # the breaks between the previous visit and the next one, and the next visit
    nxt = next((n for n in range(index, len(items)) if items[n].kind != "break"), None)
    breaks = list(range(index, nxt if nxt is not None else len(items)))
    for n in breaks:
        why = PLAIN_BREAK[lang] if dropped.title and dropped.title in items[n].why else items[n].why
        items[n] = msgspec.structs.replace(items[n], location=where, why=why)
    target = items[nxt].location if nxt is not None else None
    if nxt is not None and target is not None:
        leg = travel.leg(where, target)
        moved = Travel(mode=leg.mode, minutes=leg.minutes, distance_m=leg.distance_m)
        before = items[index - 1].ends_at if index > 0 else None
        ready = items[nxt - 1].ends_at if nxt > 0 and nxt - 1 >= index else before
        if ready is None or ready + timedelta(minutes=leg.minutes) <= items[nxt].starts_at:
            items[nxt] = msgspec.structs.replace(items[nxt], travel=moved)  # the breaks where they were, then go
        elif breaks and (before is None or before + timedelta(minutes=leg.minutes) <= items[breaks[0]].starts_at):
            # go first, then take the breaks near the next visit
            for n in breaks:
                items[n] = msgspec.structs.replace(items[n], location=target)
            items[breaks[0]] = msgspec.structs.replace(items[breaks[0]], travel=moved)
            items[nxt] = msgspec.structs.replace(items[nxt], travel=Travel(mode="walk", minutes=0, distance_m=0))
        else:
            raise Conflict("plan_edit_infeasible", "without that visit the next one can't be reached in time")
    return msgspec.structs.replace(plan, items=items)
