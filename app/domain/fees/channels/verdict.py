"""What a channel said of one order, in the office's words: the one thing resolve.py acts on.

Each channel's client (wechat.py; Alipay's later) turns its own states and error codes into a
Verdict, so the counter, the poll and the close decide the same way whichever channel answered.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.fees.channels.booking import Word


class Outcome(StrEnum):
    paid = "paid"  # the money is taken: book it
    waiting = "waiting"  # not decided yet: a QR not scanned, an owner entering a password (USERPAYING)
    failed = "failed"  # refused for good (AUTH_CODE_INVALID, NOTENOUGH, PAYERROR): nothing was taken
    closed = "closed"  # closed or reversed at the channel: nothing can be taken any more
    unknown = "unknown"  # no answer to believe (network, 5xx, unsigned): ask again later


@dataclass(frozen=True, kw_only=True)
class Verdict:
    outcome: Outcome
    reason: str = ""  # the channel's words, "CODE: message", for failed and closed
    # For paid: the transaction as the channel describes it, checked and booked as a notification's word is.
    word: Word | None = None

    @property
    def decided(self) -> bool:
        return self.outcome in (Outcome.paid, Outcome.failed, Outcome.closed)
