"""Draw the illustrations that stand in for photographs until the city loads its own (our own drawings,
CC BY 4.0), and render them to WebP.

    python3 content/make_illustrations.py          # needs rsvg-convert (Debian's librsvg2-bin) and Pillow

Hand-written SVG scenes in one flat style (layered hills, water, the building or object that says what the
place is), one per venue (its category's scene, with the venue's own landmark where it has one, and a sky,
season and composition chosen from its slug, so no two look alike), one per event category and one per
article, at 1280×720 px, into content/media/illustrations/{venues,events,articles}/. The content loader
names them in every venue's `images` and every event's and article's `image` that has none of its own; the
app labels them as illustrations (插画). They are not photographs of the places.
"""

from __future__ import annotations

import hashlib
import io
import random
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

W, H = 1280, 720
HERE = Path(__file__).resolve().parent
OUT = HERE / "media" / "illustrations"

INK = "#23413f"
PAPER = "#f7f3ea"
RED = "#b8402f"
GOLD = "#d2a13a"
TILE = "#39413f"
WALL = "#f3efe6"

SKIES = {  # (top, bottom, sun colour, far hills, near hills, water)
    "dawn": ("#f6d9c4", "#fbefe3", "#f3a76f", "#c9b9b4", "#8fa59a", "#a9c4c6"),
    "day": ("#bfdbe6", "#eef5f3", "#fff4d6", "#a9c3c4", "#6f9a82", "#7fb0bc"),
    "dusk": ("#e9b89a", "#f6dfc7", "#e8734a", "#b59aa0", "#7d8b78", "#8fa9b8"),
    "mist": ("#d9e2dc", "#f2f3ee", "#f7f1e0", "#b8c7c0", "#8aa596", "#a7bfbd"),
    "night": ("#1f3448", "#3d5a6e", "#f4e6b0", "#2f4a58", "#24404a", "#2a4d63"),
}


