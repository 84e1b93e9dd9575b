"""Draw the cloud exhibitions' pictures (our own illustrations, CC BY 4.0) and render them to PNG.

    python3 content/exhibitions/render_images.py   # needs Debian's librsvg2-bin (rsvg-convert)

Each picture is a small hand-written SVG (shapes, not photographs), rendered at 960×1200 px (phone
size, portrait) into content/media/exhibitions/<exhibition>/<item>.png. Re-running rewrites them.
"""

from __future__ import annotations

import math
import random
import subprocess
from pathlib import Path

W, H = 960, 1200
OUT = Path(__file__).resolve().parent.parent / "media" / "exhibitions"


def frame(body: str, bg: str = "#f3ecdc") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}">'
        f'<rect width="{W}" height="{H}" fill="{bg}"/>{body}</svg>'
    )


def plinth(color: str = "#d8ccb2") -> str:
    return f'<ellipse cx="480" cy="1010" rx="330" ry="46" fill="{color}"/>'


def jade_cong() -> str:
    faces = "".join(
        f'<g transform="translate(0,{y})"><circle cx="395" cy="0" r="14" fill="#2f5247"/><circle cx="565" cy="0" r="14" fill="#2f5247"/>'
        f'<rect x="420" y="24" width="120" height="10" rx="5" fill="#2f5247"/></g>'
        for y in (330, 520, 710)
    )
    return frame(
        plinth()
        + '<ellipse cx="480" cy="230" rx="150" ry="40" fill="#7fa190"/>'
        '<rect x="330" y="230" width="300" height="760" fill="#6f927f"/>'
        '<rect x="330" y="230" width="60" height="760" fill="#5b7d6b"/><rect x="570" y="230" width="60" height="760" fill="#86a896"/>'
        '<ellipse cx="480" cy="230" rx="95" ry="24" fill="#314c40"/>'
        + faces
        + "".join(f'<line x1="330" x2="630" y1="{y}" y2="{y}" stroke="#4e6d5e" stroke-width="6"/>' for y in (430, 620, 810))
    )


def canoe() -> str:
    return frame(
        '<rect y="780" width="960" height="420" fill="#b9cfd3"/>'
        '<path d="M60 640 Q480 860 900 640 L880 700 Q480 900 80 700 Z" fill="#6b4a2b"/>'
        '<path d="M90 650 Q480 820 870 650 Q480 760 90 650 Z" fill="#3f2a17"/>'
        + "".join(f'<path d="M{x} 860 q40 -18 80 0" stroke="#7f9fa5" stroke-width="6" fill="none"/>' for x in range(60, 900, 140)),
        bg="#e9e2cf",
    )


def celadon_jar() -> str:
    return frame(
        plinth()
        + '<path d="M360 300 L600 300 L600 360 Q760 480 700 760 Q660 960 480 990 Q300 960 260 760 Q200 480 360 360 Z" fill="#b5b27a"/>'
        '<path d="M300 520 Q480 560 660 520" stroke="#8f8c57" stroke-width="10" fill="none"/>'
        '<path d="M290 600 Q480 640 670 600" stroke="#8f8c57" stroke-width="6" fill="none"/>'
        '<ellipse cx="480" cy="300" rx="120" ry="22" fill="#6d6b42"/>'
        '<path d="M330 420 Q300 600 360 800" stroke="#d6d4a3" stroke-width="18" fill="none" opacity=".6"/>'
    )


def lacquer_box() -> str:
    scrolls = "".join(
        f'<path d="M{x} {y} q30 -40 60 0 t60 0" stroke="#d7b15a" stroke-width="5" fill="none"/>'
        for x in range(230, 700, 130)
        for y in (520, 640, 760)
    )
    return frame(
        plinth()
        + '<rect x="180" y="420" width="600" height="560" rx="24" fill="#5a1f16"/>'
        '<rect x="200" y="440" width="560" height="460" rx="16" fill="#7a2a1e" stroke="#d7b15a" stroke-width="8"/>'
        + scrolls
        + '<circle cx="480" cy="670" r="70" fill="none" stroke="#e6c878" stroke-width="8"/>'
        '<path d="M440 670 q40 -60 80 0 q-40 60 -80 0" fill="#e6c878"/>'
    )


