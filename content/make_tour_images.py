"""Draw each guided tour's cover picture (our own illustrations, CC BY 4.0) and render it to PNG.

    python3 content/make_tour_images.py   # needs Debian's librsvg2-bin (rsvg-convert)

Hand-written SVG silhouettes, rendered at 960×540 px (phone size) into content/media/tours/<slug>.png;
content/tours.toml names them in each tour's `images`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

W, H = 960, 540
OUT = Path(__file__).resolve().parent / "media" / "tours"


def scene(sky: str, ground: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}">'
        f'<rect width="{W}" height="{H}" fill="{sky}"/><rect y="400" width="{W}" height="140" fill="{ground}"/>{body}</svg>'
    )


def houses(x0: int, n: int, y: int = 400, color: str = "#3d4a4a") -> str:
    out = ""
    for i in range(n):
        x = x0 + i * 130
        out += (
            f'<rect x="{x}" y="{y - 120}" width="110" height="120" fill="#f4efe4"/>'
            f'<path d="M{x - 12} {y - 118} L{x + 55} {y - 170} L{x + 122} {y - 118} Z" fill="{color}"/>'
            f'<rect x="{x + 40}" y="{y - 70}" width="30" height="70" fill="{color}"/>'
        )
    return out


def pagoda(x: int, base: int, floors: int, width: int, color: str) -> str:
    out = ""
    for i in range(floors):
        w = width - i * (width // (floors + 2))
        y = base - (i + 1) * 38
        out += f'<rect x="{x - w / 2 + 10}" y="{y}" width="{w - 20}" height="30" fill="{color}"/>'
        out += f'<path d="M{x - w / 2 - 8} {y + 4} Q{x} {y - 14} {x + w / 2 + 8} {y + 4} Z" fill="#2b2b2b"/>'
    return out + f'<rect x="{x - 3}" y="{base - floors * 38 - 40}" width="6" height="40" fill="#c9a23a"/>'


COVERS = {
    "qingguo-lane-walk": lambda: scene(
        "#e9dfc8", "#7fa7a8", houses(60, 7) + '<path d="M0 470 Q480 440 960 470" stroke="#cfe0df" stroke-width="6" fill="none"/>'
        '<circle cx="180" cy="235" r="16" fill="#c8202a"/><circle cx="570" cy="235" r="16" fill="#c8202a"/>',
    ),
    "dongpo-footsteps": lambda: scene(
        "#dfe8e4", "#88aebb", houses(520, 3)
        + '<path d="M80 400 L160 300 L240 400 Z" fill="#8a5a2b"/><rect x="90" y="390" width="140" height="10" fill="#5a3a1b"/>'
        '<path d="M200 470 Q260 500 340 470 L320 490 Q260 510 220 490 Z" fill="#5a3a1b"/>'
        + "".join(f'<path d="M{x} 120 q-20 120 10 250" stroke="#6b8f4e" stroke-width="4" fill="none"/>' for x in range(300, 420, 14)),
    ),
    "tianning-hongmei-loop": lambda: scene(
        "#f1e4d0", "#9ab58a", pagoda(300, 400, 9, 170, "#b33a2e") + pagoda(700, 400, 5, 110, "#8c7a5b")
        + "".join(f'<circle cx="{x}" cy="{y}" r="10" fill="#d9415a"/>' for x, y in ((480, 380), (520, 360), (560, 385), (880, 370), (860, 395))),
    ),
    "canal-no5-and-comb-lane": lambda: scene(
        "#e6e0d4", "#7c9fb0", "".join(f'<path d="M{x} 400 L{x} 300 L{x + 80} 260 L{x + 80} 400 Z" fill="#8a3b2a"/>' for x in range(40, 440, 80))
        + '<rect x="470" y="120" width="36" height="280" fill="#6d2f22"/>'
        + '<path d="M560 470 Q680 380 800 470" stroke="#d9d2c2" stroke-width="26" fill="none"/>',
    ),
    "dinosaur-park-highlights": lambda: scene(
        "#d7eef0", "#8cc084",
        '<path d="M180 400 Q200 300 320 290 Q420 280 470 330 Q520 190 600 150 Q640 140 650 170 Q600 200 560 330 Q560 400 520 400 Z" fill="#3f7d4f"/>'
        '<circle cx="630" cy="165" r="6" fill="#fff"/><path d="M180 400 Q120 390 60 340" stroke="#3f7d4f" stroke-width="30" fill="none"/>'
        '<ellipse cx="800" cy="360" rx="80" ry="100" fill="#f2e6c9"/>',
    ),
    "tianmu-lake-shores": lambda: scene(
        "#dbe9ef", "#5f9bb1",
        '<path d="M0 400 L160 240 L300 360 L460 200 L640 380 L800 260 L960 400 Z" fill="#4f7f5a"/>'
        '<ellipse cx="520" cy="450" rx="120" ry="22" fill="#4f7f5a"/><path d="M700 470 l60 0 l-10 14 l-40 0 Z" fill="#f4efe4"/>',
    ),
    "nanshan-bamboo-sea-trail": lambda: scene(
        "#e5efe0", "#6f9a55", "".join(
            f'<rect x="{x}" y="{60 + (x * 37) % 90}" width="14" height="{400 - 60 - (x * 37) % 90}" fill="#4d7d3a"/>'
            f'<path d="M{x + 7} {150 + (x * 13) % 80} q40 -20 70 -10" stroke="#5f9a45" stroke-width="8" fill="none"/>'
            for x in range(20, 960, 58)
        ),
    ),
    "yancheng-spring-autumn": lambda: scene(
        "#efe6cf", "#b9ad86",
        "".join(
            f'<ellipse cx="480" cy="440" rx="{rx}" ry="{ry}" fill="none" stroke="{c}" stroke-width="{w}"/>'
            for rx, ry, c, w in ((440, 90, "#5e9bb0", 26), (330, 66, "#7e9a5a", 22), (230, 46, "#5e9bb0", 18), (140, 28, "#7e9a5a", 16))
        )
        + '<path d="M420 300 l60 -40 l60 40 Z" fill="#6b4a2b"/><rect x="430" y="300" width="100" height="50" fill="#a07850"/>',
    ),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for slug, draw in COVERS.items():
        target = OUT / f"{slug}.png"
        subprocess.run(["rsvg-convert", "--format=png", "-o", str(target)], input=draw().encode(), check=True)
        print(target.relative_to(OUT.parent.parent), target.stat().st_size)


if __name__ == "__main__":
    main()
