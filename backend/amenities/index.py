"""The finder's grid index: where every toilet, charger and car park is, kept per process.

Positions are static content, so each process keeps a grid index of them (cells sized to hold about
`PLACES_PER_CELL` places each, `cell_size`), rebuilt when the shared version key in the `cache` store
moves. A query walks square rings of cells outward until the searched square provably contains the
nearest matches (`AmenityIndex.candidates`); the ranking and the live status are the service's.

Each place is kept as a point on the unit sphere (x, y, z): the straight-line (chord) distance between
two such points orders places exactly as the great-circle distance does, and `math.dist` computes it
in C, a whole cell at a time. So a query costs a few cells' worth of Python, whatever the cells hold:
the cells are sized to hold several places, most queries end after the first ring (which, with the
centre cell, is kept as one 3 x 3 block per cell: one lookup), and only the places that can still rank are
handed over, in metres (issue 22).
"""

from __future__ import annotations

import asyncio
import math
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from backend.amenities.tables import Amenity, Evse
from backend.lib import heap
from backend.lib.geo import EARTH_RADIUS_M, Point, head_bound_m
from backend.lib.stores import shared_version

MIN_CELL_DEG, MAX_CELL_DEG = 0.005, 1.0
PLACES_PER_CELL = 6.0  # sized so that the first ring of cells around a point mostly holds the nearest ten
VERSION_KEY = "amenities:version"
VERSION_CHECK_S = 1.0
M_PER_DEG_LAT = 110_574.0  # the smallest metres-per-degree of latitude (at the equator)
M_PER_DEG_LNG_EQ = 111_320.0
_SLACK = 1.006
_DIAMETER_M = 2 * EARTH_RADIUS_M

Xyz = tuple[float, float, float]
# A cell's (or a block's) places: their unit vectors as one flat array of x, y, z, and their positions in
# `records`. Flat arrays hold numbers, not objects: a walk reads a block in a few runs of memory instead
# of one cache miss per place and per coordinate, and the collector has nothing in them to scan.
Cell = tuple["array[float]", "array[int]"]


def unit_vector(lat: float, lng: float) -> Xyz:
    """The point on the unit sphere at this latitude and longitude (degrees)."""
    phi, lam = math.radians(lat), math.radians(lng)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def chord_of(metres: float) -> float:
    """The chord on the unit sphere that spans `metres` of great circle (at most the diameter)."""
    return 2.0 * math.sin(min(metres / _DIAMETER_M, math.pi / 2))


@dataclass(slots=True)
class AmenityRecord:
    id: int
    ext_id: str
    kind: str
    point: Point
    row: dict[str, Any]
    connectors: dict[str, float]  # connector type -> highest kW
    connector_counts: list[dict[str, Any]]
    # the answer's parts that never change: per language (services._template fills it) and, as encoded
    # JSON fragments, per ("json", language) (services._toilet_json)
    templates: dict[str | tuple[str, str], Any] = field(default_factory=dict)


def cell_size(points: list[tuple[float, float]]) -> float:
    """Grid cell edge in degrees for these places: about PLACES_PER_CELL a cell over their extent, so
    that a city's few hundred places and a country's hundred thousand both take a handful of rings."""
    if len(points) < 2:
        return MAX_CELL_DEG
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    area = max(max(lats) - min(lats), MIN_CELL_DEG) * max(max(lngs) - min(lngs), MIN_CELL_DEG)
    return min(MAX_CELL_DEG, max(MIN_CELL_DEG, math.sqrt(area * PLACES_PER_CELL / len(points))))


def _ring_cells(ci: int, cj: int, ring: int, lo_i: int, hi_i: int, lo_j: int, hi_j: int) -> Iterator[tuple[int, int]]:
    """The cells at Chebyshev distance `ring` from (ci, cj) that fall inside the extent."""
    if ring == 0:
        if lo_i <= ci <= hi_i and lo_j <= cj <= hi_j:
            yield ci, cj
        return
    j0, j1 = max(cj - ring, lo_j), min(cj + ring, hi_j)
    for i in (ci - ring, ci + ring):  # top and bottom rows
        if lo_i <= i <= hi_i:
            for j in range(j0, j1 + 1):
                yield i, j
    i0, i1 = max(ci - ring + 1, lo_i), min(ci + ring - 1, hi_i)
    for j in (cj - ring, cj + ring):  # left and right columns, corners excluded
        if lo_j <= j <= hi_j:
            for i in range(i0, i1 + 1):
                yield i, j


def _cell(vectors: list[Xyz], positions: list[int]) -> Cell:
    return array("d", [c for v in vectors for c in v]), array("l", positions)


