"""Crowd forecasts (issue 19): the simulated history, the forecast per hour with its band, best times."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backend.forecast.history import facts, venue_history
from backend.forecast.services import forecasts
from backend.forecast.tables import HourlyCount
from backend.lib.clock import CITY_TZ, clock
from backend.venues.services import catalog
from tests.api.reservation_helpers import fresh_slot, visitor
from tests.conftest import arun_cli

pytestmark = pytest.mark.anyio

CLI_VENUE = "yanhu-park"  # no other test counts people here
REAL_VENUE = "songjian-lake"


async def test_simulate_history_writes_the_days_up_to_yesterday_marked_simulated_and_again_the_same(prepared_database):
    out = await arun_cli("simulate-history", "--days", "20", "--venue", CLI_VENUE, "--seed", "3")
    assert "1 venues, 20 days" in out and "simulated" in out
    yesterday = datetime.now(CITY_TZ).date() - timedelta(days=1)  # the CLI's own process: the wall clock
    first = yesterday - timedelta(days=19)
    in_range = (HourlyCount.venue_slug == CLI_VENUE) & (HourlyCount.local_date >= first)
    rows = await HourlyCount.select().where(in_range)  # (other tests simulate longer histories here too)
    days = {r["local_date"] for r in rows}
    assert max(days) == yesterday and min(days) == first
    assert all(r["simulated"] for r in rows)
    assert len(rows) == 20 * 16, "a park open round the clock is counted from 06:00 to 22:00"
    assert all(r["hour_start"].astimezone(CITY_TZ).hour == r["hour"] for r in rows)
    again = await arun_cli("simulate-history", "--days", "20", "--venue", CLI_VENUE, "--seed", "3")
    assert again == out
    replaced = await HourlyCount.select().where(in_range)

    def same(rs: list[dict]) -> list[tuple]:
        return sorted((r["key"], r["inside"], r["entries"], r["hour_start"]) for r in rs)

    assert same(replaced) == same(rows)


async def test_simulate_history_refuses_an_unknown_venue_and_a_silly_range(prepared_database):
    import subprocess
    import sys
    from functools import partial

    import anyio

    from tests.conftest import ROOT

    for args in (["--venue", "nowhere"], ["--days", "0"]):
        command = [sys.executable, "-m", "backend.cli", "simulate-history", *args]
        done = await anyio.to_thread.run_sync(
            partial(subprocess.run, command, cwd=ROOT, capture_output=True, text=True)
        )
        assert done.returncode != 0
        assert "nowhere" in done.stderr or "--days" in done.stderr


async def test_days_with_real_counts_replace_the_simulated_ones(client, make_account):
    staff = await make_account("staff", venues=(REAL_VENUE,))
    record = await catalog.record(REAL_VENUE)
    venue = facts(record)
    today = clock.city_today()
    await forecasts.simulate_history(30, 5, [REAL_VENUE])
    counted = today - timedelta(days=3)
    simulated = await venue_history(venue, counted, counted)
    assert simulated[counted][10] > 0

    clock.set(datetime(counted.year, counted.month, counted.day, 10, 5, tzinfo=CITY_TZ))
    for direction, count in (("in", 12), ("in", 8), ("out", 5)):
        res = await client.post(
            "/api/v1/gov/walk-ins",
            headers=staff["headers"],
            json={"venue_slug": REAL_VENUE, "count": count, "direction": direction},
        )
        assert res.status_code == 201, res.text
    clock.reset()

    history = await venue_history(venue, counted - timedelta(days=1), counted)
    assert history[counted][10] == pytest.approx(7.5)  # (0 + 15) / 2: the balance through the hour
    assert history[counted][11] == 15
    assert (
        history[counted - timedelta(days=1)]
        == (await venue_history(venue, counted - timedelta(days=1), counted - timedelta(days=1)))[
            counted - timedelta(days=1)
        ]
    ), "the day before has no counts: still the simulated one"


# ---------------------------------------------------------------- the forecast per hour

PEAK_VENUE = "nanshan-bamboo-sea"  # a scenic area: the Golden Week fills it
BOOKED_VENUE = "liyang-museum"  # books by slot; no history here, so seats booked are all it expects
BEST_VENUE = "wujin-museum"


def _day_total(hours: list[dict], day: str) -> int:
    return sum(h["expected"] for h in hours if h["starts_at"].startswith(day))


async def test_the_forecast_per_hour_has_a_band_a_capacity_and_the_lbt_034_level(client):
    from backend.occupancy.services import comfort_level

    await forecasts.simulate_history(120, 8, [CLI_VENUE])
    res = await client.get(f"/api/v1/venues/{CLI_VENUE}/forecast", params={"days": 7})
    assert res.status_code == 200, res.text
    assert "max-age" in res.headers["cache-control"]
    body = res.json()
    assert body["model"] == "profile_holidays_level" and body["generated_at"]
    hours = body["hours"]
    days = {h["starts_at"][:10] for h in hours}
    assert 6 <= len(days) <= 7  # today's hours still to come, and the next six days
    now = clock.now().astimezone(CITY_TZ)
    for h in hours:
        at = datetime.fromisoformat(h["starts_at"])
        assert at.utcoffset() == timedelta(hours=8) and at >= now.replace(minute=0, second=0, microsecond=0)
        assert 6 <= at.hour < 22, "a park open round the clock is forecast from 06:00 to 22:00"
        assert 0 <= h["low"] <= h["expected"] <= h["high"] <= h["capacity"]
        assert h["comfort_level"] == comfort_level(h["expected"] / h["capacity"])
    assert sum(h["expected"] for h in hours) > 0
    one = await client.get(f"/api/v1/venues/{CLI_VENUE}/forecast", params={"days": 1})
    assert {h["starts_at"][:10] for h in one.json()["hours"]} <= {clock.city_today().isoformat()}
    # kept in the shared cache under the version key: the second answer is the first's
    version = (await forecasts.store().get("forecast:version")).decode()
    assert await forecasts.store().get(f"forecast:{version}:{CLI_VENUE}:{clock.city_today().isoformat()}")
    again = await client.get(f"/api/v1/venues/{CLI_VENUE}/forecast", params={"days": 7})
    assert again.json()["hours"] == hours


async def test_forecast_refusals(client):
    res = await client.get("/api/v1/venues/nowhere/forecast")
    assert res.status_code == 404 and res.json()["code"] == "venue_not_found"
    for days in (0, 8, "x"):
        res = await client.get(f"/api/v1/venues/{CLI_VENUE}/forecast", params={"days": days})
        assert res.status_code == 400


async def test_around_the_national_day_holiday_the_forecast_shows_the_peak(client):
    clock.set(datetime(2026, 9, 28, 8, 0, tzinfo=CITY_TZ))
    await forecasts.simulate_history(400, 2026, [PEAK_VENUE])
    res = await client.get(f"/api/v1/venues/{PEAK_VENUE}/forecast")
    assert res.status_code == 200, res.text
    hours = res.json()["hours"]
    ordinary = _day_total(hours, "2026-09-29") + _day_total(hours, "2026-09-30")
    peak = _day_total(hours, "2026-10-02") + _day_total(hours, "2026-10-03")
    assert ordinary > 0 and peak > 1.8 * ordinary, (peak, ordinary)
    busiest = max(hours, key=lambda h: h["expected"])
    assert busiest["starts_at"][:10] in ("2026-10-02", "2026-10-03", "2026-10-04")
    assert busiest["comfort_level"] != "comfortable"


async def test_seats_already_booked_are_a_floor_on_the_expected_figure(client, make_account):
    tourist = await make_account("tourist")
    slot = await fresh_slot(client, BOOKED_VENUE)
    res = await client.post(
        "/api/v1/reservations",
        headers=tourist["headers"],
        json={"slot_id": slot["id"], "visitors": [visitor(), visitor(), visitor()]},
    )
    assert res.status_code == 201, res.text
    hours = (await client.get(f"/api/v1/venues/{BOOKED_VENUE}/forecast")).json()["hours"]
    starts = datetime.fromisoformat(slot["starts_at"])
    during = [h for h in hours if datetime.fromisoformat(h["starts_at"]) == starts.replace(minute=0)]
    assert during and during[0]["booked"] >= 3 and during[0]["expected"] >= 3 and during[0]["low"] >= 3


async def test_a_directive_limit_lowers_the_capacity_forecast_for_its_window(client):
    from tests.api.gov_helpers import directive

    tomorrow = clock.city_today() + timedelta(days=2)
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, tzinfo=CITY_TZ)
    res = await directive(
        client,
        type="limit",
        venue_slug=CLI_VENUE,
        limit_ratio=0.5,
        valid_from=start.isoformat(),
        valid_until=(start + timedelta(hours=2)).isoformat(),
    )
    assert res.status_code == 200, res.text
    hours = (await client.get(f"/api/v1/venues/{CLI_VENUE}/forecast")).json()["hours"]
    capacity = {datetime.fromisoformat(h["starts_at"]): h["capacity"] for h in hours}
    full = (await catalog.record(CLI_VENUE)).row["capacity"]
    assert capacity[start] == capacity[start + timedelta(hours=1)] == full // 2
    assert capacity[start + timedelta(hours=2)] == capacity[start - timedelta(hours=1)] == full


# ---------------------------------------------------------------- best times and calm


async def test_best_times_are_the_calmest_slots_of_the_day_with_their_levels(client):
    await forecasts.simulate_history(120, 9, [BEST_VENUE])
    day = clock.city_today() + timedelta(days=1)
    while day.weekday() == 0:  # the museum is closed on Mondays
        day += timedelta(days=1)
    res = await client.get(f"/api/v1/venues/{BEST_VENUE}/best-times", params={"date": day.isoformat()})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["date"] == day.isoformat() and body["model"] == "profile_holidays_level"
    items = body["items"]
    assert 1 <= len(items) <= 3 and all(i["slot_id"] and i["remaining"] > 0 for i in items)
    ratios = [i["expected"] / i["capacity"] for i in items]
    assert ratios == sorted(ratios), "calmest first"
    forecast = (await client.get(f"/api/v1/venues/{BEST_VENUE}/forecast")).json()["hours"]
    of_day = [h for h in forecast if h["starts_at"].startswith(day.isoformat())]
    slots = (await client.get(f"/api/v1/venues/{BEST_VENUE}/slots", params={"date": day.isoformat()})).json()
    open_slots = [s for s in slots["items"] if s["status"] == "open"]
    assert len(open_slots) >= len(items)
    calmest = min(h["expected"] / h["capacity"] for h in of_day)
    assert ratios[0] == pytest.approx(calmest, abs=1e-9), "the calmest slot holds the calmest hour"
    for item in items:
        assert item["comfort_level"] in {"comfortable", "fairly_comfortable", "normal", "fairly_crowded", "crowded"}
    # an hour-by-hour venue answers with hours
    res = await client.get(f"/api/v1/venues/{CLI_VENUE}/best-times")
    assert res.status_code == 200 and all("slot_id" not in i for i in res.json()["items"])


async def test_best_times_refuse_days_outside_the_forecasts_week(client):
    for day in (clock.city_today() - timedelta(days=1), clock.city_today() + timedelta(days=7)):
        res = await client.get(f"/api/v1/venues/{CLI_VENUE}/best-times", params={"date": day.isoformat()})
        assert res.status_code == 400 and res.json()["code"] == "date_out_of_range"
    assert (await client.get("/api/v1/venues/nowhere/best-times")).status_code == 404


async def test_calm_scores_order_venues_by_expected_people_over_capacity(client):
    await forecasts.simulate_history(60, 4, [CLI_VENUE, REAL_VENUE])
    at = datetime.combine(clock.city_today() + timedelta(days=1), datetime.min.time(), CITY_TZ).replace(hour=15)
    scores = await forecasts.calm_scores([CLI_VENUE, REAL_VENUE, "changzhou-museum", "nowhere"], at)
    assert [s.venue_slug for s in scores if s.venue_slug == "nowhere"] == []
    assert len(scores) == 3
    ratios = [s.ratio for s in scores]
    assert ratios == sorted(ratios)
    for s in scores:
        if s.starts_at is not None:
            assert s.starts_at >= at and s.comfort_level is not None
