"""The demo estates' late-fee rule: 万分之三 a day after a month's grace, at most 30% of the
charge, on the management fee -- what the contracts say -- from before the first month billed."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from app.domain.fees.late_fees.model import LateFeeRule

if TYPE_CHECKING:
    from app.demo import DemoContext
    from app.domain.fees.model import FeeItem


def add_rule(ctx: DemoContext, *, mgmt: FeeItem, effective_from: date) -> None:
    ctx.add("late_fee_rules", [LateFeeRule(estate_id=mgmt.estate_id, effective_from=effective_from,
                                           daily_rate=Decimal("0.0003"), grace_days=30, cap_share=Decimal("0.3"),
                                           fee_item_ids=[mgmt.id])])