def qingbai_bowl() -> str:
    return frame(
        plinth()
        + '<path d="M180 520 Q480 560 780 520 Q740 860 540 930 L420 930 Q220 860 180 520 Z" fill="#cfe3e1"/>'
        '<ellipse cx="480" cy="520" rx="300" ry="60" fill="#e8f3f1" stroke="#a9c8c5" stroke-width="6"/>'
        '<path d="M300 640 q60 80 180 60 q120 -20 180 -60" stroke="#a9c8c5" stroke-width="8" fill="none"/>'
        '<rect x="420" y="930" width="120" height="50" fill="#b9d3d0"/>'
    )


def boneless_flowers() -> str:
    rng = random.Random(7)
    petals = ""
    for cx, cy, color in ((400, 520, "#d9707f"), (600, 660, "#e79aa3"), (360, 800, "#c95a6c")):
        for k in range(6):
            a = k * math.pi / 3 + rng.random() * 0.3
            petals += (
                f'<ellipse cx="{cx + 55 * math.cos(a):.0f}" cy="{cy + 55 * math.sin(a):.0f}" rx="60" ry="38" '
                f'transform="rotate({math.degrees(a):.0f} {cx + 55 * math.cos(a):.0f} {cy + 55 * math.sin(a):.0f})" fill="{color}" opacity=".75"/>'
            )
        petals += f'<circle cx="{cx}" cy="{cy}" r="18" fill="#e7c45a"/>'
    leaves = "".join(
        f'<path d="M{x} {y} q80 -60 160 10 q-80 50 -160 -10" fill="#6f9a62" opacity=".8"/>' for x, y in ((420, 900), (520, 760), (250, 650))
    )
    return frame('<path d="M480 1150 Q470 900 420 600" stroke="#556b3f" stroke-width="10" fill="none"/>' + leaves + petals, bg="#f1e8d2")


def portrait_sketch() -> str:
    return frame(
        '<circle cx="480" cy="430" r="170" fill="#e8c9a7"/><path d="M300 380 Q480 180 660 380 Q640 260 480 240 Q320 260 300 380Z" fill="#2b2420"/>'
        '<path d="M250 1100 Q260 720 480 680 Q700 720 710 1100 Z" fill="#3d4c5e"/>'
        '<circle cx="420" cy="440" r="12" fill="#2b2420"/><circle cx="540" cy="440" r="12" fill="#2b2420"/>'
        '<path d="M430 530 q50 30 100 0" stroke="#8a4a3a" stroke-width="8" fill="none"/>'
        '<rect x="120" y="180" width="160" height="220" fill="#fff" stroke="#7b6a55" stroke-width="6"/>'
        '<path d="M140 360 l60 -120 l60 120" stroke="#4a7a8c" stroke-width="8" fill="none"/>',
        bg="#ede3cf",
    )


def west_lake() -> str:
    willows = "".join(
        f'<path d="M{x} 300 q{d} 200 {d * 2} 420" stroke="#7aa35a" stroke-width="5" fill="none"/>' for x in range(80, 400, 24) for d in (-10, 12)
    )
    return frame(
        '<rect y="600" width="960" height="600" fill="#8fb8c8"/>'
        '<path d="M0 600 Q240 420 480 560 Q700 440 960 600 Z" fill="#8da88a"/>'
        '<path d="M520 760 Q680 640 840 760" stroke="#f3ecdc" stroke-width="24" fill="none"/>'
        '<rect x="60" y="280" width="16" height="420" fill="#5b4632"/>' + willows,
        bg="#f4e9c9",
    )


def ancient_pine() -> str:
    needles = "".join(
        f'<ellipse cx="{x}" cy="{y}" rx="{r}" ry="{r * 0.45:.0f}" fill="#2f4a33" opacity=".85"/>'
        for x, y, r in ((300, 360, 140), (560, 300, 170), (720, 470, 120), (420, 520, 110), (200, 560, 90))
    )
    return frame(
        '<path d="M480 1150 Q520 900 430 760 Q360 640 520 520 Q600 460 560 330" stroke="#3b2b1f" stroke-width="60" fill="none" stroke-linecap="round"/>'
        '<path d="M470 700 Q320 620 200 560 M520 520 Q650 500 720 470" stroke="#3b2b1f" stroke-width="26" fill="none"/>'
        + needles
        + '<rect x="0" y="1060" width="960" height="140" fill="#b7ab93"/>',
        bg="#efe7d6",
    )


