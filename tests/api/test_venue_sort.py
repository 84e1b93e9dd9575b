"""`GET /venues?sort=distance|popular|calm` (issue 20): nearest first; most visitors through the gates
over the last four weeks first; calmest now first (live comfort levels). Closed venues come last in
`popular` and `calm`. The tests live on a day of their own, weeks ahead, so their walk-ins meet no
other test's counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backend.lib.clock import CITY_TZ, clock
from backend.occupancy import popularity

pytestmark = pytest.mark.anyio

CENTRE = "31.7795,119.9555"
LEVELS = ["comfortable", "fairly_comfortable", "normal", "fairly_crowded", "crowded", "full"]


def _own_saturday(weeks: int) -> datetime:
    today = clock.city_now().date() + timedelta(weeks=weeks)
    day = today + timedelta(days=(5 - today.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 11, tzinfo=CITY_TZ)


async def _venues(client, **params) -> list[dict]:
    res = await client.get("/api/v1/venues", params={"limit": 200, **params})
    assert res.status_code == 200, res.text
    return res.json()["items"]


async def _walk_in(client, make_account, venue: str, count: int) -> dict:
    staff = await make_account("staff", venues=(venue,))
    res = await client.post(
        "/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": count}
    )
    assert res.status_code == 201, res.text
    return res.json()


async def test_distance_needs_near_and_orders_by_distance(client):
    res = await client.get("/api/v1/venues", params={"sort": "distance"})
    assert res.status_code == 400 and res.json()["code"] == "sort_needs_near"
    items = await _venues(client, sort="distance", near=CENTRE)
    distances = [i["distance_m"] for i in items]
    assert distances == sorted(distances) and len(items) > 20
    assert (await client.get("/api/v1/venues", params={"sort": "busiest"})).status_code == 400


async def test_calm_puts_the_crowded_venue_after_the_calm_ones_and_closed_last(client, make_account):
    clock.set(_own_saturday(6))
    crowded = "yun-daiying-memorial"
    before = await _venues(client, sort="calm")
    assert crowded in [i["slug"] for i in before if i["live"]["status"] != "closed"]
    capacity = (await client.get(f"/api/v1/venues/{crowded}")).json()["capacity"]
    await _walk_in(client, make_account, crowded, int(capacity * 0.95))
    items = await _venues(client, sort="calm")
    open_ = [i for i in items if i["live"]["status"] != "closed"]
    closed = [i for i in items if i["live"]["status"] == "closed"]
    assert items == open_ + closed  # closed venues last
    ranks = [LEVELS.index(i["live"]["comfort_level"]) for i in open_]
    assert ranks == sorted(ranks)  # calmest first
    assert open_[-1]["slug"] == crowded and open_[-1]["live"]["comfort_level"] == "crowded"
    near = await _venues(client, sort="calm", near=CENTRE, radius_m=5000)
    assert near and all(i["distance_m"] <= 5000 for i in near)
    assert [i["slug"] for i in near if i["live"]["status"] != "closed"][-1] == crowded


async def test_popular_counts_the_gates_over_four_weeks(client, make_account):
    day = _own_saturday(10)
    clock.set(day)
    popularity.forget()
    first = await _venues(client, sort="popular")
    favourite = next(i["slug"] for i in reversed(first) if i["live"]["status"] != "closed")
    await _walk_in(client, make_account, favourite, 5)
    popularity.forget()
    items = await _venues(client, sort="popular")
    assert items[0]["slug"] == favourite
    open_ = [i for i in items if i["live"]["status"] != "closed"]
    assert items == open_ + [i for i in items if i["live"]["status"] == "closed"]  # closed venues last
    # with no visitors counted, the bigger draw (daily capacity) goes first
    rest = [i["daily_capacity"] for i in open_[1:]]
    assert rest == sorted(rest, reverse=True)
    clock.set(day + timedelta(days=28))  # four weeks on, those visitors no longer count
    popularity.forget()
    later = [i for i in await _venues(client, sort="popular") if i["live"]["status"] != "closed"]
    capacities = [i["daily_capacity"] for i in later]
    assert capacities == sorted(capacities, reverse=True)