class Scene:
    def __init__(self, seed: str, mood: str | None = None) -> None:
        self.rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:12], 16))
        self.mood = mood or self.rng.choice(["dawn", "day", "day", "dusk", "mist"])
        self.sky_top, self.sky_bottom, self.sun, self.far, self.near, self.water = SKIES[self.mood]
        self.parts: list[str] = []
        self.defs: list[str] = []

    def add(self, svg: str) -> Scene:
        self.parts.append(svg)
        return self

    def svg(self) -> str:
        defs = (
            '<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
            f'<stop offset="0" stop-color="{self.sky_top}"/><stop offset="1" stop-color="{self.sky_bottom}"/>'
            "</linearGradient>" + "".join(self.defs)
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}">'
            f'<defs>{defs}</defs><rect width="{W}" height="{H}" fill="url(#sky)"/>' + "".join(self.parts) + "</svg>"
        )

    # ---- backgrounds

    def sky_body(self, x: float | None = None, y: float | None = None, r: float = 46) -> Scene:
        x = self.rng.uniform(180, 1100) if x is None else x
        y = self.rng.uniform(90, 170) if y is None else y
        if self.mood == "night":
            stars = "".join(
                f'<circle cx="{self.rng.uniform(0, W):.0f}" cy="{self.rng.uniform(0, 300):.0f}" r="1.6" fill="#f4e6b0" opacity=".7"/>'
                for _ in range(40)
            )
            return self.add(stars + f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{r * 0.8:.0f}" fill="{self.sun}"/>')
        return self.add(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{r:.0f}" fill="{self.sun}" opacity=".9"/>')

    def ridge(self, base: float, height: float, color: str, bumps: int = 5, opacity: float = 1.0) -> Scene:
        xs = [i * W / bumps for i in range(bumps + 1)]
        d = f"M0 {H} L0 {base:.0f}"
        for i in range(bumps):
            x0, x1 = xs[i], xs[i + 1]
            peak = base - self.rng.uniform(0.45, 1.0) * height
            d += f" Q{(x0 + x1) / 2 + self.rng.uniform(-60, 60):.0f} {peak:.0f} {x1:.0f} {base - self.rng.uniform(0, height * 0.3):.0f}"
        d += f" L{W} {H} Z"
        return self.add(f'<path d="{d}" fill="{color}" opacity="{opacity}"/>')

    def hills(self, base: float = 470) -> Scene:
        self.ridge(base - 40, 170, self.far, 4, 0.9)
        return self.ridge(base, 110, self.near, 6)

    def lake(self, top: float = 500, color: str | None = None) -> Scene:
        c = color or self.water
        ripples = "".join(
            f'<path d="M{x:.0f} {y:.0f} h{self.rng.uniform(40, 110):.0f}" stroke="#ffffff" stroke-width="3" '
            f'stroke-linecap="round" opacity=".45"/>'
            for x, y in ((self.rng.uniform(0, W), self.rng.uniform(top + 20, H - 20)) for _ in range(14))
        )
        return self.add(f'<rect y="{top:.0f}" width="{W}" height="{H - top:.0f}" fill="{c}"/>' + ripples)

    def ground(self, top: float = 560, color: str = "#a9b98f") -> Scene:
        return self.add(f'<path d="M0 {top + 10:.0f} Q{W / 2} {top - 20:.0f} {W} {top + 10:.0f} L{W} {H} L0 {H} Z" fill="{color}"/>')

    def paving(self, top: float = 600) -> Scene:
        return self.add(f'<rect y="{top:.0f}" width="{W}" height="{H - top:.0f}" fill="#d8cfbd"/>'
                        + "".join(f'<path d="M{x} {top:.0f} L{x - 80} {H}" stroke="#c9bfab" stroke-width="3"/>'
                                  for x in range(40, W + 160, 120)))

    # ---- plants

    def tree(self, x: float, base: float, s: float = 1.0, color: str | None = None) -> Scene:
        c = color or self.rng.choice(["#5f8a5a", "#6f9a5e", "#4f7a55", "#7fa66a"])
        return self.add(
            f'<rect x="{x - 5 * s:.0f}" y="{base - 60 * s:.0f}" width="{10 * s:.0f}" height="{60 * s:.0f}" fill="#6b5140"/>'
            f'<circle cx="{x:.0f}" cy="{base - 85 * s:.0f}" r="{42 * s:.0f}" fill="{c}"/>'
            f'<circle cx="{x - 28 * s:.0f}" cy="{base - 60 * s:.0f}" r="{28 * s:.0f}" fill="{c}"/>'
            f'<circle cx="{x + 28 * s:.0f}" cy="{base - 62 * s:.0f}" r="{30 * s:.0f}" fill="{c}"/>'
        )

    def pine(self, x: float, base: float, s: float = 1.0) -> Scene:
        tiers = "".join(
            f'<path d="M{x - (60 - i * 14) * s:.0f} {base - (40 + i * 38) * s:.0f} L{x:.0f} {base - (95 + i * 38) * s:.0f} '
            f'L{x + (60 - i * 14) * s:.0f} {base - (40 + i * 38) * s:.0f} Z" fill="#3f6b4f"/>'
            for i in range(4)
        )
        return self.add(f'<rect x="{x - 6 * s:.0f}" y="{base - 45 * s:.0f}" width="{12 * s:.0f}" height="{45 * s:.0f}" fill="#5b4434"/>' + tiers)

    def willow(self, x: float, base: float, s: float = 1.0) -> Scene:
        strands = "".join(
            f'<path d="M{x + dx * s:.0f} {base - 150 * s:.0f} q{dx * 0.3 * s:.0f} {60 * s:.0f} {dx * 0.2 * s:.0f} {self.rng.uniform(90, 130) * s:.0f}" '
            f'stroke="#7fa35f" stroke-width="{4 * s:.1f}" fill="none"/>'
            for dx in range(-70, 75, 10)
        )
        return self.add(f'<path d="M{x:.0f} {base:.0f} q-6 -80 0 -160" stroke="#5b4434" stroke-width="{12 * s:.0f}" fill="none"/>'
                        f'<ellipse cx="{x:.0f}" cy="{base - 150 * s:.0f}" rx="{75 * s:.0f}" ry="{22 * s:.0f}" fill="#8fb06b"/>' + strands)

    def blossoms(self, x: float, base: float, s: float = 1.0, color: str = "#d9415a") -> Scene:
        branch = (f'<path d="M{x:.0f} {base:.0f} q10 -70 -20 -130 M{x - 8:.0f} {base - 80 * s:.0f} q40 -20 70 -60" '
                  f'stroke="#4a3428" stroke-width="{7 * s:.0f}" fill="none" stroke-linecap="round"/>')
        flowers = "".join(
            f'<circle cx="{x + self.rng.uniform(-50, 80) * s:.0f}" cy="{base - self.rng.uniform(60, 170) * s:.0f}" r="{self.rng.uniform(5, 9) * s:.0f}" fill="{color}"/>'
            for _ in range(22)
        )
        return self.add(branch + flowers)

    def bamboo(self, x0: float, x1: float, base: float) -> Scene:
        out = ""
        x = x0
        while x < x1:
            h = self.rng.uniform(260, 520)
            c = self.rng.choice(["#4d7d3a", "#5d8f45", "#3f6e33"])
            out += f'<rect x="{x:.0f}" y="{base - h:.0f}" width="12" height="{h:.0f}" fill="{c}"/>'
            out += "".join(f'<rect x="{x - 1:.0f}" y="{base - k:.0f}" width="14" height="3" fill="#2f5a26"/>' for k in range(60, int(h), 70))
            out += f'<path d="M{x + 6:.0f} {base - h + 30:.0f} q40 -10 60 10 q-40 0 -60 -10" fill="{c}"/>'
            x += self.rng.uniform(26, 46)
        return self.add(out)

    # ---- buildings

    def roof(self, x: float, y: float, w: float, h: float, color: str = TILE, curl: float = 18) -> str:
        return (f'<path d="M{x - curl:.0f} {y + h - curl * 0.6:.0f} Q{x + w * 0.1:.0f} {y + h:.0f} {x + w * 0.18:.0f} {y:.0f} '
                f'L{x + w * 0.82:.0f} {y:.0f} Q{x + w * 0.9:.0f} {y + h:.0f} {x + w + curl:.0f} {y + h - curl * 0.6:.0f} Z" fill="{color}"/>')

    def hall(self, x: float, base: float, w: float = 320, wall: str = "#e9c46a", storeys: int = 1) -> Scene:
        """A temple or memorial hall: steps, red columns, a hip-and-gable roof with upturned eaves."""
        out = f'<rect x="{x - 20:.0f}" y="{base - 18:.0f}" width="{w + 40:.0f}" height="18" fill="#cfc6b4"/>'
        h = 120
        for k in range(storeys):
            y = base - 18 - (k + 1) * (h + 40) + 40
            ww = w - k * 60
            xx = x + k * 30
            out += f'<rect x="{xx:.0f}" y="{y:.0f}" width="{ww:.0f}" height="{h:.0f}" fill="{wall}"/>'
            out += "".join(f'<rect x="{xx + 18 + i * (ww - 36) / 5:.0f}" y="{y:.0f}" width="12" height="{h:.0f}" fill="{RED}"/>' for i in range(6))
            out += f'<rect x="{xx + ww / 2 - 28:.0f}" y="{y + 40:.0f}" width="56" height="{h - 40:.0f}" fill="#7a2e22"/>'
            out += self.roof(xx - 20, y - 46, ww + 40, 50)
        return self.add(out)

    def pagoda(self, x: float, base: float, floors: int = 7, width: float = 150, color: str = "#b8402f") -> Scene:
        out = ""
        fh = 46
        for i in range(floors):
            w = width - i * (width * 0.55 / floors)
            y = base - (i + 1) * fh
            out += f'<rect x="{x - w / 2 + 12:.0f}" y="{y:.0f}" width="{w - 24:.0f}" height="{fh - 10:.0f}" fill="{color}"/>'
            out += f'<rect x="{x - 7:.0f}" y="{y + 10:.0f}" width="14" height="{fh - 22:.0f}" fill="#3a2a22" opacity=".55"/>'
            out += (f'<path d="M{x - w / 2 - 14:.0f} {y + 6:.0f} Q{x:.0f} {y - 16:.0f} {x + w / 2 + 14:.0f} {y + 6:.0f} '
                    f'L{x + w / 2 - 4:.0f} {y + 12:.0f} L{x - w / 2 + 4:.0f} {y + 12:.0f} Z" fill="{TILE}"/>')
        top = base - floors * fh
        return self.add(out + f'<rect x="{x - 3:.0f}" y="{top - 60:.0f}" width="6" height="60" fill="{GOLD}"/>'
                        f'<circle cx="{x:.0f}" cy="{top - 62:.0f}" r="7" fill="{GOLD}"/>')

    def houses(self, x0: float, base: float, n: int, s: float = 1.0) -> Scene:
        """Jiangnan houses: white walls, dark tiles, stepped gables (马头墙)."""
        out = ""
        x = x0
        for _ in range(n):
            w = self.rng.uniform(120, 170) * s
            h = self.rng.uniform(110, 150) * s
            out += f'<rect x="{x:.0f}" y="{base - h:.0f}" width="{w:.0f}" height="{h:.0f}" fill="{WALL}"/>'
            out += f'<rect x="{x - 6:.0f}" y="{base - h - 10:.0f}" width="{w + 12:.0f}" height="12" fill="{TILE}"/>'
            step = w / 3
            out += (f'<path d="M{x - 4:.0f} {base - h:.0f} v-34 h{step:.0f} v-22 h{step:.0f} v22 h{step + 8:.0f} v34 Z" '
                    f'fill="{WALL}" stroke="{TILE}" stroke-width="7"/>')
            out += f'<rect x="{x + w * 0.38:.0f}" y="{base - h * 0.55:.0f}" width="{w * 0.24:.0f}" height="{h * 0.55:.0f}" fill="{TILE}"/>'
            out += f'<rect x="{x + w * 0.12:.0f}" y="{base - h * 0.75:.0f}" width="{w * 0.16:.0f}" height="{w * 0.16:.0f}" fill="{TILE}" opacity=".7"/>'
            x += w + self.rng.uniform(6, 26) * s
        return self.add(out)

    def bridge(self, x: float, y: float, w: float = 300) -> Scene:
        return self.add(
            f'<path d="M{x:.0f} {y:.0f} Q{x + w / 2:.0f} {y - w * 0.45:.0f} {x + w:.0f} {y:.0f} L{x + w - 26:.0f} {y:.0f} '
            f'Q{x + w / 2:.0f} {y - w * 0.3:.0f} {x + 26:.0f} {y:.0f} Z" fill="#cfc3ad"/>'
            f'<path d="M{x + 26:.0f} {y:.0f} Q{x + w / 2:.0f} {y + w * 0.3:.0f} {x + w - 26:.0f} {y:.0f}" stroke="#cfc3ad" stroke-width="3" fill="none" opacity=".5"/>'
        )

    def pavilion(self, x: float, base: float, s: float = 1.0) -> Scene:
        w = 150 * s
        return self.add(
            f'<rect x="{x - w / 2:.0f}" y="{base - 12 * s:.0f}" width="{w:.0f}" height="{12 * s:.0f}" fill="#cfc6b4"/>'
            + "".join(f'<rect x="{x - w / 2 + 16 * s + i * (w - 40 * s) / 3:.0f}" y="{base - 100 * s:.0f}" width="{9 * s:.0f}" height="{88 * s:.0f}" fill="{RED}"/>' for i in range(4))
            + f'<path d="M{x - w / 2 - 30 * s:.0f} {base - 92 * s:.0f} Q{x - w / 4:.0f} {base - 100 * s:.0f} {x:.0f} {base - 160 * s:.0f} '
            f'Q{x + w / 4:.0f} {base - 100 * s:.0f} {x + w / 2 + 30 * s:.0f} {base - 92 * s:.0f} Z" fill="{TILE}"/>'
            + f'<circle cx="{x:.0f}" cy="{base - 164 * s:.0f}" r="{6 * s:.0f}" fill="{GOLD}"/>'
        )

    def modern(self, x: float, base: float, w: float, h: float, color: str = "#dfe4e2", glass: str = "#8fb3c0") -> Scene:
        cols = max(3, int(w // 46))
        rows = max(2, int(h // 50))
        grid = "".join(
            f'<rect x="{x + 14 + c * (w - 28) / cols:.0f}" y="{base - h + 18 + r * (h - 36) / rows:.0f}" '
            f'width="{(w - 28) / cols - 8:.0f}" height="{(h - 36) / rows - 10:.0f}" fill="{glass}"/>'
            for c in range(cols) for r in range(rows)
        )
        return self.add(f'<rect x="{x:.0f}" y="{base - h:.0f}" width="{w:.0f}" height="{h:.0f}" fill="{color}"/>' + grid)

    def museum(self, x: float, base: float, w: float = 520) -> Scene:
        """A modern museum: a long stone block with slit windows under a floating roof plane."""
        h = 170
        out = f'<rect x="{x:.0f}" y="{base - h:.0f}" width="{w:.0f}" height="{h:.0f}" fill="#e8e1d3"/>'
        out += "".join(f'<rect x="{x + 30 + i * 42:.0f}" y="{base - h + 36:.0f}" width="14" height="{h - 70:.0f}" fill="{INK}" opacity=".8"/>'
                       for i in range(int((w - 60) // 42)))
        out += f'<path d="M{x - 50:.0f} {base - h - 8:.0f} L{x + w + 50:.0f} {base - h - 30:.0f} L{x + w + 50:.0f} {base - h - 10:.0f} L{x - 50:.0f} {base - h + 10:.0f} Z" fill="{INK}"/>'
        out += f'<rect x="{x + w / 2 - 40:.0f}" y="{base - 70:.0f}" width="80" height="70" fill="#6f8f8c"/>'
        out += f'<rect x="{x - 40:.0f}" y="{base - 6:.0f}" width="{w + 80:.0f}" height="12" fill="#cfc6b4"/>'
        return self.add(out)

    def library(self, x: float, base: float, w: float = 480) -> Scene:
        self.modern(x, base, w, 200, "#ece6d8", "#9cc0c8")
        books = ""
        bx = x + w + 20
        for i in range(7):
            bh = self.rng.uniform(90, 140)
            c = self.rng.choice([RED, INK, GOLD, "#5f8a7a", "#8a5a7a"])
            books += f'<rect x="{bx:.0f}" y="{base - bh:.0f}" width="26" height="{bh:.0f}" fill="{c}" rx="3"/>'
            bx += 29
        books += f'<path d="M{x - 150:.0f} {base - 6:.0f} q60 -30 120 0 q60 -30 120 0 v-90 q-60 -30 -120 0 q-60 -30 -120 0 Z" fill="#fbf7ee" stroke="{INK}" stroke-width="4"/>'
        return self.add(books)

    def frames(self, x: float, base: float, n: int = 3) -> Scene:
        out = f'<rect x="0" y="{base - 330:.0f}" width="{W}" height="330" fill="#efe9dc"/>'
        fx = x
        for i in range(n):
            fw, fh = self.rng.choice([(220, 160), (170, 220), (260, 180)])
            fy = base - 250
            out += f'<rect x="{fx:.0f}" y="{fy:.0f}" width="{fw}" height="{fh}" fill="#6d4c33"/>'
            out += f'<rect x="{fx + 12:.0f}" y="{fy + 12:.0f}" width="{fw - 24}" height="{fh - 24}" fill="#f6f1e4"/>'
            # a little ink landscape inside each frame
            mx = fx + 12
            out += (f'<path d="M{mx:.0f} {fy + fh - 12:.0f} L{mx + (fw - 24) * 0.3:.0f} {fy + fh * 0.45:.0f} L{mx + (fw - 24) * 0.55:.0f} {fy + fh * 0.7:.0f} '
                    f'L{mx + (fw - 24) * 0.8:.0f} {fy + fh * 0.35:.0f} L{mx + fw - 24:.0f} {fy + fh - 12:.0f} Z" fill="{["#5f7f77", "#8a6a5a", "#4f6f8f"][i % 3]}" opacity=".85"/>')
            if i % 2 == 0:
                out += f'<circle cx="{mx + (fw - 24) * 0.75:.0f}" cy="{fy + fh * 0.3:.0f}" r="10" fill="{RED}"/>'
            fx += fw + 70
        out += f'<rect x="0" y="{base:.0f}" width="{W}" height="{H - base:.0f}" fill="#b9a88e"/>'
        return self.add(out)

    def stage(self) -> Scene:
        out = '<rect width="1280" height="720" fill="#3a1f2b"/>'
        out += '<path d="M0 0 H1280 V90 Q640 140 0 90 Z" fill="#8e2b33"/>'
        out += '<path d="M0 0 V620 Q120 420 170 0 Z" fill="#a3323a"/><path d="M1280 0 V620 Q1160 420 1110 0 Z" fill="#a3323a"/>'
        out += '<path d="M470 0 L300 620 L980 620 L810 0 Z" fill="#f6e3b0" opacity=".18"/>'
        out += '<rect x="0" y="600" width="1280" height="120" fill="#5a3a2a"/><rect x="0" y="600" width="1280" height="10" fill="#d2a13a"/>'
        return self.add(out)

    def performer(self, x: float, base: float, color: str = "#e9e1d0") -> Scene:
        return self.add(
            f'<circle cx="{x:.0f}" cy="{base - 230:.0f}" r="26" fill="{color}"/>'
            f'<path d="M{x - 55:.0f} {base:.0f} L{x - 30:.0f} {base - 200:.0f} L{x + 30:.0f} {base - 200:.0f} L{x + 55:.0f} {base:.0f} Z" fill="{RED}"/>'
            f'<path d="M{x + 28:.0f} {base - 190:.0f} q90 -20 120 -90" stroke="{RED}" stroke-width="16" fill="none" stroke-linecap="round"/>'
            f'<path d="M{x - 28:.0f} {base - 190:.0f} q-80 10 -120 70" stroke="{RED}" stroke-width="16" fill="none" stroke-linecap="round"/>'
        )

    def city_wall(self, base: float) -> Scene:
        top = base - 190
        out = f'<rect x="0" y="{top:.0f}" width="{W}" height="190" fill="#9b927f"/>'
        out += "".join(f'<rect x="{x}" y="{top - 26:.0f}" width="34" height="28" fill="#9b927f"/>' for x in range(0, W, 60))
        out += "".join(f'<path d="M0 {top + y:.0f} H{W}" stroke="#857c69" stroke-width="2"/>' for y in range(30, 190, 32))
        out += f'<path d="M560 {base:.0f} V{top + 70:.0f} Q640 {top + 10:.0f} 720 {top + 70:.0f} V{base:.0f} Z" fill="#3d3a33"/>'
        return self.add(out)

    def lanterns(self, y: float, n: int = 7, x0: float = 60, x1: float = 1220) -> Scene:
        out = f'<path d="M{x0:.0f} {y:.0f} Q{(x0 + x1) / 2:.0f} {y + 60:.0f} {x1:.0f} {y:.0f}" stroke="#3a2a22" stroke-width="3" fill="none"/>'
        for i in range(n):
            t = (i + 0.5) / n
            lx = x0 + (x1 - x0) * t
            ly = y + 60 * 4 * t * (1 - t) / 2 + 18
            out += (f'<rect x="{lx - 3:.0f}" y="{ly - 20:.0f}" width="6" height="10" fill="{GOLD}"/>'
                    f'<ellipse cx="{lx:.0f}" cy="{ly + 16:.0f}" rx="24" ry="30" fill="#d33a2c"/>'
                    f'<path d="M{lx:.0f} {ly + 46:.0f} v18" stroke="{GOLD}" stroke-width="4"/>')
        return self.add(out)

    def comb(self, x: float, y: float, s: float = 1.0, color: str = "#b07a3b", angle: float = -10) -> Scene:
        """A Changzhou wooden comb (梳): an arched back with fine teeth below, tilted on the table."""
        w, back = 300 * s, 70 * s
        teeth = "".join(
            f'<rect x="{x + 14 * s + i * 9 * s:.1f}" y="{y + back - 4:.1f}" width="{5 * s:.1f}" height="{70 * s:.1f}" fill="{color}" rx="2"/>'
            for i in range(int((w - 28 * s) // (9 * s)))
        )
        return self.add(
            f'<g transform="rotate({angle} {x + w / 2:.0f} {y + back:.0f})">'
            f'<ellipse cx="{x + w / 2 + 10:.0f}" cy="{y + back + 80 * s:.0f}" rx="{w / 2:.0f}" ry="{14 * s:.0f}" fill="#000" opacity=".12"/>'
            f'<path d="M{x:.0f} {y + back:.0f} Q{x + w / 2:.0f} {y - back * 0.6:.0f} {x + w:.0f} {y + back:.0f} Z" fill="{color}"/>'
            f'<path d="M{x + w * 0.2:.0f} {y + back * 0.7:.0f} Q{x + w / 2:.0f} {y + back * 0.05:.0f} {x + w * 0.8:.0f} {y + back * 0.7:.0f}" '
            f'stroke="{RED}" stroke-width="{5 * s:.0f}" fill="none"/>'
            f'<circle cx="{x + w / 2:.0f}" cy="{y + back * 0.45:.0f}" r="{8 * s:.0f}" fill="{GOLD}"/>' + teeth + "</g>"
        )

    def hoop(self, x: float, y: float, r: float = 120) -> Scene:
        return self.add(
            f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{r + 12:.0f}" fill="#c9a36a"/><circle cx="{x:.0f}" cy="{y:.0f}" r="{r:.0f}" fill="#fbf7ee"/>'
            f'<path d="M{x - 50:.0f} {y + 40:.0f} q30 -90 70 -40 q30 40 -10 70 q-40 30 -60 -30" fill="#d9415a"/>'
            f'<path d="M{x + 10:.0f} {y + 20:.0f} q40 -10 60 -60" stroke="#4f7a55" stroke-width="7" fill="none"/>'
            f'<circle cx="{x + 70:.0f}" cy="{y - 45:.0f}" r="14" fill="{GOLD}"/>'
        )

    def boat(self, x: float, y: float, s: float = 1.0, lit: bool = False) -> Scene:
        out = (f'<path d="M{x:.0f} {y:.0f} h{200 * s:.0f} l-30 {30 * s:.0f} h-{140 * s:.0f} Z" fill="#5b4434"/>'
               f'<path d="M{x + 40 * s:.0f} {y:.0f} q60 -60 120 0 Z" fill="{TILE}"/>')
        if lit:
            out += f'<circle cx="{x + 100 * s:.0f}" cy="{y - 14 * s:.0f}" r="{10 * s:.0f}" fill="#f4c45a"/>'
        return self.add(out)


# ---- the scenes, by what a place is


def temple(sc: Scene) -> Scene:
    sc.sky_body().hills(460).ground(600, "#b3a98f")
    sc.hall(440, 610, 400, storeys=2)
    return sc.pine(250, 620, 1.1).pine(1080, 630, 1.2).tree(160, 640, 0.8)


def pagoda_scene(sc: Scene) -> Scene:
    sc.sky_body().hills(500).lake(560)
    sc.pagoda(sc.rng.uniform(520, 760), 570, floors=sc.rng.choice([7, 9, 11]), width=sc.rng.uniform(150, 190))
    return sc.willow(200, 600).tree(1080, 600, 0.9)


def lane(sc: Scene) -> Scene:
    sc.sky_body().hills(440).lake(560)
    sc.houses(-20, 560, 9, sc.rng.uniform(0.95, 1.15))
    sc.bridge(sc.rng.uniform(380, 700), 600, 260)
    return sc.boat(sc.rng.uniform(100, 900), 650, 0.9).lanterns(200, 6) if sc.rng.random() < 0.4 else sc.boat(900, 650, 0.9)


def canal_district(sc: Scene) -> Scene:
    sc.sky_body().lake(560)
    for x in range(40, 560, 110):
        sc.add(f'<path d="M{x} 560 L{x} 380 L{x + 100} 320 L{x + 100} 560 Z" fill="#8a3b2a"/>'
               f'<rect x="{x + 20}" y="430" width="26" height="40" fill="#f3d9a0"/><rect x="{x + 60}" y="420" width="26" height="40" fill="#f3d9a0"/>')
    sc.add('<rect x="620" y="170" width="46" height="390" fill="#6d2f22"/><rect x="612" y="160" width="62" height="16" fill="#3d241c"/>')
    sc.modern(760, 560, 420, 220, "#e3ddd2", "#a6c2c9")
    return sc.boat(300, 640, 1.0)


def park(sc: Scene) -> Scene:
    sc.sky_body().hills(500).lake(560)
    sc.bridge(sc.rng.uniform(420, 700), 590, 280)
    sc.pavilion(sc.rng.uniform(950, 1120), 560, 0.9)
    sc.willow(180, 610)
    sc.tree(320, 620, 0.8)
    if sc.rng.random() < 0.6:
        sc.blossoms(40, 720, 1.3, sc.rng.choice(["#d9415a", "#f2a7b5", "#f6f0f2"]))
    return sc


def wetland(sc: Scene) -> Scene:
    sc.sky_body().hills(520).lake(540)
    reeds = "".join(f'<path d="M{x:.0f} 720 q{sc.rng.uniform(-10, 10):.0f} -80 {sc.rng.uniform(-20, 20):.0f} -{sc.rng.uniform(120, 200):.0f}" stroke="#8a9a5a" stroke-width="4" fill="none"/>'
                    for x in range(0, 1280, 18))
    birds = "".join(f'<path d="M{x} {y} q14 -12 28 0 q14 -12 28 0" stroke="{INK}" stroke-width="3" fill="none"/>' for x, y in ((700, 220), (780, 180), (860, 240)))
    return sc.add(reeds + birds).tree(1100, 560, 0.9)


def forest(sc: Scene) -> Scene:
    sc.sky_body().hills(520).ground(600, "#8fae77")
    for i in range(12):
        sc.tree(60 + i * 105 + sc.rng.uniform(-20, 20), 640 + sc.rng.uniform(-20, 30), sc.rng.uniform(0.8, 1.3))
    return sc


def square(sc: Scene) -> Scene:
    sc.sky_body()
    sc.modern(80, 560, 300, 300).modern(980, 560, 240, 360).modern(420, 560, 160, 200, "#d8dcd9")
    sc.paving(560)
    sc.add('<ellipse cx="760" cy="620" rx="170" ry="28" fill="#8fb8c4"/><path d="M760 610 q-10 -90 0 -120 q10 30 0 120" fill="#cfe6ee"/>')
    return sc.tree(620, 600, 0.7).tree(900, 600, 0.7)


def library_scene(sc: Scene) -> Scene:
    sc.sky_body().ground(600, "#b7c39c")
    sc.library(380, 600, 480)
    return sc.tree(140, 620, 1.0).tree(1180, 620, 0.8)


def museum_scene(sc: Scene) -> Scene:
    sc.sky_body().hills(470).paving(600)
    x = sc.rng.uniform(260, 460)
    w = sc.rng.uniform(420, 560)
    if sc.rng.random() < 0.5:
        sc.museum(x, 600, w)
    else:  # a pitched glass roof over a stone hall
        sc.add(f'<rect x="{x:.0f}" y="430" width="{w:.0f}" height="170" fill="#e4dccb"/>'
               f'<path d="M{x - 30:.0f} 432 L{x + w / 2:.0f} 300 L{x + w + 30:.0f} 432 Z" fill="#7fa6b4"/>'
               f'<path d="M{x + w / 2:.0f} 300 V432" stroke="#ffffff" stroke-width="4" opacity=".6"/>'
               + "".join(f'<rect x="{x + 24 + i * 56:.0f}" y="470" width="30" height="90" fill="{INK}" opacity=".75"/>' for i in range(int((w - 40) // 56)))
               + f'<rect x="{x - 40:.0f}" y="594" width="{w + 80:.0f}" height="12" fill="#cfc6b4"/>')
    left, right = sc.rng.uniform(90, 200), sc.rng.uniform(1080, 1200)
    sc.tree(left, 620, sc.rng.uniform(0.8, 1.1)).tree(right, 620, sc.rng.uniform(0.8, 1.1))
    if sc.rng.random() < 0.5:
        sc.add(f'<rect x="{right - 120:.0f}" y="480" width="6" height="130" fill="#6b6b6b"/><path d="M{right - 114:.0f} 484 h50 v30 h-50 Z" fill="{RED}"/>')
    return sc


def planning_hall(sc: Scene) -> Scene:
    sc.sky_body().paving(600)
    for i in range(7):
        sc.modern(80 + i * 170, 600 - sc.rng.uniform(0, 40), 120, sc.rng.uniform(160, 380), "#dfe4e2", "#9fbac4")
    return sc


def gallery(sc: Scene) -> Scene:
    return sc.frames(sc.rng.uniform(70, 180), 560, 3)


def cultural_center(sc: Scene) -> Scene:
    sc.sky_body().paving(600)
    sc.add('<path d="M240 600 V380 Q640 220 1040 380 V600 Z" fill="#e9e2d2"/>'
           '<path d="M220 385 Q640 200 1060 385" stroke="#23413f" stroke-width="22" fill="none"/>'
           + "".join(f'<rect x="{x}" y="420" width="54" height="180" fill="#9fbcc4"/>' for x in range(300, 1000, 90)))
    return sc.lanterns(120, 5, 200, 1080)


def theatre(sc: Scene) -> Scene:
    sc.sky_body(1060, 120)
    sc.paving(610)
    sc.add('<path d="M200 610 Q640 200 1080 610 Z" fill="#e9e4da"/><path d="M290 610 Q640 300 990 610 Z" fill="#9fbcc4"/>'
           + "".join(f'<path d="M{x} 610 Q640 {300 + abs(640 - x) * 0.1:.0f} {1280 - x} 610" stroke="#ffffff" stroke-width="3" fill="none" opacity=".6"/>' for x in range(330, 640, 60)))
    return sc.lake(640)


def memorial(sc: Scene) -> Scene:
    sc.mood = sc.mood if sc.mood != "dusk" else "mist"
    sc.sky_body().hills(480).ground(620, "#a7a98f")
    steps = "".join(f'<rect x="{440 - i * 30}" y="{600 - i * 16}" width="{400 + i * 60}" height="16" fill="#d8d1c2"/>' for i in range(5))[::-1]
    sc.add("".join(f'<rect x="{440 - i * 30}" y="{620 - i * 16}" width="{400 + i * 60}" height="18" fill="{["#d8d1c2", "#cfc7b6"][i % 2]}"/>' for i in range(5)))
    del steps
    if sc.rng.random() < 0.5:
        sc.add('<rect x="610" y="220" width="60" height="330" fill="#e6e0d2"/><path d="M600 220 L640 170 L680 220 Z" fill="#e6e0d2"/>'
               f'<rect x="560" y="530" width="160" height="30" fill="#cfc7b6"/><circle cx="640" cy="270" r="14" fill="{RED}"/>')
    else:
        sc.hall(470, 560, 340, "#e6e0d2")
    return sc.pine(250, 640, 1.3).pine(1030, 640, 1.3).pine(140, 660, 1.0).pine(1150, 660, 1.0)


def residence(sc: Scene) -> Scene:
    sc.sky_body().ground(610, "#b9b59a")
    sc.houses(320, 600, 4, 1.1)
    sc.add(f'<path d="M180 600 q-40 -200 60 -300 q80 -60 120 40" stroke="#6b5140" stroke-width="10" fill="none"/>'
           + "".join(f'<ellipse cx="{sc.rng.uniform(150, 420):.0f}" cy="{sc.rng.uniform(280, 420):.0f}" rx="16" ry="10" fill="#9b7bc2"/>' for _ in range(26)))
    return sc.tree(1150, 620, 0.9)


def ancient_ruins(sc: Scene) -> Scene:
    sc.sky_body().ground(360, "#9fb27f")
    for r, c in ((520, "#7fa8a8"), (470, "#a9bc8c"), (380, "#7fa8a8"), (330, "#a9bc8c"), (230, "#7fa8a8"), (190, "#b9c79a")):
        sc.add(f'<ellipse cx="640" cy="560" rx="{r * 1.25:.0f}" ry="{r * 0.42:.0f}" fill="{c}"/>')
    return sc.tree(600, 560, 0.6).tree(680, 570, 0.5)


def ming_wall(sc: Scene) -> Scene:
    sc.sky_body().lake(620)
    sc.city_wall(620)
    return sc.willow(140, 660, 0.9).willow(1150, 660, 0.9)


def dinosaur(sc: Scene) -> Scene:
    sc.sky_body().hills(500).ground(600, "#8cc084")
    sc.add('<path d="M260 600 Q280 470 420 450 Q540 440 600 500 Q660 310 760 250 Q800 238 812 270 Q760 300 720 470 Q720 600 660 600 Z" fill="#3f7d4f"/>'
           '<circle cx="790" cy="262" r="7" fill="#fff"/><path d="M260 600 Q190 590 110 520" stroke="#3f7d4f" stroke-width="40" fill="none" stroke-linecap="round"/>'
           '<rect x="380" y="560" width="30" height="60" fill="#3f7d4f"/><rect x="560" y="560" width="30" height="60" fill="#3f7d4f"/>')
    return sc.add('<ellipse cx="1020" cy="560" rx="100" ry="128" fill="#f2e6c9"/><path d="M960 520 l40 20 l-20 30 l50 10" stroke="#c9b48f" stroke-width="5" fill="none"/>')


def theme_park(sc: Scene) -> Scene:
    sc.sky_body(200, 130).hills(520).ground(610, "#a9c48c")
    cx, cy, r = 860, 330, 210
    spokes = "".join(f'<path d="M{cx} {cy} l{r * __import__("math").cos(a / 6):.0f} {r * __import__("math").sin(a / 6):.0f}" stroke="#5a6a7a" stroke-width="4"/>' for a in range(0, 38, 3))
    cabins = "".join(f'<circle cx="{cx + r * __import__("math").cos(a / 6):.0f}" cy="{cy + r * __import__("math").sin(a / 6):.0f}" r="16" fill="{["#d9415a", "#f2b134", "#3f8fbf"][a % 3]}"/>' for a in range(0, 38, 3))
    sc.add(f'<circle cx="{cx}" cy="{cy}" r="{r}" stroke="#5a6a7a" stroke-width="8" fill="none"/>' + spokes + cabins
           + f'<path d="M{cx - 90} 610 L{cx} {cy} L{cx + 90} 610" stroke="#5a6a7a" stroke-width="14" fill="none"/>')
    return sc.add('<path d="M80 610 q60 -260 160 -120 q80 110 180 -90 q40 -60 60 210" stroke="#e0703a" stroke-width="12" fill="none"/>').tree(520, 640, 0.8)


def wildlife(sc: Scene) -> Scene:
    sc.sky_body().hills(520).ground(590, "#c8b47a")
    sc.add('<path d="M720 590 v-120 h-30 v120 Z M800 590 v-120 h-30 v120 Z" fill="#d9a441"/>'
           '<path d="M680 480 q80 -40 140 -10 l60 -230 l30 8 l-50 250 q-40 20 -180 0 Z" fill="#d9a441"/>'
           + "".join(f'<circle cx="{x}" cy="{y}" r="10" fill="#8a5a2b"/>' for x, y in ((720, 470), (770, 460), (820, 400), (850, 320), (740, 500))))
    return sc.add('<ellipse cx="300" cy="560" rx="120" ry="60" fill="#7f7f7f"/><rect x="220" y="560" width="26" height="40" fill="#6f6f6f"/>'
                  '<rect x="350" y="560" width="26" height="40" fill="#6f6f6f"/><path d="M190 540 q-40 20 -30 70" stroke="#7f7f7f" stroke-width="22" fill="none"/>').tree(1100, 600, 1.1)


def lake_mountains(sc: Scene) -> Scene:
    sc.sky_body()
    sc.ridge(430, 260, sc.far, 4, 0.9).ridge(500, 160, sc.near, 5)
    sc.lake(520)
    sc.add(f'<ellipse cx="{sc.rng.uniform(400, 800):.0f}" cy="600" rx="150" ry="26" fill="{sc.near}"/>')
    sc.pavilion(sc.rng.uniform(500, 760), 592, 0.6)
    return sc.boat(sc.rng.uniform(900, 1050), 660, 0.8)


def bamboo_sea(sc: Scene) -> Scene:
    sc.sky_body().hills(480)
    sc.bamboo(-10, 1300, 720)
    return sc


def hot_spring(sc: Scene) -> Scene:
    sc.sky_body().hills(470).ground(560, "#9fb48a")
    sc.add('<ellipse cx="640" cy="620" rx="420" ry="80" fill="#cfe4e6"/><ellipse cx="640" cy="612" rx="380" ry="60" fill="#9cc9d0"/>'
           + "".join(f'<path d="M{x} 580 q-30 -60 0 -110 q30 -50 0 -100" stroke="#ffffff" stroke-width="10" fill="none" opacity=".6" stroke-linecap="round"/>' for x in (460, 600, 740, 860)))
    return sc.pine(150, 620, 1.1).pine(1140, 620, 1.0).add(
        '<path d="M200 560 h200 l-20 -60 h-160 Z" fill="#39413f"/><rect x="220" y="560" width="160" height="70" fill="#e9ddc4"/>')


def resort(sc: Scene) -> Scene:
    sc.sky_body().hills(480).lake(540)
    sc.add('<path d="M0 720 L0 600 Q300 560 620 620 L620 720 Z" fill="#a9c48c"/>')
    sc.modern(120, 620, 200, 120, "#efe9dc", "#a6c2c9").modern(360, 620, 140, 90, "#efe9dc", "#a6c2c9")
    sc.add('<path d="M800 640 h220 l-28 26 h-164 Z" fill="#f4efe4"/><path d="M900 640 v-120 l70 100 Z" fill="#f4efe4"/>')
    return sc.tree(560, 630, 0.8)


def salt_lake(sc: Scene) -> Scene:
    sc.sky_body().hills(470).lake(540, "#d6e7ea")
    sc.add("".join(f'<path d="M{x:.0f} {y:.0f} l14 -22 l14 22 Z" fill="#ffffff" opacity=".9"/>' for x, y in ((sc.rng.uniform(0, 1280), sc.rng.uniform(580, 710)) for _ in range(40))))
    return sc.pavilion(640, 560, 1.0).willow(160, 600, 0.9)


def village(sc: Scene) -> Scene:
    sc.sky_body().hills(470).lake(580)
    sc.houses(80, 580, 6, 0.9)
    sc.bridge(880, 610, 220)
    return sc.tree(1160, 600, 0.9)


def heritage_workshop(sc: Scene) -> Scene:
    sc.add('<rect width="1280" height="720" fill="#efe6d4"/><rect y="470" width="1280" height="250" fill="#b99a74"/>'
           '<rect y="470" width="1280" height="14" fill="#a3845f"/>')
    sc.comb(170, 420, 1.25, "#b07a3b", -8)
    sc.comb(700, 470, 0.95, "#8a5a2b", 6)
    sc.hoop(1080, 300, 95)
    return sc.lanterns(90, 5, 120, 1160)


SCENES: dict[str, Callable[[Scene], Scene]] = {
    "temple": temple, "pagoda": pagoda_scene, "lane": lane, "canal": canal_district, "park": park,
    "wetland": wetland, "forest": forest, "square": square, "library": library_scene, "museum": museum_scene,
    "planning": planning_hall, "gallery": gallery, "cultural": cultural_center, "theatre": theatre,
    "memorial": memorial, "residence": residence, "ruins": ancient_ruins, "wall": ming_wall, "dinosaur": dinosaur,
    "theme_park": theme_park, "wildlife": wildlife, "lake": lake_mountains, "bamboo": bamboo_sea,
    "hot_spring": hot_spring, "resort": resort, "salt_lake": salt_lake, "village": village,
    "heritage": heritage_workshop,
}

BY_CATEGORY = {
    "museum": "museum", "library": "library", "art_gallery": "gallery", "cultural_center": "cultural",
    "theatre": "theatre", "scenic_area": "lake", "heritage_site": "lane", "park": "park", "resort": "resort",
    "memorial_hall": "memorial", "intangible_heritage": "heritage",
}

# venues whose landmark is not their category's usual scene
BY_VENUE = {
    "tianning-chan-temple": "temple", "dalin-temple": "temple", "tianning-pagoda": "pagoda", "wenbi-pagoda": "pagoda",
    "hongmei-park": "park", "jiaoxi-ancient-village": "village", "xiyingli-ming-city-wall": "wall",
    "canal-no5-creative-district": "canal", "yancheng-ruins": "ruins", "yancheng-spring-autumn-park": "theme_park",
    "yancheng-wildlife-world": "wildlife", "global-joyland": "theme_park", "china-dinosaur-park": "dinosaur",
    "oriental-salt-lake-city": "salt_lake", "nanshan-bamboo-sea": "bamboo", "tianmu-lake-yushui-hot-spring": "hot_spring",
    "tianmu-lake-shanshui-park": "lake", "changzhou-civic-square": "square", "xinlong-ecological-forest": "forest",
    "songjian-lake": "wetland", "changzhou-planning-exhibition-hall": "planning", "su-dongpo-memorial": "residence",
    "qianhou-bei-an": "lane", "biji-lane": "lane", "qingguo-lane": "lane", "taihu-bay-resort": "resort",
    "changdang-lake-resort": "lake", "caoshan-resort": "lake", "west-taihu-lanyue-bay": "lake",
    "duan-yucai-memorial": "residence", "fangmaoshan-park": "forest",
}

EVENT_SCENES: dict[str, Callable[[Scene], Scene]] = {
    "performance": lambda sc: sc.stage().performer(640, 600),
    "exhibition": gallery,
    "festival": lambda sc: sc.sky_body(1000, 120).add(
        "".join(
            f'<g stroke="{c}" stroke-width="5" stroke-linecap="round">'
            + "".join(f'<path d="M{cx + 18 * __import__("math").cos(a / 2):.0f} {cy + 18 * __import__("math").sin(a / 2):.0f} '
                      f'l{40 * __import__("math").cos(a / 2):.0f} {40 * __import__("math").sin(a / 2):.0f}"/>' for a in range(13))
            + "</g>"
            for cx, cy, c in ((260, 140, "#f2b134"), (520, 90, "#d9415a"), (800, 170, "#f6f0f2"))
        )).hills(520).lake(580).lanterns(240, 8).lanterns(360, 6, 200, 1080),
    "lecture": lambda sc: sc.add('<rect width="1280" height="720" fill="#ece6d8"/><rect x="300" y="100" width="680" height="340" fill="#23413f"/>'
                                 '<path d="M360 380 L500 240 L600 320 L760 170 L920 380 Z" fill="#5f8a7a"/><circle cx="820" cy="180" r="24" fill="#d2a13a"/>'
                                 '<rect y="560" width="1280" height="160" fill="#b99a74"/><path d="M560 560 h160 l-20 -150 h-120 Z" fill="#6d4c33"/>'
                                 + "".join(f'<circle cx="{x}" cy="660" r="34" fill="#39413f"/>' for x in range(140, 1280, 150))),
    "workshop": lambda sc: sc.add('<rect width="1280" height="720" fill="#efe6d4"/><rect y="470" width="1280" height="250" fill="#a8825a"/>'
                                  '<ellipse cx="420" cy="470" rx="170" ry="36" fill="#8a6a4a"/><path d="M340 470 q-20 -150 80 -170 q100 20 80 170 Z" fill="#c98a5a"/>'
                                  '<ellipse cx="420" cy="300" rx="60" ry="14" fill="#a86a3a"/>').hoop(880, 330, 110),
    "family": lambda sc: sc.sky_body().hills(520).ground(600, "#a9c48c").add(
        '<path d="M820 160 l70 60 l-70 60 l-70 -60 Z" fill="#d9415a"/><path d="M820 280 q-40 120 -160 300" stroke="#3a2a22" stroke-width="2" fill="none"/>'
        + "".join(f'<ellipse cx="{x}" cy="{y}" rx="30" ry="38" fill="{c}"/><path d="M{x} {y + 38} q-10 60 6 120" stroke="#3a2a22" stroke-width="2" fill="none"/>'
                  for x, y, c in ((260, 260, "#f2b134"), (320, 220, "#3f8fbf"), (380, 270, "#d9415a")))).tree(1100, 620, 1.0),
    "night_tour": lambda sc: sc.sky_body(1000, 120).lake(540).houses(0, 540, 8, 0.9).lanterns(120, 7).boat(420, 630, 1.1, lit=True),
    "rural_tourism": lambda sc: sc.sky_body().hills(430).add(
        "".join(f'<path d="M0 {y} Q640 {y - 50} 1280 {y} V{y + 60} Q640 {y + 10} 0 {y + 60} Z" fill="{c}"/>'
                for y, c in ((470, "#c9c46a"), (530, "#a9bc6c"), (590, "#e2c25a"), (650, "#8fae5f")))).houses(880, 480, 2, 0.7),
    "sports": lambda sc: sc.sky_body().hills(450).add(
        '<path d="M0 470 Q640 420 1280 470 V720 H0 Z" fill="#c4583f"/>'
        + "".join(f'<path d="M0 {y} Q640 {y - 50} 1280 {y}" stroke="#ffffff" stroke-width="4" fill="none"/>' for y in range(520, 760, 60))
        + "".join(
            f'<circle cx="{x}" cy="{y - 120}" r="16" fill="#23413f"/>'
            f'<path d="M{x} {y - 104} l-8 56 l-30 40 M{x - 8} {y - 48} l24 30 l-6 40 M{x - 2} {y - 92} l-34 22 M{x - 2} {y - 92} l34 -8" '
            f'stroke="#23413f" stroke-width="11" stroke-linecap="round" fill="none"/>'
            for x, y in ((420, 600), (560, 620), (700, 590))
        )),
    "intangible_heritage": heritage_workshop,
}

ARTICLE_SCENES = {
    "canal-day-walk": "canal", "qingguo-lane-half-day": "lane", "liyang-weekend": "lake",
    "spring-festival-2027-guide": "event:festival", "news-museum-wu-exhibition": "museum",
    "news-canal-night-cruise-winter": "event:night_tour",
}


def render(svg: str, out: Path) -> None:
    from PIL import Image

    png = subprocess.run(["rsvg-convert", "-w", str(W), "-h", str(H)], input=svg.encode(), capture_output=True, check=True).stdout
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.open(io.BytesIO(png)).convert("RGB").save(out, "WEBP", quality=80, method=6)


def main(argv: list[str]) -> int:
    only = set(argv)
    venues = tomllib.loads((HERE / "venues.toml").read_text(encoding="utf-8"))["venue"]
    jobs: list[tuple[Path, str]] = []
    for v in venues:
        key = BY_VENUE.get(v["slug"], BY_CATEGORY[v["category"]])
        jobs.append((OUT / "venues" / f"{v['slug']}.webp", SCENES[key](Scene(v["slug"])).svg()))
    for category, draw in EVENT_SCENES.items():
        mood = {"night_tour": "night", "festival": "dusk"}.get(category)
        jobs.append((OUT / "events" / f"{category}.webp", draw(Scene("event-" + category, mood)).svg()))
    for slug, key in ARTICLE_SCENES.items():
        sc = Scene("article-" + slug, "night" if "night" in key else None)
        drawn = EVENT_SCENES[key[6:]](sc) if key.startswith("event:") else SCENES[key](sc)
        jobs.append((OUT / "articles" / f"{slug}.webp", drawn.svg()))
    for path, svg in jobs:
        if only and path.stem not in only:
            continue
        render(svg, path)
        print(f"{path.relative_to(HERE)}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
