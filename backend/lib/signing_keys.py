"""ECDSA P-256 signing keys for pass codes, kept where a `SigningKeyStore` keeps them (the `passes` room
binds its database table, so every replica signs with the same keys), their private halves encrypted
with the personal-data vault; and the compact encodings codes use (raw 64-byte signatures, compressed
points, base45 for QR alphanumeric mode). Pure crypto and caching: this module knows no table.

P-256 rather than Ed25519: every phone's WebCrypto verifies and signs P-256, so the PWA's device keys
and the offline scanner use the same curve as the server.
"""

from __future__ import annotations

import base64
import logging
import struct
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from backend.lib.db import is_unique_violation
from backend.lib.personal_data import vault

log = logging.getLogger("changxiang.keys")

_CURVE = ec.SECP256R1()
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INDEX = {ch: i for i, ch in enumerate(_ALPHABET)}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def base45_encode(data: bytes) -> str:
    """RFC 9285: two bytes → three characters of QR's alphanumeric set (denser in a QR than base64)."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += [_ALPHABET[c], _ALPHABET[d], _ALPHABET[e]]
    if len(data) % 2:
        n = data[-1]
        out += [_ALPHABET[n % 45], _ALPHABET[n // 45]]
    return "".join(out)


def base45_decode(text: str) -> bytes:
    """RFC 9285, the other way; ValueError for anything that is not base45. Every scan decodes a code: the
    characters become their values in one `bytes.translate`, three at a time a 16-bit word (a third of
    the cost of a loop over the characters)."""
    try:
        values = text.encode("ascii").translate(_VALUES)
    except UnicodeEncodeError:
        raise ValueError("not base45") from None
    whole, rest = divmod(len(values), 3)
    if rest == 1 or (values and max(values) == _NOT_BASE45):
        raise ValueError("not base45")
    end = 3 * whole
    words = [a + b * 45 + c * 2025 for a, b, c in zip(values[0:end:3], values[1:end:3], values[2:end:3], strict=True)]
    if words and max(words) > 0xFFFF:
        raise ValueError("not base45")
    out = struct.pack(f">{whole}H", *words)
    if rest:
        n = values[-2] + values[-1] * 45
        if n > 0xFF:
            raise ValueError("not base45")
        out += bytes((n,))
    return out


_NOT_BASE45 = 255
_VALUES = bytes(_INDEX.get(chr(i), _NOT_BASE45) for i in range(256))  # byte → its base45 value


def sign_raw(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """ECDSA-SHA256, as the 64-byte r‖s that WebCrypto produces and verifies."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_raw(public: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    if len(signature) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def load_point(raw: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from a compressed (33) or uncompressed (65 bytes) point; ValueError if not on the curve."""
    return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, raw)


def compressed(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


def uncompressed(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class KeyPair:
    kid: int
    private: ec.EllipticCurvePrivateKey
    public: ec.EllipticCurvePublicKey


class SigningKeyStore(Protocol):
    """Where signing keys are kept: rows of `kid`, `public_key` (base64url of the uncompressed point)
    and `private_key_enc` (PKCS#8 PEM sealed by the vault)."""

    async def active(self) -> list[dict[str, Any]]:
        """The keys not retired, oldest kid first."""
        ...

    async def last_kid(self) -> int | None:
        """The highest kid ever written, retired or not."""
        ...

    async def add(self, kid: int, public_key: str, private_key_enc: str) -> None:
        """Keep a new key; raises a unique violation when `kid` exists already (another replica)."""
        ...


class SigningKeyring:
    """The current signing key and every key by kid, read from its store and cached (a key never
    changes once written; rotation adds a row). A keyring without a store knows only the keys put in
    it (a benchmark's)."""

    def __init__(self, store: SigningKeyStore | None = None) -> None:
        self._store = store
        self._by_kid: dict[int, KeyPair] = {}
        self._current: KeyPair | None = None

    def _kept(self) -> SigningKeyStore:
        if self._store is None:
            raise RuntimeError("this keyring has no key store")
        return self._store

    @staticmethod
    def _pair(row: dict[str, Any]) -> KeyPair:
        pem = vault().decrypt(row["private_key_enc"], "signing_key").encode()
        private = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        return KeyPair(row["kid"], private, private.public_key())

    async def _rows(self) -> list[dict[str, Any]]:
        return await self._kept().active()

    async def current(self) -> KeyPair:
        if self._current is None:
            rows = await self._rows()
            if not rows:
                await self.rotate()
                rows = await self._rows()
            try:
                self._current = self._pair(rows[-1])
            except InvalidTag:
                # the newest key was sealed with another data key (CHANGXIANG_DATA_KEY changed): sign
                # with a fresh key; codes under the old one are refused as invalid
                log.error("signing key %s cannot be decrypted with the current data key; rotating", rows[-1]["kid"])
                await self.rotate()
                return await self.current()
            self._by_kid[self._current.kid] = self._current
        return self._current

    async def get(self, kid: int) -> KeyPair | None:
        if kid not in self._by_kid:
            for row in await self._rows():
                if row["kid"] == kid:
                    try:
                        self._by_kid[kid] = self._pair(row)
                    except InvalidTag:
                        return None
        return self._by_kid.get(kid)

    async def public_keys(self) -> list[dict[str, Any]]:
        """Every key that verifies. A gate may ask before the first code was ever signed: the current
        key is made then, so the gate never saves an empty list and refuses every code offline."""
        await self.current()
        return [{"kid": r["kid"], "alg": "ES256", "public_key": r["public_key"]} for r in await self._rows()]

    async def rotate(self) -> int:
        """Add a new key (the next kid); older keys keep verifying until retired."""
        store = self._kept()
        private = ec.generate_private_key(_CURVE)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        last = await store.last_kid()
        kid = (last + 1) if last is not None else 1
        if kid > 255:
            raise RuntimeError("kid space exhausted: retire old keys first")
        try:
            await store.add(kid, b64u(uncompressed(private.public_key())), vault().encrypt(pem, "signing_key"))
        except Exception as exc:
            if not is_unique_violation(exc):  # another replica made this kid at the same moment: use theirs
                raise
        self._current = None
        return kid
