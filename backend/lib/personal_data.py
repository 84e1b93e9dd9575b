"""Personal data at rest: AES-256-GCM encryption, a keyed HMAC for duplicate checks, and masking.

The key comes from `CHANGXIANG_DATA_KEY` (base64 of 32 bytes; one key for every replica). The
embedded run generates one in `var/`. Ciphertexts carry a key id (`k1:`) so keys can rotate: a new
key gets a new id and old rows stay readable while they are re-encrypted. The HMAC key is derived
from the data key with HKDF, so an ID number's duplicate-check token can't be brute-forced from
the database alone (a plain hash of an 18-digit ID could be).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ID = "k1"


def _load_key(var_dir: Path) -> bytes:
    raw = os.environ.get("CHANGXIANG_DATA_KEY")
    if not raw:
        path = var_dir / "data.key"
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(secrets.token_bytes(32)).decode())
        raw = path.read_text().strip()
    key = base64.b64decode(raw)
    if len(key) != 32:
        raise ValueError("CHANGXIANG_DATA_KEY must be base64 of 32 bytes")
    return key


class PersonalDataVault:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._mac_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"changxiang id-number hmac v1"
        ).derive(key)

    def encrypt(self, plaintext: str, context: str) -> str:
        """`context` (e.g. "visitor.id_number") is bound as associated data: a ciphertext moved to
        another column does not decrypt."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{KEY_ID}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: str) -> str:
        key_id, _, body = token.partition(":")
        if key_id != KEY_ID:
            raise ValueError(f"unknown key id {key_id!r}")
        blob = base64.urlsafe_b64decode(body)
        return self._aead.decrypt(blob[:12], blob[12:], context.encode()).decode()

    def fingerprint(self, value: str) -> str:
        """A keyed HMAC-SHA256 of a normalised identifier: equal people compare equal, nothing else leaks."""
        return hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=1)
def vault() -> PersonalDataVault:
    from backend.settings import get_settings

    return PersonalDataVault(_load_key(get_settings().var_dir))


def mask_id_number(id_type: str, number: str) -> str:
    """Show the first 3 and last 4 of a resident ID (no birth date), first 1 and last 3 otherwise."""
    if id_type == "resident_id" and len(number) == 18:
        return number[:3] + "*" * 11 + number[-4:]
    if len(number) <= 4:
        return "*" * len(number)
    return number[0] + "*" * (len(number) - 4) + number[-3:]


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧**娜, John Smith → J. S. (initials: readable at a gate, still not the name)."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(part[0].upper() + "." for part in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """13912345678 → 139****5678: the first 3 and last 4 digits of a number, stars between."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) <= 7:
        return "*" * max(0, len(digits) - 2) + digits[-2:] if len(digits) > 4 else "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
