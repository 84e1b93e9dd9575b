"""Text messages (SMS) to phones: the sign-in codes of `POST /auth/sms-code`.

Behind one small Protocol, `SmsSender`, so the accounts room never knows which provider carries the text:

- `HttpSms`: a provider's HTTP API (or the city's SMS gateway): `POST {SMS_API_URL}/v1/messages` with a
  JSON body `{"to": "+8613912345678", "template": "login_code", "params": {"code": "123456",
  "minutes": 5}, "sign_name": "常享"}` and `Authorization: Bearer {SMS_API_KEY}`; any 2xx is accepted.
  Chinese providers (Aliyun, Tencent Cloud) send only approved templates under an approved signature,
  hence a template name and parameters, never free text. A provider with another shape gets an adapter
  of its own beside this one, or a small relay in front of it.
- `ConsoleSms`: development only (`CHANGXIANG_DEV=1`, which `make run` sets, and no `SMS_API_URL`): the
  code is written to the server's console, so a newcomer can sign in with a phone on their machine.
- `integrations.sms.standin.SmsStandIn`: a local HTTP server speaking `HttpSms`'s shape, for tests.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

log = logging.getLogger("changxiang.sms")

LOGIN_TEMPLATE = "login_code"


class SmsError(Exception):
    """The message could not be handed to the provider (down, refused, timed out)."""


class SmsSender(Protocol):
    name: str

    async def send_code(self, phone: str, code: str, ttl_s: int) -> None:
        """Send sign-in `code` (valid `ttl_s` seconds) to `phone` (E.164, `+86…`); raise SmsError."""
        ...


class HttpSms:
    """A provider's HTTP API (see the module's docstring for the request's shape)."""

    name = "http"

    def __init__(self, base_url: str, api_key: str | None, sign_name: str = "常享", timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sign_name = sign_name
        self.timeout_s = timeout_s

    async def send_code(self, phone: str, code: str, ttl_s: int) -> None:
        body = {
            "to": phone,
            "template": LOGIN_TEMPLATE,
            "params": {"code": code, "minutes": max(1, ttl_s // 60)},
            "sign_name": self.sign_name,
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                res = await client.post(f"{self.base_url}/v1/messages", json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SmsError(f"SMS provider unreachable: {type(exc).__name__}") from None
        if not res.is_success:
            raise SmsError(f"SMS provider answered {res.status_code}")


class ConsoleSms:
    """Development only: the code goes to the server's console instead of a phone."""

    name = "console"

    async def send_code(self, phone: str, code: str, ttl_s: int) -> None:
        masked = phone[:6] + "****" + phone[-4:] if len(phone) > 10 else "****"
        # deliberately the code itself: this sender exists only in development (CHANGXIANG_DEV=1, no provider)
        log.warning(
            "DEVELOPMENT: SMS sign-in code for %s is %s (valid %d min; no SMS provider set)", masked, code, ttl_s // 60
        )
