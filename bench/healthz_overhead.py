"""Our /healthz against a bare Litestar app's (issue 10, item 8: ratio ≥ 0.6), same uvicorn settings as
`changxiang run` (one worker, proxy headers, no access log), measured interleaved in the same run."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.harness import ROOT, _free_port, bench_env, cli, server, wrk

TARGET = 0.6

_BARE = (
    "import sys, uvicorn; uvicorn.run('bench.bare_litestar:app', host='127.0.0.1', port=int(sys.argv[1]), "
    "proxy_headers=True, log_config=None, access_log=False, log_level='warning')"
)


@contextmanager
def bare_server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", _BARE, str(port)], cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("bare Litestar server did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def run(rounds: int = 3, seconds: int = 4) -> list[tuple]:
    env = bench_env()
    cli(env, "migrate")
    runs: dict[str, list] = {"bare": [], "ours": []}
    with server(env) as ours, bare_server() as bare:
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
