"""Posting to a unit's prepaid account and reading its balances.

An entry and its balance move in one statement pair, in the caller's transaction. A debit
first locks the balance row (`lock`) and checks it, so the caller gets BalanceTooLow instead
of the CHECK's error; the CHECK is the last word if a path ever forgets.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.domain.fees.prepaid.model import NO_EARMARK, AccountBalance, AccountEntry, BalanceTooLow, EntryKind

ZERO = Decimal("0.00")

_ADD = text(
    "INSERT INTO account_balance (unit_id, earmark_key, estate_id, balance) VALUES (:unit_id, :key, :estate_id, :amount) "
    "ON CONFLICT (unit_id, earmark_key) DO UPDATE SET balance = account_balance.balance + EXCLUDED.balance"
)
# A debit updates the row its check locked (an INSERT's candidate row of a negative amount
# would fail the CHECK before ON CONFLICT is reached). No row, no money: the CHECK refuses.
_SUB = text("UPDATE account_balance SET balance = balance + :amount WHERE unit_id = :unit_id AND earmark_key = :key")


async def post(session: AsyncSession, *, estate_id: uuid.UUID, unit_id: uuid.UUID, kind: EntryKind, amount: Decimal,
               earmark: uuid.UUID | None, at: datetime, payment_id: uuid.UUID | None = None,
               refund_id: uuid.UUID | None = None, charge_id: uuid.UUID | None = None,
               reverses_id: uuid.UUID | None = None) -> AccountEntry:
    """Append the entry (signed amount) and move its balance with it."""
    entry = AccountEntry(estate_id=estate_id, unit_id=unit_id, kind=kind, earmark_fee_item_id=earmark, amount=amount, at=at,
                         payment_id=payment_id, refund_id=refund_id, charge_id=charge_id, reverses_id=reverses_id)
    session.add(entry)
    await session.flush()
    values = {"unit_id": unit_id, "key": earmark or NO_EARMARK, "estate_id": estate_id, "amount": amount}
    if amount > 0:
        await session.execute(_ADD, values)
    elif (await session.execute(_SUB, values)).rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(_ADD, values)  # no balance to take from: the CHECK refuses it
    return entry


async def lock(session: AsyncSession, *, unit_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    """The unit's balances by earmark key, locked (in key order, as every debit takes them) to the end of the transaction."""
    stmt = (select(AccountBalance.earmark_key, AccountBalance.balance).where(AccountBalance.unit_id == unit_id)
            .order_by(AccountBalance.earmark_key).with_for_update())
    return {key: balance for key, balance in (await session.execute(stmt)).all()}


async def debit(session: AsyncSession, *, estate_id: uuid.UUID, unit_id: uuid.UUID, kind: EntryKind, amount: Decimal,
                earmark: uuid.UUID | None, at: datetime, **links: uuid.UUID | None) -> AccountEntry:
    """Take `amount` (> 0) out of the earmark's balance; BalanceTooLow (409) when it has less."""
    have = (await lock(session, unit_id=unit_id)).get(earmark or NO_EARMARK, ZERO)
    if have < amount:
        raise BalanceTooLow(f"the account has {have} here", field="amount", balance=str(have),
                            earmark_fee_item_id=str(earmark) if earmark else None)
    return await post(session, estate_id=estate_id, unit_id=unit_id, kind=kind, amount=-amount, earmark=earmark, at=at, **links)


async def balances(session: AsyncSession, *, unit_id: uuid.UUID) -> dict[uuid.UUID | None, Decimal]:
    """By earmark fee item (None: free money), the positive balances only."""
    stmt = select(AccountBalance.earmark_key, AccountBalance.balance).where(AccountBalance.unit_id == unit_id,
                                                                         AccountBalance.balance > 0)
    return {None if key == NO_EARMARK else key: b for key, b in (await session.execute(stmt)).all()}


async def reverse_document(session: AsyncSession, *, unit_id: uuid.UUID, at: datetime, payment_id: uuid.UUID | None = None,
                           refund_id: uuid.UUID | None = None) -> list[AccountEntry]:
    """Undo the entries a voided document made: money it put in comes out (BalanceTooLow if spent),
    money it took out goes back. Each undo is an entry of its own; the original stays."""
    undone = aliased(AccountEntry)
    link = AccountEntry.payment_id == payment_id if payment_id is not None else AccountEntry.refund_id == refund_id
    stmt = (select(AccountEntry).outerjoin(undone, undone.reverses_id == AccountEntry.id)
            .where(link, AccountEntry.kind != EntryKind.reversal.value, undone.id.is_(None)).order_by(AccountEntry.id))
    out = []
    for entry in (await session.execute(stmt)).scalars().all():
        links = {"payment_id": entry.payment_id, "refund_id": entry.refund_id, "charge_id": entry.charge_id,
                 "reverses_id": entry.id}
        if entry.amount > 0:
            out.append(await debit(session, estate_id=entry.estate_id, unit_id=unit_id, kind=EntryKind.reversal,
                                   amount=entry.amount, earmark=entry.earmark_fee_item_id, at=at, **links))
        else:
            out.append(await post(session, estate_id=entry.estate_id, unit_id=unit_id, kind=EntryKind.reversal,
                                  amount=-entry.amount, earmark=entry.earmark_fee_item_id, at=at, **links))
    return out


@dataclass(frozen=True)
class FreeMoney:
    """The unearmarked side of the account, as the old credit figures read it."""

    paid_in: Decimal
    refunded: Decimal
    deducted: Decimal
    balance: Decimal


async def free_money(session: AsyncSession, *, unit_id: uuid.UUID) -> FreeMoney:
    """Sums of the unit's unearmarked entries by kind, leaving out those a void has undone."""
    undone = aliased(AccountEntry)
    stmt = (select(AccountEntry.kind, func.coalesce(func.sum(AccountEntry.amount), 0))
            .outerjoin(undone, undone.reverses_id == AccountEntry.id)
            .where(AccountEntry.unit_id == unit_id, AccountEntry.earmark_fee_item_id.is_(None),
                   AccountEntry.kind != EntryKind.reversal.value, undone.id.is_(None))
            .group_by(AccountEntry.kind))
    by_kind = {k: Decimal(v) for k, v in (await session.execute(stmt)).all()}
    paid_in = sum((by_kind.get(k, ZERO) for k in (EntryKind.deposit, EntryKind.overpayment, EntryKind.correction)), ZERO)
    refunded, deducted = -by_kind.get(EntryKind.refund, ZERO), -by_kind.get(EntryKind.deduction, ZERO)
    balance = (await balances(session, unit_id=unit_id)).get(None, ZERO)
    return FreeMoney(paid_in=paid_in, refunded=refunded, deducted=deducted, balance=balance)


__all__ = ["ZERO", "FreeMoney", "balances", "debit", "free_money", "lock", "post", "reverse_document"]
