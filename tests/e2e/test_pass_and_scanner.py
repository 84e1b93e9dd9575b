"""The pass (一码通行) and the staff gate scanner, end to end in Debian's Chromium on the real server.

Set-up goes through the live server's API: the admin account makes a staff user for 常州博物馆 and
four tourists, who each book the same museum slot ahead. No row is edited to move time: the module
starts its own replica of the end-to-end deployment (the `world` fixture) whose clock stands ten minutes
into that slot (`CHANGXIANG_CLOCK_OFFSET_S`), and every browser of the module installs Playwright's
clock at the same instant, so the phone's rotating codes, the scanner and the server agree on "now".
That replica never sweeps: a server ahead of time would expire the other tests' payment holds.

1. A tourist's /pass shows a QR whose text (`data-code`) is a device code signed on the phone
   (183 bytes, base45, QR version 10); the code keeps changing with the network cut, and after a
   reload with no network at all. Staff at /scan enter that offline-made code by hand: green "通过";
   again: red "已入场". zbarimg reads the QR as drawn.
2. The camera path: the QR as the tourist's page draws it goes into a Y4M file that Chromium plays as
   its fake camera; /scan reads it (zxing-wasm, since Linux Chromium has no BarcodeDetector): "通过".
3. An offline gate decides a fresh code alone ("通过", decided offline, 1 queued) while another gate
   admits the same booking online; back online the queue syncs (0 queued) and the double admission
   comes back as a conflict ("重复入场"). Also measures offline verification in the browser.
4. Without WebCrypto the pass falls back to the server's code (type 1, 117 characters).
5. The scanner's offline verification gives the same answer as backend/passes/codes.py `verify_code`
   on codes the server's own functions make, good and bad (stale, future, expired certificate,
   unknown key, another phone's signature, altered bytes, not base45).

Set CX_E2E_SCREENSHOTS=<dir> to keep screenshots of each screen in zh, en and large-text mode.
Run: `make test`, or `.venv/bin/pytest tests/e2e/test_pass_and_scanner.py`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
import pytest

from backend.lib.clock import CITY_TZ
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Deployment
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Phone
from tests.e2e.test_booking_flow import resident_id

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

MUSEUM = "changzhou-museum"
MUSEUM_NAME = "常州博物馆"
SHOTS = os.environ.get("CX_E2E_SCREENSHOTS")
if SHOTS:
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45_decode(text: str) -> bytes:
    values = [_ALPHABET.index(ch) for ch in text]
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(chunk))
        out += n.to_bytes(2 if len(chunk) == 3 else 1, "big")
    return bytes(out)


@dataclass
class Account:
    email: str
    password: str
    token: str = ""
    cookie: str = ""
    bookings: list[dict] = field(default_factory=list)

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


async def _login(http: httpx.AsyncClient, account: Account) -> Account:
    for _ in range(8):  # the auth endpoints allow a few logins a minute from one address
        res = await http.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
        if res.status_code != 429:
            break
        await asyncio.sleep(min(30, int(res.headers.get("retry-after") or res.headers.get("ratelimit-reset") or 10)))
    assert res.status_code == 200, res.text
    account.token = res.json()["access_token"]
    account.cookie = res.cookies.get("cx_token")
    http.cookies.clear()  # every later call names its account in a header
    return account


async def _new_user(http: httpx.AsyncClient, admin: Account, roles: list[str], venues: list[str], name: str) -> Account:
    account = Account(f"e2e-pass-{uuid.uuid4().hex[:10]}@changxiang.test", "correct-horse-9")
    res = await http.post(
        "/api/v1/admin/users",
        headers=admin.headers,
        json={
            "email": account.email,
            "password": account.password,
            "display_name": name,
            "roles": roles,
            "venue_slugs": venues,
        },
    )
    assert res.status_code == 201, res.text
    return await _login(http, account)


async def _slot_of_our_own(http: httpx.AsyncClient, seats: int) -> dict:
    """A museum slot ahead with room for everyone this module books: the last one of the furthest open
    day on offer (the other end-to-end tests book the nearest days' first or last times)."""
    today = datetime.now(CITY_TZ).date()
    for days in range(7, 0, -1):  # slots open 7 days ahead
        day = (today + timedelta(days=days)).isoformat()
        res = await http.get(f"/api/v1/venues/{MUSEUM}/slots", params={"date": day})
        assert res.status_code == 200, res.text
        free = [s for s in res.json()["items"] if s["status"] == "open" and s["remaining"] >= seats]
        if free:
            return free[-1]
    raise AssertionError("no museum slot with room in the coming week")


async def _book(http: httpx.AsyncClient, tourist: Account, slot: dict) -> dict:
    """A confirmed booking of `slot`, made ahead, as a tourist does."""
    res = await http.post(
        "/api/v1/reservations",
        headers={**tourist.headers, "Idempotency-Key": str(uuid.uuid4())},
        json={
            "slot_id": slot["id"],
            "visitors": [{"name": "王小常", "id_type": "resident_id", "id_number": resident_id()}],
        },
    )
    assert res.status_code == 201, res.text
    booking = res.json()
    assert booking["status"] == "confirmed", booking
    tourist.bookings.append(booking)
    return booking


@dataclass
class World:
    base: str  # the gate replica, whose clock stands inside the booked slot
    admin: Account
    staff: Account
    tourists: dict[str, Account]
    walker: Account  # admitted at another gate while a test watches the counts
    offset_s: float

    def now(self) -> datetime:
        """The gate replica's (and the module's browsers') time."""
        return datetime.now(UTC) + timedelta(seconds=self.offset_s)


@pytest.fixture(scope="module")
async def world(live_server_url: str, e2e_deployment: Deployment) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=live_server_url, timeout=20) as http:
        admin = await _login(http, Account(ADMIN_EMAIL, ADMIN_PASSWORD))
        staff = await _new_user(http, admin, ["staff"], [MUSEUM], "闸机员工")
        names = {"a": "常州游客", "b": "李四海", "c": "赵钱孙", "walker": "周游"}
        slot = await _slot_of_our_own(http, seats=len(names))
        people = {}
        for key, name in names.items():
            people[key] = await _new_user(http, admin, ["tourist"], [], name)
            await _book(http, people[key], slot)
        # a pass code issued before any gate asks for keys: the first one makes the signing key, and a
        # gate that fetched the key list before it existed could verify nothing offline until its next
        # refresh (whichever test of this module runs first must not meet that)
        res = await http.get("/api/v1/pass/code", headers=people["walker"].headers)
        assert res.status_code == 200, res.text
    walker = people.pop("walker")
    # ten minutes into the slot: inside its entry window, on its day
    inside = datetime.fromisoformat(slot["starts_at"]) + timedelta(minutes=10)
    offset_s = (inside - datetime.now(UTC)).total_seconds()
    server = await anyio.to_thread.run_sync(
        lambda: e2e_deployment.start_server(
            "e2e-gate-server", CHANGXIANG_CLOCK_OFFSET_S=str(offset_s), CHANGXIANG_SWEEP_INTERVAL_S="86400"
        )
    )
    try:
        yield World(server.url, admin, staff, people, walker, offset_s)
    finally:
        await anyio.to_thread.run_sync(server.stop)


