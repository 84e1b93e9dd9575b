"""`make bench`: every benchmark, one table, ratios against baselines measured in the same run."""

from __future__ import annotations

import os
import platform
import sys
import time

from bench import (
    booking_contention,
    finder,
    forecast,
    guide_eval,
    healthz_overhead,
    http_events,
    http_venues,
    lighthouse,
    load_and_faults,
    scan_throughput,
    vouchers,
)

BENCHMARKS = {
    "venues": http_venues,
    "booking": booking_contention,
    "scans": scan_throughput,
    "finder": finder,
    "forecast": forecast,
    "guide": guide_eval,
    "events": http_events,
    "healthz": healthz_overhead,
    "lighthouse": lighthouse,
    "faults": load_and_faults,
    "vouchers": vouchers,
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    db = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    store = "Redis" if os.environ.get("REDIS_URL") else "in-process stores"
    print(
        f"# Changxiang bench — {time.strftime('%Y-%m-%d %H:%M')} — {db}, {store} — "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs — "
        f"request log {'on' if os.environ.get('LOG_LEVEL', 'INFO').upper() in ('DEBUG', 'INFO') else 'off'} "
        f"(LOG_LEVEL={os.environ.get('LOG_LEVEL', 'INFO')})"
    )
    print(f"{'measure':<58} {'req/s':>10} {'ratio':>7}  notes")
    for name in chosen:
        for label, rate, ratio, notes, *target in BENCHMARKS[name].run():
            target = target[0] if target else None
            mark = "" if target is None else f"  (target ≥ {target}: {'met' if ratio >= target else 'NOT met'})"
            print(f"{label:<58} {rate:>10.0f} {ratio:>7.2f}  {notes}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
