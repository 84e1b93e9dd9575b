"""The commands that load and import content: `load-content`, `import-amenities`, `import-merchants`,
`plaques`, `operator-key`, `simulate-history`."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Protocol

from backend.settings import get_settings


class LoadReport(Protocol):
    """What each room's loader reports (venues, amenities, tours, exhibitions, events and articles each
    have their own LoadReport struct of these three counts)."""

    @property
    def created(self) -> int: ...
    @property
    def updated(self) -> int: ...
    @property
    def unchanged(self) -> int: ...


AMENITY_FILES = {
    "toilet": "amenities_toilets.toml",
    "charger": "amenities_chargers.toml",
    "parking": "amenities_parking.toml",
}


async def load_content_dir(content_dir: Path) -> dict[str, LoadReport]:
    from backend.lib import offload
    from backend.lib.db import start_database, stop_database
    from backend.lib.stores import close_redis, store_registry
    from backend.media.pictures import make_all_variants, with_default_pictures
    from backend.venues.services import load_venues, parse_venue_content

    report: dict[str, LoadReport] = {}
    await start_database()
    try:
        # every content picture in its responsive sizes (Pillow, in a worker thread), before the items name them
        made = await offload.cpu(make_all_variants, content_dir / "media", get_settings().media_cache_dir)
        if made:
            print(f"pictures: {made} responsive sizes made")
        from backend.exhibitions.image_service import make_all_tiles

        # ... and the exhibitions' deep-zoom tiles (the IIIF Image API's listed tiles and sizes)
        tiles = await offload.cpu(make_all_tiles, content_dir, get_settings().media_cache_dir)
        if tiles:
            print(f"exhibitions: {tiles} deep-zoom tiles made")
        venues_file = content_dir / "venues.toml"
        raw = tomllib.loads(venues_file.read_text(encoding="utf-8")).get("venue", [])
        items = parse_venue_content(with_default_pictures("venue", raw, content_dir))
        store = store_registry(get_settings()).get("cache")
        report["venues"] = await load_venues(items, store)
        from backend.amenities.loading import load_amenities, parse_amenity_content

        records = []
        for kind, filename in AMENITY_FILES.items():
            path = content_dir / filename
            if path.exists():
                records += parse_amenity_content(kind, tomllib.loads(path.read_text(encoding="utf-8")).get(kind, []))
        report["amenities"] = await load_amenities(records, store)
        from backend.exhibitions.content import load_exhibitions, parse_exhibition_content
        from backend.tours.services import load_tours, parse_tour_content

        tours_file = content_dir / "tours.toml"
        if tours_file.exists():
            raw_tours = tomllib.loads(tours_file.read_text(encoding="utf-8")).get("tour", [])
            report["tours"] = await load_tours(parse_tour_content(raw_tours, content_dir), content_dir)
        raw_exhibitions = [
            tomllib.loads(path.read_text(encoding="utf-8"))
            for path in sorted((content_dir / "exhibitions").glob("*.toml"))
        ]
        if raw_exhibitions:
            report["exhibitions"] = await load_exhibitions(
                parse_exhibition_content(raw_exhibitions, content_dir), content_dir
            )
        from backend.events import content as event_files
        from backend.events.content import load_articles, load_events, parse_article_content, parse_event_content

        events_file, articles_file = content_dir / "events.toml", content_dir / "articles.toml"
        if events_file.exists():
            raw = event_files.read_event_files(content_dir)  # events.toml, then each events_*.toml (the next seasons)
            events = parse_event_content(with_default_pictures("event", raw, content_dir))
            report["events"] = await load_events(events, store)
        if articles_file.exists():
            raw = tomllib.loads(articles_file.read_text(encoding="utf-8")).get("article", [])
            articles = parse_article_content(with_default_pictures("article", raw, content_dir))
            report["articles"] = await load_articles(articles)
        from backend.tickets.content import load_tickets_file  # after the events: occurrences become performances

        if (tickets_report := await load_tickets_file(content_dir)) is not None:
            report["tickets"] = tickets_report
        merchants_file = content_dir / "merchants.toml"
        if merchants_file.exists():  # SAMPLE merchants (content/README.md); the real ones: import-merchants
            from backend.vouchers.merchants import load_merchants, parse_merchant_content

            raw = tomllib.loads(merchants_file.read_text(encoding="utf-8")).get("merchant", [])
            report["merchants"] = await load_merchants(parse_merchant_content(raw), "sample")
        featured_file = content_dir / "featured.toml"
        if featured_file.exists():  # a SAMPLE editors' picks list (content/README.md), after what it names
            from backend.publishing.featured import load_featured, parse_featured_content

            raw = tomllib.loads(featured_file.read_text(encoding="utf-8")).get("featured", [])
            report["featured"] = await load_featured(parse_featured_content(raw))
        if any(r.created or r.updated for r in report.values()):
            from backend.search.services import search

            search.configure(store)
            await search.changed()  # every replica's search index is rebuilt from what was loaded
    finally:
        await stop_database()
        await close_redis()
    return report


async def import_amenities(data: dict[str, Any] | list[Any], fmt: str) -> str:
    from backend.amenities.loading import load_amenities, ocpi_amenities, osm_amenities
    from backend.lib.db import start_database, stop_database
    from backend.lib.stores import close_redis, store_registry
    from integrations import ocpi, osm

    if fmt in ("overpass", "geojson"):
        if not isinstance(data, dict):
            raise ValueError(f"{fmt} input is a JSON object")
        elements = data.get("elements", []) if fmt == "overpass" else osm.geojson_to_elements(data)
        records = osm_amenities(osm.read_elements(elements))
    else:
        records = ocpi_amenities(ocpi.read_locations(data.get("data", data) if isinstance(data, dict) else data))
    await start_database()
    try:
        report = await load_amenities(records, store_registry(get_settings()).get("cache"), source=fmt)
    finally:
        await stop_database()
        await close_redis()
    return f"amenities: created={report.created} updated={report.updated} unchanged={report.unchanged}"


async def plaques_sheet(tour_slug: str, base_url: str) -> str:
    from backend.lib.db import start_database, stop_database
    from backend.tours.plaques import plaque_sheet
    from backend.tours.services import tours

    await start_database()
    try:
        stops = await tours.poi_keys(tour_slug)
    finally:
        await stop_database()
    return plaque_sheet(tour_slug, stops, base_url)


async def operator_key(operator: str) -> str:
    from backend.amenities.services import amenities
    from backend.lib.db import start_database, stop_database

    await start_database()
    try:
        return await amenities.create_operator_key(operator)
    finally:
        await stop_database()


async def simulate_history(days: int, seed: int, venues: list[str]) -> str:
    from backend.forecast.services import forecasts
    from backend.lib.db import start_database, stop_database
    from backend.lib.stores import close_redis, store_registry

    await start_database()
    try:
        forecasts.configure(store_registry(get_settings()).get("cache"))
        count, rows = await forecasts.simulate_history(days, seed, venues)
    finally:
        await stop_database()
        await close_redis()
    return f"simulated history: {count} venues, {days} days, {rows} hourly rows (marked simulated; seed {seed})"


async def import_merchants(text: str, retire_samples: bool) -> str:
    from backend.lib.db import start_database, stop_database
    from backend.vouchers.merchants import load_merchants, parse_merchant_register

    items = parse_merchant_register(text)
    await start_database()
    try:
        r = await load_merchants(items, "import", retire_samples=retire_samples)
    finally:
        await stop_database()
    return f"merchants: created={r.created} updated={r.updated} unchanged={r.unchanged} retired={r.deactivated}"
