"""Day plans (issue 20): composing a day that only holds what is open, bookable and reachable; booking all
of it or none (also under concurrent requests); the plan as a calendar; the refusals."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import anyio
import pytest
from icalendar import Calendar
from opening_hours import OpeningHours

from backend.events.services import events
from backend.lib.clock import CITY_TZ, clock
from backend.plans.access import wheelchair_access
from backend.plans.tables import Plan
from backend.reservations.services import reservations
from backend.reservations.tables import Reservation
from backend.venues.services import catalog
from tests.api.reservation_helpers import slot_by_id, visitor

pytestmark = pytest.mark.anyio

CENTRE = {"lat": 31.7797, "lng": 119.9554}  # 南大街, the old centre


def next_saturday() -> date:
    today = clock.city_today()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


def plan_body(day: date, **extra) -> dict:
    return {
        "date": day.isoformat(),
        "start": CENTRE,
        "start_time": "09:00",
        "end_time": "17:00",
        "interests": ["museum", "memorial_hall"],
        **extra,
    }


async def make_plan(client, **extra) -> dict:
    res = await client.post("/api/v1/plans", json=plan_body(next_saturday(), **extra))
    assert res.status_code == 201, res.text
    return res.json()


def parse(at: str) -> datetime:
    return datetime.fromisoformat(at)


async def assert_feasible(plan: dict, body: dict, now: datetime) -> None:
    """Every guarantee the planner gives, checked from the outside (venue hours re-read with the OSM
    opening_hours library, event times from the events catalogue, slots from the slots API)."""
    snap = await catalog.snapshot()
    event_snap = await events.snapshot()
    day = date.fromisoformat(body["date"])
    h0, m0 = map(int, body["start_time"].split(":"))
    h1, m1 = map(int, body["end_time"].split(":"))
    window_start = datetime(day.year, day.month, day.day, h0, m0, tzinfo=CITY_TZ)
    window_end = datetime(day.year, day.month, day.day, h1, m1, tzinfo=CITY_TZ)
    party = body.get("party") or {"adults": 1}
    previous_end = max(window_start, now.astimezone(CITY_TZ) if day == now.astimezone(CITY_TZ).date() else window_start)
    places = []
    for item in plan["items"]:
        start, end = parse(item["starts_at"]), parse(item["ends_at"])
        where = f"{item['kind']} {item.get('slug')} {item['starts_at']}–{item['ends_at']}"
        assert start.date() == day and start < end, where
        assert end <= window_end, f"past end_time: {where}"
        assert start >= previous_end + timedelta(minutes=item["travel"]["minutes"]), (
            f"overlap or leg too short: {where}"
        )
        assert item["why"].strip(), where
        previous_end = end
        if item["kind"] == "break":
            continue
        venue_slug = item["slug"] if item["kind"] == "venue" else item.get("venue_slug")
        places.append(venue_slug or item["slug"])
        if item["kind"] == "event":
            rec = event_snap.by_slug[item["slug"]]
            if rec.duration <= timedelta(hours=4):
                assert start in rec.starts and end - start == rec.duration, f"not the event's real time: {where}"
                continue
        if venue_slug is not None:
            venue = snap.by_slug[venue_slug].row
            hours = OpeningHours(venue["opening_hours"])
            naive = start.astimezone(CITY_TZ).replace(tzinfo=None)
            assert hours.is_open(naive), f"closed at the start: {where} ({venue['opening_hours']})"
            change = hours.next_change(naive)
            assert change is None or change >= end.astimezone(CITY_TZ).replace(tzinfo=None), f"closes during: {where}"
            if body.get("step_free"):
                verdict = wheelchair_access(venue["accessibility_en"], venue["accessibility_zh"])
                assert verdict == "yes", f"not step-free: {where} ({verdict})"
            if venue["reservation_required"]:
                assert item.get("slot_id"), f"no slot where booking is required: {where}"
        if body.get("step_free"):
            assert venue_slug is not None, f"no accessibility data to go by: {where}"
        if item.get("slot_id"):
            slot = await slot_on(venue_slug, item["slot_id"], day)
            assert slot.starts_at <= start < slot.ends_at, f"not in its slot: {where}"
            assert slot.remaining >= sum(party.values()), f"no room for the party: {where}"
    assert len(places) == len(set(places)), "a place twice"


async def slot_on(venue_slug: str, slot_id: int, day: date):
    listed = await reservations.list_slots(venue_slug, day)
    return next(s for s in listed.items if s.id == slot_id)


# ---------------------------------------------------------------- composing


async def test_a_saturday_in_the_centre_is_a_feasible_day_with_travel_and_reasons(client):
    body = plan_body(next_saturday())
    res = await client.post("/api/v1/plans", json=body)
    assert res.status_code == 201, res.text
    plan = res.json()
    visits = [i for i in plan["items"] if i["kind"] != "break"]
    assert len(visits) >= 3
    assert any(i["kind"] == "break" and i["title"] == "午餐" for i in plan["items"]), "lunch on a full day"
    assert any(i.get("slot_id") for i in visits), "a booked museum or memorial"
    assert {i["travel"]["mode"] for i in visits} <= {"walk", "taxi"}
    assert all("兴趣" in i["why"] or "场次" in i["why"] for i in visits[:2])
    await assert_feasible(plan, body, clock.now())
    again = await client.get(f"/api/v1/plans/{plan['id']}")
    assert again.status_code == 200 and again.json()["items"] == plan["items"] and again.json()["booked"] is False


async def test_english_plan_with_children_is_shorter_and_rests(client):
    body = plan_body(next_saturday(), lang="en", interests=[], party={"adults": 2, "children": 2})
    plan = (await client.post("/api/v1/plans", json=body)).json()
    starts = [parse(i["starts_at"]) for i in plan["items"]]
    ends = [parse(i["ends_at"]) for i in plan["items"]]
    assert max(ends) - min(starts) <= timedelta(hours=7)
    assert "day_shortened" in {w["code"] for w in plan["warnings"]}
    assert any(i["kind"] == "break" and i["title"] == "Rest" for i in plan["items"])
    assert all(all(ord(ch) < 0x3000 for ch in i["why"].split(":", 1)[1]) for i in plan["items"]), "English reasons"
    await assert_feasible(plan, body, clock.now())


async def test_a_plan_reads_in_either_language(client):
    plan = await make_plan(client, party={"adults": 1, "seniors": 1})
    english = (await client.get(f"/api/v1/plans/{plan['id']}", params={"lang": "en"})).json()
    assert english["lang"] == "en" and plan["lang"] == "zh"
    same = ("kind", "slug", "starts_at", "ends_at", "travel", "slot_id")
    assert [[i.get(k) for k in same] for i in english["items"]] == [[i.get(k) for k in same] for i in plan["items"]]
    assert [w["code"] for w in english["warnings"]] == [w["code"] for w in plan["warnings"]]
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in w["message"]) for w in english["warnings"])
    museum = next(i for i in english["items"] if i["kind"] != "break")
    assert museum["why"].startswith(museum["title"] + ": ")
    assert (await client.get(f"/api/v1/plans/{plan['id']}", headers={"Accept-Language": "en"})).json()["lang"] == "en"


async def test_step_free_plans_only_places_whose_accessibility_says_so(client):
    body = plan_body(next_saturday(), step_free=True, interests=["heritage_site", "park", "museum"])
    plan = (await client.post("/api/v1/plans", json=body)).json()
    assert plan["items"], plan["warnings"]
    assert "step_free_excluded" in {w["code"] for w in plan["warnings"]}
    slugs = {i.get("venue_slug") or i.get("slug") for i in plan["items"]}
    assert not slugs & {"wenbi-pagoda", "jiaoxi-ancient-village", "biji-lane", "qianhou-bei-an", "dalin-temple"}
    await assert_feasible(plan, body, clock.now())
    unrestricted = (await client.post("/api/v1/plans", json={**body, "step_free": False})).json()
    assert "step_free_excluded" not in {w["code"] for w in unrestricted["warnings"]}


async def test_on_a_monday_the_closed_museums_are_not_planned(client):
    today = clock.city_today()
    monday = today + timedelta(days=(0 - today.weekday()) % 7 or 7)
    body = plan_body(monday)
    plan = (await client.post("/api/v1/plans", json=body)).json()
    closed_mondays = {"changzhou-museum", "yun-daiying-memorial", "qu-qiubai-memorial", "changzhou-art-museum"}
    assert not {i.get("venue_slug") or i.get("slug") for i in plan["items"]} & closed_mondays
    await assert_feasible(plan, body, clock.now())


async def test_many_random_days_windows_and_starts_never_break_a_rule(client):
    """Property-style: random moments (the clock), dates, start points, windows and parties; every plan
    passes every check of `assert_feasible`."""
    rng = random.Random(20)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    interests = ["museum", "park", "heritage_site", "memorial_hall", "performance", "exhibition", "family"]
    for case in range(30):
        now = base + timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 24 * 60))
        clock.set(now)
        day = now.astimezone(CITY_TZ).date() + timedelta(days=rng.randint(0, 6))
        start_min = rng.randint(6 * 12, 16 * 12) * 5
        end_min = min(23 * 60 + 55, start_min + rng.randint(12, 14 * 12) * 5)
        body = {
            "date": day.isoformat(),
            "start": {"lat": rng.uniform(31.70, 31.85), "lng": rng.uniform(119.88, 120.06)}
            if case % 5
            else {"lat": 31.395, "lng": 119.49},  # some from Liyang
            "start_time": f"{start_min // 60:02d}:{start_min % 60:02d}",
            "end_time": f"{end_min // 60:02d}:{end_min % 60:02d}",
            "interests": rng.sample(interests, rng.randint(0, 3)),
            "party": {"adults": rng.randint(0, 3), "children": rng.randint(0, 2), "seniors": rng.randint(0, 1)},
            "step_free": rng.random() < 0.3,
            "lang": rng.choice(["zh", "en"]),
        }
        if sum(body["party"].values()) == 0:
            body["party"]["adults"] = 1
        res = await client.post("/api/v1/plans", json=body)
        assert res.status_code == 201, (body, res.text)
        await assert_feasible(res.json(), body, clock.now())


async def test_refusals(client):
    today = clock.city_today()
    cases = [
        ({**plan_body(today - timedelta(days=1))}, "date_out_of_range"),
        ({**plan_body(today + timedelta(days=45))}, "date_out_of_range"),
        ({**plan_body(next_saturday()), "start": {"lat": 39.9, "lng": 116.4}}, "start_outside_city"),
        ({**plan_body(next_saturday()), "end_time": "09:30"}, "window_too_short"),
        ({**plan_body(next_saturday()), "start_time": "9am"}, "validation_error"),
        ({**plan_body(next_saturday()), "interests": ["casino"]}, "validation_error"),
        ({**plan_body(next_saturday()), "party": {"adults": 0}}, "invalid_party"),
    ]
    for body, code in cases:
        res = await client.post("/api/v1/plans", json=body)
        assert res.status_code == 400 and res.json()["code"] == code, (body, res.text)
    for path in ("/api/v1/plans/nope", "/api/v1/plans/" + "x" * 22, "/api/v1/plans/" + "x" * 22 + ".ics"):
        res = await client.get(path)
        assert res.status_code == 404 and res.json()["code"] == "plan_not_found"


async def test_the_plan_is_kept_under_an_unguessable_id_and_a_rounded_start(client):
    plan = await make_plan(client, start={"lat": 31.779712, "lng": 119.955437})
    assert len(plan["id"]) >= 22  # 128 random bits
    assert plan["start"] == {"lat": 31.78, "lng": 119.955}
    rows = await Plan.select(Plan.key_hash, Plan.body)
    assert all(plan["id"] not in r["key_hash"] and plan["id"] not in r["body"] for r in rows)


async def test_the_plan_as_a_calendar(client):
    plan = await make_plan(client)
    res = await client.get(f"/api/v1/plans/{plan['id']}.ics")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(res.content)
    vevents = cal.walk("VEVENT")
    visits = [i for i in plan["items"] if i["kind"] != "break"]
    assert [str(e["summary"]) for e in vevents] == [i["title"] for i in visits]
    assert [e.decoded("dtstart") for e in vevents] == [parse(i["starts_at"]) for i in visits]
    assert all(e["dtstart"].params["TZID"] == "Asia/Shanghai" for e in vevents)
    assert plan["id"] not in res.text


# ---------------------------------------------------------------- booking all or nothing


async def reservations_of(user_id: int) -> list[dict]:
    return await Reservation.select().where(Reservation.user_id == user_id)


async def test_book_all_books_every_bookable_item_once(client, make_account):
    me = await make_account("tourist")
    plan = await make_plan(client)
    wanted = [i for i in plan["items"] if i.get("slot_id")]
    assert len(wanted) >= 2
    res = await client.post(f"/api/v1/plans/{plan['id']}/book", json={"visitors": [visitor()]}, headers=me["headers"])
    assert res.status_code == 201, res.text
    booked = res.json()["reservations"]
    assert sorted(r["slot"]["id"] for r in booked) == sorted(i["slot_id"] for i in wanted)
    assert all(r["status"] == "confirmed" for r in booked)
    assert (await client.get(f"/api/v1/plans/{plan['id']}")).json()["booked"] is True
    again = await client.post(f"/api/v1/plans/{plan['id']}/book", json={"visitors": [visitor()]}, headers=me["headers"])
    assert again.status_code == 409 and again.json()["code"] == "plan_already_booked"
    other = await make_account("tourist")
    theirs = await client.post(
        f"/api/v1/plans/{plan['id']}/book", json={"visitors": [visitor()]}, headers=other["headers"]
    )
    assert theirs.status_code == 404  # booked: the plan is its owner's
    anonymous = await client.post(f"/api/v1/plans/{plan['id']}/book", json={"visitors": [visitor()]})
    assert anonymous.status_code == 401


async def test_when_the_last_slot_is_full_nothing_is_booked(client, make_account):
    me, admin = await make_account("tourist"), await make_account("admin")
    plan = await make_plan(client)
    wanted = [(n, i) for n, i in enumerate(plan["items"]) if i.get("slot_id")]
    assert len(wanted) >= 2
    index, last = wanted[-1]
    venue = last["slug"] if last["kind"] == "venue" else last["venue_slug"]
    slot = await slot_by_id(client, venue, last["slot_id"])
    before = {i["slot_id"]: await slot_by_id(client, _venue_of(i), i["slot_id"]) for _, i in wanted}
    full = await client.patch(
        f"/api/v1/venues/{venue}/slots/{slot['id']}",
        json={"capacity": slot["capacity"] - slot["remaining"]},
        headers=admin["headers"],
    )
    assert full.status_code == 200, full.text
    res = await client.post(f"/api/v1/plans/{plan['id']}/book", json={"visitors": [visitor()]}, headers=me["headers"])
    assert res.status_code == 409, res.text
    problem = res.json()
    assert problem["code"] == "plan_booking_failed" and problem["item"] == index and problem["reason"] == "slot_full"
    assert problem["slug"] == last["slug"] and "nothing was booked" in problem["detail"]
    assert await reservations_of(me["id"]) == []
    for _, item in wanted[:-1]:
        after = await slot_by_id(client, _venue_of(item), item["slot_id"])
        assert after["remaining"] == before[item["slot_id"]]["remaining"], "seats taken before the failure came back"
    assert (await client.get(f"/api/v1/plans/{plan['id']}")).json()["booked"] is False


def _venue_of(item: dict) -> str:
    return item["slug"] if item["kind"] == "venue" else item["venue_slug"]


async def test_concurrent_book_all_of_one_plan_books_it_once(client, make_account):
    me = await make_account("tourist")
    plan = await make_plan(client)
    people = [visitor()]
    results: list = []

    async def book() -> None:
        results.append(
            await client.post(f"/api/v1/plans/{plan['id']}/book", json={"visitors": people}, headers=me["headers"])
        )

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(book)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 7, [r.text for r in results]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"plan_already_booked"}
    assert len(await reservations_of(me["id"])) == len([i for i in plan["items"] if i.get("slot_id")])


async def test_plans_racing_for_the_last_seat_one_wins_and_the_others_keep_nothing(client, make_account):
    admin = await make_account("admin")
    people = [await make_account("tourist") for _ in range(5)]
    plans = [await make_plan(client) for _ in people]
    shape = [(i.get("slug"), i.get("slot_id")) for i in plans[0]["items"]]
    assert all([(i.get("slug"), i.get("slot_id")) for i in p["items"]] == shape for p in plans), "the same day for all"
    wanted = [i for i in plans[0]["items"] if i.get("slot_id")]
    assert len(wanted) >= 2
    last = wanted[-1]
    slot = await slot_by_id(client, _venue_of(last), last["slot_id"])
    taken = slot["capacity"] - slot["remaining"]
    one_left = await client.patch(
        f"/api/v1/venues/{_venue_of(last)}/slots/{slot['id']}", json={"capacity": taken + 1}, headers=admin["headers"]
    )
    assert one_left.status_code == 200, one_left.text
    before = {i["slot_id"]: (await slot_by_id(client, _venue_of(i), i["slot_id"]))["remaining"] for i in wanted}
    results: dict[int, object] = {}

    async def book(n: int) -> None:
        results[n] = await client.post(
            f"/api/v1/plans/{plans[n]['id']}/book", json={"visitors": [visitor()]}, headers=people[n]["headers"]
        )

    async with anyio.create_task_group() as tg:
        for n in range(len(people)):
            tg.start_soon(book, n)
    winners = [n for n, r in results.items() if r.status_code == 201]
    assert len(winners) == 1, [r.text for r in results.values()]
    for n, r in results.items():
        if n in winners:
            continue
        assert r.status_code == 409 and r.json()["code"] == "plan_booking_failed", r.text
        assert await reservations_of(people[n]["id"]) == []
    for item in wanted:
        after = (await slot_by_id(client, _venue_of(item), item["slot_id"]))["remaining"]
        assert after == before[item["slot_id"]] - 1, "exactly the winner's seat, in every slot"


async def test_a_plan_for_today_never_starts_a_moment_in_the_past(client):
    """Seen once in the random-days test: asked at 18:00:00.4, the plan started at 18:00 (the rounding up to
    the next five minutes ignored the part of a second), so its first leg began before the moment it was
    asked. Any part of a minute now rounds up."""
    today = datetime.now(CITY_TZ).date() + timedelta(days=3)
    clock.freeze(datetime(today.year, today.month, today.day, 10, 0, 0, 400_000, tzinfo=CITY_TZ))
    res = await client.post("/api/v1/plans", json=plan_body(today, start_time="09:00", end_time="18:00"))
    assert res.status_code == 201, res.text
    plan = res.json()
    started = [w for w in plan["warnings"] if w["code"] == "started_now"]
    assert started and "10:05" in started[0]["message"], plan["warnings"]
    assert all(datetime.fromisoformat(i["starts_at"]) >= clock.now() for i in plan["items"]), plan["items"]


async def test_an_event_off_the_whole_minute_is_planned_at_its_real_time(client, make_account):
    """Seen on CI: a marketer's event stored at 15:45:10 was planned at 15:45:00 (the planner works in whole
    minutes). The plan now holds the event's real start and end, inside whole minutes that cover them."""
    h = (await make_account("marketer"))["headers"]
    day = next_saturday()
    start = datetime(day.year, day.month, day.day, 14, 30, 10, tzinfo=CITY_TZ)
    slug = f"test-{random.getrandbits(40):010x}"
    body = {
        "slug": slug,
        "title": {"zh": "评弹小场", "en": "A pingtan hour"},
        "summary": {"zh": "青果巷里的一场小型评弹演出", "en": "A small pingtan show in Qingguo Lane"},
        "category": "performance",
        "venue_slug": "qingguo-lane",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=90, seconds=20)).isoformat(),  # not whole minutes either
        "price_fen": 0,
    }
    item = await client.post("/api/v1/admin/events", json=body, headers=h)
    assert item.status_code == 201, item.text
    for to in ("in_review", "published"):
        moved = await client.post(f"/api/v1/admin/events/{item.json()['id']}/transition", json={"to": to}, headers=h)
        assert moved.status_code == 200, moved.text
    plan_req = plan_body(day, start={"lat": 31.7765, "lng": 119.9585}, start_time="14:20", end_time="16:10")
    plan_req["interests"] = ["performance"]
    res = await client.post("/api/v1/plans", json=plan_req)
    assert res.status_code == 201, res.text
    plan = res.json()
    ours = [i for i in plan["items"] if i.get("slug") == slug]
    assert ours, plan["items"]
    length = timedelta(minutes=90, seconds=20)
    assert parse(ours[0]["starts_at"]) == start and parse(ours[0]["ends_at"]) == start + length
    await assert_feasible(plan, plan_req, clock.now())
