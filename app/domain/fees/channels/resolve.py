"""A pending channel payment resolved from what its channel says: the counter's wait and the poll job.

Every channel goes one way. A Link (an estate's account at one channel, opened for one request
or one job run) asks the channel and answers Verdicts (verdict.py); a paid Verdict carries the
channel's word on the transaction, which booking.settle checks and books under the payment's
row lock exactly as it books a notification's, so a notification and a poll racing book once.
LINKS says how each channel's link is opened: WechatLink here, AlipayLink (alipay_link.py).

No row is locked while the channel is asked: the poll asks about every payment first and only
then locks and writes, each payment in a transaction of its own. One transaction booking two
payments would hold the first's charges and receipt counter while it locks the second's row,
which a notification (row, then charges, then counter) or a desk payment (charges, then counter)
may hold: a deadlock. Booked one by one, the poll takes its locks in the order they do.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor, system_actor
from app.domain.fees.channels import booking, credentials, wechat
from app.domain.fees.channels.alipay_link import AlipayLink
from app.domain.fees.channels.model import Channel, ChannelKind, ChannelPayment, ChannelPaymentState
from app.domain.fees.channels.verdict import Outcome, Verdict

log = logging.getLogger("propdesk.channels.resolve")
# Enough for a busy estate's five minutes; the rest waits for the next run, oldest first.
POLL_BATCH = 200


class Link(Protocol):
    """One estate's account at one channel, able to place a payment code and settle an order."""

    async def submit_code(self, row: ChannelPayment, *, auth_code: str, description: str, store_id: str) -> Verdict: ...
    async def query(self, row: ChannelPayment) -> Verdict: ...
    async def close(self, row: ChannelPayment) -> Verdict: ...
    async def reverse(self, row: ChannelPayment) -> Verdict: ...
    @property
    def merchant(self) -> dict[str, Any]:
        """The estate's merchant as the channel's word must name it (booking.mismatch)."""
        ...


@dataclass(frozen=True)
class WechatLink:
    creds: credentials.WechatCredentials
    gateway: str
    estate_id: uuid.UUID

    async def submit_code(self, row: ChannelPayment, *, auth_code: str, description: str, store_id: str) -> Verdict:
        return await wechat.codepay(self.creds, gateway=self.gateway, out_trade_no=row.out_trade_no, description=description,
                                    total_fen=int(row.amount * booking.FEN), auth_code=auth_code, store_id=store_id)

    async def query(self, row: ChannelPayment) -> Verdict:
        return await wechat.query(self.creds, gateway=self.gateway, out_trade_no=row.out_trade_no)

    async def close(self, row: ChannelPayment) -> Verdict:
        return await wechat.close(self.creds, gateway=self.gateway, out_trade_no=row.out_trade_no)

    async def reverse(self, row: ChannelPayment) -> Verdict:
        return await wechat.reverse(self.creds, gateway=self.gateway, out_trade_no=row.out_trade_no)

    @property
    def merchant(self) -> dict[str, Any]:
        return wechat.merchant_of(self.creds)


async def _open_wechat(session: AsyncSession, *, estate_id: uuid.UUID, settings: Settings) -> Link:
    creds = await credentials.open_wechat(session, estate_id=estate_id, secret=settings.signing_secret)
    return WechatLink(creds=creds, gateway=settings.wechatpay_gateway, estate_id=estate_id)


async def _open_alipay(session: AsyncSession, *, estate_id: uuid.UUID, settings: Settings) -> Link:
    creds = await credentials.open_alipay(session, estate_id=estate_id, secret=settings.signing_secret)
    return AlipayLink(creds=creds, gateway=settings.alipay_gateway)


Opener = Callable[..., Awaitable[Link]]
LINKS: dict[Channel, Opener] = {Channel.wechat: _open_wechat, Channel.alipay: _open_alipay}


async def open_link(session: AsyncSession, channel: Channel | str, *, estate_id: uuid.UUID, settings: Settings) -> Link:
    """The estate's link to `channel`; ChannelNotConfigured / CredentialsUnreadable without one."""
    opener = LINKS.get(Channel(channel))
    if opener is None:
        raise credentials.ChannelNotConfigured(f"{channel} cannot be asked about an order here yet")
    return await opener(session, estate_id=estate_id, settings=settings)


