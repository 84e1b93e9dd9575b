"""Map tiles: the sketch basemap we draw ourselves, for when no tile provider is configured (and for tests).

The PWA's map (Leaflet) takes raster tiles from the provider configured in `CHANGXIANG_MAP_TILES` (an XYZ URL
template: Tianditu, an AMap-style GCJ-02 provider, or a city's own tile server; docs/decisions.md). Without
one it falls back to this sketch, served by the app itself at `/tiles/{z}/{x}/{y}.png`: paper-coloured land,
a faint graticule, and the water that orients a visitor in Changzhou (the Yangtze, the Grand Canal through
the old town, Taihu, Gehu, Changdang and Tianmu lakes) as approximate shapes we traced ourselves. It is an
illustration for finding one's way between markers, not survey data: no streets, no names.

`render_tile(z, x, y)` draws one 256×256 PNG in Web Mercator (EPSG:3857, the XYZ scheme), WGS-84 positions,
with Pillow; `integrations.tiles.standin.TileStandIn` serves the same tiles from a separate local HTTP server
(a "provider" for the tests, which count its requests).
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

TILE = 256
SCALE = 2  # drawn at twice the size and scaled down: smooth edges
MIN_ZOOM, MAX_ZOOM = 3, 18

LAND = (245, 241, 230)
GRID = (226, 219, 203)
WATER = (170, 203, 211)
WATER_EDGE = (143, 183, 194)

# (lat, lng) outlines, WGS-84, approximate (traced by hand from public maps to a few hundred metres)
LAKES: dict[str, list[tuple[float, float]]] = {
    "taihu": [
        (31.52, 119.93),
        (31.55, 120.02),
        (31.52, 120.10),
        (31.47, 120.13),
        (31.42, 120.22),
        (31.38, 120.35),
        (31.30, 120.45),
        (31.15, 120.47),
        (31.00, 120.42),
        (30.93, 120.25),
        (30.95, 120.05),
        (31.05, 119.92),
        (31.22, 119.90),
        (31.38, 119.92),
    ],
    "gehu": [
        (31.66, 119.79),
        (31.65, 119.84),
        (31.60, 119.86),
        (31.55, 119.85),
        (31.50, 119.83),
        (31.49, 119.79),
        (31.53, 119.76),
        (31.60, 119.77),
    ],
    "changdang": [
        (31.70, 119.55),
        (31.68, 119.60),
        (31.63, 119.62),
        (31.57, 119.61),
        (31.55, 119.57),
        (31.58, 119.53),
        (31.64, 119.52),
    ],
    "tianmu": [
        (31.34, 119.43),
        (31.33, 119.46),
        (31.31, 119.47),
        (31.29, 119.46),
        (31.28, 119.44),
        (31.30, 119.42),
        (31.32, 119.42),
    ],
}
# the Yangtze's south bank along Changzhou, and a point across on the north bank for each stretch
YANGTZE_SOUTH = [
    (32.25, 118.90),
    (32.22, 119.40),
    (32.18, 119.62),
    (32.10, 119.80),
    (32.04, 119.95),
    (31.99, 120.10),
    (31.94, 120.28),
    (31.92, 120.60),
    (31.80, 121.00),
]
YANGTZE_WIDTH_DEG = 0.035
# the Grand Canal (Jiangnan Canal) from Danyang through the old town towards Wuxi, and the city's moats
CANAL = [
    (31.99, 119.58),
    (31.93, 119.72),
    (31.88, 119.82),
    (31.82, 119.88),
    (31.79, 119.91),
    (31.775, 119.935),
    (31.771, 119.955),
    (31.768, 119.975),
    (31.755, 120.005),
    (31.73, 120.05),
    (31.70, 120.10),
    (31.66, 120.17),
]
RIVERS = [
    [
        (31.776, 119.92),
        (31.786, 119.945),
        (31.79, 119.97),
        (31.78, 119.99),
        (31.765, 119.99),
    ],  # Guanhe and the old town
    [(32.04, 119.95), (31.95, 119.95), (31.86, 119.94), (31.80, 119.93)],  # Dejin river north to the Yangtze
    [(31.77, 119.96), (31.70, 119.96), (31.62, 119.97), (31.55, 120.00), (31.47, 120.05)],  # south to Taihu
]


def lat_lng_to_pixel(lat: float, lng: float, z: int) -> tuple[float, float]:
    """Web Mercator world pixel at zoom `z` (256 px tiles)."""
    size = TILE * 2**z
    s = math.sin(math.radians(max(-85.0511, min(85.0511, lat))))
    x = (lng + 180.0) / 360.0 * size
    y = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * size
    return x, y


def smooth(points: list[tuple[float, float]], closed: bool, rounds: int = 3) -> list[tuple[float, float]]:
    """Chaikin's corner cutting: hand-traced outlines become soft shorelines."""
    for _ in range(rounds):
        pairs = (
            list(zip(points, points[1:] + points[:1], strict=True))
            if closed
            else list(zip(points, points[1:], strict=False))
        )
        out = [] if closed else [points[0]]
        for (a0, a1), (b0, b1) in pairs:
            out += [(0.75 * a0 + 0.25 * b0, 0.75 * a1 + 0.25 * b1), (0.25 * a0 + 0.75 * b0, 0.25 * a1 + 0.75 * b1)]
        points = out if closed else out + [points[-1]]
    return points


