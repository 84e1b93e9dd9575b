"""Nearest-10 at country scale (issues 7, 22): 100,000 synthetic places across China; the API's rate against
/healthz, against its own floor (a bare Litestar route of the same shape) and against a brute-force geopy
scan of the same data, in the same run."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid

import httpx

from bench.harness import against_floor, bench_env, cli, floor_server, medians, server, wrk, wrk_script

PLACES = 100_000
TARGET = 0.45  # of /healthz (issue 22)
FLOOR_TARGET = 0.6  # of its own floor: a bare Litestar route with the same 12 query parameters and page
BOX = (20.0, 100.0, 45.0, 122.0)  # south-west to north-east China, roughly


def _points(seed: int, n: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])) for _ in range(n)]


async def _prepare(env: dict[str, str]) -> None:
    os.environ.update(env)
    from backend.amenities.tables import Amenity
    from backend.lib.db import start_database, stop_database

    await start_database()
    try:
        if await Amenity.count().where(Amenity.source == "bench") >= PLACES:
            return
        await Amenity.delete().where(Amenity.source == "bench")
        tag = uuid.uuid4().hex[:6]
        points = _points(7, PLACES)
        for start in range(0, PLACES, 1000):
            await Amenity.insert(
                *[
                    Amenity(
                        ext_id=f"bench-{tag}-{i}",
                        kind="toilet",
                        name_zh=f"公厕{i}",
                        name_en=f"Toilet {i}",
                        lat=lat,
                        lng=lng,
                        opening_hours="24/7",
                        wheelchair=i % 2 == 0,
                        fee=False,
                        source="bench",
                    )
                    for i, (lat, lng) in enumerate(points[start : start + 1000], start)
                ]
            )
    finally:
        await stop_database()


def _brute_force_rate(queries: int = 2) -> float:
    """Queries per second of a plain geopy scan over every place (the method an index must beat)."""
    from geopy.distance import geodesic

    places = _points(7, PLACES)
    started = time.perf_counter()
    for lat, lng in _points(11, queries):
        sorted(geodesic((lat, lng), p).meters for p in places)[:10]
    return queries / (time.perf_counter() - started)


def _nearest_rate(url: str, seconds: int) -> object:
    script = f"""
math.randomseed(42)
request = function()
  local lat = {BOX[0]} + math.random() * {BOX[2] - BOX[0]}
  local lng = {BOX[1]} + math.random() * {BOX[3] - BOX[1]}
  return wrk.format("GET", string.format("/api/v1/amenities?kind=toilet&limit=10&near=%.5f,%.5f", lat, lng))
end
"""
    return wrk_script(url, script, seconds, connections=32)


def run() -> list[tuple]:
    env = bench_env()
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    cli(env, "migrate")
    asyncio.run(_prepare(env))
    with server(env) as url:
        _nearest_rate(url, 2)  # warm-up: builds the index
        sample = httpx.get(url + "/api/v1/amenities?kind=toilet&limit=10&near=31.77970,119.95540").content
        with floor_server({"amenities": sample}) as floor_url:
            _nearest_rate(floor_url, 1)
            best = medians(
                {
                    "healthz": lambda: wrk(url + "/healthz", seconds=4),
                    "nearest": lambda: _nearest_rate(url, 4),
                    "floor": lambda: _nearest_rate(floor_url, 4),
                }
            )
    base, nearest, floor = best["healthz"], best["nearest"], best["floor"]
    brute = _brute_force_rate()
    rate = nearest.requests_per_s
    return [
        ("GET /healthz (baseline)", base.requests_per_s, 1.0, f"p50 {base.p50_ms:.1f} ms{base.cpu_note}"),
        (
            "nearest 10: its floor (bare Litestar, same params and page)",
            floor.requests_per_s,
            floor.requests_per_s / base.requests_per_s,
            f"÷ healthz; p50 {floor.p50_ms:.1f} ms{floor.cpu_note}",
        ),
        (
            f"nearest 10 of {PLACES:,} places ÷ healthz",
            rate,
            rate / base.requests_per_s,
            against_floor(nearest, floor, base),
            TARGET,
        ),
        (
            f"nearest 10 of {PLACES:,} places ÷ its floor",
            rate,
            rate / floor.requests_per_s,
            "same runs as above",
            FLOOR_TARGET,
        ),
        (
            "nearest 10 ÷ brute-force geopy scan (same data)",
            rate,
            rate / brute,
            f"brute force {brute:.3f} queries/s",
            100,
        ),
    ]
