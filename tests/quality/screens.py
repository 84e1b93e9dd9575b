"""The phone screens the quality budget covers (issue 10, item 6): one table for the axe-core test and the
Lighthouse bench. A screen whose route the PWA does not have yet (`route` not in pwa/src/router.js) is
left out, so a screen added later is covered by adding one row.

Each row: name, path, the test id that shows the screen has rendered, whether it needs a signed-in
tourist with a booking, and the router path that must exist."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCREENS: list[dict] = [
    {"name": "home", "path": "/", "ready": "venue-card", "signed_in": False, "route": "path: '/'"},
    {
        "name": "venue",
        "path": "/venues/changzhou-museum",
        "ready": "venue-title",
        "signed_in": False,
        "route": "path: '/venues/:slug'",
    },
    {"name": "nearby", "path": "/nearby", "ready": "amenity", "signed_in": False, "route": "path: '/nearby'"},
    {"name": "pass", "path": "/pass", "ready": "pass-qr", "signed_in": True, "route": "path: '/pass'"},
    {"name": "calendar", "path": "/calendar", "ready": None, "signed_in": False, "route": "path: '/calendar'"},
]


def present_screens() -> list[dict]:
    router = (ROOT / "pwa" / "src" / "router.js").read_text(encoding="utf-8")
    return [s for s in SCREENS if s["route"] in router]
