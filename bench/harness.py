"""A real server in a subprocess on a scratch database, and wrk (Debian) as the load generator."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    requests: int = 0
    cpu_us_per_request: float | None = None  # the server's CPU (its process and workers), from /proc
    db_cpu_us_per_request: float | None = None  # PostgreSQL's processes on this machine, from /proc

    @property
    def cpu_note(self) -> str:
        if self.cpu_us_per_request is None:
            return ""
        db = "" if self.db_cpu_us_per_request is None else f" + database {self.db_cpu_us_per_request:.0f}"
        return f"; CPU/op: server {self.cpu_us_per_request:.0f}{db} µs"


# url -> the server process answering there (its CPU is read around each wrk run)
_SERVERS: dict[str, subprocess.Popen[bytes]] = {}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stats() -> Iterator[tuple[int, str, list[str]]]:
    """(pid, command name, the fields after it) of every process, from /proc."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except (OSError, ValueError):
            continue
        yield int(stat.parent.name), head.split("(", 1)[1], tail.split()


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and its live children (uvicorn's workers), from /proc."""
    total = 0.0
    for this, _, fields in _proc_stats():
        if this == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    return total


def db_cpu_s() -> float | None:
    """CPU seconds PostgreSQL's processes on this machine have used so far (its backends serve the bench
    server; None: SQLite, which runs inside the server and is counted there, or a database elsewhere)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not any(h in url for h in ("127.0.0.1", "localhost", "@/")):
        return None
    return sum(
        (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        for _, name, fields in _proc_stats()
        if name == "postgres" or name.startswith("postgres:")
    )


def server_cpu_s(url: str) -> float | None:
    """CPU seconds the server answering `url` has used so far (None: not a bench server, or no /proc)."""
    for base, proc in _SERVERS.items():
        if url.startswith(base) and Path("/proc").is_dir():
            return _cpu_s(proc.pid)
    return None


def _with_cpu(url: str, run: Callable[[], WrkResult]) -> WrkResult:
    before, db_before = server_cpu_s(url), db_cpu_s()
    result = run()
    after, db_after = server_cpu_s(url), db_cpu_s()
    if before is not None and after is not None and result.requests:
        result.cpu_us_per_request = (after - before) / result.requests * 1e6
        if db_before is not None and db_after is not None:
            result.db_cpu_us_per_request = (db_after - db_before) / result.requests * 1e6
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = os.environ.copy()
    scratch = Path(tempfile.mkdtemp(prefix="changxiang-bench-"))
    # keys persist across runs (a PostgreSQL bench database keeps its signing keys); the SQLite file is new
    env.setdefault("CHANGXIANG_VAR_DIR", str(ROOT / "var" / "bench"))
    env.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'bench.sqlite3'}")
    # production's setting (make run, docker-compose.yml): one access line a request, on the server's stdout,
    # which the bench drains to /dev/null as a log shipper would (LOG_LEVEL=WARNING in the caller's env: off)
    env.setdefault("LOG_LEVEL", "INFO")
    # the abuse limits are for people; a benchmark is one address sending thousands a minute
    for name in (
        "CHANGXIANG_AUTH_RATE_LIMIT",
        "CHANGXIANG_BOOKING_LIMIT_PER_ACCOUNT",
        "CHANGXIANG_BOOKING_LIMIT_PER_ADDRESS",
        "CHANGXIANG_SCAN_LIMIT_PER_ACCOUNT",
        "CHANGXIANG_SCAN_LIMIT_PER_ADDRESS",
    ):
        env.setdefault(name, "100000000")
    env.update(extra or {})
    return env


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


@contextmanager
def server(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    port = _free_port()
    env = dict(env, HOST="127.0.0.1", PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "run", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with _serving(proc, port, "/readyz", "bench server") as url:
        yield url


@contextmanager
def _serving(proc: subprocess.Popen[bytes], port: int, ready_path: str, what: str) -> Iterator[str]:
    """A server process started on `port`: wait until `ready_path` answers 200, yield its URL (its CPU is
    read around each wrk run), and stop it afterwards."""
    url = f"http://127.0.0.1:{port}"
    _SERVERS[url] = proc
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + ready_path, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.2)
        yield url
    finally:
        _SERVERS.pop(url, None)
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


_FLOOR = (
    "import sys, uvicorn; uvicorn.run('bench.bare_litestar:app', host='127.0.0.1', port=int(sys.argv[1]), "
    "workers=int(sys.argv[2]), proxy_headers=False, log_config=None, access_log=False, log_level='warning')"
)


@contextmanager
def floor_server(samples: dict[str, bytes] | None = None, workers: int = 1) -> Iterator[str]:
    """The floors' bare Litestar app (bench/bare_litestar.py) on `changxiang run`'s uvicorn settings and
    worker count; `samples` are responses of ours (by route name) it answers with: the same sizes."""
    port = _free_port()
    env = os.environ.copy()
    if samples:
        fd, path = tempfile.mkstemp(prefix="changxiang-floor-", suffix=".json")
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"{" + b",".join(b'"%s":%s' % (k.encode(), v) for k, v in samples.items()) + b"}")
        env["CX_FLOOR_SAMPLES"] = path
    proc = subprocess.Popen(
        [sys.executable, "-c", _FLOOR, str(port), str(workers)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    try:
        with _serving(proc, port, "/healthz", "the floors' bare Litestar server") as url:
            yield url
    finally:
        if samples:
            os.unlink(env["CX_FLOOR_SAMPLES"])


def against_floor(op: WrkResult, floor: WrkResult, healthz: WrkResult, floor_extra_s: float = 0.0) -> str:
    """The note of an operation: its fraction of its floor (the floor route's time per request plus
    `floor_extra_s`, work timed alone that the operation cannot skip) and of /healthz, and its CPU."""
    floor_rate = 1 / (1 / floor.requests_per_s + floor_extra_s)
    return (
        f"÷ floor {op.requests_per_s / floor_rate:.2f} (floor {floor_rate:,.0f}/s), "
        f"÷ healthz {op.requests_per_s / healthz.requests_per_s:.2f}; p50 {op.p50_ms:.1f} ms, "
        f"p99 {op.p99_ms:.1f} ms, non-2xx {op.non_2xx}{op.cpu_note}"
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, seconds: int = 5, connections: int = 32, threads: int = 1) -> WrkResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench` installs it from Debian")

    def run() -> WrkResult:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return parse_wrk(out)

    return _with_cpu(url, run)


def wrk_script(url: str, script: str, seconds: int, connections: int = 32) -> WrkResult:
    """wrk driven by a Lua script (bodies, headers, random points), one thread."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as fh:
        fh.write(script)

    def run() -> WrkResult:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", fh.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return parse_wrk(out)

    try:
        return _with_cpu(url, run)
    finally:
        os.unlink(fh.name)


def parse_wrk(out: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)) else 0
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    requests = int(m.group(1)) if (m := re.search(r"(\d+) requests in", out)) else 0
    return WrkResult(rps, p50, p99, non_2xx, errors, requests)


