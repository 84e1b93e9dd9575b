"""Nearest-first ranking equals a brute-force geodesic scan (geopy) and counts the radius exactly."""

import random

import pytest
from geopy.distance import geodesic

from backend.lib.geo import Point, parse_point, rank_nearest
from backend.lib.problems import InvalidInput


def _brute(center, places, radius, first):
    exact = sorted((geodesic((center.lat, center.lng), (p.lat, p.lng)).meters, tag) for p, tag in places)
    inside = [e for e in exact if radius is None or e[0] <= radius]
    return inside[:first], len(inside)


@pytest.mark.parametrize("seed", range(6))
def test_rank_nearest_matches_brute_force(seed):
    rng = random.Random(seed)
    center = Point(rng.uniform(-60, 60), rng.uniform(-170, 170))
    spread = rng.choice([0.01, 0.2, 3.0])
    places = [
        (Point(center.lat + rng.uniform(-spread, spread), center.lng + rng.uniform(-spread, spread)), i)
        for i in range(400)
    ]
    for radius in (None, 500.0, 5_000.0, 50_000.0):
        for first in (1, 10, 57, 1000):
            got, total = rank_nearest(center, places, radius, first)
            want, want_total = _brute(center, places, radius, first)
            assert total == want_total
            assert [tag for _, tag in got] == [tag for _, tag in want]
            assert all(abs(a[0] - b[0]) < 1e-6 for a, b in zip(got, want, strict=True))


def test_points_on_the_radius_edge_are_counted_exactly():
    center = Point(31.78, 119.95)
    ring = [(Point(31.78 + d, 119.95), i) for i, d in enumerate((0.0449, 0.04495, 0.0450, 0.04505, 0.0451))]
    for radius in (4990.0, 4995.0, 5000.0, 5005.0, 5010.0):
        got, total = rank_nearest(center, ring, radius, 10)
        _, want_total = _brute(center, ring, radius, 10)
        assert total == want_total == len(got)


@pytest.mark.parametrize("raw", ["999,999", "91,0", "0,181", "abc", "1,2,3", "nan,1", "inf,0", ""])
def test_bad_points_are_refused(raw):
    with pytest.raises(InvalidInput) as err:
        parse_point(raw)
    assert err.value.code == "invalid_coordinates"
