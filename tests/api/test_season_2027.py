"""A season to sell (issue 18, 8): content/events_2027.toml carries the calendar through 2027 — the Spring
Festival, Qingming, May Day, Dragon Boat, Mid-Autumn and National Day programmes of Changzhou's venues, in
zh and en — and its performances are on sale (content/tickets.toml)."""

from __future__ import annotations

import tomllib
from datetime import date, datetime

import pytest

from backend.lib.clock import CITY_TZ, clock
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio

FESTIVALS = {  # the 2027 holiday windows
    "spring_festival": (date(2027, 2, 6), date(2027, 2, 12)),
    "qingming": (date(2027, 4, 3), date(2027, 4, 5)),
    "may_day": (date(2027, 5, 1), date(2027, 5, 5)),
    "dragon_boat": (date(2027, 6, 9), date(2027, 6, 11)),
    "mid_autumn": (date(2027, 9, 15), date(2027, 9, 17)),
    "national_day": (date(2027, 10, 1), date(2027, 10, 7)),
}


def season() -> list[dict]:
    return tomllib.loads((ROOT / "content" / "events_2027.toml").read_text(encoding="utf-8"))["event"]


def all_events() -> list[dict]:
    return [
        e for f in sorted((ROOT / "content").glob("events*.toml")) for e in tomllib.loads(f.read_text("utf-8"))["event"]
    ]


def ticketing() -> list[dict]:
    return tomllib.loads((ROOT / "content" / "tickets.toml").read_text(encoding="utf-8"))["ticketing"]


def ticketed() -> set[str]:
    return {t["event_slug"] for t in ticketing()}


def test_an_event_that_sells_tickets_is_listed_at_its_cheapest_zone():
    """The price a list or an event page shows ("from") is one a visitor can buy: the cheapest zone."""
    listed = {e["slug"]: e["price_fen"] for e in all_events()}
    for t in ticketing():
        assert listed[t["event_slug"]] == min(t["zones"].values()), t["event_slug"]


def test_every_festival_of_2027_has_a_programme_with_tickets_to_sell():
    events = season()
    for e in events:
        assert e["title"]["zh"] != e["title"]["en"] and e["summary"]["zh"] and e["summary"]["en"], e["slug"]
    sold = ticketed()
    for name, (first, last) in FESTIVALS.items():
        during = [e for e in events if first <= e["starts_at"].date() <= last]
        assert during, f"nothing for {name}"
        assert any(e["slug"] in sold for e in during), f"no performance to sell at {name}"
    assert max(e["starts_at"] for e in events).year == 2027
    assert any(e.get("rrule") and e["slug"] in sold for e in events), "a standing series through the year"


async def test_the_season_is_loaded_and_on_sale(client):
    res = await client.get("/api/v1/events", params={"from": "2027-04-03", "to": "2027-04-06", "limit": 100})
    slugs = {i["slug"] for i in res.json()["items"]}
    assert {"qingming-canal-poetry-walk-2027", "qingming-sizhu-concert-2027"} <= slugs
    en = await client.get("/api/v1/events/mid-autumn-concert-2027", params={"lang": "en"})
    assert en.json()["title"] == "Mid-Autumn Concert: Full Moon over the Dragon City"
    ahead = [e for e in season() if e["slug"] in ticketed() and e["starts_at"].replace(tzinfo=CITY_TZ) > clock.now()]
    for e in ahead[:4]:
        ticketing = (await client.get(f"/api/v1/events/{e['slug']}")).json()["ticketing"]
        first = datetime.fromisoformat(ticketing["performances"][0]["starts_at"])
        assert first.date() >= e["starts_at"].date() and ticketing["performances"][0]["status"] == "open"