def interleaved(base_url: str, paths: dict[str, str], rounds: int = 3, seconds: int = 4) -> dict[str, WrkResult]:
    """Measure each path `rounds` times, interleaved so drift hits all alike; keep each path's median run."""
    for path in paths.values():  # warm-up
        wrk(base_url + path, seconds=1)
    return medians({name: lambda p=path: wrk(base_url + p, seconds=seconds) for name, path in paths.items()}, rounds)


def medians(runs: dict[str, Callable[[], WrkResult]], rounds: int = 3) -> dict[str, WrkResult]:
    """Each run `rounds` times, interleaved (an operation, its floor, /healthz, ...) so that drift on a
    shared machine hits all alike; each one's median run by rate."""
    results: dict[str, list[WrkResult]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            results[name].append(run())
    return {name: sorted(rs, key=lambda r: r.requests_per_s)[len(rs) // 2] for name, rs in results.items()}


async def post_many(
    url: str, requests: list[tuple[str, dict[str, str], bytes]], connections: int
) -> tuple[float, list[tuple[int, bytes]]]:
    """Send every (path, headers, body) POST over `connections` keep-alive HTTP/1.1 connections at once.

    A minimal asyncio client: httpx's pool tops out near 150 requests/s on this machine, which would
    measure the client, not the server.
    """
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        queue.put_nowait(index)
    answers: list[tuple[int, bytes]] = [(0, b"")] * len(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                path, headers, body = requests[index]
                head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(body)}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
                writer.write(head.encode() + body)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value.strip())
                answers[index] = (int(status_line.split()[1]), await reader.readexactly(length))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(connections)])
    return time.perf_counter() - started, answers


async def holders_with_passes(tag: str, venue: str, holders: int, password_hash: str) -> list[str]:
    """`holders` tourists, each with a confirmed booking of a slot running now at `venue` and a pass,
    written straight to the database (the database must be started); returns their pass ids."""
    import secrets
    import uuid
    from datetime import UTC, datetime, timedelta

    from backend.accounts.tables import User
    from backend.lib.clock import CITY_TZ
    from backend.passes.tables import Pass
    from backend.reservations.tables import Reservation, Slot

    now = datetime.now(UTC)
    today = now.astimezone(CITY_TZ).date()
    rows: list[dict] = []
    for first in range(0, holders, 500):  # PostgreSQL takes at most 32,767 parameters a statement
        rows += await User.insert(
            *[
                User(
                    email=f"holder-{tag}-{i}@changxiang.test",
                    password_hash=password_hash,
                    display_name=f"游客{i}",
                    roles=["tourist"],
                    venue_slugs=[],
                )
                for i in range(first, min(holders, first + 500))
            ]
        ).returning(User.id)
    slot = await Slot.insert(
        Slot(
            key=f"{venue}|bench-{tag}",
            venue_slug=venue,
            local_date=today,
            starts_at=now - timedelta(minutes=10),
            ends_at=now + timedelta(hours=3),
            capacity=holders,
            booked=holders,
            status="open",
        )
    ).returning(Slot.id)
    pass_ids = [secrets.token_hex(8) for _ in rows]
    for first in range(0, holders, 500):
        chunk = list(zip(rows[first : first + 500], pass_ids[first : first + 500], strict=True))
        await Reservation.insert(
            *[
                Reservation(
                    public_id=uuid.uuid4(),
                    user_id=h["id"],
                    slot=slot[0]["id"],
                    venue_slug=venue,
                    visit_date=today,
                    status="confirmed",
                    party_size=1,
                )
                for h, _ in chunk
            ]
        )
        await Pass.insert(*[Pass(user_id=h["id"], pass_id=p) for h, p in chunk])
    return pass_ids
