"""Issue 16: help, complaints and SOS — the cases room through its API: routing and visibility, the
thread, statuses and the timeline, the rating, the contact phone (encrypted, masked, revealed on record)."""

from __future__ import annotations

import anyio
import pytest

from backend.audit.tables import AuditEntry
from backend.cases.tables import Case, CaseMessage
from backend.lib.clock import clock
from tests.api.case_helpers import OTHER_VENUE, PHONE, VENUE, file_case, move, read

pytestmark = pytest.mark.anyio


async def test_a_complaint_reaches_its_venue_staff_and_nobody_else(client, make_account):
    visitor, stranger = await make_account("tourist"), await make_account("tourist")
    staff, elsewhere = await make_account("staff", venues=(VENUE,)), await make_account("staff", venues=(OTHER_VENUE,))
    governance = await make_account("governance")
    case = await file_case(client, visitor, contact_phone=PHONE)
    assert case["status"] == "open" and case["priority"] == "high" and case["kind"] == "complaint"
    assert case["assigned_to"] == {"venue_slug": VENUE, "district": "xinbei"}
    assert case["ack_due_at"] < case["resolve_due_at"]
    assert case["contact_phone"] == "139****5678"
    cid = case["id"]

    for who in (staff, governance):
        res = await read(client, who, cid)
        assert res.status_code == 200, res.text
        assert res.json()["contact_phone"] == "139****5678"
        listed = (await client.get("/api/v1/cases", headers=who["headers"], params={"limit": 200})).json()
        assert cid in {c["id"] for c in listed["items"]}
    for who in (elsewhere, stranger):
        res = await read(client, who, cid)
        assert res.status_code == 404 and res.json()["code"] == "case_not_found"
        listed = (await client.get("/api/v1/cases", headers=who["headers"], params={"limit": 200})).json()
        assert cid not in {c["id"] for c in listed["items"]}
        res = await client.post(f"/api/v1/cases/{cid}/messages", headers=who["headers"], json={"text": "hi"})
        assert res.status_code == 404
    assert (await move(client, elsewhere, cid, "acknowledged")).status_code == 404

    # replies both ways
    res = await client.post(f"/api/v1/cases/{cid}/messages", headers=staff["headers"], json={"text": "我们正在核实"})
    assert res.status_code == 201 and res.json()["author_role"] == "staff"
    res = await client.post(f"/api/v1/cases/{cid}/messages", headers=visitor["headers"], json={"text": "谢谢 call me"})
    assert res.status_code == 201 and res.json()["author_role"] == "visitor"
    thread = (await read(client, visitor, cid)).json()["messages"]
    assert [(m["author_role"], m["text"]) for m in thread] == [("staff", "我们正在核实"), ("visitor", "谢谢 call me")]
    assert (await read(client, staff, cid)).json()["messages"][1]["text"] == "谢谢 call me"

    # statuses, and the visitor rates once
    assert (await move(client, staff, cid, "acknowledged")).json()["status"] == "acknowledged"
    res = await client.post(f"/api/v1/cases/{cid}/rating", headers=visitor["headers"], json={"stars": 5})
    assert res.status_code == 409 and res.json()["code"] == "case_not_resolved"
    resolved = (await move(client, staff, cid, "resolved", note="refunded at the desk")).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    res = await client.post(f"/api/v1/cases/{cid}/rating", headers=staff["headers"], json={"stars": 5})
    assert res.status_code == 403 and res.json()["code"] == "not_case_visitor"
    res = await client.post(
        f"/api/v1/cases/{cid}/rating", headers=visitor["headers"], json={"stars": 4, "comment": "快"}
    )
    assert res.status_code == 200 and res.json()["rating"]["stars"] == 4
    again = await client.post(f"/api/v1/cases/{cid}/rating", headers=visitor["headers"], json={"stars": 1})
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    assert (await move(client, visitor, cid, "closed")).json()["status"] == "closed"

    timeline = (await read(client, visitor, cid)).json()["timeline"]
    assert [(t["action"], t["status"], t["by_role"]) for t in timeline] == [
        ("opened", "open", "visitor"),
        ("transition", "acknowledged", "staff"),
        ("transition", "resolved", "staff"),
        ("rated", "resolved", "visitor"),
        ("transition", "closed", "visitor"),
    ]
    assert timeline[2]["note"] == "refunded at the desk"
    assert all(t["at"].endswith("+08:00") for t in timeline)
    res = await client.post(f"/api/v1/cases/{cid}/messages", headers=visitor["headers"], json={"text": "one more"})
    assert res.status_code == 409 and res.json()["code"] == "case_closed"


