"""Demo prepaid accounts (预存款): the ledger of the fee history's overpayments and refunds, and a
few units of each estate that paid money in ahead, some of it earmarked, deducted at once.

Runs after the fee history (which writes its rows by COPY) through the real services, so the
deposits are in today's open drawer and the deductions carry their QS-K documents.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from app.domain.auth.principal import Actor, system_actor
from app.domain.auth.roles import Role
from app.domain.fees.late_fees.model import LateFeeRule
from app.domain.fees.model import Charge, FeeItem
from app.domain.fees.payments.model import PaymentMethod
from app.domain.fees.prepaid import deductions, deposits
from app.domain.fees.prepaid.schemas import DepositCreate, EarmarkPart
from app.domain.registry.model import Building, Unit

if TYPE_CHECKING:
    from app.demo import DemoContext

# As the migration that added the ledger fills it from the payments and refunds before it.
LEDGER_FROM_HISTORY = [
    "INSERT INTO account_entry (id, created_at, estate_id, unit_id, kind, amount, at, payment_id) "
    "SELECT gen_random_uuid(), now(), p.estate_id, p.unit_id, 'overpayment', p.credit, p.received_at, p.id "
    "FROM payment p JOIN receipt r ON r.payment_id = p.id WHERE r.status = 'issued' AND p.credit > 0",
    "INSERT INTO account_entry (id, created_at, estate_id, unit_id, kind, amount, at, refund_id) "
    "SELECT gen_random_uuid(), now(), f.estate_id, f.unit_id, 'refund', -f.amount, f.refunded_at, f.id "
    "FROM refund f JOIN receipt r ON r.refund_id = f.id WHERE r.status = 'issued'",
    "INSERT INTO account_balance (unit_id, earmark_key, estate_id, balance) "
    "SELECT unit_id, '00000000-0000-0000-0000-000000000000', estate_id, sum(amount) FROM account_entry "
    "GROUP BY unit_id, estate_id",
]
# (deposit, earmarked share for the management fee): a large prepayment, a small one, one half earmarked.
DEPOSITS = [(Decimal("2000.00"), Decimal("0")), (Decimal("300.00"), Decimal("0")), (Decimal("600.00"), Decimal("300.00"))]


async def prepaid_accounts(ctx: DemoContext) -> None:
    for statement in LEDGER_FROM_HISTORY:
        await ctx.session.execute(text(statement))
    for estate in ctx.estates:
        reception = next(u for u in ctx.users if u.username == f"{estate.code.lower()}.reception")
        actor = Actor(id=reception.id, label=reception.full_name, company_id=estate.company_id,
                      roles=frozenset({Role.receptionist}), estate_ids=frozenset({estate.id}))
        # Each unit's oldest open charge names the item an earmark is for. The units longest owing a
        # fee the late-fee rule covers (named by building and number, never by random id, so every
        # load is the same) pay in: their deductions settle it, and post and settle its late fee.
        late_items = (await ctx.session.execute(select(LateFeeRule.fee_item_ids).where(
            LateFeeRule.estate_id == estate.id).order_by(LateFeeRule.effective_from.desc()))).scalars().first() or []
        oldest = (select(Charge.unit_id, Charge.fee_item_id, Charge.due_date).where(Charge.estate_id == estate.id, Charge.is_open())
                  .distinct(Charge.unit_id).order_by(Charge.unit_id, Charge.due_date, Charge.id).subquery())
        owing = (await ctx.session.execute(
            select(oldest.c.unit_id, oldest.c.fee_item_id).join(Unit, Unit.id == oldest.c.unit_id)
            .join(Building, Building.id == Unit.building_id).where(oldest.c.fee_item_id.in_(late_items))
            .order_by(oldest.c.due_date, Building.number, Unit.entrance, Unit.number).limit(len(DEPOSITS)))).all()
        fee_items = set((await ctx.session.execute(select(FeeItem.id).where(FeeItem.estate_id == estate.id))).scalars())
        for (unit_id, item_id), (amount, earmarked) in zip(owing, DEPOSITS, strict=False):
            earmarks = [EarmarkPart(fee_item_id=item_id, amount=earmarked)] if earmarked and item_id in fee_items else []
            await deposits.take_deposit(ctx.session, actor=actor, unit_id=unit_id,
                                        data=DepositCreate(amount=amount, method=PaymentMethod.cash, earmarks=earmarks))
            await deductions.deduct_unit(ctx.session, actor=system_actor("account_deduction"), estate=estate, unit_id=unit_id)
    await ctx.session.flush()
