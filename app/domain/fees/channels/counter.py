"""The counter (付款码支付): the desk scans the owner's payment code for exactly what the charges owe.

The payment is written `pending` first, then the code is charged. While the owner confirms on
the phone (USERPAYING) the order is asked again after about channel_code_first_poll_seconds,
then at doubling pauses, within channel_code_wait_seconds in all; still undecided, it is
reversed at the channel (a close if the reverse is refused) and ends `closed` with the
channel's words. Paid, it is booked through the notification's locked booking path
(booking.settle) into the receptionist's open cashier session under the channel's method
(wechat, alipay): shown beside the cash, never counted as cash (cash/service.py counts per
method). Refused (AUTH_CODE_INVALID, ACQ.BUYER_BALANCE_NOT_ENOUGH...), it ends `failed` with
the reason, which the answer carries. WeChat Pay and Alipay go the same way (resolve.LINKS).

Nothing is locked while the channel is asked: the charges are priced by a plain read, the
drawer is only looked at (handed over: refused before the owner is charged), and the new row
is this request's own until it commits. A channel that answers nothing at all through the
wait and the reverse leaves the payment `pending`: the poll job (resolve.py) settles it.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.fees.cash import service as cash
from app.domain.fees.channels import resolve
from app.domain.fees.channels.model import ChannelKind, ChannelPayment
from app.domain.fees.channels.resolve import Link
from app.domain.fees.channels.schemas import ChannelPaymentRead, CounterPaymentCreate
from app.domain.fees.channels.verdict import Verdict
from app.domain.fees.payments import service as payments
from app.domain.registry import units
from app.domain.registry.model import Estate


async def wait(link: Link, row: ChannelPayment, verdict: Verdict, *, settings: Settings) -> Verdict:
    """Ask the channel again, at doubling pauses, until it decides or the window closes."""
    deadline = time.monotonic() + settings.channel_code_wait_seconds
    pause = settings.channel_code_first_poll_seconds
    while not verdict.decided:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        await asyncio.sleep(min(pause, left))
        verdict = await link.query(row)
        pause *= 2
    return verdict


async def take(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: CounterPaymentCreate, settings: Settings,
               now: datetime | None = None) -> ChannelPaymentRead:
    """Charge the payment code and settle the charges, or say why not: paid, failed or closed."""
    started = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise payments.NoCashierForPayment()
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    await cash.check_open_for_payment(session, estate=estate, cashier_id=actor.id, now=started)
    link = await resolve.open_link(session, data.channel, estate_id=estate.id, settings=settings)
    charges = await payments.selected_charges(session, unit_id=unit.id, estate_id=estate.id, charge_ids=data.charge_ids,
                                              lock=False)
    row = ChannelPayment(estate_id=estate.id, unit_id=unit.id, channel=data.channel, kind=ChannelKind.codepay,
                         out_trade_no="PD" + uuid.uuid4().hex[:24].upper(),
                         amount=sum((c.outstanding for c in charges), Decimal("0.00")), charge_ids=list(data.charge_ids),
                         expires_at=started + timedelta(seconds=settings.channel_code_wait_seconds),
                         created_by=actor.id, created_at=started)
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="channel_payment.create", row=row)
    verdict = await link.submit_code(row, auth_code=data.auth_code, description=f"物业费 {unit.label}"[:40],
                                     store_id=estate.code)
    verdict = await wait(link, row, verdict, settings=settings)
    if not verdict.decided:
        why = f"{verdict.reason or 'no answer'}; not confirmed within {settings.channel_code_wait_seconds:g} s"
        verdict = await resolve.withdraw(link, row, why=why)
    await resolve.apply(session, link, row, verdict, actor=actor, now=now or utcnow())
    return ChannelPaymentRead(**row.model_dump(include=set(ChannelPaymentRead.model_fields)))