def huangshan_clouds() -> str:
    peaks = (
        '<path d="M80 900 L220 360 L300 540 L380 260 L470 620 L560 300 L640 560 L740 380 L880 900 Z" fill="#3e4a4f"/>'
        '<path d="M160 900 L260 520 L330 700 L420 480 L520 760 L600 520 L700 700 L800 900 Z" fill="#5c6a6e"/>'
    )
    clouds = "".join(
        f'<ellipse cx="{x}" cy="{y}" rx="{rx}" ry="40" fill="#ffffff" opacity=".85"/>'
        for x, y, rx in ((200, 760, 200), (520, 820, 260), (800, 740, 180), (380, 660, 140), (660, 900, 240))
    )
    return frame(peaks + clouds + '<circle cx="780" cy="200" r="60" fill="#e7b35a"/>', bg="#dfe7ea")


def splashed_colour() -> str:
    rng = random.Random(3)
    blobs = "".join(
        f'<ellipse cx="{rng.randint(80, 880)}" cy="{rng.randint(200, 1000)}" rx="{rng.randint(90, 220)}" ry="{rng.randint(60, 160)}" '
        f'fill="{rng.choice(["#2d6f8f", "#3f8f6b", "#1f4d6b", "#b8322a", "#4aa0a0"])}" opacity=".55"/>'
        for _ in range(22)
    )
    return frame(blobs + '<path d="M120 900 L300 500 L420 700 L560 380 L740 820" stroke="#1d1d1d" stroke-width="12" fill="none"/>', bg="#f2ecdc")


def lotus() -> str:
    return frame(
        '<ellipse cx="360" cy="700" rx="260" ry="150" fill="#1f2a24" opacity=".85"/><ellipse cx="650" cy="880" rx="220" ry="120" fill="#2c3a30" opacity=".8"/>'
        '<path d="M520 1150 Q540 800 560 520" stroke="#2c3a30" stroke-width="10" fill="none"/>'
        '<path d="M560 520 q-90 -60 -40 -200 q50 80 40 200 q0 -140 60 -220 q40 130 -60 220 q90 -90 150 -90 q-40 110 -150 90" fill="#d9413a"/>',
        bg="#f4eedd",
    )


def bamboo_skin() -> str:
    return frame(
        '<rect x="200" y="80" width="560" height="1040" rx="40" fill="#c9a36b"/>'
        '<rect x="200" y="80" width="560" height="1040" rx="40" fill="none" stroke="#9a7440" stroke-width="10"/>'
        '<path d="M300 300 q40 -80 120 -60 q-20 100 -120 60 M420 240 L420 900 M520 220 q60 200 0 420 q-40 120 40 260" stroke="#f0dfaa" stroke-width="26" fill="none"/>'
        '<path d="M560 420 q90 -40 140 10 q-70 40 -140 -10 M330 600 q-60 -10 -90 40 q70 10 90 -40" fill="#f0dfaa"/>'
        '<rect x="200" y="600" width="560" height="14" fill="#9a7440"/>'
    )


def brush_pot() -> str:
    return frame(
        plinth()
        + '<rect x="250" y="260" width="460" height="740" rx="30" fill="#b0804d"/>'
        '<ellipse cx="480" cy="260" rx="230" ry="40" fill="#6f4a28"/>'
        '<path d="M290 700 L380 520 L440 620 L520 440 L620 660 L680 600" stroke="#f0dfaa" stroke-width="14" fill="none"/>'
        '<path d="M290 820 q100 -40 200 0 t180 0" stroke="#f0dfaa" stroke-width="10" fill="none"/>'
        '<circle cx="600" cy="380" r="34" fill="#f0dfaa"/>'
    )


def fan_ribs() -> str:
    ribs = "".join(
        f'<rect x="470" y="180" width="22" height="860" rx="10" fill="#c19a62" transform="rotate({a} 480 1040)"/>' for a in range(-40, 41, 10)
    )
    return frame(
        ribs
        + '<path d="M470 500 q-30 -120 10 -220 M480 500 q40 -100 100 -140 M480 520 q-60 -60 -130 -60" stroke="#f3e2b0" stroke-width="8" fill="none"/>'
        '<circle cx="480" cy="1040" r="20" fill="#5b3d22"/>',
        bg="#ebe3d1",
    )


