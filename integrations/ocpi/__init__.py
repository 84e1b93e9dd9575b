"""OCPI 2.2 (charge point operators): Location objects, with their EVSEs and connectors, read into plain
`OcpiLocation`s (the amenities room maps them to its own content)."""

from integrations.ocpi.locations import OcpiEvse, OcpiLocation, read_locations

__all__ = ["OcpiEvse", "OcpiLocation", "read_locations"]
