"""Tomorrow's expected peaks on the governance dashboard (issue 19, 7): per venue and per district, from the
same forecast hours as the venue pages."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from backend.forecast.services import forecasts
from backend.lib.clock import CITY_TZ, clock

pytestmark = pytest.mark.anyio

PEAK_VENUE = "nanshan-bamboo-sea"  # a scenic area the Golden Week fills (test_forecast simulates it too)


async def test_tomorrows_peaks_name_the_golden_week_crowd_per_venue_and_district(client, make_account):
    clock.set(datetime(2026, 10, 1, 20, 0, tzinfo=CITY_TZ))  # the evening before the Golden Week's second day
    await forecasts.simulate_history(400, 2026, [PEAK_VENUE])
    gov = await make_account("governance")
    res = await client.get("/api/v1/gov/forecast/peaks", headers=gov["headers"])
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["date"] == "2026-10-02" and body["model"] and body["watch_from"] == "fairly_crowded"
    venues = {v["venue_slug"]: v for v in body["venues"]}
    ratios = [v["expected"] / v["capacity"] if v["capacity"] else 0 for v in body["venues"]]
    assert ratios == sorted(ratios, reverse=True), "the most crowded first"

    # a venue's peak is the busiest hour of its own forecast for that day
    hours = (await client.get(f"/api/v1/venues/{PEAK_VENUE}/forecast")).json()["hours"]
    day = [h for h in hours if h["starts_at"].startswith("2026-10-02")]
    busiest = max(day, key=lambda h: h["expected"] / h["capacity"])
    peak = venues[PEAK_VENUE]
    assert (peak["peak_at"], peak["expected"], peak["capacity"], peak["comfort_level"]) == (
        busiest["starts_at"],
        busiest["expected"],
        busiest["capacity"],
        busiest["comfort_level"],
    )
    assert peak["comfort_level"] != "comfortable" and peak["expected"] > 0 and peak["name"]["zh"]

    # a district's peak is the hour its venues together hold the most people, with their levels counted
    district = peak["district"]
    mine = [v for v in body["venues"] if v["district"] == district]
    together: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for v in mine:
        for h in (await client.get(f"/api/v1/venues/{v['venue_slug']}/forecast")).json()["hours"]:
            if h["starts_at"].startswith("2026-10-02"):
                together[h["starts_at"]][0] += h["expected"]
                together[h["starts_at"]][1] += h["capacity"]
    at, (expected, capacity) = max(together.items(), key=lambda kv: kv[1][0])
    row = next(d for d in body["districts"] if d["district"] == district)
    assert (row["peak_at"], row["expected"], row["capacity"], row["venues"]) == (at, expected, capacity, len(mine))
    watched = [v for v in mine if v["comfort_level"] in ("fairly_crowded", "crowded", "full")]
    assert row["watch"] == len(watched) and row["name"]["zh"]


async def test_peaks_are_the_citys_and_cover_the_forecasts_week(client, make_account):
    gov = await make_account("governance")
    for role in ("tourist", "staff", "marketer"):
        someone = await make_account(role)
        assert (await client.get("/api/v1/gov/forecast/peaks", headers=someone["headers"])).status_code == 403
    assert (await client.get("/api/v1/gov/forecast/peaks")).status_code == 401
    today = clock.city_today()
    for day in (today - timedelta(days=1), today + timedelta(days=7)):
        res = await client.get("/api/v1/gov/forecast/peaks", params={"date": day.isoformat()}, headers=gov["headers"])
        assert res.status_code == 400 and res.json()["code"] == "date_out_of_range"
    res = await client.get("/api/v1/gov/forecast/peaks", params={"date": today.isoformat()}, headers=gov["headers"])
    assert res.status_code == 200 and res.json()["date"] == today.isoformat()
