"""Accounts for every role on the real server, for the fuzzing and the role matrix.

Here `live_server_url` is the fuzzing deployment's server (`fuzz_server_url`, tests/conftest.py), not the
end-to-end tests': random writes never reach their data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar.security.jwt import Token

from backend.settings import get_settings
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

HERE = "changzhou-museum"  # the venue "staff of this venue" work at
ELSEWHERE = "wujin-museum"

# role name in the matrix -> (roles, venue_slugs)
ROLES: dict[str, tuple[list[str], list[str]]] = {
    "tourist": (["tourist"], []),
    "staff_here": (["staff"], [HERE]),
    "staff_other": (["staff"], [ELSEWHERE]),
    "marketer": (["marketer"], []),
    "governance": (["governance"], []),
    "agency": (["agency"], []),
    "merchant": (["merchant"], []),
    "admin": (["admin"], []),
}
MERCHANT_OF = {"merchant": ["qingguo-lane-tea-house"]}  # a sample merchant of content/merchants.toml


def _token(user_id: int) -> str:
    exp = datetime.now(UTC) + timedelta(hours=2)
    return Token(sub=str(user_id), exp=exp, jti=uuid.uuid4().hex).encode(get_settings().secret_key, "HS256")


class RoleHeaders(dict):
    """role -> user id; `headers(role)` mints a fresh token for each call, so one call that logs out
    (revoking its token) never signs the next one out."""

    def headers(self, role: str) -> dict[str, str]:
        user_id = self[role]
        return {} if user_id is None else {"Authorization": f"Bearer {_token(user_id)}"}


@pytest.fixture(scope="session")
def live_server_url(fuzz_server_url: str) -> str:
    """The contract tests' server: the fuzzing deployment's."""
    return fuzz_server_url


@pytest.fixture(scope="session")
def roles(anyio_backend, live_server_url: str) -> RoleHeaders:
    """One account per role of the matrix (and `anonymous`), on the real server."""
    with httpx.Client(base_url=live_server_url, timeout=20) as http:
        login = http.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        out = RoleHeaders(anonymous=None)
        tag = uuid.uuid4().hex[:8]
        for name, (roles, venues) in ROLES.items():
            made = http.post(
                "/api/v1/admin/users",
                headers=admin,
                json={
                    "email": f"{name}-{tag}@changxiang.test",
                    "password": "a-long-password-1",
                    "display_name": f"矩阵{name}",
                    "roles": roles,
                    "venue_slugs": venues,
                    "merchant_ids": MERCHANT_OF.get(name, []),
                },
            )
            assert made.status_code == 201, made.text
            out[name] = made.json()["id"]
    return out