async def signed_in(browser, world: World, account: Account) -> Phone:
    """A phone on which `account` is logged in (the server's HttpOnly session cookie), on the gate
    replica, with the browser's clock at the replica's time."""
    phone = await Phone(world.base).start(browser)
    await phone.context.clock.install(time=world.now().timestamp())
    await phone.context.add_cookies([{"name": "cx_token", "value": account.cookie, "url": world.base}])
    await phone.context.add_init_script("localStorage.setItem('cx.signedIn', '1')")
    return phone


async def code_of(page) -> str:
    await page.wait_for_function("document.querySelector('[data-testid=pass-qr]')?.dataset.code?.length > 0")
    return await page.get_by_test_id("pass-qr").get_attribute("data-code")


async def next_code(page, old: str) -> str:
    await page.wait_for_function(
        "old => { const c = document.querySelector('[data-testid=pass-qr]')?.dataset.code; return c && c !== old }",
        arg=old,
        timeout=25_000,
    )
    return await code_of(page)


async def scan_by_hand(page, code: str, expect: str) -> None:
    await page.get_by_test_id("manual-code").fill(code)
    await page.get_by_test_id("manual-submit").click()
    await page.wait_for_function(
        "want => document.querySelector('[data-testid=verdict]')?.dataset.result === want", arg=expect
    )


