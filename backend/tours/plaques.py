"""Printable plaques for readable buildings (建筑可阅读): one QR code per point of interest of a tour,
laid out on an A4 SVG sheet (two columns, 60 mm codes), each pointing at the PWA's /pois/{id} page."""

from __future__ import annotations

from xml.sax.saxutils import escape

import segno

MM = 1.0  # the sheet is drawn in millimetres (viewBox units)
SHEET_W, ROW_H, COLS = 210 * MM, 95 * MM, 2
QR_MM = 60 * MM


def plaque_url(base_url: str, poi_id: str) -> str:
    return f"{base_url}/pois/{poi_id}"


def _qr(url: str, x: float, y: float) -> str:
    qr = segno.make(url, error="q")
    modules = qr.symbol_size(scale=1, border=4)[0]
    scale = QR_MM / modules
    inner = qr.svg_inline(scale=1, border=4, dark="#000", light="#fff")
    return f'<g transform="translate({x:.2f},{y:.2f}) scale({scale:.4f})">{inner}</g>'


def plaque_sheet(tour_slug: str, stops: list[tuple[int, str, str, str]], base_url: str) -> str:
    """SVG text of the sheet; `stops` are (order, poi id, zh name, en name)."""
    rows = (len(stops) + COLS - 1) // COLS
    height = 20 * MM + rows * ROW_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SHEET_W}mm" height="{height}mm" '
        f'viewBox="0 0 {SHEET_W} {height}" font-family="Noto Sans CJK SC, sans-serif">',
        f'<rect width="{SHEET_W}" height="{height}" fill="#fff"/>',
        f'<text x="10" y="12" font-size="5" fill="#555">常享 Changxiang · {escape(tour_slug)}</text>',
    ]
    for index, (order, poi_id, name_zh, name_en) in enumerate(stops):
        col, row = index % COLS, index // COLS
        x, y = 10 * MM + col * 97 * MM, 18 * MM + row * ROW_H
        url = plaque_url(base_url, poi_id)
        cx = x + 46.5
        parts += [
            f'<rect x="{x}" y="{y}" width="93" height="{ROW_H - 4}" rx="3" fill="none" stroke="#999" '
            'stroke-width=".3" stroke-dasharray="2 1"/>',
            _qr(url, x + 16.5, y + 3),
            f'<text x="{cx}" y="{y + 71}" font-size="6" text-anchor="middle" font-weight="bold">'
            f"{order}. {escape(name_zh)}</text>",
            f'<text x="{cx}" y="{y + 78}" font-size="3.6" text-anchor="middle">{escape(name_en)}</text>',
            f'<text x="{cx}" y="{y + 85}" font-size="2.6" text-anchor="middle" fill="#555">'
            "扫码阅读建筑故事 · Scan to read its story</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts)