async def test_moves_off_the_graph_are_409_and_visitors_cannot_handle(client, make_account):
    visitor, staff = await make_account("tourist"), await make_account("staff", venues=(VENUE,))
    cid = (await file_case(client, visitor))["id"]
    for to in ("resolved", "closed", "open"):
        res = await move(client, staff, cid, to)
        assert res.status_code == 409 and res.json()["code"] == "illegal_transition", (to, res.text)
    res = await move(client, visitor, cid, "acknowledged")
    assert res.status_code == 403 and res.json()["code"] == "transition_forbidden"
    res = await move(client, staff, cid, "bogus")
    assert res.status_code == 400
    # staff may escalate by hand; governance take it from there
    escalated = (await move(client, staff, cid, "escalated")).json()
    assert escalated["status"] == "escalated" and escalated["escalated_at"]
    governance = await make_account("governance")
    assert (await move(client, governance, cid, "acknowledged")).json()["status"] == "acknowledged"
    assert (await move(client, governance, cid, "resolved")).json()["status"] == "resolved"


async def test_two_handlers_acknowledging_at_once_move_the_case_once(client, make_account):
    visitor = await make_account("tourist")
    staff = [await make_account("staff", venues=(VENUE,)) for _ in range(3)]
    cid = (await file_case(client, visitor))["id"]
    statuses: list[int] = []

    async def ack(i: int) -> None:
        statuses.append((await move(client, staff[i % 3], cid, "acknowledged")).status_code)

    async with anyio.create_task_group() as tg:
        for i in range(12):
            tg.start_soon(ack, i)
    assert sorted(statuses) == [200] + [409] * 11
    timeline = (await read(client, visitor, cid)).json()["timeline"]
    assert [t["status"] for t in timeline].count("acknowledged") == 1


async def test_contact_phone_and_text_are_encrypted_at_rest_and_revealed_on_record(client, make_account):
    visitor, staff = await make_account("tourist"), await make_account("staff", venues=(VENUE,))
    secret_text = "我的包丢在二楼 ID 320402198112240017"
    case = await file_case(client, visitor, kind="lost_found", text=secret_text, contact_phone=PHONE)
    row = await Case.select().where(Case.public_id == case["id"]).first()
    assert PHONE not in str(row) and "二楼" not in str(row)
    assert row["contact_phone_masked"] == "139****5678"
    # the visitor sees their own words; staff see them with the ID number masked
    assert (await read(client, visitor, case["id"])).json()["text"] == secret_text
    seen = (await read(client, staff, case["id"])).json()["text"]
    assert "320402198112240017" not in seen and "二楼" in seen

    res = await client.post(f"/api/v1/cases/{case['id']}/contact", headers=visitor["headers"])
    assert res.status_code == 403 and res.json()["code"] == "not_case_handler"
    res = await client.post(f"/api/v1/cases/{case['id']}/contact", headers=staff["headers"])
    assert res.status_code == 200 and res.json() == {"contact_phone": PHONE}
    timeline = (await read(client, visitor, case["id"])).json()["timeline"]
    assert ("contact_revealed", "staff") in {(t["action"], t["by_role"]) for t in timeline}
    audited = await AuditEntry.select(AuditEntry.action, AuditEntry.object).where(AuditEntry.actor_id == staff["id"])
    assert [a for a in audited if a["action"].startswith("POST") and a["action"].endswith("/contact")], audited

    await client.post(
        f"/api/v1/cases/{case['id']}/messages", headers=visitor["headers"], json={"text": "call 13800001111"}
    )
    stored = await CaseMessage.select().where(CaseMessage.author_id == visitor["id"])
    assert "13800001111" not in str(stored)
    assert "138****1111" in (await read(client, staff, case["id"])).json()["messages"][0]["text"]


