"""The phone quality budget's JavaScript half (issue 10, item 6): what a phone must download before the
app starts (the module scripts and modulepreloads of pwa/dist/index.html, and any classic script it
names) is at most 150 KB gzipped. Route screens load later, on demand."""

from __future__ import annotations

import gzip
import re

from tests.quality.screens import ROOT

BUDGET_BYTES = 150 * 1024
DIST = ROOT / "pwa" / "dist"


def initial_scripts(html: str) -> list[str]:
    scripts = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", html)
    preloads = [
        m.group(2)
        for m in re.finditer(r"<link\b([^>]*)\bhref=\"([^\"]+)\"[^>]*>", html)
        if "modulepreload" in m.group(0)
    ]
    return list(dict.fromkeys(scripts + preloads))


def test_initial_javascript_is_within_150_kb_gzipped():
    html = (DIST / "index.html").read_text(encoding="utf-8")
    files = initial_scripts(html)
    assert any("/assets/index-" in f for f in files), f"no entry module found in index.html: {files}"
    sizes = {f: len(gzip.compress((DIST / f.lstrip("/")).read_bytes(), compresslevel=9)) for f in files}
    total = sum(sizes.values())
    report = ", ".join(f"{f} {n / 1024:.1f} KB" for f, n in sizes.items())
    print(f"initial JavaScript: {total / 1024:.1f} KB gzipped ({report})")
    assert total <= BUDGET_BYTES, f"initial JavaScript is {total / 1024:.1f} KB gzipped (> 150 KB): {report}"
