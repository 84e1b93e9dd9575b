from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Pass(Table, tablename="passes"):
    """One code per account (一码通行): every confirmed booking of the holder is an entitlement on it."""

    user_id = Integer(unique=True)
    pass_id = Varchar(length=16, unique=True)  # 8 random bytes, hex: what codes carry
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class SigningKey(Table, tablename="signing_keys"):
    """ECDSA P-256 keys that sign pass codes and device certificates. `kid` travels in every code, so
    keys rotate: scanners keep every key that is not retired."""

    kid = Integer(unique=True)
    public_key = Varchar(length=200)  # base64url of the uncompressed point (65 bytes)
    private_key_enc = Text()  # PKCS#8, AES-GCM encrypted with the personal-data vault
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)


class DeviceCertificate(Table, tablename="device_certificates"):
    """A phone's own key, certified for a pass: the phone then signs fresh codes offline."""

    serial = Integer(unique=True)
    pass_id = Varchar(length=16, index=True)
    device_public_key = Varchar(length=100)
    expires_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class GateDevice(Table, tablename="gate_devices"):
    """A gate phone's own key, certified for one staff account at its venues: the phone signs every scan
    it decides offline, and the server trusts an uploaded scan only when this key signed it, dated
    after the device's last sync (docs/pass-code.md, "Offline gates")."""

    serial = Integer(unique=True)
    staff_user_id = Integer(index=True)
    public_key = Varchar(length=100)  # base64url of the point, as the phone sent it
    venue_slugs = Text()  # the venues it may sign for, sorted, comma-separated
    expires_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    synced_at = Timestamptz(null=True, default=None)  # the last GET /scans/keys that named it
    revoked_at = Timestamptz(null=True, default=None)


class ScanRecord(Table, tablename="scan_log"):
    """Every scan, accepted or not. Occupancy, audits and the supervision feed are read from here."""

    # indexed together, by (local_date, venue_slug): every read of the log is by day, or by day and venue,
    # and each index is one more page written by every scan (migration passes_2026_12_04t04_30)
    nonce = Varchar(length=80, unique=True)
    venue_slug = Varchar(length=80)
    local_date = Varchar(length=10)  # YYYY-MM-DD in Asia/Shanghai
    direction = Varchar(length=3)
    result = Varchar(length=20)
    reservation_id = Integer(null=True, default=None)
    party_size = Integer(default=0)
    pass_id = Varchar(length=16, null=True, default=None)
    staff_user_id = Integer()
    device_id = Varchar(length=80, null=True, default=None)
    gate = Varchar(length=80, null=True, default=None)
    scanned_at = Timestamptz()
    received_at = Timestamptz(default=TimestamptzNow())
    offline = Boolean(default=False)
    conflict = Boolean(default=False)
    flag_reason = Varchar(length=40, null=True, default=None)  # why an offline scan was not trusted
