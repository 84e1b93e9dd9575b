from piccolo.columns import Boolean, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Amenity(Table, tablename="amenities"):
    """A public toilet, EV charging station or car park (names follow OSM tags and OCPI)."""

    ext_id = Varchar(length=160, unique=True)  # content id, "osm:node/123" or "ocpi:CPO:LOCATION"
    kind = Varchar(length=10, index=True)  # toilet | charger | parking
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200)
    address_zh = Text(default="")
    address_en = Text(default="")
    district = Varchar(length=16, null=True, default=None)
    lat = DoublePrecision(index=True)
    lng = DoublePrecision()
    opening_hours = Varchar(length=200, default="24/7")
    wheelchair = Boolean(null=True, default=None)
    baby_changing = Boolean(null=True, default=None)
    fee = Boolean(null=True, default=None)
    unisex = Boolean(null=True, default=None)
    gender = Varchar(length=40, null=True, default=None)
    operator = Varchar(length=80, null=True, default=None)
    spaces = Integer(null=True, default=None)
    coach_spaces = Integer(null=True, default=None)
    free_spaces = Integer(null=True, default=None)  # live, from the operator's feed
    free_spaces_at = Timestamptz(null=True, default=None)
    near_venue = Varchar(length=80, null=True, default=None)
    source = Varchar(length=20, default="content")
    content_hash = Varchar(length=64, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class Evse(Table, tablename="evses"):
    """One charge point of a station (OCPI EVSE) with its connector and live status."""

    amenity = ForeignKey(references=Amenity, index=True)
    evse_uid = Varchar(length=120, unique=True)
    connector = Varchar(length=10)  # gbt_dc | gbt_ac | type2 | ccs2 | chademo
    max_kw = DoublePrecision()
    status = Varchar(length=16, default="unknown")  # available | occupied | out_of_service | unknown
    status_at = Timestamptz(null=True, default=None)


class OperatorKey(Table, tablename="operator_keys"):
    """An operator's API key for live feeds (only its SHA-256 is stored)."""

    operator = Varchar(length=80, unique=True)
    key_sha256 = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