def boxwood_comb() -> str:
    teeth = "".join(f'<rect x="{x}" y="560" width="12" height="300" rx="6" fill="#d9a85b"/>' for x in range(220, 740, 20))
    return frame(
        '<path d="M200 560 Q480 280 760 560 Z" fill="#d9a85b"/><path d="M240 540 Q480 330 720 540" stroke="#b07f38" stroke-width="8" fill="none"/>'
        + teeth,
        bg="#f1eadb",
    )


def fine_tooth_comb() -> str:
    top = "".join(f'<rect x="{x}" y="360" width="5" height="230" fill="#c7a56a"/>' for x in range(200, 760, 9))
    bottom = "".join(f'<rect x="{x}" y="650" width="5" height="230" fill="#c7a56a"/>' for x in range(200, 760, 9))
    return frame(top + bottom + '<rect x="180" y="580" width="600" height="80" rx="14" fill="#8a5a2b"/>', bg="#efe8d8")


def palace_comb() -> str:
    teeth = "".join(f'<rect x="{x}" y="640" width="14" height="260" rx="7" fill="#3b2416"/>' for x in range(230, 730, 22))
    return frame(
        '<path d="M220 640 Q480 320 740 640 Z" fill="#3b2416"/>'
        '<path d="M300 600 Q480 400 660 600" stroke="#d8b24c" stroke-width="10" fill="none"/>'
        '<circle cx="480" cy="520" r="46" fill="#c2362b"/><circle cx="380" cy="570" r="22" fill="#2f7a6b"/><circle cx="580" cy="570" r="22" fill="#2f7a6b"/>'
        + teeth,
        bg="#f3ead6",
    )


def random_stitches() -> str:
    rng = random.Random(11)
    lines = ""
    for _ in range(900):
        x, y = rng.randint(80, 880), rng.randint(120, 1080)
        a = rng.random() * math.pi
        n = rng.randint(20, 60)
        shade = int(120 + 100 * (y / H))
        lines += f'<line x1="{x}" y1="{y}" x2="{x + n * math.cos(a):.0f}" y2="{y + n * math.sin(a):.0f}" stroke="rgb({shade},{80 + x // 10},{160})" stroke-width="3" opacity=".7"/>'
    return frame(lines, bg="#efe6d3")


def embroidered_portrait() -> str:
    rng = random.Random(5)
    lines = ""
    for _ in range(700):
        x, y = rng.randint(280, 680), rng.randint(260, 620)
        if (x - 480) ** 2 / 190**2 + (y - 440) ** 2 / 200**2 > 1:
            continue
        a = rng.random() * math.pi
        lines += f'<line x1="{x}" y1="{y}" x2="{x + 30 * math.cos(a):.0f}" y2="{y + 30 * math.sin(a):.0f}" stroke="#c98e6a" stroke-width="4" opacity=".6"/>'
    return frame(
        '<path d="M230 1120 Q240 720 480 680 Q720 720 730 1120 Z" fill="#2f3e4f"/>'
        '<ellipse cx="480" cy="440" rx="190" ry="200" fill="#e6bf9c"/>' + lines +
        '<path d="M290 400 Q480 160 670 400 Q640 250 480 230 Q320 250 290 400Z" fill="#1f1a17"/>'
        '<circle cx="410" cy="450" r="12" fill="#1f1a17"/><circle cx="550" cy="450" r="12" fill="#1f1a17"/>'
        '<path d="M440 560 q40 20 80 0" stroke="#8a4a3a" stroke-width="7" fill="none"/>',
        bg="#e9e0ca",
    )


def embroidered_landscape() -> str:
    rng = random.Random(9)
    lines = ""
    for _ in range(700):
        x, y = rng.randint(40, 920), rng.randint(80, 1120)
        color = "#f0a040" if y < 500 else ("#5a6b7a" if y < 700 else "#3f7d9a")
        a = rng.random() * math.pi
        lines += f'<line x1="{x}" y1="{y}" x2="{x + 40 * math.cos(a):.0f}" y2="{y + 12 * math.sin(a):.0f}" stroke="{color}" stroke-width="4" opacity=".55"/>'
    return frame(
        '<rect width="960" height="560" fill="#f4c27a"/><rect y="700" width="960" height="500" fill="#5e93ab"/>'
        '<circle cx="480" cy="470" r="110" fill="#e8643a"/>' + lines +
        '<path d="M180 760 Q480 520 780 760" stroke="#4a3a2e" stroke-width="40" fill="none"/>'
        '<path d="M380 760 Q480 680 580 760" fill="#f4c27a"/>',
        bg="#f4c27a",
    )


