"""The pass code format (docs/pass-code.md): what the QR carries, and how a gate checks it.

Two kinds, both base45 text (QR alphanumeric mode, version ≤ 10 at error correction M):

- server code (type 1), made by `GET /pass/code` for phones without a device key:
  `01 | kid | pass_id(8) | issued_at(u32)` + server ECDSA-P256 signature (64) = 78 bytes, 117 chars.
- device code (type 2), made by the phone itself every few seconds, offline too:
  certificate `02 | kid | pass_id(8) | serial(u32) | expires(u32) | device key (33, compressed)`
  + server signature over it (64), then `shown_at(u32)` + the device's signature (64) over
  certificate ‖ server signature ‖ shown_at = 183 bytes, 275 chars.

A code is fresh for WINDOW_S seconds after its time, plus SKEW_S either way for clocks that differ.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from backend.lib.signing_keys import (
    KeyPair,
    SigningKeyring,
    base45_decode,
    base45_encode,
    compressed,
    load_point,
    sign_raw,
    verify_raw,
)

WINDOW_S = 30
SKEW_S = 30
SERVER_CODE = 1
DEVICE_CODE = 2
_SERVER_HEAD = struct.Struct(">BB8sI")  # type, kid, pass_id, issued_at
_CERT = struct.Struct(">BB8sII33s")  # type, kid, pass_id, serial, expires, device key
_CTX_SERVER = b"CX-PASS-1"
_CTX_CERT = b"CX-CERT-1"
_CTX_DEVICE = b"CX-DEV-1"
GATE_CERT = 3
_GATE_CERT = struct.Struct(">BBIII33sH")  # type, kid, serial, staff user id, expires, device key, len(venues)
_CTX_GATE = b"CX-GATE-1"
_CTX_SCAN = b"CX-SCAN-1"


class CodeRejected(Exception):
    """`result` is the scan result to answer: invalid, stale_code."""

    def __init__(self, result: Literal["invalid", "stale_code"]) -> None:
        super().__init__(result)
        self.result = result


@dataclass(frozen=True)
class VerifiedCode:
    pass_id: str  # hex
    shown_at: datetime
    device_serial: int | None  # None for server codes


def make_server_code(key: KeyPair, pass_id: str, issued_at: int) -> str:
    head = _SERVER_HEAD.pack(SERVER_CODE, key.kid, bytes.fromhex(pass_id), issued_at)
    return base45_encode(head + sign_raw(key.private, _CTX_SERVER + head))


def make_certificate(key: KeyPair, pass_id: str, serial: int, expires: int, device_key: bytes) -> bytes:
    """The server's certificate for a device key (compressed or uncompressed point accepted)."""
    point = compressed(load_point(device_key))
    cert = _CERT.pack(DEVICE_CODE, key.kid, bytes.fromhex(pass_id), serial, expires, point)
    return cert + sign_raw(key.private, _CTX_CERT + cert)


def device_message(certificate: bytes, shown_at: int) -> bytes:
    """What the phone signs for each code it shows."""
    return _CTX_DEVICE + certificate + struct.pack(">I", shown_at)


def make_gate_certificate(
    key: KeyPair, serial: int, staff_user_id: int, expires: int, device_key: bytes, venue_slugs: list[str]
) -> bytes:
    """The server's certificate for a gate phone's key: it may sign offline scans for `staff_user_id` at
    `venue_slugs` until `expires`. `03 | kid | serial | staff | expires | key (33) | len | venues` + the
    server's signature over `"CX-GATE-1"` ‖ those bytes."""
    point = compressed(load_point(device_key))
    venues = ",".join(sorted(venue_slugs)).encode()
    cert = _GATE_CERT.pack(GATE_CERT, key.kid, serial, staff_user_id, expires, point, len(venues)) + venues
    return cert + sign_raw(key.private, _CTX_GATE + cert)


def scan_entry_message(
    serial: int,
    *,
    nonce: str,
    venue_slug: str,
    direction: str,
    gate: str | None,
    device_id: str | None,
    code: str,
    offline_result: str | None,
    scanned_ms: int,
) -> bytes:
    """What a gate phone signs for each scan it decides offline (pwa/src/pass/gate.js `entryMessage`):
    `"CX-SCAN-1" ‖ serial (u32)` and then each field as a u16 length and its UTF-8 bytes, absent fields
    empty, the time in Unix milliseconds as decimal digits."""
    fields = [nonce, venue_slug, direction, gate or "", device_id or "", code, offline_result or "", str(scanned_ms)]
    out = bytearray(_CTX_SCAN + struct.pack(">I", serial))
    for field in fields:
        data = field.encode()
        out += struct.pack(">H", len(data)) + data
    return bytes(out)


def make_device_code(certificate: bytes, shown_at: int, device_signature: bytes) -> str:
    return base45_encode(certificate + struct.pack(">I", shown_at) + device_signature)


async def verify_code(code: str, keyring: SigningKeyring, now: datetime) -> VerifiedCode:
    """Check signatures and freshness. Raises CodeRejected('invalid' | 'stale_code')."""
    try:
        raw = base45_decode(code.strip())
    except ValueError:
        raise CodeRejected("invalid") from None
    if not raw:
        raise CodeRejected("invalid")
    if raw[0] == SERVER_CODE and len(raw) == _SERVER_HEAD.size + 64:
        _, kid, pass_id, shown = _SERVER_HEAD.unpack(raw[: _SERVER_HEAD.size])
        key = await keyring.get(kid)
        if key is None or not verify_raw(key.public, raw[_SERVER_HEAD.size :], _CTX_SERVER + raw[: _SERVER_HEAD.size]):
            raise CodeRejected("invalid")
        serial = None
    elif raw[0] == DEVICE_CODE and len(raw) == _CERT.size + 64 + 4 + 64:
        cert_end = _CERT.size + 64
        cert, server_sig = raw[: _CERT.size], raw[_CERT.size : cert_end]
        _, kid, pass_id, serial, expires, point = _CERT.unpack(cert)
        (shown,) = struct.unpack(">I", raw[cert_end : cert_end + 4])
        key = await keyring.get(kid)
        if key is None or not verify_raw(key.public, server_sig, _CTX_CERT + cert):
            raise CodeRejected("invalid")
        try:
            device = load_point(point)
        except ValueError:
            raise CodeRejected("invalid") from None
        if not verify_raw(device, raw[cert_end + 4 :], device_message(raw[:cert_end], shown)):
            raise CodeRejected("invalid")
        if now.timestamp() > expires:
            raise CodeRejected("stale_code")
    else:
        raise CodeRejected("invalid")
    age = now.timestamp() - shown
    if age > WINDOW_S + SKEW_S or age < -SKEW_S:
        raise CodeRejected("stale_code")
    return VerifiedCode(pass_id=pass_id.hex(), shown_at=datetime.fromtimestamp(shown, UTC), device_serial=serial)
