"""OpenStreetMap: toilets, charging stations and car parks from an Overpass JSON answer or a GeoJSON
export, read into plain `OsmPlace`s (the amenities room maps them to its own content)."""

from integrations.osm.places import OsmPlace, OsmSocket, geojson_to_elements, read_elements

__all__ = ["OsmPlace", "OsmSocket", "geojson_to_elements", "read_elements"]
