"""Ticket types and concessions (issue 18, 1): the type from the resident ID's birth date, eligibility
refused with 400 `ticket_type_not_eligible`, per-venue rules (half, free, fixed), the cards the gate must
see, the quote before booking, and a total that is the sum of the visitors' prices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.lib.booking_numbers import booking_number
from backend.lib.clock import clock
from backend.lib.id_documents import resident_id_check_char
from backend.lib.problems import InvalidInput
from backend.lib.ticket_types import DEFAULT_RULES, PriceRule, parse_rule, ticket_for
from tests.api.reservation_helpers import fresh_slot, resident_id

pytestmark = pytest.mark.anyio

PAID = "china-dinosaur-park"  # ¥260; content/tickets.toml: child fixed ¥200, senior fixed ¥160, disabled free
FREE = "changzhou-museum"


def born_years_ago(years: int, extra_days: int = 30) -> str:
    day = clock.city_today() - timedelta(days=365 * years + years // 4 + extra_days)
    return f"{day:%Y%m%d}"


def person(name: str, years: int, ticket_type: str | None = None) -> dict:
    v = {"name": name, "id_type": "resident_id", "id_number": resident_id(born_years_ago(years))}
    if ticket_type:
        v["ticket_type"] = ticket_type
    return v


async def book(client, me, slot, visitors):
    return await client.post(
        "/api/v1/reservations", headers=me["headers"], json={"slot_id": slot["id"], "visitors": visitors}
    )


async def test_a_65_year_old_gets_the_senior_price_without_asking(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, PAID)
    res = await book(client, me, slot, [person("王建国", 65), person("王小明", 35), person("王乐乐", 9)])
    assert res.status_code == 201, res.text
    body = res.json()
    types = [(v["ticket_type"], v["price_fen"]) for v in body["visitors"]]
    assert types == [("senior", 16000), ("adult", 26000), ("child", 20000)]
    assert body["amount_fen"] == sum(v["price_fen"] for v in body["visitors"]) == 62000
    again = await client.get(f"/api/v1/reservations/{body['id']}", headers=me["headers"])
    assert [v["ticket_type"] for v in again.json()["visitors"]] == ["senior", "adult", "child"]
    # a booking number people can read out (issue 18, 5): the same every time, from the id
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", body["number"])
    assert again.json()["number"] == body["number"] == booking_number(body["id"])


async def test_a_30_year_old_asking_for_senior_is_refused(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, PAID)
    res = await book(client, me, slot, [person("李四", 30, "senior")])
    assert res.status_code == 400, res.text
    problem = res.json()
    assert problem["code"] == "ticket_type_not_eligible" and "ticket_type" in res.text
    res = await book(client, me, slot, [person("李五", 25, "child")])
    assert res.status_code == 400 and res.json()["code"] == "ticket_type_not_eligible"
    after = (await client.get(f"/api/v1/venues/{PAID}/slots", params={"date": slot["starts_at"][:10]})).json()
    assert next(s for s in after["items"] if s["id"] == slot["id"])["remaining"] == slot["remaining"], "nothing held"


async def test_cards_are_flagged_for_the_gate_and_free_types_confirm_at_once(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, PAID)
    res = await book(client, me, slot, [person("赵六", 40, "disabled"), person("赵七", 70)])
    assert res.status_code == 201, res.text
    body = res.json()
    disabled, senior = body["visitors"]
    assert disabled["ticket_type"] == "disabled" and disabled["price_fen"] == 0
    assert disabled["check_at_gate"] == "disability_certificate"
    assert senior["ticket_type"] == "senior" and "check_at_gate" not in senior, "the ID proved the age"
    assert body["amount_fen"] == 16000 and body["status"] == "pending_payment"
    other = await make_account("tourist")
    res = await book(client, other, slot, [person("钱八", 40, "military")])
    assert res.status_code == 201 and res.json()["status"] == "confirmed" and res.json()["amount_fen"] == 0
    assert res.json()["visitors"][0]["check_at_gate"] == "military_id"
    passport = {"name": "Anna Berg", "id_type": "passport", "id_number": "P12345678", "ticket_type": "senior"}
    res = await book(client, await make_account("tourist"), slot, [passport])
    assert res.status_code == 201, res.text
    assert res.json()["visitors"][0]["check_at_gate"] == "proof_of_age", "a passport carries no birth date"


async def test_the_quote_shows_total_rules_entry_and_deadline_before_booking(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, PAID)
    visitors = [person("孙一", 66), person("孙二", 36, "student")]
    res = await client.post(
        "/api/v1/tickets/quote",
        headers=me["headers"],
        json={"slot_id": slot["id"], "visitors": [{k: v for k, v in p.items() if k != "name"} for p in visitors]},
    )
    assert res.status_code == 200, res.text
    quote = res.json()
    assert [(x["ticket_type"], x["price_fen"], x["automatic"]) for x in quote["lines"]] == [
        ("senior", 16000, True),
        ("student", 20000, False),
    ]
    assert quote["lines"][1]["check_at_gate"] == "student_card"
    assert quote["total_fen"] == 36000 and quote["entry_note"] == "可提前 30 分钟入场"
    assert quote["cancel_deadline"] < quote["starts_at"] and "退款" in quote["refund_rule"]
    assert {r["ticket_type"] for r in quote["rules"]} == {"adult", "child", "senior", "student", "disabled", "military"}
    booked = await book(client, me, slot, visitors)
    assert booked.status_code == 201 and booked.json()["amount_fen"] == quote["total_fen"], "quoted is charged"
    assert booked.json()["cancel_deadline"] == quote["cancel_deadline"]
    en = await client.post(
        "/api/v1/tickets/quote?lang=en",
        headers=me["headers"],
        json={"slot_id": slot["id"], "visitors": [{"id_type": "resident_id", "id_number": resident_id("19800101")}]},
    )
    assert en.json()["entry_note"] == "Entry from 30 minutes before the start"
    assert (await client.post("/api/v1/tickets/quote", json={"slot_id": slot["id"], "visitors": []})).status_code in (
        400,
        401,
    )


async def test_venue_ticket_types_list_rules_and_prices(client):
    res = await client.get(f"/api/v1/venues/{PAID}/ticket-types")
    assert res.status_code == 200
    body = res.json()
    by = {i["ticket_type"]: i for i in body["items"]}
    assert body["full_price_fen"] == 26000 and by["adult"]["price_fen"] == 26000
    assert by["senior"]["rule"] == "fixed:16000" and by["senior"]["price_fen"] == 16000
    assert by["disabled"]["price_fen"] == 0 and by["disabled"]["check_at_gate"] == "disability_certificate"
    assert (await client.get("/api/v1/venues/no-such-venue/ticket-types")).status_code == 404


async def test_free_slot_stays_free_whatever_the_type(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, FREE)
    res = await book(client, me, slot, [person("周一", 70), person("周二", 20, "student")])
    assert res.status_code == 201 and res.json()["status"] == "confirmed" and res.json()["amount_fen"] == 0


def test_rules_and_eligibility_as_pure_functions():
    day = clock.city_today()
    rules = {**DEFAULT_RULES, "child": parse_rule("fixed:3000"), "military": parse_rule("none")}
    sixty = resident_id(f"{day.year - 61}0101")  # sixty or more whatever the day
    assert ticket_for(None, "resident_id", sixty, day, 8000, rules).ticket_type == "senior"
    assert ticket_for(None, "resident_id", sixty, day, 8000, rules).price_fen == 4000
    assert ticket_for("child", "resident_id", resident_id("20200101"), day, 8000, rules).price_fen == 3000
    assert ticket_for("child", "resident_id", resident_id("20200101"), day, 2000, rules).price_fen == 2000
    assert PriceRule("half").price(8001) == 4001
    with pytest.raises(InvalidInput) as refused:
        ticket_for("military", "resident_id", sixty, day, 8000, rules)
    assert refused.value.code == "ticket_type_not_offered"
    with pytest.raises(ValueError):
        parse_rule("quarter")

    # birthdays: 18 on the day itself (adult), still a child the day before; 59 the day before turning 60
    def born(years: int, plus_days: int = 0) -> str:
        try:
            anniversary = day.replace(year=day.year - years)
        except ValueError:  # 29 February
            anniversary = day.replace(year=day.year - years, day=28)
        return f"{anniversary + timedelta(days=plus_days):%Y%m%d}"

    def exact_id(birth: str) -> str:  # this birth date exactly (reservation_helpers' shifts a day per thousand)
        first17 = f"320402{birth}123"
        return first17 + resident_id_check_char(first17)

    eighteen_tomorrow = exact_id(born(18, 1))
    assert ticket_for(None, "resident_id", eighteen_tomorrow, day, 8000, DEFAULT_RULES).ticket_type == "child"
    turned = exact_id(born(18))
    assert ticket_for(None, "resident_id", turned, day, 8000, DEFAULT_RULES).ticket_type == "adult"
    fifty_nine = exact_id(born(60, 1))
    with pytest.raises(InvalidInput) as young:
        ticket_for("senior", "resident_id", fifty_nine, day, 8000, DEFAULT_RULES)
    assert young.value.code == "ticket_type_not_eligible"
    assert ticket_for("senior", "passport", "E12345678", day, 8000, DEFAULT_RULES).check_at_gate == "proof_of_age"
