"""Reconciliation (对账) of a channel's money against the books, per estate, channel and day.

- statements.py: the channel's statement file parsed into lines and its summary (PARSERS maps a
  channel to its parser: WeChat Pay's trade bill now, Alipay's 业务明细 when that channel lands);
  a malformed file, a summary that does not add up, or a line of another day is refused naming the line.
- download.py: the day's bill through wechatpayv3 (trade_bill, then download_bill), its SHA1 checked
  against the channel's signed answer; a day without trades (NO_STATEMENT_EXIST) is an empty statement.
- matching.py: pure. Lines (payment / refund) meet booked records on our own number: matched,
  channel_only, here_only, amount_mismatch, status_mismatch.
- model.py: ChannelStatement (one per estate, channel, day; a re-import replaces its lines),
  StatementLine, ReconciliationItem (one per discrepancy, its TransitionTable open -> booked /
  refunded / explained, each with the resolver and a note, through audit.apply).
- service.py: import (download or upload), items, resolution; what is booked here is loaded per
  line kind through BOOKED: ChannelPayment for payment lines, ChannelRefund (on 商户退款单号) for
  refund lines; an Alipay loader pair joins with its parser.
- reports.py: the day's and the month's report, JSON and CSV / XLSX with Chinese headers.
- attention.py: open items in finance's queue, money in the channel with nothing booked first.

What "book" and "refund" do: they record finance's decision and note; the booking itself (a desk
payment or a prepaid deposit with the channel's transaction id as reference) or the channel refund
is made through its own endpoint, so the item does not move money twice.
"""
