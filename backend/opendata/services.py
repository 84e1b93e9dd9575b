"""Open data: a DCAT-style catalogue and each dataset as JSON, CSV (UTF-8 with BOM, so spreadsheets
open Chinese correctly) and GeoJSON (RFC 7946: [lng, lat]). Aggregates and public facts only: no
dataset reads a table that holds personal data except through counts.

The datasets (what each one is and how its rows are read) are registered in `datasets.DATASETS`.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime
from typing import Any

import anyio
import msgspec

from backend.lib import offload
from backend.lib.i18n import Lang, pick
from backend.lib.problems import NotFound
from backend.lib.spreadsheet import FORMULA_STARTS as FORMULA_STARTS  # re-exported: tests check the rule here
from backend.lib.spreadsheet import csv_cell as csv_cell
from backend.opendata import (
    case_stats,  # noqa: F401 - registers the case_stats dataset (issue 16)
    crowd_levels,  # noqa: F401 - registers the crowd_levels dataset (issue 19)
    voucher_tally,  # noqa: F401 - registers the vouchers dataset (issue 17)
)
from backend.opendata.datasets import DATASETS, Dataset
from backend.opendata.schemas import CatalogueOut, DatasetOut, Distribution

LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
PUBLISHER = {"zh": "常享（常州文旅）", "en": "Changxiang (Changzhou culture and tourism)"}
FREQUENCIES = {
    "continuous": "http://publications.europa.eu/resource/authority/frequency/CONT",
    "daily": "http://publications.europa.eu/resource/authority/frequency/DAILY",
    "weekly": "http://publications.europa.eu/resource/authority/frequency/WEEKLY",
    "irregular": "http://publications.europa.eu/resource/authority/frequency/IRREG",
}
FORMATS = {
    "json": ("JSON", "application/json"),
    "csv": ("CSV", "text/csv; charset=utf-8"),
    "geojson": ("GeoJSON", "application/geo+json"),
}
CACHE_S = 60.0


class OpenDataService:
    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], tuple[float, bytes]] = {}
        self._locks: dict[tuple[str, str, str], anyio.Lock] = {}

    def catalogue(self, lang: Lang, base: str) -> CatalogueOut:
        datasets = [
            DatasetOut(
                identifier=d.name,
                title=pick(d.title["zh"], d.title["en"], lang),
                description=pick(d.description["zh"], d.description["en"], lang),
                keywords=d.keywords,
                licence=LICENCE,
                licence_url=LICENCE_URL,
                update_frequency=d.update_frequency,
                accrual_periodicity=FREQUENCIES[d.update_frequency],
                publisher=pick(PUBLISHER["zh"], PUBLISHER["en"], lang),
                spatial="Changzhou, Jiangsu, China (GB/T 2260: 320400)",
                formats=[label for ext, (label, _) in FORMATS.items() if ext != "geojson" or d.geometry],
                distributions=[
                    Distribution(format=label, media_type=media, download_url=f"{base}/{d.name}.{ext}")
                    for ext, (label, media) in FORMATS.items()
                    if ext != "geojson" or d.geometry
                ],
            )
            for d in DATASETS.values()
        ]
        return CatalogueOut(
            type="dcat:Catalog",
            title=pick("常享开放数据", "Changxiang open data", lang),
            description=pick(
                "常州文旅的公开数据：场馆、便民设施与客流汇总。",
                "Public data about Changzhou's culture and tourism: venues, amenities and visitor totals.",
                lang,
            ),
            publisher=pick(PUBLISHER["zh"], PUBLISHER["en"], lang),
            licence=LICENCE,
            licence_url=LICENCE_URL,
            homepage=base,
            datasets=datasets,
        )

    async def export(self, name: str, ext: str, lang: Lang) -> tuple[bytes, str]:
        dataset = DATASETS.get(name)
        if dataset is None or ext not in FORMATS or (ext == "geojson" and dataset.geometry is None):
            raise NotFound("dataset_not_found", f"no dataset {name}.{ext}; see /api/v1/opendata")
        key = (name, ext, lang)
        hit = self._cache.get(key)
        if hit is None or time.monotonic() - hit[0] >= CACHE_S:
            # one build per file at a time (the others wait for it), encoded off the event loop
            lock = self._locks.setdefault(key, anyio.Lock())
            async with lock:
                hit = self._cache.get(key)
                if hit is None or time.monotonic() - hit[0] >= CACHE_S:
                    rows = await dataset.rows(lang)
                    body = await offload.cpu(_encode, rows, ext, dataset)
                    hit = self._cache[key] = (time.monotonic(), body)
        return hit[1], FORMATS[ext][1]

    def forget(self) -> None:
        self._cache.clear()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _encode(rows: list[dict[str, Any]], ext: str, dataset: Dataset) -> bytes:
    if ext == "json":
        return msgspec.json.encode({"dataset": dataset.name, "licence": LICENCE, "items": rows, "total": len(rows)})
    if ext == "csv":
        buf = io.StringIO()
        columns: list[str] = []
        for r in rows:
            columns += [k for k in r if k not in columns]
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
        writer.writerow({k: csv_cell(k) for k in columns})
        for r in rows:
            writer.writerow({k: csv_cell(v) for k, v in r.items()})
        return buf.getvalue().encode("utf-8-sig")
    features = []
    for r in rows:
        point = dataset.geometry(r) if dataset.geometry else None
        props = {k: _plain(v) for k, v in r.items() if k not in ("lat", "lng")}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [point[0], point[1]]} if point else None,
                "properties": props,
            }
        )
    return msgspec.json.encode({"type": "FeatureCollection", "features": features})


opendata = OpenDataService()
