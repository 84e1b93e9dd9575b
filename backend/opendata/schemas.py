from __future__ import annotations

import msgspec


class Distribution(msgspec.Struct):
    format: str  # JSON | CSV | GeoJSON
    media_type: str
    download_url: str


class DatasetOut(msgspec.Struct):
    """One dataset, described with DCAT's vocabulary (dcat:Dataset) in the API's snake_case."""

    identifier: str
    title: str
    description: str
    keywords: list[str]
    licence: str
    licence_url: str
    update_frequency: str  # continuous | daily | weekly | irregular (dcat:accrualPeriodicity)
    accrual_periodicity: str  # the EU frequency vocabulary URI
    publisher: str
    spatial: str
    formats: list[str]
    distributions: list[Distribution]


class CatalogueOut(msgspec.Struct):
    type: str  # "dcat:Catalog"
    title: str
    description: str
    publisher: str
    licence: str
    licence_url: str
    homepage: str
    datasets: list[DatasetOut]