async def controlled(page) -> None:
    """Make the service worker control this page (a first load stays uncontrolled), then settle."""
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not await page.evaluate("navigator.serviceWorker.controller != null"):
        await page.reload()
        await page.wait_for_function("navigator.serviceWorker.controller != null")
    await page.wait_for_load_state("networkidle")


async def shoot(page, name: str) -> None:
    """With CX_E2E_SCREENSHOTS: the screen in zh, en and large-text (zh) mode, then as it was."""
    if not SHOTS:
        return
    out = Path(SHOTS)
    await page.screenshot(path=str(out / f"{name}-zh.png"), full_page=True)
    await page.get_by_test_id("lang-toggle").click()
    await page.wait_for_function("document.documentElement.lang === 'en'")
    await page.screenshot(path=str(out / f"{name}-en.png"), full_page=True)
    await page.get_by_test_id("lang-toggle").click()
    await page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    await page.evaluate("document.documentElement.classList.add('cx-large')")
    await page.screenshot(path=str(out / f"{name}-large.png"), full_page=True)
    await page.evaluate("document.documentElement.classList.remove('cx-large')")


async def test_pass_works_offline_and_the_gate_admits_once(browser, world: World, tmp_path: Path) -> None:
    tourist_acct = world.tourists["a"]
    tourist = await signed_in(browser, world, tourist_acct)
    staff = await signed_in(browser, world, world.staff)
    try:
        page = tourist.page
        await tourist.open("/pass")
        qr = page.get_by_test_id("pass-qr")
        code = await code_of(page)
        # a device code, signed on this phone: certificate ‖ shown_at ‖ signature, base45, QR version 10
        assert await qr.get_attribute("data-kind") == "device"
        assert await qr.get_attribute("data-version") == "10"
        raw = base45_decode(code)
        assert len(code) == 275 and len(raw) == 183 and raw[0] == 2
        async with httpx.AsyncClient(base_url=world.base) as http:
            mine = (await http.get("/api/v1/pass", headers=tourist_acct.headers)).json()
        assert raw[2:10].hex() == mine["pass_id"]
        assert abs(int.from_bytes(raw[115:119], "big") - world.now().timestamp()) < 30
        svg = qr.get_by_role("img")
        assert "常**客" in (await svg.get_attribute("aria-label"))
        entitlement = page.get_by_test_id("pass-entitlement").filter(has_text=MUSEUM_NAME)
        await entitlement.wait_for(state="visible")
        assert "1 人" in await entitlement.inner_text()
        assert "刷新" in await page.get_by_test_id("pass-countdown").inner_text()
        # an ordinary reader reads the QR as drawn
        if shutil.which("zbarimg"):
            png = tmp_path / "pass-qr.png"
            for _ in range(3):  # the code may change between reading it and taking the picture
                before = await qr.get_attribute("data-code")
                await svg.screenshot(path=str(png))
                if await qr.get_attribute("data-code") == before:
                    break
            read = await anyio.run_process(["zbarimg", "--raw", "-q", str(png)], check=False)
            assert read.stdout.decode().strip() == before, read.stdout

        # the network goes: codes keep coming, signed on the phone
        await controlled(page)
        code = await code_of(page)
        await tourist.context.set_offline(True)
        await page.get_by_test_id("pass-offline").wait_for(state="visible")
        offline_code = await next_code(page, code)
        assert base45_decode(offline_code)[:115] == raw[:115]  # the same certificate, a new time and signature
        # … and after a reload with no network at all
        await page.reload()
        offline_code = await code_of(page)
        await page.get_by_test_id("pass-offline").wait_for(state="visible")
        assert await qr.get_attribute("data-kind") == "device"
        await entitlement.wait_for(state="visible")
        await shoot(page, "pass-offline")
        tourist.errors.clear()  # requests that failed while offline

        # a tourist is not staff: no scanner for them
        await tourist.context.set_offline(False)
        await tourist.open("/scan")
        await page.get_by_test_id("scan-staff-only").wait_for(state="visible")

        # staff: the scanner, by hand
        s = staff.page
        await staff.open("/me")
        await s.get_by_test_id("gate-scanner").click()
        await s.wait_for_url("**/scan")
        await s.get_by_test_id("manual-code").wait_for(state="visible")
        assert await s.get_by_test_id("scan-venue").input_value() == MUSEUM
        await s.wait_for_function(
            "document.querySelector('[data-testid=scan-venue] option')?.textContent.includes('常州博物馆')"
        )
        await s.get_by_test_id("scan-gate").fill("东门 1 号闸机")
        await scan_by_hand(s, offline_code, "ok")
        verdict = s.get_by_test_id("verdict")
        text = await verdict.inner_text()
        assert "通过" in text and "1 人入场" in text and "常**客" in text, text
        assert await verdict.get_attribute("data-offline") == "false"
        colour = await verdict.evaluate("el => getComputedStyle(el).backgroundColor")
        assert colour == "rgb(23, 87, 47)", colour  # green
        await s.wait_for_function("document.querySelector('[data-testid=count-entries]')?.textContent.trim() !== '–'")
        await shoot(s, "scan-ok")

        # another gate admits someone else through the server: this gate's count moves at once (live)
        before = (await s.get_by_test_id("count-entries").inner_text()).strip()
        async with httpx.AsyncClient(base_url=world.base, timeout=20) as http:
            walker_code = (await http.get("/api/v1/pass/code", headers=world.walker.headers)).json()["code"]
            other_gate = await http.post(
                "/api/v1/scans",
                headers=world.admin.headers,
                json={"code": walker_code, "venue_slug": MUSEUM, "gate": "西门"},
            )
        assert other_gate.json()["result"] == "ok", other_gate.text
        await s.wait_for_function(
            "(b) => document.querySelector('[data-testid=count-entries]').textContent.trim() !== b", arg=before
        )

        # the same pass again: refused, in red, with the reason in words
        await scan_by_hand(s, offline_code, "already_redeemed")
        text = await verdict.inner_text()
        assert "不通过" in text and "已入场" in text, text
        colour = await verdict.evaluate("el => getComputedStyle(el).backgroundColor")
        assert colour == "rgb(168, 50, 43)", colour  # red
        await shoot(s, "scan-refused")
        # a string that is no code at all
        await scan_by_hand(s, "HELLO WORLD", "invalid")
        assert "无效" in await verdict.inner_text()

        # the gate's name is remembered
        await s.reload()
        await s.get_by_test_id("scan-gate").wait_for(state="visible")
        assert await s.get_by_test_id("scan-gate").input_value() == "东门 1 号闸机"
        assert tourist.errors == []
        assert staff.errors == []
    finally:
        await tourist.context.close()
        await staff.context.close()