def _blocks(cells: dict[tuple[int, int], tuple[list[Xyz], list[int]]]) -> dict[tuple[int, int], Cell]:
    """For every cell with a place in or around it, the places of its 3 x 3 block: a walk takes its first
    two rings (the centre cell and the eight around it) as one lookup and one pass in C."""
    blocks: defaultdict[tuple[int, int], tuple[list[Xyz], list[int]]] = defaultdict(lambda: ([], []))
    for (i, j), (vectors, positions) in cells.items():
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                block = blocks[(i + di, j + dj)]
                block[0].extend(vectors)
                block[1].extend(positions)
    return {key: _cell(*block) for key, block in blocks.items()}


def _xyz(cell: Cell) -> Iterator[tuple[float, float, float]]:
    """A cell's unit vectors, as (x, y, z) tuples made while they are read."""
    coordinates = iter(cell[0])
    return zip(coordinates, coordinates, coordinates, strict=True)


class AmenityIndex:
    def __init__(self) -> None:
        self._store: Store | None = None
        self._lock = asyncio.Lock()
        self._version: str | None = None
        self._checked = 0.0
        self.records: list[AmenityRecord] = []
        # kind -> cell -> its places (`Cell`: their unit vectors and their positions in `records`)
        self.grid: dict[str, dict[tuple[int, int], Cell]] = {}
        # kind -> cell -> its 3 x 3 block's places (the cell and its first ring), as one cell of `grid`
        self.blocks: dict[str, dict[tuple[int, int], Cell]] = {}
        self.extent: dict[str, tuple[int, int, int, int]] = {}  # kind -> min_i, max_i, min_j, max_j
        # kinds asked together -> their grids, blocks and joint extent, gathered once per build
        self._plans: dict[tuple[str, ...], tuple[list[Any], list[Any], tuple[int, int, int, int]] | None] = {}
        self.cell_deg = MAX_CELL_DEG

    def configure(self, store: Store) -> None:
        self._store, self._version = store, None

    async def refresh(self) -> None:
        if self._version is not None and time.monotonic() - self._checked < VERSION_CHECK_S:
            return
        async with self._lock:  # one rebuild at a time; requests arriving meanwhile wait for it
            await self._refresh()

    async def _refresh(self) -> None:
        now = time.monotonic()
        if self._version is not None and now - self._checked < VERSION_CHECK_S:
            return
        store = self._store or MemoryStore()
        self._store = store
        version = await shared_version(store, VERSION_KEY, "amenity index")
        if version is None:  # Redis down: keep the index we have, or build it from the database
            if self._version is not None:
                self._checked = now
                return
            version = "unknown"
        self._checked = now
        if version == self._version:
            return
        rows = await Amenity.select()
        evses = await Evse.select(Evse.amenity, Evse.connector, Evse.max_kw)
        self.build(rows, evses)
        self._version = version
        heap.settle()  # the index lives until the next rebuild: out of the collector's scans (lib/heap.py)

    def build(self, rows: list[dict[str, Any]], evses: list[dict[str, Any]]) -> None:
        """The index of these places (amenity rows) and their charge points (EVSE rows)."""
        by_amenity: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for e in evses:
            by_amenity[e["amenity"]].append(e)
        records: list[AmenityRecord] = []
        grid: defaultdict[str, defaultdict[tuple[int, int], tuple[list[Xyz], list[int]]]] = defaultdict(
            lambda: defaultdict(lambda: ([], []))
        )
        self.cell_deg = cell = cell_size([(r["lat"], r["lng"]) for r in rows])
        for row in rows:
            plugs: dict[str, float] = {}
            counts: dict[tuple[str, float], int] = defaultdict(int)
            for e in by_amenity.get(row["id"], []):
                plugs[e["connector"]] = max(plugs.get(e["connector"], 0.0), e["max_kw"])
                counts[(e["connector"], e["max_kw"])] += 1
            rec = AmenityRecord(
                row["id"],
                row["ext_id"],
                row["kind"],
                Point(row["lat"], row["lng"]),
                row,
                plugs,
                [{"type": t, "max_kw": kw, "count": n} for (t, kw), n in sorted(counts.items())],
            )
            vectors, positions = grid[row["kind"]][(math.floor(row["lat"] / cell), math.floor(row["lng"] / cell))]
            vectors.append(unit_vector(row["lat"], row["lng"]))
            positions.append(len(records))
            records.append(rec)
        self.records, self._plans = records, {}
        self.grid = {kind: {key: _cell(*places) for key, places in cells.items()} for kind, cells in grid.items()}
        self.blocks = {kind: _blocks(cells) for kind, cells in grid.items()}
        self.extent = {
            kind: (
                min(i for i, _ in cells),
                max(i for i, _ in cells),
                min(j for _, j in cells),
                max(j for _, j in cells),
            )
            for kind, cells in self.grid.items()
        }

    def candidates(
        self,
        kinds: list[str],
        center: Point,
        radius_m: float | None,
        want: int,
        accept: Callable[[AmenityRecord], bool] | None,
    ) -> list[tuple[float, AmenityRecord]]:
        """Walk square rings of cells outward until `want` accepted places lie inside the covered circle,
        the radius is covered, or the rings cover every cell that holds data; return the accepted places
        seen, with their spherical distances: with a radius, every one; without, those that can still
        rank among the first `want` (`geo.head_bound_m`). Rings are clipped to the data's extent, so a
        far-away centre costs little."""
        key = tuple(kinds)
        if key not in self._plans:
            self._plans[key] = self._plan(kinds)
        plan = self._plans[key]
        if plan is None:
            return []
        grids, blocks, (lo_i, hi_i, lo_j, hi_j) = plan
        ci, cj = math.floor(center.lat / self.cell_deg), math.floor(center.lng / self.cell_deg)
        first = max(0, lo_i - ci, ci - hi_i, lo_j - cj, cj - hi_j)
        last = max(ci - lo_i, hi_i - ci, cj - lo_j, hi_j - cj)
        chords: list[float] = []
        found: list[int] = []
        here = unit_vector(center.lat, center.lng)
        dist, records = math.dist, self.records
        ring = first
        while ring <= last:
            if ring == 0 and blocks:  # the centre cell and the first ring: one block a kind
                entries = [block.get((ci, cj)) for block in blocks]
                ring = 1
            else:
                entries = [
                    grid.get(cell) for cell in _ring_cells(ci, cj, ring, lo_i, hi_i, lo_j, hi_j) for grid in grids
                ]
            for entry in entries:
                if entry is None:
                    continue
                positions = entry[1]
                if accept is None:  # the whole cell at once, in C
                    chords.extend(map(dist, repeat(here), _xyz(entry)))
                    found.extend(positions)
                    continue
                for vector, position in zip(_xyz(entry), positions, strict=True):
                    if accept(records[position]):
                        chords.append(dist(here, vector))
                        found.append(position)
            ring += 1
            if radius_m is None and len(found) < want:
                continue  # fewer seen than wanted: no need to ask how far the rings reach
            covered = self._covered_m(center, ci, cj, ring - 1)
            if radius_m is not None:
                if covered >= radius_m * _SLACK:
                    break
            elif sorted(chords)[want - 1] <= chord_of(covered / _SLACK):  # `want` places inside the circle
                break
        bound = 4.0  # past every chord of the unit sphere (2 at most): all kept
        if radius_m is None and len(chords) > want:
            # only the places that can still rank: within the head bound of the `want`-th nearest
            kth = _DIAMETER_M * math.asin(min(sorted(chords)[want - 1] * 0.5, 1.0))
            bound = chord_of(head_bound_m(kth))
        asin, diameter = math.asin, _DIAMETER_M
        return [
            (diameter * asin(min(c * 0.5, 1.0)), records[p]) for c, p in zip(chords, found, strict=True) if c <= bound
        ]

    def _plan(self, kinds: list[str]) -> tuple[list[Any], list[Any], tuple[int, int, int, int]] | None:
        """The grids and blocks of these kinds and their joint extent, or None when none holds a place."""
        grids = [g for g in (self.grid.get(k) for k in kinds) if g]
        extents = [self.extent[k] for k in kinds if k in self.extent]
        if not grids or not extents:
            return None
        blocks = [b for b in (self.blocks.get(k) for k in kinds) if b]
        bounds = (
            min(e[0] for e in extents),
            max(e[1] for e in extents),
            min(e[2] for e in extents),
            max(e[3] for e in extents),
        )
        return grids, blocks, bounds

    def _covered_m(self, center: Point, ci: int, cj: int, ring: int) -> float:
        cell = self.cell_deg
        north = (ci + ring + 1) * cell - center.lat
        south = center.lat - (ci - ring) * cell
        east = (cj + ring + 1) * cell - center.lng
        west = center.lng - (cj - ring) * cell
        far_lat = min(89.9, abs(center.lat) + (ring + 1) * cell)
        lng_m = min(east, west) * M_PER_DEG_LNG_EQ * math.cos(math.radians(far_lat))
        return max(0.0, min(min(north, south) * M_PER_DEG_LAT, lng_m))


index = AmenityIndex()
