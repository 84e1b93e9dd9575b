"""The open dataset `vouchers` (issue 17): per published voucher or card campaign, how many were issued
and redeemed and the subsidy the redemptions carry — the public tally. Counts and sums only."""

from __future__ import annotations

from backend.opendata.datasets import Dataset, register_dataset
from backend.vouchers.settlement import tally_rows

register_dataset(
    Dataset(
        "vouchers",
        {"zh": "常州礼遇消费券与惠民卡发放核销情况", "en": "Changzhou vouchers and cards: issued, redeemed, subsidy"},
        {
            "zh": "每个已发布的消费券或惠民卡活动：总量、已发放、已核销（不含撤销）、"
            "核销对应的补贴金额（分）与抽签报名人数。仅汇总数据，不含任何个人信息。",
            "en": "Per published voucher or card campaign: quota, issued, redeemed (reversals excluded), the subsidy "
            "those redemptions carry (fen) and, for lotteries, the applicants. Aggregates only, no personal data.",
        },
        ["vouchers", "consumption", "subsidy", "transparency"],
        "continuous",
        tally_rows,
    )
)