async def test_sos_needs_a_location_is_urgent_and_has_two_minutes(client, make_account):
    visitor = await make_account("tourist")
    res = await client.post("/api/v1/cases", headers=visitor["headers"], json={"kind": "sos", "venue_slug": VENUE})
    assert res.status_code == 400 and res.json()["code"] == "location_required"
    res = await client.post("/api/v1/cases", headers=visitor["headers"], json={"kind": "complaint", "text": "  "})
    assert res.status_code == 400 and res.json()["code"] == "text_required"
    clock.freeze()
    sos = await file_case(client, visitor, kind="sos", text="", location={"lat": 31.8106, "lng": 119.9656})
    assert sos["priority"] == "urgent" and sos["location"]["lat"] == 31.8106
    from datetime import datetime

    opened = datetime.fromisoformat(sos["created_at"])
    assert (datetime.fromisoformat(sos["ack_due_at"]) - opened).total_seconds() == 120
    assert (datetime.fromisoformat(sos["resolve_due_at"]) - opened).total_seconds() == 86400

    # its location is refreshed while it is open; only by the visitor's phone, only for an SOS
    res = await client.post(
        f"/api/v1/cases/{sos['id']}/location",
        headers=visitor["headers"],
        json={"lat": 31.8110, "lng": 119.9660, "accuracy_m": 12},
    )
    assert res.status_code == 200 and res.json()["location"] == {"lat": 31.811, "lng": 119.966, "accuracy_m": 12.0}
    other = await file_case(client, visitor)
    res = await client.post(
        f"/api/v1/cases/{other['id']}/location", headers=visitor["headers"], json={"lat": 31.8, "lng": 119.9}
    )
    assert res.status_code == 409 and res.json()["code"] == "not_sos"


async def test_a_case_without_a_venue_goes_to_the_district_where_the_visitor_stands(client, make_account):
    visitor = await make_account("tourist")
    near_hongmei = {"lat": 31.7860, "lng": 119.9690}
    case = await file_case(
        client, visitor, venue_slug=None, kind="question", text="哪里有洗手间", location=near_hongmei
    )
    assert case["assigned_to"] == {"district": "tianning"} and case["priority"] == "normal"
    far = await file_case(
        client, visitor, venue_slug=None, kind="question", text="where?", location={"lat": 0, "lng": 0}
    )
    assert far["assigned_to"] == {}
    res = await client.post(
        "/api/v1/cases", headers=visitor["headers"], json={"kind": "question", "text": "x", "venue_slug": "nope"}
    )
    assert res.status_code == 400 and res.json()["code"] == "unknown_venue"
    # staff of a venue do not see a district's case; governance does
    staff = await make_account("staff", venues=(OTHER_VENUE,))
    assert (await read(client, staff, case["id"])).status_code == 404
    assert (await read(client, await make_account("governance"), case["id"])).status_code == 200


async def test_lists_filter_by_status_venue_and_overdue(client, make_account):
    visitor, staff = await make_account("tourist"), await make_account("staff", venues=(VENUE,))
    first = await file_case(client, visitor)
    second = await file_case(client, visitor)
    await move(client, staff, second["id"], "acknowledged")
    mine = (await client.get("/api/v1/cases", headers=visitor["headers"])).json()
    assert mine["total"] == 2 and [c["id"] for c in mine["items"]] == [second["id"], first["id"]]
    assert all(c["mine"] for c in mine["items"])
    acked = (await client.get("/api/v1/cases", headers=visitor["headers"], params={"status": "acknowledged"})).json()
    assert [c["id"] for c in acked["items"]] == [second["id"]]
    assert (await client.get("/api/v1/cases", headers=visitor["headers"], params={"overdue": "true"})).json()[
        "total"
    ] == 0
    clock.set(clock.now().replace(microsecond=0) + __import__("datetime").timedelta(hours=2))
    late = (await client.get("/api/v1/cases", headers=visitor["headers"], params={"overdue": "true"})).json()
    # the first missed its acknowledge deadline (unless the sweeper escalated it already: overdue either way)
    assert first["id"] in {c["id"] for c in late["items"]}
    assert second["id"] not in {c["id"] for c in late["items"]}
    venue_only = (await client.get("/api/v1/cases", headers=staff["headers"], params={"venue": OTHER_VENUE})).json()
    assert all(c["assigned_to"].get("venue_slug") == OTHER_VENUE for c in venue_only["items"])


async def test_a_case_about_a_merchant_goes_to_the_merchant_district(client, make_account):
    visitor = await make_account("tourist")
    case = await file_case(
        client, visitor, venue_slug=None, merchant_id="qingguo-lane-noodle-house", text="面里有头发", location=None
    )
    assert case["assigned_to"] == {"district": "tianning"} and case["merchant_id"] == "qingguo-lane-noodle-house"
    res = await client.post(
        "/api/v1/cases", headers=visitor["headers"], json={"kind": "complaint", "text": "x", "merchant_id": "nope"}
    )
    assert res.status_code == 400 and res.json()["code"] == "unknown_merchant"
