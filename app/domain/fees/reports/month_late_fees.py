"""The month-end report's late-fee block (滞纳金): posted, collected, waived and outstanding.

For a month M: billed = late-fee charges posted in M (due on a day of M: a late fee falls due
the day it is posted); collected = what M's receipts (not voided) settled of late-fee charges,
whenever posted; waived = what waivers approved before M's end took off the late fees posted
in M (as the report's other "waived" figures: reversed waivers count nowhere); outstanding =
billed - waived - what receipts up to M's end settled of them. Cancelled late fees (billed
wrongly) count nowhere.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.calendar import estate_time
from app.domain.fees.model import Charge, ChargeSource, ChargeState
from app.domain.fees.payments.model import Allocation, Receipt, ReceiptStatus
from app.domain.fees.reports.schemas import MonthLateFees
from app.domain.fees.waivers import reading as waivers_report

LATE_FEE = and_(Charge.source == ChargeSource.late_fee.value, Charge.state == ChargeState.open.value)


async def month_late_fees(session: AsyncSession, *, estate_id: uuid.UUID, month: str, start: datetime,
                          end: datetime) -> MonthLateFees:
    first, after = estate_time.month_span(month)
    posted = and_(Charge.due_date >= first, Charge.due_date < after)
    issued = and_(Receipt.estate_id == estate_id, Receipt.status == ReceiptStatus.issued.value, Receipt.issued_at < end)
    settled = (select(Allocation.charge_id, func.sum(Allocation.amount).label("paid"),
                      func.sum(Allocation.amount).filter(Receipt.issued_at >= start).label("in_month"))
               .join(Receipt, Receipt.payment_id == Allocation.payment_id).join(Charge, Charge.id == Allocation.charge_id)
               .where(issued, Charge.estate_id == estate_id, LATE_FEE).group_by(Allocation.charge_id).subquery())
    waived = waivers_report.approved_before(estate_id=estate_id, charges=and_(LATE_FEE, posted), end=end)
    zero = Decimal("0")
    stmt = (select(func.coalesce(func.sum(Charge.amount).filter(posted), zero),
                   func.coalesce(func.sum(settled.c.in_month), zero),
                   func.coalesce(func.sum(waived.c.waived).filter(posted), zero),
                   func.coalesce(func.sum(settled.c.paid).filter(posted), zero))
            .select_from(Charge).outerjoin(settled, settled.c.charge_id == Charge.id)
            .outerjoin(waived, waived.c.charge_id == Charge.id)
            .where(Charge.estate_id == estate_id, LATE_FEE))
    billed, collected, off, paid = (await session.execute(stmt)).one()
    return MonthLateFees(billed=billed, collected=collected, waived=off, outstanding=billed - off - paid)
