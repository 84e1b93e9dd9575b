"""The vouchers room's tables (常州礼遇): merchants, campaigns, quota shards, coupons, lottery
applications, redemptions and card entries. Composite unique keys are unique indexes made by the
migrations (Piccolo declares single-column ones only)."""

from piccolo.columns import UUID, Array, Boolean, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Merchant(Table, tablename="merchants"):
    """A shop, restaurant, tea house or hotel that takes vouchers. `merchant_id` is the public id
    (accounts' `merchant_ids`, campaigns' eligible merchants); `source` says where the row came from:
    `sample` (content/merchants.toml, not real) or `import` (the city's register)."""

    merchant_id = Varchar(length=80, unique=True)
    name_zh = Varchar(length=120)
    name_en = Varchar(length=160)
    category = Varchar(length=20, index=True)
    district = Varchar(length=20)
    address_zh = Varchar(length=200)
    address_en = Varchar(length=240)
    lat = DoublePrecision()
    lng = DoublePrecision()
    near_venue = Varchar(length=80, null=True, default=None)
    phone = Varchar(length=40, null=True, default=None)
    source = Varchar(length=10, default="sample")
    is_active = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class Campaign(Table, tablename="campaigns"):
    """A voucher (消费券) or card (惠民卡/年卡) campaign, published through the publishing flow. First-come
    campaigns hand out coupons from `quota_shards` rows of campaign_quota_shards; lotteries take
    applications until `claim_until` and draw from them with `seed` (its SHA-256 public from release,
    the seed itself after the draw)."""

    title_zh = Varchar(length=200)
    title_en = Varchar(length=240)
    description_zh = Text(default="")
    description_en = Text(default="")
    kind = Varchar(length=8)  # voucher | card
    face_value_fen = Integer(default=0)
    min_spend_fen = Integer(default=0)
    card_venue_slugs = Array(base_column=Varchar(length=80), default=list)
    merchant_ids = Array(base_column=Varchar(length=80), default=list)
    merchant_categories = Array(base_column=Varchar(length=20), default=list)
    quota = Integer()
    per_person = Integer(default=1)
    release_at = Timestamptz()
    claim_until = Timestamptz(null=True, default=None)
    valid_from = Timestamptz()
    valid_until = Timestamptz()
    allocation = Varchar(length=12, default="first_come")  # first_come | lottery
    quota_shards = Integer(default=16)
    seed = Varchar(length=64, default="")  # hex of 32 random bytes; secret until the draw
    seed_sha256 = Varchar(length=64, default="")
    drawn_at = Timestamptz(null=True, default=None)
    applicants_sha256 = Varchar(length=64, null=True, default=None)
    # the publication columns (backend/lib/publication.py)
    status = Varchar(length=16, default="draft", index=True)
    publish_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class QuotaShard(Table, tablename="campaign_quota_shards"):
    """One slice of a first-come campaign's quota: claimers take a unit from a random shard with a
    conditional UPDATE (`issued < capacity`), so a burst spreads over many rows instead of queueing on
    one. Unique (campaign_id, n)."""

    campaign_id = Integer(index=True)
    n = Integer()
    capacity = Integer()
    issued = Integer(default=0)


class Coupon(Table, tablename="coupons"):
    """A claimed (or won) voucher or card, bound to the holder's identity fingerprint. Unique
    (campaign_id, identity_hash, n) with 1 <= n <= per_person: the per-person limit is the database's."""

    public_id = UUID(unique=True)
    campaign_id = Integer(index=True)
    user_id = Integer(index=True)
    identity_hash = Varchar(length=64)
    n = Integer(default=1)
    status = Varchar(length=12, default="active")  # active | redeemed (expired is read from the campaign)
    claimed_at = Timestamptz(default=TimestamptzNow())
    redeemed_at = Timestamptz(null=True, default=None)


class LotteryApplication(Table, tablename="lottery_applications"):
    """One identity's application to a lottery (unique (campaign_id, identity_hash)); the public sees
    only `pseudonym`."""

    campaign_id = Integer(index=True)
    user_id = Integer(index=True)
    identity_hash = Varchar(length=64)
    pseudonym = Varchar(length=32)
    applied_at = Timestamptz(default=TimestamptzNow())
    won = Boolean(default=False)


class Redemption(Table, tablename="voucher_redemptions"):
    """Every redemption attempt at a till, accepted or not (the settlement and the tally read it). The
    nonce is unique per merchant account; at most one live `ok` per coupon (a partial unique index)."""

    public_id = UUID(unique=True)
    nonce_key = Varchar(length=160, unique=True)  # "<merchant user id>:<nonce>"
    merchant_user_id = Integer(index=True)
    merchant_id = Varchar(length=80, null=True, default=None, index=True)
    coupon_id = Integer(null=True, default=None, index=True)
    campaign_id = Integer(null=True, default=None, index=True)
    amount_fen = Integer(default=0)
    discount_fen = Integer(default=0)
    result = Varchar(length=20)
    local_date = Varchar(length=10, index=True)  # YYYY-MM-DD in Asia/Shanghai
    created_at = Timestamptz(default=TimestamptzNow())
    reversed_at = Timestamptz(null=True, default=None)


class CardEntry(Table, tablename="card_entries"):
    """A card's entry at a venue on a day: unique (coupon_id, venue_slug, local_date) — once a day per venue."""

    coupon_id = Integer(index=True)
    venue_slug = Varchar(length=80)
    local_date = Varchar(length=10)
    nonce = Varchar(length=120)
    entered_at = Timestamptz(default=TimestamptzNow())
    inside = Boolean(default=True)