def red_paper(motif: str) -> str:
    return frame(f'<g fill="#c8202a">{motif}</g>', bg="#f6efe2")


def papercut_double_happiness() -> str:
    bars = ""
    for cx in (330, 630):
        bars += (
            f'<rect x="{cx - 120}" y="300" width="240" height="36"/><rect x="{cx - 18}" y="260" width="36" height="640"/>'
            f'<rect x="{cx - 150}" y="460" width="300" height="36"/><rect x="{cx - 100}" y="560" width="200" height="120" fill="none" stroke="#c8202a" stroke-width="34"/>'
            f'<rect x="{cx - 150}" y="760" width="300" height="36"/>'
        )
    return red_paper('<circle cx="480" cy="600" r="400" fill="none" stroke="#c8202a" stroke-width="24"/>' + bars + '<rect x="450" y="300" width="60" height="500"/>')


def papercut_fish() -> str:
    scales = "".join(
        f'<path d="M{x} {y} q20 -26 40 0" stroke="#f6efe2" stroke-width="8" fill="none"/>' for x in range(340, 620, 46) for y in (560, 610, 660)
    )
    return red_paper(
        '<path d="M220 610 Q480 360 700 610 Q480 860 220 610 Z"/><path d="M700 610 L860 480 L820 610 L860 740 Z"/>'
        '<circle cx="300" cy="590" r="20" fill="#f6efe2"/>' + scales +
        "".join(f'<path d="M{x} 960 q40 -30 80 0 t80 0" stroke="#c8202a" stroke-width="14" fill="none"/>' for x in (140, 460))
    )


def papercut_window_flower() -> str:
    petals = "".join(
        f'<ellipse cx="480" cy="380" rx="70" ry="190" transform="rotate({a} 480 600)"/>' for a in range(0, 360, 45)
    )
    holes = "".join(
        f'<circle cx="{480 + 150 * math.cos(math.radians(a)):.0f}" cy="{600 + 150 * math.sin(math.radians(a)):.0f}" r="22" fill="#f6efe2"/>'
        for a in range(22, 360, 45)
    )
    return red_paper(
        '<rect x="100" y="220" width="760" height="760" fill="none" stroke="#c8202a" stroke-width="30"/>'
        + petals + holes + '<circle cx="480" cy="600" r="70" fill="#f6efe2"/><circle cx="480" cy="600" r="40"/>'
    )


PICTURES = {
    "changzhou-museum-treasures": {
        "jade-cong": jade_cong,
        "dugout-canoe": canoe,
        "proto-celadon-jar": celadon_jar,
        "lacquer-box": lacquer_box,
        "qingbai-bowl": qingbai_bowl,
        "yun-shouping-flowers": boneless_flowers,
    },
    "liu-haisu-huangshan": {
        "young-liu": portrait_sketch,
        "west-lake": west_lake,
        "ancient-pine": ancient_pine,
        "huangshan-clouds": huangshan_clouds,
        "splashed-colour": splashed_colour,
        "lotus": lotus,
    },
    "bamboo-and-boxwood": {
        "liuqing-bamboo-skin": bamboo_skin,
        "liuqing-landscape-brush-pot": brush_pot,
        "liuqing-orchid-fan": fan_ribs,
        "boxwood-comb": boxwood_comb,
        "fine-tooth-comb": fine_tooth_comb,
        "palace-comb": palace_comb,
    },
    "needle-and-paper": {
        "random-stitch-technique": random_stitches,
        "embroidered-portrait": embroidered_portrait,
        "embroidered-landscape": embroidered_landscape,
        "papercut-double-happiness": papercut_double_happiness,
        "papercut-fish": papercut_fish,
        "papercut-window-flower": papercut_window_flower,
    },
}


def main() -> None:
    for exhibition, pictures in PICTURES.items():
        folder = OUT / exhibition
        folder.mkdir(parents=True, exist_ok=True)
        for key, draw in pictures.items():
            target = folder / f"{key}.png"
            subprocess.run(["rsvg-convert", "--format=png", "-o", str(target)], input=draw().encode(), check=True)
            print(target.relative_to(OUT.parent.parent), target.stat().st_size)


if __name__ == "__main__":
    main()
