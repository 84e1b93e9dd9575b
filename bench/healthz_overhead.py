"""Our /healthz against a bare Litestar app's (issue 10, item 8: ratio ≥ 0.6), same uvicorn settings as
`changxiang run` (one worker, no access log), measured interleaved in the same run."""

from __future__ import annotations

from bench.harness import bench_env, cli, floor_server, server, wrk

TARGET = 0.6


def run(rounds: int = 3, seconds: int = 4) -> list[tuple]:
    env = bench_env()
    cli(env, "migrate")
    runs: dict[str, list] = {"bare": [], "ours": []}
    with server(env) as ours, floor_server() as bare:
        urls = {"bare": bare + "/healthz", "ours": ours + "/healthz"}
        for url in urls.values():
            wrk(url, seconds=1)  # warm-up
        for _ in range(rounds):
            for name, url in urls.items():
                runs[name].append(wrk(url, seconds=seconds))
    best = {name: sorted(results, key=lambda r: r.requests_per_s)[len(results) // 2] for name, results in runs.items()}
    for name, r in best.items():
        assert r.non_2xx == 0 and r.errors == 0, f"{name}: {r}"
    base, ours_r = best["bare"], best["ours"]
    return [
        (
            "GET /healthz, bare Litestar app (baseline)",
            base.requests_per_s,
            1.0,
            f"p50 {base.p50_ms:.1f} ms, p99 {base.p99_ms:.1f} ms",
        ),
        (
            "GET /healthz, Changxiang ÷ bare Litestar",
            ours_r.requests_per_s,
            ours_r.requests_per_s / base.requests_per_s,
            f"p50 {ours_r.p50_ms:.1f} ms, p99 {ours_r.p99_ms:.1f} ms",
            TARGET,
        ),
    ]
