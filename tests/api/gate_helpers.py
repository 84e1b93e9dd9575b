"""A gate phone in tests: its own P-256 key, certified for a staff account (`POST /scans/device`), its sync
(`GET /scans/keys?device=`) and the signature it puts on every scan it decides offline, made the way the
PWA makes it (pwa/src/pass/gate.js `signEntry`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec

from backend.lib.signing_keys import b64u, sign_raw, uncompressed
from backend.passes.codes import scan_entry_message
from backend.passes.devices import scanned_ms


@dataclass
class Gate:
    client: object
    staff: dict
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    serial: int | None = None

    @property
    def public_key(self) -> str:
        return b64u(uncompressed(self.key.public_key()))

    async def certify(self, **body) -> dict:
        res = await self.client.post(
            "/api/v1/scans/device", headers=self.staff["headers"], json={"public_key": self.public_key, **body}
        )
        assert res.status_code == 201, res.text
        self.serial = res.json()["serial"]
        return res.json()

    async def sync(self) -> dict:
        res = await self.client.get("/api/v1/scans/keys", headers=self.staff["headers"], params={"device": self.serial})
        assert res.status_code == 200, res.text
        return res.json()

    def scan(self, code: str, venue: str, at: datetime, offline_result: str = "ok", **extra) -> dict:
        """An offline scan as the gate queues it: signed by this device's key."""
        item = {
            "code": code,
            "venue_slug": venue,
            "direction": "in",
            "nonce": uuid.uuid4().hex,
            "scanned_at": at.isoformat(),
            "offline_result": offline_result,
            "device_id": "pad-1",
            **extra,
        }
        return self.sign(item)

    def sign(self, item: dict, serial: int | None = None) -> dict:
        serial = serial or self.serial
        assert serial is not None, "certify first"
        message = scan_entry_message(
            serial,
            nonce=item["nonce"],
            venue_slug=item["venue_slug"],
            direction=item.get("direction", "in"),
            gate=item.get("gate"),
            device_id=item.get("device_id"),
            code=item["code"],
            offline_result=item.get("offline_result"),
            scanned_ms=scanned_ms(datetime.fromisoformat(item["scanned_at"])),
        )
        return {**item, "device_serial": serial, "signature": b64u(sign_raw(self.key, message))}

    async def upload(self, *items: dict) -> dict:
        res = await self.client.post("/api/v1/scans/batch", headers=self.staff["headers"], json={"items": list(items)})
        assert res.status_code == 200, res.text
        return res.json()


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