def _pixels(points: list[tuple[float, float]], z: int, x0: int, y0: int) -> list[tuple[float, float]]:
    out = []
    for lat, lng in points:
        px, py = lat_lng_to_pixel(lat, lng, z)
        out.append(((px - x0) * SCALE, (py - y0) * SCALE))
    return out


def _visible(points: list[tuple[float, float]], margin: float) -> bool:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    size = TILE * SCALE
    return max(xs) >= -margin and min(xs) <= size + margin and max(ys) >= -margin and min(ys) <= size + margin


def valid_tile(z: int, x: int, y: int) -> bool:
    return MIN_ZOOM <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


@lru_cache(maxsize=1024)
def render_tile(z: int, x: int, y: int, scale: int = 1) -> bytes:
    """One 256×256 PNG of the sketch basemap, or 512×512 for `scale` 2 (the `@2x` tile a phone's screen of
    more than one pixel per point asks for); ValueError for a tile outside the zoom range or the world."""
    from PIL import Image, ImageDraw

    if not valid_tile(z, x, y) or scale not in (1, 2):
        raise ValueError("no such tile")
    size = TILE * SCALE
    image = Image.new("RGB", (size, size), LAND)
    draw = ImageDraw.Draw(image)
    x0, y0 = x * TILE, y * TILE
    # graticule every 0.01° (z ≥ 14), 0.05° (z ≥ 11) or 0.5°: a sense of scale without pretending to be streets
    step = 0.01 if z >= 14 else 0.05 if z >= 11 else 0.5
    lat_top = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y0 / (TILE * 2**z)))))
    lat_bottom = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y0 + TILE) / (TILE * 2**z)))))
    lng_left = x0 / (TILE * 2**z) * 360 - 180
    lng_right = (x0 + TILE) / (TILE * 2**z) * 360 - 180
    lng = math.floor(lng_left / step) * step
    while lng <= lng_right:
        [(gx, _)] = _pixels([(lat_top, lng)], z, x0, y0)
        draw.line([(gx, 0), (gx, size)], fill=GRID, width=SCALE)
        lng += step
    lat = math.floor(lat_bottom / step) * step
    while lat <= lat_top:
        [(_, gy)] = _pixels([(lat, lng_left)], z, x0, y0)
        draw.line([(0, gy), (size, gy)], fill=GRID, width=SCALE)
        lat += step
    margin = 64.0 * SCALE
    # the Yangtze: a band north of its south bank
    bank = _pixels(YANGTZE_SOUTH, z, x0, y0)
    across = _pixels([(lat + YANGTZE_WIDTH_DEG * 2.2, lng) for lat, lng in reversed(YANGTZE_SOUTH)], z, x0, y0)
    if _visible(bank + across, margin):
        draw.polygon(bank + across, fill=WATER)
        draw.line(bank, fill=WATER_EDGE, width=2 * SCALE)
    for outline in LAKES.values():
        pts = _pixels(smooth(outline, closed=True), z, x0, y0)
        if _visible(pts, margin):
            draw.polygon(pts, fill=WATER, outline=WATER_EDGE)
    canal_w = max(2.0, min(24.0, 1.5 * 2 ** (z - 10))) * SCALE
    river_w = max(1.0, min(12.0, 2 ** (z - 11))) * SCALE
    for line, width in [(CANAL, canal_w), *((r, river_w) for r in RIVERS)]:
        pts = _pixels(smooth(line, closed=False), z, x0, y0)
        if _visible(pts, margin):
            draw.line(pts, fill=WATER, width=int(width), joint="curve")
    out = io.BytesIO()
    if TILE * scale != size:
        image = image.resize((TILE * scale, TILE * scale), Image.Resampling.LANCZOS)
    image.quantize(colors=32).save(out, "PNG", optimize=True)
    return out.getvalue()
