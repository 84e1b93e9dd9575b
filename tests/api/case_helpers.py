"""Helpers for the cases tests: file a case, move it, read it, as the API does."""

from __future__ import annotations

VENUE = "changzhou-museum"
OTHER_VENUE = "hongmei-park"
PHONE = "13912345678"


async def file_case(client, who: dict, **fields) -> dict:
    body = {"kind": "complaint", "text": "票价与公示不符 charged twice", "venue_slug": VENUE, **fields}
    body = {k: v for k, v in body.items() if v is not None}
    res = await client.post("/api/v1/cases", headers=who["headers"], json=body)
    assert res.status_code == 201, res.text
    return res.json()


async def move(client, who: dict, case_id: str, to: str, note: str | None = None):
    body = {"to": to} if note is None else {"to": to, "note": note}
    return await client.post(f"/api/v1/cases/{case_id}/transition", headers=who["headers"], json=body)


async def read(client, who: dict, case_id: str):
    return await client.get(f"/api/v1/cases/{case_id}", headers=who["headers"])
