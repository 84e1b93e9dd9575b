"""GET /api/v1/venues against the app's own /healthz, in the same run (issue 2: ratio ≥ 0.5)."""

from __future__ import annotations

from bench.harness import bench_env, cli, interleaved, server

TARGET = 0.5


def run() -> list[tuple[str, float, float, str]]:
    env = bench_env()
    cli(env, "migrate")
    cli(env, "load-content")
    with server(env) as url:
        results = interleaved(
            url,
            {
                "healthz": "/healthz",
                "venues": "/api/v1/venues",
                "venues_near": "/api/v1/venues?near=31.7795,119.9561&radius_m=5000",
            },
        )
    base = results["healthz"]
    rows = []
    for name in ("venues", "venues_near"):
        r = results[name]
        assert r.non_2xx == 0 and r.errors == 0, f"{name}: {r}"
        ratio = r.requests_per_s / base.requests_per_s
        rows.append(
            (
                f"GET /api/v1/{name.replace('_near', '?near=…&radius_m=5000')} ÷ /healthz",
                r.requests_per_s,
                ratio,
                f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms{r.cpu_note}",
                TARGET if name == "venues" else None,
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
