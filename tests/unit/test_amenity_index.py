"""The finder's grid index at country scale, against brute force: the nearest by exact WGS-84 geodesic,
with and without filters and a radius, over places spread across China and packed into one city
(the index hands over only the places that can still rank: none that ranks may be missing)."""

from __future__ import annotations

import random

import pytest

from backend.amenities.index import AmenityIndex
from backend.lib.geo import Point, distance_m, rank_nearest


def _rows(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    spread = [(rng.uniform(20.0, 45.0), rng.uniform(100.0, 122.0)) for _ in range(6000)]
    city = [(31.78 + rng.gauss(0, 0.05), 119.95 + rng.gauss(0, 0.05)) for _ in range(3000)]
    return [
        {"id": i, "ext_id": f"p{i}", "kind": "toilet", "lat": lat, "lng": lng, "wheelchair": rng.random() < 0.3}
        for i, (lat, lng) in enumerate(spread + city)
    ]


@pytest.fixture(scope="module")
def built() -> tuple[AmenityIndex, list[dict[str, object]]]:
    rows = _rows(22)
    index = AmenityIndex()
    index.build(rows, [])
    return index, rows


def _by_geodesic(rows, centre: Point, wheelchair: bool | None) -> list[tuple[float, str]]:
    return sorted(
        (distance_m(centre, Point(r["lat"], r["lng"])), r["ext_id"])
        for r in rows
        if wheelchair is None or r["wheelchair"] == wheelchair
    )


@pytest.mark.parametrize("wheelchair", [None, True])
@pytest.mark.parametrize("radius_m", [None, 3_000.0, 80_000.0])
def test_the_nearest_equal_brute_force(built, wheelchair, radius_m):
    index, rows = built
    rng = random.Random(f"{wheelchair}{radius_m}")
    centres = [Point(rng.uniform(18.0, 47.0), rng.uniform(98.0, 124.0)) for _ in range(15)]
    centres += [Point(31.78 + rng.gauss(0, 0.05), 119.95 + rng.gauss(0, 0.05)) for _ in range(15)]
    centres += [Point(-30.0, 10.0), Point(60.0, 160.0)]  # far outside the data
    accept = None if wheelchair is None else (lambda rec: rec.row["wheelchair"] == wheelchair)
    for centre in centres:
        everything = _by_geodesic(rows, centre, wheelchair)
        inside = [e for e in everything if radius_m is None or e[0] <= radius_m]
        for want in (1, 10, 25):
            pool = index.candidates(["toilet"], centre, radius_m, want, accept)
            ranked, total = rank_nearest(centre, [(r.point, r) for _, r in pool], radius_m, want, [d for d, _ in pool])
            assert [r.ext_id for _, r in ranked] == [e[1] for e in inside[:want]], (centre, want)
            if radius_m is not None:
                assert total == len(inside)


def test_only_the_places_that_can_rank_are_handed_over(built):
    index, _ = built
    pool = index.candidates(["toilet"], Point(31.78, 119.95), None, 10, None)
    assert 10 <= len(pool) <= 20  # the city is dense: a ring of cells holds dozens, a few of them can rank
