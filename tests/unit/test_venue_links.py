"""A venue's website and pictures follow the content-URL rule (https: or /media/ only): a content file
with another scheme fails its load, naming the venue."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from backend.venues.services import parse_venue_content

ROOT = Path(__file__).resolve().parents[2]


def _first_venue() -> dict:
    return tomllib.loads((ROOT / "content" / "venues.toml").read_text(encoding="utf-8"))["venue"][0]


def test_the_citys_venues_pass_the_rule() -> None:
    raw = tomllib.loads((ROOT / "content" / "venues.toml").read_text(encoding="utf-8"))["venue"]
    assert parse_venue_content(raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("website", "http://www.czmuseum.com"),
        ("website", "javascript:alert(1)"),
        ("website", "//evil.example/x"),
        ("images", ["data:image/png;base64,AAAA"]),
        ("images", ["/media/../etc/passwd"]),
    ],
)
def test_a_link_of_another_kind_fails_the_load(field: str, value: object) -> None:
    venue = {**_first_venue(), field: value}
    with pytest.raises(ValueError, match=venue["slug"]):
        parse_venue_content([venue])
