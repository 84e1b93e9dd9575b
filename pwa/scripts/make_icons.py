"""Draw the Changxiang app icons (PNG) into pwa/public/icons/.

Design: the character 常 in rice-paper white on a deep ink-teal ground, an ochre sun behind it
and three canal waves (the Grand Canal runs through Changzhou) beneath.

Run (needs Pillow and the Noto Serif CJK font, Debian package fonts-noto-cjk):
    python3 -m venv /tmp/iconvenv && /tmp/iconvenv/bin/pip install pillow
    /tmp/iconvenv/bin/python pwa/scripts/make_icons.py
The PNGs are committed, so the build never needs this script.
"""
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "public" / "icons"
FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
TEAL = (14, 74, 74)
TEAL_LIGHT = (78, 160, 152)
OCHRE = (214, 160, 62)
PAPER = (247, 241, 227)
S = 2048  # draw large, scale down for smooth edges


def draw(maskable: bool) -> Image.Image:
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle([0, 0, S, S], fill=TEAL)
        scale = 0.72  # keep everything inside the 80% safe circle
    else:
        d.rounded_rectangle([0, 0, S - 1, S - 1], radius=int(S * 0.22), fill=TEAL)
        scale = 0.92
    c = S / 2

    def p(v: float) -> float:  # map a 0..1 design coordinate into the scaled box
        return c + (v - 0.5) * S * scale

    # ochre sun, upper right
    r = S * scale * 0.17
    sx, sy = p(0.72), p(0.27)
    d.ellipse([sx - r, sy - r, sx + r, sy + r], fill=OCHRE)
    # the character
    font = ImageFont.truetype(FONT, int(S * scale * 0.58), index=0)
    d.text((c, p(0.47)), "常", font=font, fill=PAPER, anchor="mm")
    # three waves
    w = int(S * scale * 0.028)
    for i, y0 in enumerate((0.80, 0.87)):
        pts = []
        x0, x1 = 0.16 + 0.04 * i, 0.84 - 0.04 * i
        n = 1200
        for k in range(n + 1):
            t = k / n
            x = x0 + (x1 - x0) * t
            y = y0 + 0.018 * math.sin(t * math.pi * 4)
            pts.append((p(x), p(y)))
        colour = TEAL_LIGHT if i else OCHRE
        for x, y in pts:  # stamp round dots along the curve: a smooth, round-capped stroke
            d.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=colour)
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    anyp = draw(False)
    mask = draw(True)
    for size in (192, 512):
        anyp.resize((size, size), Image.LANCZOS).save(OUT / f"icon-{size}.png", optimize=True)
    mask.resize((512, 512), Image.LANCZOS).save(OUT / "maskable-512.png", optimize=True)
    anyp.resize((180, 180), Image.LANCZOS).save(OUT / "apple-touch-icon-180.png", optimize=True)
    anyp.resize((64, 64), Image.LANCZOS).save(OUT / "favicon-64.png", optimize=True)


if __name__ == "__main__":
    main()
