"""The merchant register: sample merchants from content/merchants.toml (`changxiang load-content`), the
city's real register from a CSV file (`changxiang import-merchants`), and the public list.

Both loads upsert by `merchant_id`; a re-run changes nothing. An import may retire the samples
(`--retire-samples`): they stay in the table (campaigns and redemptions may name them) but are no longer
listed or eligible. Positions are stored in WGS-84; a register kept in GCJ-02 (AMap, Tencent) is
converted on the way in (`coord_system=gcj02`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from backend.lib.clock import clock
from backend.lib.geo import CHANGZHOU_BBOX, Point, rank_nearest
from backend.lib.i18n import Lang, pick
from backend.vouchers.schemas import MerchantContent, MerchantLoadReport, MerchantOut
from backend.vouchers.tables import Merchant
from integrations.coords import gcj02_to_wgs84


def parse_merchant_content(raw: list[dict[str, Any]]) -> list[MerchantContent]:
    """content/merchants.toml's `[[merchant]]` tables, checked (ids unique, points inside Changzhou)."""
    items = [msgspec.convert(r, MerchantContent) for r in raw]
    _check(items)
    return items


def _check(items: list[MerchantContent]) -> None:
    seen: set[str] = set()
    min_lat, min_lng, max_lat, max_lng = CHANGZHOU_BBOX
    for item in items:
        if item.id in seen:
            raise ValueError(f"merchant {item.id}: id used twice")
        seen.add(item.id)
        if not (min_lat <= item.location.lat <= max_lat and min_lng <= item.location.lng <= max_lng):
            raise ValueError(f"merchant {item.id}: {item.location} is outside Changzhou (WGS-84 expected)")


def parse_merchant_register(text: str) -> list[MerchantContent]:
    """The city's register as CSV (UTF-8, a BOM allowed), one merchant a row, with the header
    `id,name_zh,name_en,category,district,address_zh,address_en,lat,lng[,coord_system][,near_venue][,phone]`;
    `coord_system` is `wgs84` (default) or `gcj02`. A bad row is refused with its line number."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    items = []
    for line, row in enumerate(reader, start=2):
        try:
            lat, lng = float(row["lat"]), float(row["lng"])
            system = (row.get("coord_system") or "wgs84").strip().lower()
            if system == "gcj02":
                lat, lng = gcj02_to_wgs84(lat, lng)
            elif system != "wgs84":
                raise ValueError(f"coord_system {system!r} is not wgs84 or gcj02")
            items.append(
                msgspec.convert(
                    {
                        "id": row["id"].strip(),
                        "category": row["category"].strip(),
                        "district": row["district"].strip(),
                        "name": {"zh": row["name_zh"].strip(), "en": (row.get("name_en") or "").strip()},
                        "address": {"zh": row["address_zh"].strip(), "en": (row.get("address_en") or "").strip()},
                        "location": {"lat": round(lat, 6), "lng": round(lng, 6)},
                        "near_venue": (row.get("near_venue") or "").strip() or None,
                        "phone": (row.get("phone") or "").strip() or None,
                    },
                    MerchantContent,
                )
            )
        except (KeyError, ValueError, TypeError, AttributeError, msgspec.ValidationError) as exc:
            raise ValueError(f"line {line}: {exc}") from None
    _check(items)
    return items


def _columns(item: MerchantContent) -> dict[str, Any]:
    return {
        "name_zh": item.name.zh,
        "name_en": item.name.en or item.name.zh,
        "category": item.category,
        "district": item.district,
        "address_zh": item.address.zh,
        "address_en": item.address.en or item.address.zh,
        "lat": item.location.lat,
        "lng": item.location.lng,
        "near_venue": item.near_venue,
        "phone": item.phone,
    }


async def load_merchants(
    items: list[MerchantContent], source: str, *, retire_samples: bool = False
) -> MerchantLoadReport:
    """Upsert by id (`source`: `sample` or `import`); unchanged rows are not written."""
    existing = {r["merchant_id"]: r for r in await Merchant.select()}
    created = updated = unchanged = 0
    now = clock.now()
    for item in items:
        cols = _columns(item)
        row = existing.get(item.id)
        if row is None:
            await Merchant.insert(Merchant(merchant_id=item.id, source=source, is_active=True, updated_at=now, **cols))
            created += 1
        elif all(row[k] == v for k, v in cols.items()) and row["source"] == source and row["is_active"]:
            unchanged += 1
        else:
            values: dict[Any, Any] = {getattr(Merchant, k): v for k, v in cols.items()}
            values |= {Merchant.source: source, Merchant.is_active: True, Merchant.updated_at: now}
            await Merchant.update(values).where(Merchant.merchant_id == item.id)
            updated += 1
    deactivated = 0
    if retire_samples:
        named = {i.id for i in items}
        retired = [m for m, r in existing.items() if r["source"] == "sample" and r["is_active"] and m not in named]
        if retired:
            await Merchant.update({Merchant.is_active: False, Merchant.updated_at: now}).where(
                Merchant.merchant_id.is_in(retired)
            )
        deactivated = len(retired)
    return MerchantLoadReport(created=created, updated=updated, unchanged=unchanged, deactivated=deactivated)


async def known_merchants(ids: list[str]) -> set[str]:
    """The ids of `ids` that are active merchants (accounts ask this when an admin binds a merchant account)."""
    if not ids:
        return set()
    rows = await Merchant.select(Merchant.merchant_id).where(
        Merchant.merchant_id.is_in(ids) & (Merchant.is_active == True)  # noqa: E712
    )
    return {r["merchant_id"] for r in rows}


def merchant_out(row: dict[str, Any], lang: Lang, distance: float | None = None) -> MerchantOut:
    return MerchantOut(
        id=row["merchant_id"],
        name=pick(row["name_zh"], row["name_en"], lang),
        category=row["category"],
        district=row["district"],
        address=pick(row["address_zh"], row["address_en"], lang),
        location=Point(lat=row["lat"], lng=row["lng"]),
        near_venue=row["near_venue"],
        sample=row["source"] == "sample",
        distance_m=None if distance is None else round(distance, 1),
    )


async def list_merchants(
    lang: Lang,
    *,
    category: str | None = None,
    ids: list[str] | None = None,
    categories: list[str] | None = None,
    near: Point | None = None,
    radius_m: float | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[MerchantOut], int]:
    """Active merchants, by name (or nearest first with `near`); `ids`/`categories` narrow to a
    campaign's eligible merchants (either list matching is enough)."""
    query = Merchant.select().where(Merchant.is_active == True)  # noqa: E712
    if category:
        query = query.where(Merchant.category == category)
    if ids is not None or categories is not None:
        rows = [r for r in await query if r["merchant_id"] in (ids or []) or r["category"] in (categories or [])]
    else:
        rows = await query
    if near is None:
        rows.sort(key=lambda r: (r["name_zh"], r["merchant_id"]))
        return [merchant_out(r, lang) for r in rows[offset : offset + limit]], len(rows)
    ranked, total = rank_nearest(near, [(Point(lat=r["lat"], lng=r["lng"]), r) for r in rows], radius_m, offset + limit)
    return [merchant_out(r, lang, d) for d, r in ranked[offset:]], total
