"""GET /api/v1/events (this month's occurrences, soonest first) against the app's own /healthz, in the
same run (issue 6: ratio ≥ 0.35)."""

from __future__ import annotations

from bench.harness import bench_env, cli, interleaved, server

TARGET = 0.35


def run() -> list[tuple[str, float, float, str]]:
    env = bench_env()
    cli(env, "migrate")
    cli(env, "load-content")
    with server(env) as url:
        results = interleaved(
            url,
            {
                "healthz": "/healthz",
                "events": "/api/v1/events",
                "events_q": "/api/v1/events?q=%E9%94%A1%E5%89%A7&category=performance",
            },
        )
    base = results["healthz"]
    rows = []
    labels = {"events": "GET /api/v1/events ÷ /healthz", "events_q": "GET /api/v1/events?q=锡剧&category=… ÷ /healthz"}
    for name in ("events", "events_q"):
        r = results[name]
        assert r.non_2xx == 0 and r.errors == 0, f"{name}: {r}"
        rows.append(
            (
                labels[name],
                r.requests_per_s,
                r.requests_per_s / base.requests_per_s,
                f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms{r.cpu_note}",
                TARGET if name == "events" else None,
            )
        )
    rows.insert(
        0,
        (
            "GET /healthz (baseline)",
            base.requests_per_s,
            1.0,
            f"p50 {base.p50_ms:.1f} ms, p99 {base.p99_ms:.1f} ms{base.cpu_note}",
        ),
    )
    return rows
