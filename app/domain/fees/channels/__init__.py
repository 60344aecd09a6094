"""Money channels: WeChat Pay (and later Alipay) at the counter and on the bill (issue 18).

Design note for this area, slice by slice.

Done (slice 1, Native QR on the bill, 扫码支付):
- credentials.py: an estate's merchant account per channel, its secrets sealed with AES-256-GCM
  under a key HKDF derives from the app secret; PUT replaces (rotates), GET shows no secret.
- model.py: ChannelPayment, one transition table (pending -> paid / failed / closed), every
  move through audit.apply with its event; ChannelAlert, a verified word from the channel that
  was not booked as it stands, written once per notification and reason.
- wechat.py: wechatpayv3 does the signing, answer verification and notification decryption;
  we add the timestamp window and the serial check, and point its gateway at the fake in tests.
- service.py: the QR order is priced at what the charges owe; the notification books through
  payments.book (the desk's own settle / allocate / receipt code) with method wechat, the
  channel's transaction id as reference, no drawer, a receipt in the online series (QS-W-).
  A charge settled meanwhile leaves its share on the unit's prepaid account, with an alert.

Next slices, in the order they build on each other:
- Poll and close (a job in app/jobs/, same service path): for each pending payment past a
  back-off step, GET /v3/pay/transactions/out-trade-no/{no}?mchid= (Client.query); SUCCESS
  books through the very code the notification uses (the row lock makes poll and notification
  race safely: whoever is second sees `paid`); NOTPAY past expires_at -> close through the
  channel (Client.close, 204) then `close`; PAYERROR -> `fail`. The fake already answers both.
- Counter barcode (条码支付, codepay): ChannelKind.codepay, POST /v3/pay/transactions/codepay
  with the owner's auth_code; USERPAYING is polled with back-off inside the channel's window,
  then reversed (/reverse) and closed. Its booking joins the cashier's session under method
  wechat (the hand-over shows channel money beside the drawer, closed by reconciliation).
- Refunds: state `refunded` (and `refunding`) on ChannelPayment, a ChannelRefund aggregate of
  its own (POST /v3/refund/domestic/refunds, its own notification of REFUND.SUCCESS), the
  receipt reversed by the void / refund rules of payments/ (a refund document in QS-R).
- Reconciliation (对账): a daily job per estate and channel downloads the trade bill
  (Client.trade_bill + download_bill) or takes an upload in the channel's CSV format, and
  matches line by line: matched, in the channel only (money received, nothing booked),
  here only, amount / status mismatch; fees and net settlement per day; every unmatched line
  an item in finance's attention queue until resolved with a note. ChannelAlert rows join the
  same queue.
- Alipay: python-alipay-sdk or the official SDK (RSA2 signing, its async notification with
  form-encoded body and `success` answer), behind the same Channel enum and service path.
- Platform certificates: today the platform *public key* mode (微信支付公钥, the mode for new
  merchants); merchants still on platform certificates need the SDK's certificate download.
"""
