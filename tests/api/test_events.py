"""Events (issue 6): occurrences in a range, filters, Chinese search, languages, detail, bad input,
the iCalendar feeds (read back with icalendar and with the independent `ics` parser), the personal
calendar token."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import ics
import pytest
from icalendar import Calendar

from backend.lib.clock import clock
from tests.api.reservation_helpers import fresh_slot, visitor
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio
CITY = ZoneInfo("Asia/Shanghai")


def _window(days: int = 30) -> tuple[str, str, datetime, datetime]:
    start = clock.city_now().replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=days)
    return start.date().isoformat(), (end - timedelta(days=1)).date().isoformat(), start, end


async def _all(client, **params) -> list[dict]:
    items, offset = [], 0
    while True:
        res = await client.get("/api/v1/events", params={**params, "limit": 200, "offset": offset})
        assert res.status_code == 200, res.text
        body = res.json()
        items += body["items"]
        offset += 200
        if offset >= body["total"]:
            assert len(items) == body["total"]
            return items


def test_content_has_60_events_in_zh_and_en_with_recurring_series():
    events = tomllib.loads((ROOT / "content" / "events.toml").read_text(encoding="utf-8"))["event"]
    assert len(events) >= 60
    assert sum(1 for e in events if e.get("rrule")) >= 10 and any(e.get("exdates") for e in events)
    for e in events:
        assert e["title"]["zh"] != e["title"]["en"] and e["summary"]["en"], e["slug"]
    cats = {e["category"] for e in events}
    assert {"performance", "exhibition", "festival", "lecture", "family", "night_tour"} <= cats
    assert {"rural_tourism", "intangible_heritage", "workshop"} <= cats
    titles = " ".join(e["title"]["zh"] for e in events)
    for word in ("锡剧", "评弹", "留青竹刻", "乱针绣", "梳篦", "运河"):
        assert word in titles, word


async def test_next_30_days_has_20_occurrences_and_every_one_overlaps(client):
    from_, to, start, end = _window()
    items = await _all(client, **{"from": from_, "to": to})
    assert len(items) >= 20
    for item in items:
        assert datetime.fromisoformat(item["starts_at"]) < end and datetime.fromisoformat(item["ends_at"]) > start
        assert item["occurrence_id"].startswith(item["slug"] + "@")
    by_slug: dict[str, int] = {}
    for item in items:
        by_slug[item["slug"]] = by_slug.get(item["slug"], 0) + 1
    assert sum(1 for n in by_slug.values() if n >= 3) >= 5, "some events recur within the month"
    assert len({i["occurrence_id"] for i in items}) == len(items)
    starts = [i["starts_at"] for i in items]
    assert [datetime.fromisoformat(s) for s in starts] == sorted(datetime.fromisoformat(s) for s in starts)


async def test_an_exception_date_is_left_out_of_a_series(client):
    items = await _all(client, **{"from": "2027-02-06", "to": "2027-02-06", "venue": "changzhou-grand-theatre"})
    assert "xiju-weekend-classics" not in {i["slug"] for i in items}
    items = await _all(client, **{"from": "2027-01-30", "to": "2027-01-30", "venue": "changzhou-grand-theatre"})
    assert "xiju-weekend-classics" in {i["slug"] for i in items}


async def test_category_free_venue_and_district_filters_return_only_matches(client):
    from_, to, _, _ = _window(60)
    for category in ("performance", "night_tour", "intangible_heritage"):
        items = await _all(client, **{"from": from_, "to": to, "category": category})
        assert items and all(i["category"] == category for i in items)
    both = await _all(client, **{"from": from_, "to": to, "category": "performance,lecture"})
    assert {i["category"] for i in both} == {"performance", "lecture"}
    free = await _all(client, **{"from": from_, "to": to, "free": "true"})
    paid = await _all(client, **{"from": from_, "to": to, "free": "false"})
    assert free and paid and all(i["price_fen"] == 0 for i in free) and all(i["price_fen"] > 0 for i in paid)
    at_theatre = await _all(client, **{"from": from_, "to": to, "venue": "changzhou-grand-theatre"})
    assert at_theatre and all(i["venue_slug"] == "changzhou-grand-theatre" for i in at_theatre)
    liyang = await _all(client, **{"from": from_, "to": to, "district": "liyang"})
    assert liyang and all(i["district"] == "liyang" for i in liyang)


async def test_chinese_and_english_words_are_found(client):
    xiju = await _all(client, q="锡剧")
    assert xiju and all("锡剧" in i["title"] + i["summary"] for i in xiju)
    comb = await _all(client, q="梳篦")
    assert {"comb-making-demo", "comb-workshop-biji-lane"} <= {i["slug"] for i in comb}
    canal = await _all(client, q="night cruise", lang="en")
    assert "canal-night-cruise-dongpo" in {i["slug"] for i in canal}
    assert await _all(client, q="ＮＩＧＨＴ ＣＲＵＩＳＥ") == await _all(client, q="night cruise")  # full-width typed
    assert await _all(client, q="不存在的活动名") == []


async def test_near_with_radius_and_nearest_sort(client):
    centre = "31.7795,119.9561"  # 南大街
    near = await _all(client, near=centre, radius_m=3000, sort="nearest")
    assert near and all(i["distance_m"] <= 3000 for i in near)
    distances = [i["distance_m"] for i in near]
    assert distances == sorted(distances)
    everything = await _all(client)
    assert len(near) < len(everything)


async def test_english_titles_and_detail_with_occurrences(client):
    res = await client.get("/api/v1/events/canal-night-cruise-dongpo", params={"lang": "en"})
    assert res.status_code == 200
    body = res.json()
    assert body["title"] == "Old Grand Canal Night Cruise from Dongpo Park"
    assert body["rrule"].startswith("FREQ=WEEKLY") and body["exdates"]
    assert len(body["occurrences"]) >= 5 and body["occurrence_id"] == body["occurrences"][0]["occurrence_id"]
    second = body["occurrences"][1]
    one = await client.get(
        "/api/v1/events/canal-night-cruise-dongpo", params={"occurrence_id": second["occurrence_id"]}
    )
    assert one.status_code == 200 and one.json()["starts_at"] == second["starts_at"]
    assert (
        await client.get("/api/v1/events/canal-night-cruise-dongpo", params={"occurrence_id": "x@1"})
    ).status_code == 404
    theatre = (await client.get("/api/v1/events/new-year-concert-2027")).json()
    assert theatre["bookable"] is True and theatre["venue_slug"] == "changzhou-grand-theatre"
    assert (await client.get("/api/v1/events/liyang-no1-road-ride")).json()["bookable"] is False
    assert (await client.get("/api/v1/events/no-such-event")).status_code == 404
    one_ics = await client.get("/api/v1/events/canal-night-cruise-dongpo/calendar.ics")
    cal = Calendar.from_ical(one_ics.content)
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == ["event-canal-night-cruise-dongpo@changxiang.app"]
    assert len(ics.Calendar(one_ics.text).events) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"from": "yesterday"},
        {"to": "2027-02-30"},
        {"from": "2027-01-10", "to": "2027-01-01"},
        {"from": "2026-01-01", "to": "2028-01-01"},
        {"category": "opera"},
        {"district": "pudong"},
        {"near": "north"},
        {"radius_m": "500"},
        {"sort": "nearest"},
        {"free": "maybe"},
        {"lang": "fr"},
    ],
)
async def test_bad_input_is_400_problem_json(client, params):
    for path in ("/api/v1/events", "/api/v1/events.ics"):
        res = await client.get(path, params=params)
        if path.endswith(".ics") and "sort" in params:
            continue
        assert res.status_code == 400, (path, params, res.text)
        assert res.headers["content-type"].startswith("application/problem+json")
        assert res.json()["code"]


async def test_ics_feed_parses_with_two_parsers_and_holds_every_title_of_the_range(client):
    from_, to, _, _ = _window()
    titles = {i["title"] for i in await _all(client, **{"from": from_, "to": to})}
    res = await client.get("/api/v1/events.ics", params={"from": from_, "to": to})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/calendar")
    text = res.text

    cal = Calendar.from_ical(res.content)
    assert cal["VERSION"] == "2.0" and cal["PRODID"] and cal["X-WR-CALNAME"]
    assert "REFRESH-INTERVAL;VALUE=DURATION:" in text
    tzids = {tz["TZID"] for tz in cal.walk("VTIMEZONE")}
    vevents = cal.walk("VEVENT")
    assert {str(e["SUMMARY"]) for e in vevents} == titles
    for ev in vevents:
        assert ev["UID"] and ev["DTSTAMP"] and ("SEQUENCE" in ev or "LAST-MODIFIED" in ev)
        for prop in ("DTSTART", "DTEND"):
            tzid = ev[prop].params.get("TZID")
            assert tzid == "Asia/Shanghai" and tzid in tzids
    assert any("RRULE" in ev for ev in vevents) and any("EXDATE" in ev for ev in vevents)
    assert len({str(e["UID"]) for e in vevents}) == len(vevents)

    other = ics.Calendar(text)  # ics.py: its own grammar and parser
    assert {e.name for e in other.events} == titles
    for e in other.events:
        assert e.uid and e.begin and e.end > e.begin


async def test_ics_feed_takes_the_same_filters_and_english(client):
    res = await client.get("/api/v1/events.ics", params={"category": "night_tour", "lang": "en"})
    cal = Calendar.from_ical(res.content)
    names = {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}
    assert "Old Grand Canal Night Cruise from Dongpo Park" in names
    assert all(n.isascii() for n in names) and "Changxiang" in str(cal["X-WR-CALNAME"])
    expected = {i["title"] for i in await _all(client, category="night_tour", lang="en")}
    assert names == expected


async def test_personal_calendar_token_shows_bookings_and_can_be_rotated_and_revoked(client, make_account):
    user = await make_account("tourist")
    h = user["headers"]
    assert (await client.get("/api/v1/me/calendar", headers=h)).json() == {"active": False}
    slot = await fresh_slot(client, "changzhou-museum")
    booked = await client.post("/api/v1/reservations", json={"slot_id": slot["id"], "visitors": [visitor()]}, headers=h)
    assert booked.status_code == 201, booked.text
    made = await client.post("/api/v1/me/calendar/token", headers=h)
    assert made.status_code == 201
    token = made.json()["token"]
    assert made.json()["url"].endswith(f"/api/v1/me/calendar.ics?token={token}")
    status = (await client.get("/api/v1/me/calendar", headers=h)).json()
    assert status["active"] is True and "token" not in status  # only shown once

    client.cookies.clear()
    feed = await client.get("/api/v1/me/calendar.ics", params={"token": token})
    assert feed.status_code == 200
    cal = Calendar.from_ical(feed.content)
    events = cal.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"reservation-{booked.json()['id']}@changxiang.app"]
    assert "常州博物馆" in str(events[0]["SUMMARY"])
    assert events[0]["DTSTART"].params["TZID"] in {tz["TZID"] for tz in cal.walk("VTIMEZONE")}
    assert len(ics.Calendar(feed.text).events) == 1

    rotated = (await client.post("/api/v1/me/calendar/token", headers=h)).json()["token"]
    assert (await client.get("/api/v1/me/calendar.ics", params={"token": token})).status_code == 404
    assert (await client.get("/api/v1/me/calendar.ics", params={"token": rotated})).status_code == 200
    assert (await client.delete("/api/v1/me/calendar/token", headers=h)).status_code == 204
    assert (await client.get("/api/v1/me/calendar.ics", params={"token": rotated})).status_code == 404
    assert (await client.post("/api/v1/me/calendar/token")).status_code == 401


async def test_calendar_token_is_stored_only_as_a_hash(client, make_account):
    from backend.events.tables import CalendarToken

    user = await make_account("tourist")
    token = (await client.post("/api/v1/me/calendar/token", headers=user["headers"])).json()["token"]
    row = await CalendarToken.select().where(CalendarToken.user_id == user["id"]).first()
    assert token not in str(row) and len(row["token_hash"]) == 64


async def test_articles_are_listed_in_both_languages(client):
    zh = (await client.get("/api/v1/articles", params={"limit": 200})).json()
    en = (await client.get("/api/v1/articles", params={"lang": "en", "limit": 200})).json()
    assert zh["total"] >= 5 and {a["kind"] for a in zh["items"]} == {"guide", "news"}
    assert [a["slug"] for a in zh["items"]] == [a["slug"] for a in en["items"]]
    assert all(a["title"] != b["title"] for a, b in zip(zh["items"], en["items"], strict=True))
    guides = (await client.get("/api/v1/articles", params={"kind": "guide"})).json()["items"]
    assert guides and all(a["kind"] == "guide" for a in guides)
    # the first of the city's own articles (other tests publish articles of their own, some without a body)
    ours = {a["slug"] for a in tomllib.loads((ROOT / "content" / "articles.toml").read_text("utf-8"))["article"]}
    first = next(a["slug"] for a in zh["items"] if a["slug"] in ours)
    one = await client.get(f"/api/v1/articles/{first}")
    assert one.status_code == 200 and one.json()["body"]
