from piccolo.columns import Array, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="users"):
    email = Varchar(length=254, unique=True, null=True, default=None)  # None: signed up by phone
    password_hash = Text()
    display_name = Varchar(length=80)
    roles = Array(base_column=Varchar(length=20))
    venue_slugs = Array(base_column=Varchar(length=80))
    merchant_ids = Array(base_column=Varchar(length=80), default=list)  # a `merchant` account's shops
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # phone sign-in (accounts/phone.py): the number AES-GCM encrypted, its keyed HMAC (one account per
    # number: unique) and its mask (139****5678); all None for an account without a phone
    phone_fp = Varchar(length=64, unique=True, null=True, default=None)
    phone_enc = Text(null=True, default=None)
    phone_masked = Varchar(length=20, null=True, default=None)


class Identity(Table, tablename="account_identities"):
    """An account's verified real name (PUT /me/identity): one per account, one account per person.
    Name and ID number are AES-GCM encrypted; only masks and the keyed HMAC (`fingerprint`, the same
    one bookings use for their visitors) are clear. Vouchers and cards are bound to the fingerprint."""

    user_id = Integer(unique=True)
    fingerprint = Varchar(length=64, unique=True)
    id_type = Varchar(length=20)
    name_enc = Text()
    name_masked = Varchar(length=80)
    id_number_enc = Text()
    id_number_masked = Varchar(length=40)
    verified_at = Timestamptz(default=TimestamptzNow())
