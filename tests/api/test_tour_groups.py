"""Travel agencies' tour groups: one party per slot, the guide's details masked, the day's groups and
coaches in the platform's daily figures."""

from __future__ import annotations

import pytest

from backend.governance.services import supervision
from backend.governance.tables import TourGroup
from tests.api.reservation_helpers import fresh_slot, slot_by_id

pytestmark = pytest.mark.anyio


def group(slot: dict, venue: str, size: int = 25, **extra) -> dict:
    return {
        "guide_name": "王导游",
        "guide_phone": "+86 139 1234 5678",
        "size": size,
        "coach_plate": "苏D 8X123",
        "visit_date": slot["starts_at"][:10],
        "itinerary": [
            {"venue_slug": venue, "arrives_at": slot["starts_at"], "slot_id": slot["id"]},
            {"venue_slug": "qingguo-lane", "arrives_at": slot["ends_at"]},
        ],
        **extra,
    }


async def test_an_agency_books_a_slot_for_its_group_as_one_party(client, make_account):
    from datetime import date

    venue = "changzhou-museum"
    agency = await make_account("agency")
    slot = await fresh_slot(client, venue)
    res = await client.post("/api/v1/tour-groups", headers=agency["headers"], json=group(slot, venue))
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["size"] == 25 and body["coach_plate"] == "苏D8X123"
    assert body["guide_name_masked"] == "王*游" and "1234" not in body["guide_phone_masked"][:-4]
    assert body["guide_phone_masked"].endswith("5678") and "*" in body["guide_phone_masked"]
    stop = body["itinerary"][0]
    assert stop["reservation_id"] and stop["slot_id"] == slot["id"]
    after = await slot_by_id(client, venue, slot["id"])
    assert after["remaining"] == slot["remaining"] - 25
    mine = await client.get(f"/api/v1/reservations/{stop['reservation_id']}", headers=agency["headers"])
    assert mine.json()["party_size"] == 25 and mine.json()["status"] == "confirmed"

    listed = (await client.get("/api/v1/tour-groups", headers=agency["headers"])).json()
    assert listed[0]["id"] == body["id"] and listed[0]["guide_name_masked"] == "王*游"
    row = await TourGroup.select().where(TourGroup.agency_user_id == agency["id"]).first()
    assert "王导游" not in str(row) and "13912345678" not in str(row).replace(" ", "")

    figures = await supervision.daily_figures(date.fromisoformat(body["visit_date"]))
    museum = next(f for f in figures if f["venue_slug"] == venue)
    lane = next(f for f in figures if f["venue_slug"] == "qingguo-lane")
    assert museum["tour_groups"] >= 1 and museum["coaches"] >= 1 and museum["group_visitors"] >= 25
    assert lane["tour_groups"] >= 1


async def test_a_group_larger_than_the_seats_left_is_refused(client, make_account):
    venue = "changzhou-museum"
    agency = await make_account("agency")
    slot = await fresh_slot(client, venue)
    res = await client.post(
        "/api/v1/tour-groups", headers=agency["headers"], json=group(slot, venue, size=slot["remaining"] + 1)
    )
    assert res.status_code in (400, 409)
    assert (await slot_by_id(client, venue, slot["id"]))["remaining"] == slot["remaining"]


async def test_only_agencies_register_groups(client, make_account):
    tourist = await make_account("tourist")
    slot = await fresh_slot(client, "changzhou-museum")
    res = await client.post("/api/v1/tour-groups", headers=tourist["headers"], json=group(slot, "changzhou-museum"))
    assert res.status_code == 403
