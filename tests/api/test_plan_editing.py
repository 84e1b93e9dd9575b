"""Editing a day plan (issue 20, 2): swap a visit (the same request without it) or drop one (a new plan,
the rest at their times, the next leg worked out again); both stay feasible."""

from __future__ import annotations

import pytest

from backend.lib.clock import clock
from tests.api.test_plans import assert_feasible, next_saturday, plan_body

pytestmark = pytest.mark.anyio


def _key(item: dict) -> str:
    return f"{item['kind']}:{item.get('slug')}"


async def test_swapping_a_visit_plans_the_day_again_without_it(client):
    body = plan_body(next_saturday())
    first = (await client.post("/api/v1/plans", json=body)).json()
    visit = next(i for i in first["items"] if i["kind"] != "break")
    swapped_body = {**body, "exclude": [_key(visit)]}
    res = await client.post("/api/v1/plans", json=swapped_body)
    assert res.status_code == 201, res.text
    swapped = res.json()
    assert swapped["exclude"] == [_key(visit)] and swapped["id"] != first["id"]
    keys = [_key(i) for i in swapped["items"] if i["kind"] != "break"]
    assert _key(visit) not in keys and len(keys) >= 2
    await assert_feasible(swapped, swapped_body, clock.now())
    for bad in (["museum"], ["venue:"], ["venue:" + "x" * 121], ["place:tianning-chan-temple"], ["venue:a"] * 31):
        res = await client.post("/api/v1/plans", json={**body, "exclude": bad})
        assert res.status_code == 400 and res.json()["code"] == "validation_error", bad


async def test_dropping_a_visit_keeps_the_rest_and_a_feasible_day(client):
    body = plan_body(next_saturday())
    plan = (await client.post("/api/v1/plans", json=body)).json()
    visits = [n for n, i in enumerate(plan["items"]) if i["kind"] != "break"]
    assert len(visits) >= 3
    index = visits[1]  # a visit in the middle: the one after it gets a new leg
    res = await client.post(f"/api/v1/plans/{plan['id']}/drop", json={"index": index})
    assert res.status_code == 201, res.text
    dropped = res.json()
    assert dropped["id"] != plan["id"] and dropped["booked"] is False
    before = [i for n, i in enumerate(plan["items"]) if n != index]
    assert [(_key(i), i["starts_at"], i["ends_at"]) for i in dropped["items"]] == [
        (_key(i), i["starts_at"], i["ends_at"]) for i in before
    ], "every other item keeps its time"
    await assert_feasible(dropped, body, clock.now())
    nxt = next(i for i in dropped["items"][index:] if i["kind"] != "break")
    old = next(i for i in plan["items"][index + 1 :] if i["kind"] != "break")
    assert nxt["travel"]["minutes"] <= old["travel"]["minutes"] + plan["items"][index]["travel"]["minutes"]
    # the original is unchanged, the new one reads in English too
    assert (await client.get(f"/api/v1/plans/{plan['id']}")).json()["items"] == plan["items"]
    english = (await client.get(f"/api/v1/plans/{dropped['id']}", params={"lang": "en"})).json()
    assert len(english["items"]) == len(dropped["items"]) and english["lang"] == "en"


async def test_drop_refusals(client):
    plan = (await client.post("/api/v1/plans", json=plan_body(next_saturday()))).json()
    brk = next(n for n, i in enumerate(plan["items"]) if i["kind"] == "break")
    for index, code in ((brk, "invalid_item"), (len(plan["items"]), "invalid_item")):
        res = await client.post(f"/api/v1/plans/{plan['id']}/drop", json={"index": index})
        assert res.status_code == 400 and res.json()["code"] == code, res.text
    res = await client.post(f"/api/v1/plans/{plan['id']}/drop", json={"index": -1})
    assert res.status_code == 400 and res.json()["code"] == "validation_error"
    res = await client.post("/api/v1/plans/" + "x" * 22 + "/drop", json={"index": 0})
    assert res.status_code == 404 and res.json()["code"] == "plan_not_found"
    # dropping visits one by one: the last one stays
    current = plan
    while sum(1 for i in current["items"] if i["kind"] != "break") > 1:
        first = next(n for n, i in enumerate(current["items"]) if i["kind"] != "break")
        res = await client.post(f"/api/v1/plans/{current['id']}/drop", json={"index": first})
        assert res.status_code == 201, res.text
        current = res.json()
    last = next(n for n, i in enumerate(current["items"]) if i["kind"] != "break")
    res = await client.post(f"/api/v1/plans/{current['id']}/drop", json={"index": last})
    assert res.status_code == 409 and res.json()["code"] == "plan_edit_infeasible"
