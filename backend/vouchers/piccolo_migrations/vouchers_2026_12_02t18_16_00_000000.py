from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T18:16:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "vouchers: the composite unique keys the claim, the lottery, redemptions and card entries rely on"

_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS campaign_quota_shards_campaign_n ON campaign_quota_shards (campaign_id, n)",
    "CREATE UNIQUE INDEX IF NOT EXISTS coupons_campaign_identity_n ON coupons (campaign_id, identity_hash, n)",
    "CREATE UNIQUE INDEX IF NOT EXISTS lottery_applications_campaign_identity "
    "ON lottery_applications (campaign_id, identity_hash)",
    "CREATE UNIQUE INDEX IF NOT EXISTS lottery_applications_campaign_pseudonym "
    "ON lottery_applications (campaign_id, pseudonym)",
    # one live `ok` per coupon: a second one (a bug, a race past the conditional UPDATE) cannot be written
    "CREATE UNIQUE INDEX IF NOT EXISTS voucher_redemptions_one_ok ON voucher_redemptions (coupon_id) "
    "WHERE result = 'ok' AND reversed_at IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS card_entries_once_a_day ON card_entries (coupon_id, venue_slug, local_date)",
]
_NAMES = [
    "campaign_quota_shards_campaign_n",
    "coupons_campaign_identity_n",
    "lottery_applications_campaign_identity",
    "lottery_applications_campaign_pseudonym",
    "voucher_redemptions_one_ok",
    "card_entries_once_a_day",
]


async def _create() -> None:
    engine = engine_finder()
    assert engine is not None
    for statement in _INDEXES:
        await engine.run_ddl(statement)


async def _drop() -> None:
    engine = engine_finder()
    assert engine is not None
    for name in _NAMES:
        await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="vouchers", description=DESCRIPTION)
    manager.add_raw(_create)
    manager.add_raw_backwards(_drop)
    return manager
