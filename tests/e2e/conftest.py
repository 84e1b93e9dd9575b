"""Shared pieces of the end-to-end tests: Debian's Chromium, driven by Playwright's async API, as a
390×844 phone (`Phone`), on the real server that `live_server_url` (tests/conftest.py) starts."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from litestar.security.jwt import Token

from backend.settings import get_settings
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def chromium() -> str:
    assert Path(CHROMIUM).is_file(), "Debian's Chromium is missing: `make chromium` installs it"
    return CHROMIUM


@pytest.fixture(scope="module")
async def playwright(chromium: str) -> AsyncIterator:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
async def browser(playwright) -> AsyncIterator:
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    await browser.close()


class Phone:
    """A fresh phone-sized browser context and page that records console errors."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.errors: list[str] = []

    async def start(self, browser, *, strict_csp: bool = False, device_scale_factor: int = 2) -> Phone:
        # Playwright's wait_for_function evaluates its predicate with eval() inside the page, which the
        # server's Content-Security-Policy (rightly) forbids; the app itself needs no eval. So contexts
        # bypass the policy unless `strict_csp`: tests/e2e/test_phone_quality.py drives the screens
        # under the real policy and fails on anything it refuses.
        self.context = await browser.new_context(
            viewport=PHONE,
            device_scale_factor=device_scale_factor,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            bypass_csp=not strict_csp,
        )
        self.page = await self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        return self

    def _console(self, msg) -> None:
        if msg.type == "error":
            self.errors.append(f"console.error: {msg.text} @ {msg.location.get('url')}")

    async def open(self, path: str) -> None:
        await self.page.goto(self.base_url + path, wait_until="domcontentloaded")

    async def html(self, prop: str) -> str:
        return await self.page.evaluate(f"document.documentElement.{prop}")


@pytest.fixture
async def phone(browser, live_server_url: str) -> AsyncIterator[Phone]:
    p = await Phone(live_server_url).start(browser)
    yield p
    await p.context.close()


@pytest.fixture
async def strict_phone(browser, live_server_url: str) -> AsyncIterator[Phone]:
    """A phone that obeys the server's Content-Security-Policy (no bypass)."""
    p = await Phone(live_server_url).start(browser, strict_csp=True)
    yield p
    await p.context.close()


async def live_account(base: str, *roles: str, venues: tuple[str, ...] = (), name: str = "端到端测试") -> dict:
    """An account made through the live server's admin API (end-to-end tests never write its database
    themselves), with a token signed by the run's shared key: email, password, id, token, headers."""
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        for _ in range(8):  # the auth endpoints allow a few logins a minute from one address
            res = await http.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            if res.status_code != 429:
                break
            await asyncio.sleep(min(30, int(res.headers.get("retry-after") or 10)))
        assert res.status_code == 200, res.text
        admin = {"Authorization": f"Bearer {res.json()['access_token']}"}
        email, password = f"e2e-{'-'.join(roles)}-{uuid.uuid4().hex[:10]}@changxiang.test", "correct-horse-9"
        res = await http.post(
            "/api/v1/admin/users",
            headers=admin,
            json={
                "email": email,
                "password": password,
                "display_name": name,
                "roles": list(roles),
                "venue_slugs": list(venues),
            },
        )
        assert res.status_code == 201, res.text
    user_id = res.json()["id"]
    token = Token(sub=str(user_id), exp=datetime.now(UTC) + timedelta(hours=1), jti=uuid.uuid4().hex).encode(
        get_settings().secret_key, "HS256"
    )
    return {
        "id": user_id,
        "email": email,
        "password": password,
        "token": token,
        "headers": {"Authorization": f"Bearer {token}"},
    }
