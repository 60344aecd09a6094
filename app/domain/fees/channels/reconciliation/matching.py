"""Line-by-line matching of a channel's statement against what is booked here. Pure: no database.

A statement line is a payment or a refund; so is a booked record (a ChannelPayment; a channel
refund once that aggregate exists). They meet on our own number (商户订单号 / 商户退款单号),
which the channel carries back unchanged. Each line comes out as one category:
- channel_only: nothing of ours has that number -- the channel took money we never booked;
- status_mismatch: ours is not done (pending, failed, closed) though the channel says it is,
  or the channel reversed what we booked, or it is another channel transaction than ours;
- amount_mismatch: the channel's amount is not the amount we booked;
- matched.
Then each booked record done on the day that no line named is here_only.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from app.domain.fees.channels.reconciliation.model import MatchCategory
from app.domain.fees.channels.reconciliation.statements import Line, LineKind

# The channel's word that a line's money moved, per kind (REVOKED: a counter payment reversed).
CHANNEL_DONE = {LineKind.payment: "SUCCESS", LineKind.refund: "REFUND"}


@dataclass(frozen=True)
class Booked:
    """A payment or refund as booked here, in the terms the matcher needs."""

    kind: LineKind
    id: uuid.UUID
    out_no: str  # our number at the channel
    channel_ref: str | None  # the channel's number, once it told us
    amount: Decimal
    status: str
    done: bool  # paid (a payment) or succeeded (a refund)
    on_day: bool  # done within the statement's day, estate-local: the statement must name it


@dataclass(frozen=True)
class Outcome:
    category: MatchCategory
    kind: LineKind
    reference: str  # the channel's number; ours when the channel has none (here_only)
    line: Line | None
    booked: Booked | None


def classify(line: Line, booked: Booked | None) -> MatchCategory:
    if booked is None:
        return MatchCategory.channel_only
    channel_done = line.status == CHANNEL_DONE[line.kind]
    if channel_done != booked.done:
        return MatchCategory.status_mismatch
    if not channel_done:
        return MatchCategory.matched  # reversed there, not booked here: nothing moved anywhere
    if booked.channel_ref and booked.channel_ref != line.channel_ref:
        return MatchCategory.status_mismatch
    if booked.amount != line.amount:
        return MatchCategory.amount_mismatch
    return MatchCategory.matched


def match(lines: list[Line], booked: list[Booked]) -> list[Outcome]:
    by_number = {(b.kind, b.out_no): b for b in booked}
    named: set[tuple[LineKind, str]] = set()
    out: list[Outcome] = []
    for line in lines:
        mine = by_number.get((line.kind, line.out_no))
        if mine is not None:
            named.add((mine.kind, mine.out_no))
        out.append(Outcome(classify(line, mine), line.kind, line.channel_ref, line, mine))
    for b in booked:
        if b.done and b.on_day and (b.kind, b.out_no) not in named:
            out.append(Outcome(MatchCategory.here_only, b.kind, b.channel_ref or b.out_no, None, b))
    return out
