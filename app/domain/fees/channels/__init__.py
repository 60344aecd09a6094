"""Money channels: WeChat Pay and Alipay at the counter and on the bill (issue 18).

Design note for this area, slice by slice.

Done (slice 1, Native QR on the bill, 扫码支付):
- credentials.py: an estate's merchant account per channel, its secrets sealed with AES-256-GCM
  under a key HKDF derives from the app secret; PUT replaces (rotates), GET shows no secret.
- model.py: ChannelPayment, one transition table (pending -> paid / failed / closed), every
  move through audit.apply with its event; ChannelAlert, a verified word from the channel that
  was not booked as it stands, written once per notification and reason.
- wechat.py: wechatpayv3 does the signing, answer verification and notification decryption;
  we add the timestamp window and the serial check, and point its gateway at the fake in tests.
- service.py: the QR order is priced at what the charges owe and placed with the chosen channel.
- booking.py, shared by every channel: a verified notification, as a Word (order, transaction,
  state, merchant, amount), is checked against the order and booked through payments.book (the
  desk's own settle / allocate / receipt code) with the channel's method, its transaction id as
  reference, no drawer, a receipt in the online series (QS-W-). A charge settled meanwhile
  leaves its share on the unit's prepaid account, with an alert. The poll and the counter book
  through booking.book / settle too, under the same row lock.

Done (slice 2, Alipay):
- alipay.py: python-alipay-sdk (public-key mode, RSA2) in a worker thread, its gateway and its
  GMT+8 request timestamp set by us; precreate for the QR (time_expire = expires_at in Beijing
  time), the asynchronous notification verified (sign over the sorted form without sign and
  sign_type) and answered `success` / `failure`; TRADE_SUCCESS / TRADE_FINISHED book,
  TRADE_CLOSED closes a pending order. Credentials: app_id in `appid`, the seller's PID in `mchid`.
- For the counter and the poll: barcode_pay (alipay.trade.pay, scene bar_code; 10000 paid,
  10003 paying -> query, 20000 / no answer -> query then cancel, 40004 failed with its
  sub_code), query, close, cancel (action close or refund), AUTH_CODE_PATTERN (25-30, 16 to 24
  digits; defined in schemas.py, which checks the counter's auth_code with it). Wired in by
  alipay_link.py (slice 3).

Done (slice 3, the counter and the poll, WeChat Pay):
- verdict.py: what a channel said of an order in the office's words (paid, waiting, failed,
  closed, unknown + the channel's reason); a paid Verdict carries the transaction as a Word.
  wechat.py maps trade_state and codepay's error codes.
- counter.py: 付款码支付 (POST /v3/pay/transactions/codepay through the SDK's pay(CODEPAY), so
  signing and verification run). Pending first, USERPAYING polled at doubling pauses within
  channel_code_wait_seconds, then reversed (/reverse, close as the fallback). Paid books into the
  receptionist's open cashier session under the channel's method, the desk's receipt series.
- resolve.py: LINKS, one Link per channel (submit_code, query, close, reverse, merchant);
  apply() writes a Verdict once, a paid one through booking.settle, the notification's own
  locked path; poll() is the five-minute job's (app/jobs/channels.py): asks first, then books
  each payment in its own transaction (one transaction for two deadlocks with a notification).
- alipay_link.py: Alipay's Link (trade.pay, query, close, cancel as Verdicts): the counter with
  channel alipay, and the poll of Alipay QRs (ACQ.TRADE_NOT_EXIST: not scanned yet, waiting;
  past expires_at closed, or found never to have reached Alipay). A query's Word names the
  estate's own merchant (the answer names none; it is the gateway's signed answer to our app).

Done (refunds, refunds.py / refund_model.py / wechat_refunds.py):
- ChannelRefund, its own table and transition table: pending -> succeeded / failed / closed /
  abnormal, abnormal -> succeeded / closed (a manual re-send on the merchant platform). The
  ChannelPayment stays `paid` (it was; a late duplicate of its notification books nothing).
- Whole refunds only: the receipt is reversed by the desk's void (receipts.void_receipt: number
  kept, charges open again, credit undone, audited), and a void is whole. No QS-R document:
  those are for money paid out of a unit's credit, which a channel refund is not.
- Reversed at SUCCESS, not at request: a void cannot be undone, and the channel can still refuse
  (NOT_ENOUGH: failed, the channel's reason kept), close or strand the money (ABNORMAL: an alert).
  While pending or abnormal the desk cannot void the receipt (receipt-has-channel-refund), so a
  void never happens with the money kept. Money returned whose void is refused (the payment's
  credit refunded at the desk meanwhile) is recorded succeeded with an alert refund_not_reversed.
- Refund notifications at their own route (refund-notify/{estate_id}, the notify_url each refund
  names), verified by wechat.verify_notification, applied once under the refund's row lock.

Next slices:
- Reconciliation (对账): done in reconciliation/ (its own note), refund lines matched against
  ChannelRefund. Still to do there: ChannelAlert rows joining the same queue.
- Alipay next: refunds (alipay.trade.refund, alipay.trade.fastpay.refund.query), the bill download
  (alipay.data.dataservice.bill.downloadurl.query), certificate mode (the SDK's DCAliPay).
- Platform certificates: today the platform *public key* mode (微信支付公钥, the mode for new
  merchants); merchants still on platform certificates need the SDK's certificate download.
"""
