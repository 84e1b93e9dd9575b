import os

from piccolo.conf.apps import AppConfig

from backend.vouchers.tables import Campaign, CardEntry, Coupon, LotteryApplication, Merchant, QuotaShard, Redemption

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="vouchers",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Merchant, Campaign, QuotaShard, Coupon, LotteryApplication, Redemption, CardEntry],
    migration_dependencies=[],
    commands=[],
)
