"""Loading content/tours.toml and content/exhibitions: what the loader refuses, and the walking line."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from geopy.distance import geodesic

from backend.exhibitions.content import parse_exhibition_content
from backend.tours.services import line_length_m, parse_tour_content

CONTENT = Path(__file__).resolve().parents[2] / "content"
TOURS = tomllib.loads((CONTENT / "tours.toml").read_text(encoding="utf-8"))["tour"]


def test_the_city_content_loads():
    tours = parse_tour_content(copy.deepcopy(TOURS), CONTENT)
    assert len(tours) >= 8 and all(len(t.stop) >= 5 for t in tours)
    raw = [tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted((CONTENT / "exhibitions").glob("*.toml"))]
    exhibitions = parse_exhibition_content(raw, CONTENT)
    assert len(exhibitions) >= 4 and all(len(e.item) >= 6 for e in exhibitions)


def test_line_length_is_the_geodesic_length():
    line = [(31.7763, 119.9560), (31.7766, 119.9582), (31.7760, 119.9605)]
    expected = sum(geodesic(a, b).meters for a, b in zip(line, line[1:], strict=False))
    assert line_length_m(line) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda t: t["stop"][0].update(location={"lat": 31.23, "lng": 121.47}), "outside Changzhou"),  # Shanghai
        (lambda t: t["stop"][1]["text"].update(en="Too short."), "length >= 80"),
        (lambda t: t["stop"][2].update(via=[[32.2, 119.9]]), "outside Changzhou"),
        (lambda t: t.update(images=["/media/tours/missing.png"]), "not a file"),
        (lambda t: t["stop"][3].update(poi=t["stop"][0]["poi"]), "differently"),  # one id, two places
    ],
)
def test_bad_tours_are_refused_naming_the_tour(change, message):
    raw = copy.deepcopy(TOURS)
    change(raw[0])
    with pytest.raises(ValueError, match=message) as exc:
        parse_tour_content(raw, CONTENT)
    assert raw[0]["slug"] in str(exc.value)


def test_exhibition_rights_must_be_a_known_licence_uri():
    raw = tomllib.loads((CONTENT / "exhibitions" / "1-changzhou-museum-treasures.toml").read_text(encoding="utf-8"))
    raw["rights"] = "All rights reserved"
    with pytest.raises(ValueError, match="rights"):
        parse_exhibition_content([raw], CONTENT)
