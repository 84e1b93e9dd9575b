"""The crowd forecast's backtest (issue 19): the city's venues (content/venues.toml), 400 days of simulated
history (the same simulation `changxiang simulate-history` writes, seed 2026), the last 8 weeks held out.
From each held-out week's first day every candidate model forecasts the week from what was known before
it; its error (WAPE: the sum of absolute errors over the sum of people counted) is printed beside the two
baselines measured in the same run on the same hours — the same hour a week before, and the same hour's
average over the last 8 weeks — with the 80% band's coverage. The `ratio` column is the baseline's WAPE
over the model's (above 1: the model is better); the model the API uses is named.

Runs in-process (no server): it measures the model, not HTTP.
"""

from __future__ import annotations

import time
import tomllib
from datetime import timedelta

from opening_hours import OpeningHours

from bench.harness import ROOT

DAYS = 400
SEED = 2026
WEEKS = 8


def run() -> list[tuple]:
    from backend.forecast.model import BASELINES, CHOSEN, MODELS, Prepared, backtest
    from backend.forecast.simulation import VenueFacts, simulate
    from backend.lib.clock import clock

    raw = tomllib.loads((ROOT / "content" / "venues.toml").read_text(encoding="utf-8"))["venue"]
    venues = [VenueFacts(v["slug"], v["category"], v["capacity"], OpeningHours(v["opening_hours"])) for v in raw]
    end = clock.city_today()
    first = end - timedelta(days=DAYS)
    started = time.perf_counter()
    histories: dict[str, dict] = {}
    for row in simulate(venues, first, end - timedelta(days=1), SEED):
        histories.setdefault(row.venue_slug, {}).setdefault(row.day, {})[row.hour] = float(row.inside)
    simulated_s = time.perf_counter() - started
    started = time.perf_counter()
    result = backtest({slug: Prepared.of(h) for slug, h in histories.items()}, end, weeks=WEEKS)
    backtest_s = time.perf_counter() - started
    scores = result.scores
    chosen = scores[CHOSEN]
    span = f"{result.first}..{result.last}, {len(venues)} venues, {chosen.hours:,} venue-hours"
    rows: list[tuple] = []
    for name in BASELINES:
        s = scores[name]
        rows.append((f"forecast WAPE % baseline: {name}", 100 * s.wape, 1.0, f"WAPE {100 * s.wape:.1f}%; {span}"))
    for name in MODELS:
        s = scores[name]
        mark = " (used by the API)" if name == CHOSEN else ""
        rows.append(
            (
                f"forecast WAPE % {name}{mark}",
                100 * s.wape,
                min(scores[b].wape for b in BASELINES) / s.wape if s.wape else 0.0,
                f"WAPE {100 * s.wape:.1f}%, ÷ the better baseline; band coverage {100 * s.coverage:.1f}% (nominal 80%)",
                1.0,
            )
        )
    rows.append(
        (
            f"forecast band coverage % ({CHOSEN})",
            100 * chosen.coverage,
            chosen.coverage / 0.8,
            f"÷ nominal 80%; simulated in {simulated_s:.1f} s, backtest in {backtest_s:.1f} s; "
            f"best in this run: {result.chosen}",
        )
    )
    return rows
