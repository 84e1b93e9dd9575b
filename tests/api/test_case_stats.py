"""Issue 16, satisfaction: the open dataset `case_stats` (per venue and month) and the governance board's
figures; no personal data in any dataset (the same check as tests/api/test_opendata.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.lib.clock import clock
from backend.opendata.datasets import DATASETS
from backend.opendata.services import opendata
from tests.api.case_helpers import file_case, move

pytestmark = pytest.mark.anyio

STATS_VENUE = "wenbi-pagoda"  # no other test files cases here


async def test_case_stats_counts_times_and_ratings_without_personal_data(client, make_account):
    visitor, staff = await make_account("tourist"), await make_account("staff", venues=(STATS_VENUE,))
    clock.set(clock.now().replace(day=10, hour=2))  # mid-month: every step below falls in one month
    month = clock.city_now().strftime("%Y-%m")
    words, phone = "服务员态度恶劣 秘密词" + visitor["email"][:6], "13687654321"
    fast = await file_case(client, visitor, venue_slug=STATS_VENUE, text=words, contact_phone=phone)
    slow = await file_case(client, visitor, venue_slug=STATS_VENUE, text="又一件")
    await file_case(client, visitor, venue_slug=STATS_VENUE, kind="question", text="几点关门")
    clock.advance(timedelta(minutes=30))
    await move(client, staff, fast["id"], "acknowledged")
    clock.advance(timedelta(minutes=90))
    await move(client, staff, fast["id"], "resolved")
    await move(client, staff, slow["id"], "acknowledged")  # 2 h: late, and the deadline worker may escalate
    clock.advance(timedelta(hours=30))
    await move(client, staff, slow["id"], "resolved")  # 32 h: past its 24 h deadline
    for case, stars in ((fast, 5), (slow, 2)):
        res = await client.post(f"/api/v1/cases/{case['id']}/rating", headers=visitor["headers"], json={"stars": stars})
        assert res.status_code == 200, res.text

    opendata.forget()
    catalogue = (await client.get("/api/v1/opendata")).json()
    assert "case_stats" in {d["identifier"] for d in catalogue["datasets"]}
    rows = (await client.get("/api/v1/opendata/case_stats.json")).json()
    items = rows["items"] if isinstance(rows, dict) else rows
    [row] = [r for r in items if r["venue_slug"] == STATS_VENUE and r["month"] == month]
    assert row["cases"] == 3 and row["acknowledged"] == 2 and row["resolved"] == 2
    assert row["median_hours_to_acknowledge"] == pytest.approx((0.5 + 2.0) / 2)
    assert row["median_hours_to_resolve"] == pytest.approx((2.0 + 32.0) / 2)
    assert row["share_resolved_in_time"] == 0.333  # 1 of the 3 (the question is past its deadline, open)
    assert row["mean_rating"] == 3.5 and row["ratings"] == 2
    assert row["district"] and row["lat"] and row["venue_name"]
    geo = (await client.get("/api/v1/opendata/case_stats.geojson")).json()
    assert geo["type"] == "FeatureCollection" and any(
        f["properties"]["venue_slug"] == STATS_VENUE for f in geo["features"]
    )

    for dataset in DATASETS:
        for ext in ("json", "csv", "geojson"):
            for lang in ("zh", "en"):
                body = (await client.get(f"/api/v1/opendata/{dataset}.{ext}", params={"lang": lang})).content
                text = body.decode("utf-8-sig")
                for needle in (words, phone, "136****4321", visitor["email"], fast["id"], "秘密词"):
                    assert needle not in text, (dataset, ext, needle)

    board = (await client.get("/api/v1/cases/summary", headers=(await make_account("governance"))["headers"])).json()
    assert board["by_status"].get("resolved", 0) >= 2 and board["overdue"] >= 1
    assert board["mean_rating"] is not None and 0 <= board["share_resolved_in_time"] <= 1
    assert (await client.get("/api/v1/cases/summary", headers=staff["headers"])).status_code == 403