# The QR exactly as the tourist's page draws it, as a grey image: 6 px a module.
QR_PIXELS = """async (n) => {
  const box = document.querySelector('[data-testid=pass-qr]')
  const svg = box.querySelector('svg').cloneNode(true)
  svg.setAttribute('width', n)
  svg.setAttribute('height', n)
  const img = new Image()
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(new XMLSerializer().serializeToString(svg))
  await img.decode()
  const canvas = document.createElement('canvas')
  canvas.width = canvas.height = n
  const ctx = canvas.getContext('2d')
  ctx.imageSmoothingEnabled = false
  ctx.fillStyle = '#fff'
  ctx.fillRect(0, 0, n, n)
  ctx.drawImage(img, 0, 0, n, n)
  const d = ctx.getImageData(0, 0, n, n).data
  let s = ''
  for (let i = 0; i < d.length; i += 4) s += String.fromCharCode(d[i] > 127 ? 235 : 20)
  return { gray: btoa(s), code: box.dataset.code }
}"""


def write_y4m(path: Path, gray: bytes, n: int, width: int = 640, height: int = 480, frames: int = 3) -> None:
    """A YUV4MPEG2 video (4:2:0) of the n×n grey picture centred on white: Chromium's fake camera."""
    y = bytearray(b"\xeb" * (width * height))
    top, left = (height - n) // 2, (width - n) // 2
    for row in range(n):
        start = (top + row) * width + left
        y[start : start + n] = gray[row * n : (row + 1) * n]
    chroma = b"\x80" * ((width // 2) * (height // 2))
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + bytes(y) + chroma + chroma)


async def test_camera_reads_the_pass(playwright, browser, world: World, tmp_path: Path) -> None:
    tourist = await signed_in(browser, world, world.tourists["c"])
    try:
        await tourist.open("/pass")
        await code_of(tourist.page)
        n = 390
        drawn = await tourist.page.evaluate(QR_PIXELS, n)
        assert tourist.errors == []
    finally:
        await tourist.context.close()
    video = tmp_path / "pass.y4m"
    write_y4m(video, base64.b64decode(drawn["gray"]), n)

    camera_browser = await playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        staff = await signed_in(camera_browser, world, world.staff)
        await staff.context.grant_permissions(["camera"], origin=world.base)
        s = staff.page
        await staff.open("/scan")
        await s.get_by_test_id("camera-start").click()
        await s.get_by_test_id("camera-video").wait_for(state="visible")
        await s.wait_for_function(
            "document.querySelector('[data-testid=verdict]')?.dataset.result === 'ok'", timeout=40_000
        )
        # Linux Chromium has no BarcodeDetector: the WebAssembly reader did it
        assert "zxing-wasm" in await s.get_by_test_id("decoder-name").inner_text()
        assert "赵*孙" in await s.get_by_test_id("verdict").inner_text()
        await shoot(s, "scan-camera")
        await s.get_by_test_id("camera-stop").click()
        assert staff.errors == []
    finally:
        await camera_browser.close()


async def test_a_visitor_not_logged_in_is_asked_to(phone: Phone) -> None:
    await phone.open("/pass")
    await phone.page.get_by_test_id("pass-login").wait_for(state="visible")
    await phone.page.get_by_role("button", name="登录 / 注册").click()
    await phone.page.wait_for_url("**/me?next=/pass")
    await phone.open("/scan")
    await phone.page.get_by_test_id("scan-staff-only").wait_for(state="visible")
    # the scanner is a full screen (no tab bar); the pass has its own tab
    assert await phone.page.get_by_role("navigation", name="主导航").count() == 0
    await phone.open("/")
    tab = phone.page.get_by_role("navigation", name="主导航").get_by_role("link", name="通行码")
    await tab.click()
    await phone.page.wait_for_url("**/pass")
    assert await tab.get_attribute("aria-current") == "page"
    assert phone.errors == []  # no 401 asked for in vain


async def test_without_webcrypto_the_pass_shows_the_servers_code(browser, world: World) -> None:
    tourist = await signed_in(browser, world, world.tourists["c"])
    # a browser with no WebCrypto (say, a page served over plain http on a LAN address)
    await tourist.context.add_init_script("Object.defineProperty(Crypto.prototype, 'subtle', {get: () => undefined})")
    try:
        await tourist.open("/pass")
        code = await code_of(tourist.page)
        qr = tourist.page.get_by_test_id("pass-qr")
        assert await qr.get_attribute("data-kind") == "server"
        raw = base45_decode(code)
        assert len(code) == 117 and len(raw) == 78 and raw[0] == 1
        assert int(await qr.get_attribute("data-version")) <= 10
        assert tourist.errors == []
    finally:
        await tourist.context.close()


async def test_offline_gate_decides_alone_and_syncs(browser, world: World) -> None:
    tourist_acct = world.tourists["b"]
    staff = await signed_in(browser, world, world.staff)
    tourist = await signed_in(browser, world, tourist_acct)
    try:
        s = staff.page
        await staff.open("/scan?bench")
        await s.get_by_test_id("manual-code").wait_for(state="visible")
        await controlled(s)
        await s.wait_for_function("document.querySelector('[data-testid=keys-note]')?.textContent.includes('更新')")
        await tourist.open("/pass")
        code = await code_of(tourist.page)

        # how long one offline verification takes in this browser (WebCrypto ECDSA P-256)
        async with httpx.AsyncClient(base_url=world.base) as http:
            server_code = (await http.get("/api/v1/pass/code", headers=tourist_acct.headers)).json()["code"]
        timings = {
            "device_code_ms": await s.evaluate("code => window.cxGateBench(code, 100)", code),
            "server_code_ms": await s.evaluate("code => window.cxGateBench(code, 100)", server_code),
        }
        print("offline verification per code:", json.dumps(timings))
        if SHOTS:
            (Path(SHOTS) / "verify-timings.json").write_text(json.dumps(timings))
        assert timings["device_code_ms"] < 100 and timings["server_code_ms"] < 100, timings

        # the gate loses its network: it decides alone, from the keys and entitlements it kept
        await staff.context.set_offline(True)
        await s.wait_for_function("document.querySelector('[data-testid=scan-net]')?.dataset.online === 'false'")
        code = await next_code(tourist.page, code)
        await scan_by_hand(s, code, "ok")
        verdict = s.get_by_test_id("verdict")
        assert await verdict.get_attribute("data-offline") == "true"
        text = await verdict.inner_text()
        assert "通过" in text and "离线判定" in text and "李*海" in text, text
        net = s.get_by_test_id("scan-net")
        assert "离线" in await net.inner_text() and "1 条待同步" in await net.inner_text()
        assert await s.get_by_test_id("queue-count").get_attribute("data-count") == "1"
        await shoot(s, "scan-offline-ok")
        # the same booking again at this gate: refused, offline too
        await scan_by_hand(s, code, "already_redeemed")
        assert await s.get_by_test_id("queue-count").get_attribute("data-count") == "2"
        await shoot(s, "scan-offline-refused")

        # meanwhile another gate, online, admits the same booking
        async with httpx.AsyncClient(base_url=world.base) as http:
            other = await http.post(
                "/api/v1/scans",
                headers=world.staff.headers,
                json={"code": code, "venue_slug": MUSEUM, "gate": "西门", "nonce": uuid.uuid4().hex},
            )
        assert other.json()["result"] == "ok", other.text

        # back online: the queue is uploaded, and the double admission is shown to staff
        await staff.context.set_offline(False)
        await s.wait_for_function("document.querySelector('[data-testid=queue-count]')?.dataset.count === '0'")
        conflicts = s.get_by_test_id("conflicts")
        await conflicts.wait_for(state="visible")
        assert "重复入场" in await conflicts.inner_text()
        assert "1 人" in await conflicts.inner_text()
        await shoot(s, "scan-conflict")
        async with httpx.AsyncClient(base_url=world.base) as http:
            counts = (
                await http.get("/api/v1/scans/counts", params={"venue": MUSEUM}, headers=world.staff.headers)
            ).json()
        # b entered once (the online gate); a (by hand) and c (camera) too when the whole module runs
        assert counts["entries_today"] >= 1, counts
        # requests that failed while the gate was offline: Chromium logs them as ERR_INTERNET_DISCONNECTED, or as
        # ERR_FAILED when the service worker answered a NetworkFirst route (a notifications poll) with no copy
        offline_failures = ("net::ERR_INTERNET_DISCONNECTED", "net::ERR_FAILED")
        staff.errors = [e for e in staff.errors if not any(f in e for f in offline_failures)]
        assert staff.errors == []
        assert tourist.errors == []
    finally:
        await staff.context.close()
        await tourist.context.close()


def _parity_vectors(now: int) -> tuple[list[dict], list[tuple[str, str]]]:
    """Codes made by the server's own code (backend/passes/codes.py), good and bad."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from backend.lib.signing_keys import KeyPair, b64u, base45_encode, sign_raw, uncompressed
    from backend.lib.signing_keys import base45_decode as decode
    from backend.passes.codes import device_message, make_certificate, make_device_code, make_server_code

    def pair(kid: int) -> KeyPair:
        private = ec.generate_private_key(ec.SECP256R1())
        return KeyPair(kid, private, private.public_key())

    key, stranger = pair(200), pair(201)
    pass_id = uuid.uuid4().hex[:16]
    phone = ec.generate_private_key(ec.SECP256R1())
    cert = make_certificate(key, pass_id, 77, now + 3600, uncompressed(phone.public_key()))
    old_cert = make_certificate(key, pass_id, 78, now - 1, uncompressed(phone.public_key()))
    foreign_cert = make_certificate(stranger, pass_id, 79, now + 3600, uncompressed(phone.public_key()))

    def device(c: bytes, shown: int, signer=phone) -> str:
        return make_device_code(c, shown, sign_raw(signer, device_message(c, shown)))

    fresh = device(cert, now - 2)
    flipped_sig = bytearray(decode(fresh))
    flipped_sig[-1] ^= 1  # the phone's signature
    flipped_cert = bytearray(decode(fresh))
    flipped_cert[30] ^= 1  # a byte of the phone's key inside the certificate
    vectors = [
        ("server fresh", make_server_code(key, pass_id, now - 5)),
        ("server at the window's edge", make_server_code(key, pass_id, now - 60)),
        ("server stale", make_server_code(key, pass_id, now - 61)),
        ("server from the future", make_server_code(key, pass_id, now + 31)),
        ("server, unknown kid", make_server_code(stranger, pass_id, now)),
        ("device fresh", fresh),
        ("device stale", device(cert, now - 70)),
        ("device from the future", device(cert, now + 40)),
        ("device, certificate expired", device(old_cert, now - 2)),
        ("device, certificate by an unknown key", device(foreign_cert, now - 2)),
        ("device, signed by another phone", device(cert, now - 2, ec.generate_private_key(ec.SECP256R1()))),
        ("device, signature changed", base45_encode(bytes(flipped_sig))),
        ("device, certificate changed", base45_encode(bytes(flipped_cert))),
        ("device, cut short", fresh[:-3]),
        ("empty", ""),
        ("not base45", "hello"),
        ("base45 overflow", "GGW"),
        ("dangling character", "A"),
        ("spaces around", "  " + make_server_code(key, pass_id, now) + "\n"),
    ]
    return [{"kid": key.kid, "alg": "ES256", "public_key": b64u(uncompressed(key.public))}], vectors


async def test_offline_verification_matches_the_server(browser, world: World) -> None:
    from backend.lib.signing_keys import KeyPair, load_point, unb64u
    from backend.passes.codes import CodeRejected, verify_code

    now = int(datetime.now(UTC).timestamp())
    keys, vectors = _parity_vectors(now)
    public = load_point(unb64u(keys[0]["public_key"]))

    class Keyring:  # what verify_code asks of the server's keyring
        async def get(self, kid: int) -> KeyPair | None:
            return KeyPair(kid, None, public) if kid == keys[0]["kid"] else None  # type: ignore[arg-type]

    staff = await signed_in(browser, world, world.staff)
    try:
        await staff.open("/scan?bench")
        await staff.page.get_by_test_id("manual-code").wait_for(state="visible")
        await staff.page.wait_for_function("typeof window.cxGateVerify === 'function'")
        verdicts = {}
        for name, code in vectors:
            try:
                got = await verify_code(code, Keyring(), datetime.fromtimestamp(now, UTC))
                ok = {
                    "passId": got.pass_id,
                    "shownAt": int(got.shown_at.timestamp()),
                    "deviceSerial": got.device_serial,
                }
                server = {"ok": ok}
            except CodeRejected as rejected:
                server = {"rejected": rejected.result}
            browser_says = await staff.page.evaluate("([c, k, n]) => window.cxGateVerify(c, k, n)", [code, keys, now])
            assert browser_says == server, (name, browser_says, server)
            verdicts[name] = "ok" if "ok" in server else server["rejected"]
        accepted = {"server fresh", "server at the window's edge", "device fresh", "spaces around"}
        assert {n for n, v in verdicts.items() if v == "ok"} == accepted, verdicts
        assert {v for v in verdicts.values()} == {"ok", "invalid", "stale_code"}
        assert staff.errors == []
    finally:
        await staff.context.close()