async def withdraw(link: Link, row: ChannelPayment, *, why: str) -> Verdict:
    """Take an undecided order back at the channel: a payment code is reversed (paid meanwhile, the
    money goes back to the owner) with a close if the reverse is refused; a QR is closed. Neither
    taking, the channel is asked once more: a close refused because it was paid meanwhile books."""
    steps = (link.reverse, link.close) if row.kind == ChannelKind.codepay else (link.close,)
    for step in steps:
        verdict = await step(row)
        if verdict.outcome is Outcome.closed:
            return Verdict(outcome=Outcome.closed, reason=f"{why}; {verdict.reason}"[:200])
        log.warning("%s of %s not done: %s", step.__name__, row.out_trade_no, verdict.reason)
    return await link.query(row)


async def _locked(session: AsyncSession, row_id: uuid.UUID) -> ChannelPayment:
    stmt = (select(ChannelPayment).where(ChannelPayment.id == row_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.execute(stmt)).scalar_one()


VERBS = {Outcome.failed: "fail", Outcome.closed: "close"}


async def apply(session: AsyncSession, link: Link, row: ChannelPayment, verdict: Verdict, *, actor: Actor,
                now: datetime) -> str:
    """Write what the channel decided, once: paid books, failed / closed move the payment with the
    channel's reason; undecided leaves it pending for the next poll. Returns the state it is in."""
    if verdict.outcome is Outcome.paid and verdict.word is not None:
        await booking.settle(session, estate_id=row.estate_id, word=verdict.word, merchant=link.merchant, now=now,
                             actor=actor)
        return str((await _locked(session, row.id)).status)
    locked = await _locked(session, row.id)
    verb = VERBS.get(verdict.outcome)
    if verb is not None and locked.status == ChannelPaymentState.pending:
        await audit.apply(session, actor=actor, row=locked, action=verb, reason=verdict.reason, event_at=now)
    return str(locked.status)


# --- the poll job: a notification lost, a QR expired, a payment code left undecided ------------

async def _ask(links: dict[str, Link | None], session: AsyncSession, row: ChannelPayment, *, settings: Settings,
               now: datetime) -> tuple[Link, Verdict] | None:
    if row.channel not in links:
        try:
            links[row.channel] = await open_link(session, row.channel, estate_id=row.estate_id, settings=settings)
        except (credentials.ChannelNotConfigured, credentials.CredentialsUnreadable) as exc:
            log.error("channel %s of estate %s cannot be asked: %s", row.channel, row.estate_id, exc.title)
            links[row.channel] = None
    link = links[row.channel]
    if link is None:
        return None
    verdict = await link.query(row)
    if not verdict.decided and row.expires_at <= now:
        verdict = await withdraw(link, row, why=f"{verdict.reason or 'not paid'}; expired {row.expires_at.isoformat()}")
    return link, verdict


async def poll(session: AsyncSession, *, estate_id: uuid.UUID, settings: Settings, now: datetime,
               book_in: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Ask the channel about the estate's pending payments older than `channel_poll_after_seconds`
    (backing up a lost notification) and take back those past `expires_at`; then book or move
    each in a transaction of its own from `book_in` (committed as it is done)."""
    stmt = (select(ChannelPayment)
            .where(ChannelPayment.estate_id == estate_id, ChannelPayment.status == ChannelPaymentState.pending.value,
                   ChannelPayment.created_at <= now - timedelta(seconds=settings.channel_poll_after_seconds))
            .order_by(ChannelPayment.created_at).limit(POLL_BATCH))
    rows = list((await session.execute(stmt)).scalars())
    links: dict[str, Link | None] = {}
    answers = [(row, await _ask(links, session, row, settings=settings, now=now)) for row in rows]
    counts: Counter[str] = Counter()
    for row, answer in answers:
        if answer is None:
            counts["not_configured"] += 1
            continue
        link, verdict = answer
        try:
            async with book_in() as own, own.begin():
                actor = system_actor(booking.ACTORS[Channel(row.channel)])
                counts[await apply(own, link, row, verdict, actor=actor, now=now)] += 1
        except Exception:
            # One payment that cannot be written must not keep the others waiting: it is asked again next time.
            log.exception("channel payment %s could not be resolved", row.out_trade_no)
            counts["error"] += 1
    return {"asked": len(rows), **dict(sorted(counts.items()))}
