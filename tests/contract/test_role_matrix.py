"""The role matrix: every endpoint × every role, from one table (`RULES`).

Each rule says who may pass the door: `PUBLIC` (anyone), `USER` (any signed-in account), a set of
roles (admin always passes), or `PARTNER` (a partner's own credential — signature or API key — that no
role token replaces). A role that may pass must not get 401/403; one that may not gets 403 (401 when
anonymous). `venue=True` rules also check that staff of another venue are refused for this one.
A route of the app without a rule fails `test_every_route_has_a_rule`: a new endpoint needs one.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.routes import ASGIRoute, HTTPRoute

from backend.app import create_app
from tests.contract.conftest import HERE, ROLES

PUBLIC = "public"
USER = "user"
PARTNER = "partner"
MATRIX_ROLES = ("anonymous", *ROLES)


@dataclass(frozen=True)
class Rule:
    who: str | frozenset[str]
    path: str | None = None  # the concrete path to call (default: the template itself)
    json: dict | None = None
    params: dict = field(default_factory=dict)
    venue: bool = False  # bound to HERE: staff of another venue are refused
    stream: bool = False  # an event stream: only the status line is read


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


STAFF = roles("staff")
MARKETING = roles("marketer")
SCAN = {"code": "not-a-code", "venue_slug": HERE}
# a gate phone's P-256 public key (uncompressed point, base64url), so the body passes validation and the door decides
GATE_KEY = (
    base64.urlsafe_b64encode(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    .rstrip(b"=")
    .decode()
)

RULES: dict[tuple[str, str], Rule] = {
    # accounts
    ("POST", "/api/v1/auth/login"): Rule(PUBLIC, json={"email": "x"}),
    ("POST", "/api/v1/auth/register"): Rule(PUBLIC, json={"email": "x"}),
    ("POST", "/api/v1/auth/sms-code"): Rule(PUBLIC, json={"phone": "x"}),
    ("PUT", "/api/v1/me/phone"): Rule(USER, json={}),
    ("POST", "/api/v1/auth/logout"): Rule(USER),
    ("GET", "/api/v1/me"): Rule(USER),
    ("PUT", "/api/v1/me/identity"): Rule(USER, json={}),
    ("GET", "/api/v1/me/identity"): Rule(USER),
    ("POST", "/api/v1/admin/users"): Rule(roles("admin"), json={}),
    # venues and timed entry
    ("GET", "/api/v1/venues"): Rule(PUBLIC),
    ("GET", "/api/v1/venues/{slug:str}"): Rule(PUBLIC, f"/api/v1/venues/{HERE}"),
    ("GET", "/api/v1/venues/{slug:str}/slots"): Rule(PUBLIC, f"/api/v1/venues/{HERE}/slots"),
    ("GET", "/api/v1/venues/{slug:str}/forecast"): Rule(PUBLIC, f"/api/v1/venues/{HERE}/forecast"),
    ("GET", "/api/v1/venues/{slug:str}/best-times"): Rule(PUBLIC, f"/api/v1/venues/{HERE}/best-times"),
    ("PATCH", "/api/v1/venues/{slug:str}/slots/{slot_id:int}"): Rule(
        STAFF, f"/api/v1/venues/{HERE}/slots/999999999", json={}, venue=True
    ),
    ("GET", "/api/v1/venues/{slug:str}/bookings"): Rule(STAFF, f"/api/v1/venues/{HERE}/bookings", venue=True),
    ("POST", "/api/v1/venues/{slug:str}/bookings/{reservation_id:str}/contact"): Rule(
        STAFF, f"/api/v1/venues/{HERE}/bookings/nope/contact", venue=True
    ),
    # reservations, notifications, pass
    ("GET", "/api/v1/reservations"): Rule(USER),
    ("POST", "/api/v1/reservations"): Rule(USER, json={}),
    ("GET", "/api/v1/reservations/{reservation_id:str}"): Rule(USER, "/api/v1/reservations/nope"),
    ("POST", "/api/v1/reservations/{reservation_id:str}/cancel"): Rule(USER, "/api/v1/reservations/nope/cancel"),
    ("POST", "/api/v1/reservations/{reservation_id:str}/checkout"): Rule(USER, "/api/v1/reservations/nope/checkout"),
    ("GET", "/api/v1/me/notifications"): Rule(USER),
    ("GET", "/api/v1/me/offers"): Rule(USER),
    ("POST", "/api/v1/me/offers/{offer_id:str}/accept"): Rule(USER, "/api/v1/me/offers/nope/accept", json={}),
    ("GET", "/api/v1/pass"): Rule(USER),
    ("GET", "/api/v1/pass/code"): Rule(USER),
    ("GET", "/api/v1/pass/code.svg"): Rule(USER),
    ("POST", "/api/v1/pass/device"): Rule(USER, json={}),
    # scanning
    ("POST", "/api/v1/scans"): Rule(STAFF, json=SCAN, venue=True),
    ("POST", "/api/v1/scans/batch"): Rule(STAFF, json={"items": [{**SCAN, "nonce": "matrix-1"}]}, venue=True),
    ("GET", "/api/v1/scans/keys"): Rule(STAFF),
    ("POST", "/api/v1/scans/device"): Rule(STAFF, json={"public_key": GATE_KEY}),
    ("GET", "/api/v1/scans/counts"): Rule(STAFF, params={"venue": HERE}, venue=True),
    ("GET", "/api/v1/scans/stream"): Rule(STAFF, params={"venue": HERE}, venue=True, stream=True),
    # events, articles, calendars
    ("GET", "/api/v1/events"): Rule(PUBLIC),
    ("GET", "/api/v1/events.ics"): Rule(PUBLIC),
    ("GET", "/api/v1/events/{slug:str}"): Rule(PUBLIC, "/api/v1/events/nope"),
    ("GET", "/api/v1/events/{slug:str}/calendar.ics"): Rule(PUBLIC, "/api/v1/events/nope/calendar.ics"),
    ("GET", "/api/v1/articles"): Rule(PUBLIC),
    ("GET", "/api/v1/articles/{slug:str}"): Rule(PUBLIC, "/api/v1/articles/nope"),
    ("GET", "/api/v1/me/calendar"): Rule(USER),
    ("POST", "/api/v1/me/calendar/token"): Rule(USER),
    ("DELETE", "/api/v1/me/calendar/token"): Rule(USER),
    ("GET", "/api/v1/me/calendar.ics"): Rule(PARTNER, params={"token": "not-a-token"}),  # the token is the key
    # publishing (marketers) and Piccolo Admin
    ("GET", "/api/v1/admin/{kind:str}"): Rule(MARKETING, "/api/v1/admin/events"),
    ("POST", "/api/v1/admin/{kind:str}"): Rule(MARKETING, "/api/v1/admin/events", json={}),
    ("GET", "/api/v1/admin/{kind:str}/{item_id:int}"): Rule(MARKETING, "/api/v1/admin/events/999999"),
    ("PATCH", "/api/v1/admin/{kind:str}/{item_id:int}"): Rule(MARKETING, "/api/v1/admin/events/999999", json={}),
    ("DELETE", "/api/v1/admin/{kind:str}/{item_id:int}"): Rule(MARKETING, "/api/v1/admin/events/999999"),
    ("GET", "/api/v1/admin/{kind:str}/{item_id:int}/transitions"): Rule(
        MARKETING, "/api/v1/admin/events/999999/transitions"
    ),
    ("POST", "/api/v1/admin/{kind:str}/{item_id:int}/transition"): Rule(
        MARKETING, "/api/v1/admin/events/999999/transition", json={"to": "in_review"}
    ),
    ("ASGI", "/admin"): Rule(MARKETING, "/admin/"),
    ("GET", "/api/v1/featured"): Rule(PUBLIC),  # editors' picks, as the public reads them
    # supervision platform, walk-ins, tour groups, open data, messages
    ("GET", "/api/v1/gov/occupancy"): Rule(roles("governance")),
    ("GET", "/api/v1/gov/occupancy/stream"): Rule(roles("governance"), stream=True),
    ("GET", "/api/v1/gov/forecast/peaks"): Rule(roles("governance")),
    ("POST", "/api/v1/gov/walk-ins"): Rule(
        STAFF, json={"venue_slug": HERE, "count": 1, "direction": "out"}, venue=True
    ),
    ("POST", "/api/v1/gov/directives"): Rule(PARTNER, json={}),
    ("POST", "/api/v1/gov/alerts"): Rule(PARTNER, json={}),
    ("GET", "/api/v1/tour-groups"): Rule(roles("agency")),
    ("POST", "/api/v1/tour-groups"): Rule(roles("agency"), json={}),
    ("POST", "/api/v1/tour-groups/{group_id:str}/approve"): Rule(
        roles("governance", "staff"), "/api/v1/tour-groups/00000000-0000-0000-0000-000000000000/approve"
    ),
    ("GET", "/api/v1/opendata"): Rule(PUBLIC),
    ("GET", "/api/v1/opendata/{file:str}"): Rule(PUBLIC, "/api/v1/opendata/venues.csv"),
    ("GET", "/api/v1/opendata/feeds/crowd-levels"): Rule(PUBLIC),
    ("GET", "/api/v1/me/notifications/stream"): Rule(USER, stream=True),
    ("POST", "/api/v1/me/notifications/{notification_id:int}/read"): Rule(USER, "/api/v1/me/notifications/999999/read"),
    # help, complaints and SOS; uploads
    ("POST", "/api/v1/cases"): Rule(USER, json={}),
    ("GET", "/api/v1/cases"): Rule(USER),
    ("GET", "/api/v1/cases/stream"): Rule(roles("staff", "governance"), stream=True),
    ("GET", "/api/v1/cases/summary"): Rule(roles("governance")),
    ("GET", "/api/v1/cases/{case_id:str}"): Rule(USER, "/api/v1/cases/nope"),
    ("POST", "/api/v1/cases/{case_id:str}/messages"): Rule(USER, "/api/v1/cases/nope/messages", json={"text": "x"}),
    ("POST", "/api/v1/cases/{case_id:str}/transition"): Rule(
        USER, "/api/v1/cases/nope/transition", json={"to": "acknowledged"}
    ),
    ("POST", "/api/v1/cases/{case_id:str}/rating"): Rule(USER, "/api/v1/cases/nope/rating", json={"stars": 5}),
    ("POST", "/api/v1/cases/{case_id:str}/location"): Rule(
        USER, "/api/v1/cases/nope/location", json={"lat": 31.78, "lng": 119.95}
    ),
    ("POST", "/api/v1/cases/{case_id:str}/contact"): Rule(USER, "/api/v1/cases/nope/contact"),
    ("GET", "/api/v1/cases/{case_id:str}/attachments/{upload_id:str}"): Rule(USER, "/api/v1/cases/nope/attachments/x"),
    ("POST", "/api/v1/uploads"): Rule(USER, json={}),
    ("GET", "/api/v1/uploads/{upload_id:str}"): Rule(USER, "/api/v1/uploads/nope"),
    # the marketers' photo library and galleries (issue 21); the photos themselves are public
    ("POST", "/api/v1/photos"): Rule(MARKETING, json={}),
    ("GET", "/api/v1/photos"): Rule(MARKETING),
    ("GET", "/api/v1/photos/{photo_id:str}"): Rule(MARKETING, "/api/v1/photos/nope"),
    ("PATCH", "/api/v1/photos/{photo_id:str}"): Rule(MARKETING, "/api/v1/photos/nope", json={"credit": "x"}),
    ("DELETE", "/api/v1/photos/{photo_id:str}"): Rule(MARKETING, "/api/v1/photos/nope"),
    ("GET", "/api/v1/galleries/{kind:str}/{slug:str}"): Rule(MARKETING, f"/api/v1/galleries/venues/{HERE}"),
    ("PUT", "/api/v1/galleries/{kind:str}/{slug:str}"): Rule(
        MARKETING, "/api/v1/galleries/venues/no-such-venue", json={"photo_ids": []}
    ),
    ("GET", "/media/p/{photo_id:str}/{name:str}"): Rule(PUBLIC, "/media/p/nope/640.webp"),
    ("HEAD", "/media/p/{photo_id:str}/{name:str}"): Rule(PUBLIC, "/media/p/nope/640.webp"),
    # payments and partner feeds
    ("POST", "/api/v1/payments/stripe/webhook"): Rule(PARTNER, json={}),
    ("POST", "/api/v1/amenities/status"): Rule(PARTNER, json={"evses": []}),
    # day plans (made and read with the plan's id; booked by its account)
    ("POST", "/api/v1/plans"): Rule(PUBLIC, json={}),
    ("GET", "/api/v1/plans/{plan_id:str}"): Rule(PUBLIC, "/api/v1/plans/nope"),
    ("POST", "/api/v1/plans/{plan_id:str}/book"): Rule(USER, "/api/v1/plans/nope/book", json={}),
    ("POST", "/api/v1/plans/{plan_id:str}/drop"): Rule(PUBLIC, "/api/v1/plans/nope/drop", json={}),
    # finder, tours, exhibitions
    ("GET", "/api/v1/amenities"): Rule(PUBLIC, params={"near": "31.78,119.95"}),
    ("GET", "/api/v1/tours"): Rule(PUBLIC),
    ("GET", "/api/v1/tours/{slug:str}"): Rule(PUBLIC, "/api/v1/tours/nope"),
    ("GET", "/api/v1/pois/{poi_id:str}"): Rule(PUBLIC, "/api/v1/pois/nope"),
    ("GET", "/api/v1/exhibitions"): Rule(PUBLIC),
    ("GET", "/api/v1/exhibitions/{slug:str}"): Rule(PUBLIC, "/api/v1/exhibitions/nope"),
    ("GET", "/api/v1/exhibitions/{slug:str}/manifest.json"): Rule(PUBLIC, "/api/v1/exhibitions/nope/manifest.json"),
    # search and the guide
    ("GET", "/api/v1/search"): Rule(PUBLIC, params={"q": "hongmei"}),
    ("POST", "/api/v1/guide/ask"): Rule(PUBLIC, json={"question": "红梅公园几点开门"}),
    # vouchers and cards (常州礼遇)
    ("GET", "/api/v1/merchants"): Rule(PUBLIC),
    ("GET", "/api/v1/merchants/{merchant_id:str}"): Rule(PUBLIC, "/api/v1/merchants/nope"),
    ("GET", "/api/v1/campaigns"): Rule(PUBLIC),
    ("GET", "/api/v1/campaigns/{campaign_id:int}"): Rule(PUBLIC, "/api/v1/campaigns/999999"),
    ("POST", "/api/v1/campaigns/{campaign_id:int}/claim"): Rule(USER, "/api/v1/campaigns/999999/claim"),
    ("POST", "/api/v1/campaigns/{campaign_id:int}/claim-ticket"): Rule(USER, "/api/v1/campaigns/999999/claim-ticket"),
    ("GET", "/api/v1/me/coupons"): Rule(USER),
    ("POST", "/api/v1/campaigns/{campaign_id:int}/apply"): Rule(USER, "/api/v1/campaigns/999999/apply"),
    ("GET", "/api/v1/campaigns/{campaign_id:int}/application"): Rule(USER, "/api/v1/campaigns/999999/application"),
    ("GET", "/api/v1/campaigns/{campaign_id:int}/draw"): Rule(PUBLIC, "/api/v1/campaigns/999999/draw"),
    ("POST", "/api/v1/redemptions"): Rule(roles("merchant"), json={"code": "not-a-code", "amount_fen": 100}),
    ("POST", "/api/v1/redemptions/{redemption_id:str}/reverse"): Rule(
        roles("merchant"), "/api/v1/redemptions/nope/reverse"
    ),
    ("GET", "/api/v1/merchant/settlement"): Rule(roles("merchant", "governance")),
    # tickets: concessions, performances, seats, online shows (issue 18)
    ("GET", "/api/v1/venues/{slug:str}/ticket-types"): Rule(PUBLIC, f"/api/v1/venues/{HERE}/ticket-types"),
    ("POST", "/api/v1/tickets/quote"): Rule(USER, json={}),
    ("GET", "/api/v1/performances/{performance_id:int}"): Rule(PUBLIC, "/api/v1/performances/999999999"),
    ("GET", "/api/v1/performances/{performance_id:int}/seats"): Rule(PUBLIC, "/api/v1/performances/999999999/seats"),
    ("POST", "/api/v1/performances/{performance_id:int}/holds"): Rule(
        USER, "/api/v1/performances/999999999/holds", json={}
    ),
    ("DELETE", "/api/v1/performances/{performance_id:int}/holds/{hold_id:str}"): Rule(
        USER, "/api/v1/performances/999999999/holds/h_nope"
    ),
    ("GET", "/api/v1/shows"): Rule(PUBLIC),
    ("GET", "/api/v1/shows/{slug:str}"): Rule(PUBLIC, "/api/v1/shows/nope"),
    ("GET", "/api/v1/shows/{slug:str}/hls/{name:str}"): Rule(  # the signature is the key
        PARTNER, "/api/v1/shows/nope/hls/index.m3u8", params={"exp": "1", "sig": "x"}
    ),
    ("GET", "/api/v1/me/shows/{slug:str}"): Rule(USER, "/api/v1/me/shows/nope"),
    # operations, documents and the app itself
    ("GET", "/healthz"): Rule(PUBLIC),
    ("GET", "/readyz"): Rule(PUBLIC),
    ("GET", "/metrics"): Rule(PUBLIC),
    ("GET", "/schema"): Rule(PUBLIC),
    ("GET", "/schema/swagger"): Rule(PUBLIC),
    ("GET", "/schema/openapi.json"): Rule(PUBLIC),
    ("GET", "/schema/{path:str}"): Rule(PUBLIC, "/schema/openapi.yaml"),
    ("GET", "/schema/oauth2-redirect.html"): Rule(PUBLIC),
    ("GET", "/"): Rule(PUBLIC),
    ("GET", "/{file_path:path}"): Rule(PUBLIC, "/index.html"),
    ("HEAD", "/{file_path:path}"): Rule(PUBLIC, "/index.html"),
    ("GET", "/assets/{file_path:path}"): Rule(PUBLIC, "/assets/nope.js"),
    ("HEAD", "/assets/{file_path:path}"): Rule(PUBLIC, "/assets/nope.js"),
    ("GET", "/media/{file_path:path}"): Rule(PUBLIC, "/media/nope.png"),
    ("HEAD", "/media/{file_path:path}"): Rule(PUBLIC, "/media/nope.png"),
    ("GET", "/media/w/{width:int}/{path:path}"): Rule(PUBLIC, "/media/w/640/nope.png"),
    ("HEAD", "/media/w/{width:int}/{path:path}"): Rule(PUBLIC, "/media/w/640/nope.png"),
    ("GET", "/tiles/{z:int}/{x:int}/{y:str}"): Rule(PUBLIC, "/tiles/12/3420/1660.png"),
    ("GET", "/venues/{slug:str}"): Rule(PUBLIC, "/venues/changzhou-museum"),  # the app shell, its hero preloaded
    ("HEAD", "/venues/{slug:str}"): Rule(PUBLIC, "/venues/changzhou-museum"),
    ("GET", "/iiif/{identifier:str}"): Rule(PUBLIC, "/iiif/nope~nope"),
    ("GET", "/iiif/{identifier:str}/info.json"): Rule(PUBLIC, "/iiif/nope~nope/info.json"),
    ("GET", "/iiif/{identifier:str}/{region:str}/{size:str}/{rotation:str}/{filename:str}"): Rule(
        PUBLIC, "/iiif/needle-and-paper~lotus/full/max/0/default.jpg"
    ),
    ("GET", "/api/v1/config"): Rule(PUBLIC),
    ("GET", "/schema-ui/{file_path:path}"): Rule(PUBLIC, "/schema-ui/swagger-ui/swagger-ui.css"),
    ("HEAD", "/schema-ui/{file_path:path}"): Rule(PUBLIC, "/schema-ui/swagger-ui/swagger-ui.css"),
}


# The same doors through the concrete path of each publishable kind added later (the templates above are
# called with `events`): editors' picks, written by marketers and admins only (issue 21, item 3).
KIND_DOORS: list[tuple[str, Rule]] = [
    ("GET", Rule(MARKETING, "/api/v1/admin/featured")),
    ("POST", Rule(MARKETING, "/api/v1/admin/featured", json={})),
    ("GET", Rule(MARKETING, "/api/v1/admin/featured/999999")),
    ("PATCH", Rule(MARKETING, "/api/v1/admin/featured/999999", json={})),
    ("DELETE", Rule(MARKETING, "/api/v1/admin/featured/999999")),
    ("GET", Rule(MARKETING, "/api/v1/admin/featured/999999/transitions")),
    ("POST", Rule(MARKETING, "/api/v1/admin/featured/999999/transition", json={"to": "in_review"})),
]


def app_routes() -> set[tuple[str, str]]:
    out = set()
    for route in create_app().routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                out |= {(method, route.path) for method in handler.http_methods if method != "OPTIONS"}
        elif isinstance(route, ASGIRoute):
            out.add(("ASGI", route.path))  # a mounted app (Piccolo Admin): its door is checked with GET
    return out


def test_every_route_has_a_rule():
    missing = sorted(app_routes() - RULES.keys())
    assert not missing, f"endpoints without a rule in the role matrix: {missing}"
    stale = sorted(RULES.keys() - app_routes())
    assert not stale, f"rules for endpoints that no longer exist: {stale}"


def expected(rule: Rule, role: str) -> str:
    """'pass' (neither 401 nor 403), '401' or '403'."""
    if rule.who == PUBLIC:
        return "pass"
    if rule.who == PARTNER:
        return "partner"
    if role == "anonymous":
        return "401"
    if rule.who == USER or role == "admin":
        return "pass"
    role_names = set(ROLES[role][0])
    if not role_names & rule.who:
        return "403"
    if rule.venue and HERE not in ROLES[role][1]:
        return "403"
    return "pass"


async def call(http: httpx.AsyncClient, method: str, rule: Rule, url: str, headers: dict) -> int:
    kwargs = {"headers": headers, "params": rule.params}
    if rule.json is not None:
        kwargs["json"] = rule.json
    if rule.stream:
        async with http.stream(method, url, **kwargs) as response:
            return response.status_code
    return (await http.request(method, url, **kwargs)).status_code


@pytest.mark.anyio
@pytest.mark.parametrize("method,rule", KIND_DOORS, ids=[f"{m} {r.path}" for m, r in KIND_DOORS])
async def test_role_matrix_of_each_kind(method, rule, live_server_url, roles):
    wrong = []
    async with httpx.AsyncClient(base_url=live_server_url, timeout=20) as http:
        for role in MATRIX_ROLES:
            status = await call(http, method, rule, rule.path or "", roles.headers(role))
            want = expected(rule, role)
            if want == "pass" and status in (401, 403):
                wrong.append(f"{role}: {status}, expected to pass the door")
            elif want in ("401", "403") and status != int(want):
                wrong.append(f"{role}: {status}, expected {want}")
    assert not wrong, f"{method} {rule.path}: " + "; ".join(wrong)


@pytest.mark.anyio
@pytest.mark.parametrize("method,template", sorted(RULES), ids=[f"{m} {p}" for m, p in sorted(RULES)])
async def test_role_matrix(method, template, live_server_url, roles):
    rule = RULES[(method, template)]
    url = rule.path or template
    wrong = []
    partner_answers = set()
    async with httpx.AsyncClient(base_url=live_server_url, timeout=20) as http:
        for role in MATRIX_ROLES:
            status = await call(http, "GET" if method == "ASGI" else method, rule, url, roles.headers(role))
            want = expected(rule, role)
            if want == "partner":
                partner_answers.add(status)
                if status not in (400, 401, 404):
                    wrong.append(f"{role}: {status}, a partner endpoint refuses all without its credential")
            elif want == "pass" and status in (401, 403):
                wrong.append(f"{role}: {status}, expected to pass the door")
            elif want in ("401", "403") and status != int(want):
                wrong.append(f"{role}: {status}, expected {want}")
    assert len(partner_answers) <= 1, f"a role token changed a partner endpoint's answer: {partner_answers}"
    assert not wrong, f"{method} {url}: " + "; ".join(wrong)
