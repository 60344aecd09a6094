"""Books of an estate for the fee reports (month report, Saturday register), and reading them back."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.auth import secrets
from app.domain.auth.model import ApiKey
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, FeeItem, FeeKind
from app.domain.fees.payments import receipts, refunds
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import PaymentMethod
from app.domain.fees.payments.schemas import PaymentCreate, RefundCreate
from app.domain.registry.model import Estate, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.registry_factories import make_building, make_unit, two_estates

API = "/api/v1"

TZ = ZoneInfo("Asia/Shanghai")

D = Decimal


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


@dataclass
class Books:
    """An estate's fee items, units and charges, and the desk that takes money for it."""

    estate: Estate
    other: Estate
    items: dict[str, FeeItem]
    units: dict[str, Unit]
    cashier: Staff  # 李娜
    colleague: Staff  # 王芳
    reader: Staff  # finance
    charges: dict[str, Charge] = field(default_factory=dict)

    def actor(self, staff: Staff) -> Actor:
        return Actor(id=staff.id, label=staff.user.full_name, company_id=self.estate.company_id,
                     roles=frozenset({Role.receptionist}), estate_ids=frozenset({self.estate.id}))

    async def charge(self, session, key: str, unit: str, item: str, amount: str, period: str) -> None:
        self.charges[key] = await make_charge(session, unit=self.units[unit], item=self.items[item], amount=amount,
                                              period=period, due_date=datetime.strptime(period + "-01", "%Y-%m-%d").date())

    async def pay(self, session, unit: str, amount: str, at: datetime, *charges: str, method: str = "cash",
                  by: Staff | None = None, payer: str = "") -> uuid.UUID:
        data = PaymentCreate(amount=D(amount), method=PaymentMethod(method), reference="" if method == "cash" else "REF1",
                             payer_name=payer, **({"charge_ids": [self.charges[c].id for c in charges]} if charges
                                                  else {"settle": "oldest_first"}))
        paid = await payments.take_payment(session, actor=self.actor(by or self.cashier), unit_id=self.units[unit].id,
                                           data=data, now=at)
        await session.commit()
        return paid.receipt.id

    async def refund(self, session, unit: str, amount: str, at: datetime, *, method: str = "cash") -> uuid.UUID:
        data = RefundCreate(amount=D(amount), method=PaymentMethod(method), reference="" if method == "cash" else "BT1",
                            reason="多缴退还")
        made = await refunds.make_refund(session, actor=self.actor(self.cashier), unit_id=self.units[unit].id, data=data, now=at)
        await session.commit()
        return made.receipt.id

    async def void(self, session, receipt_id: uuid.UUID, at: datetime) -> None:
        await receipts.void_receipt(session, actor=self.actor(self.cashier), receipt_id=receipt_id, reason="收错房号", now=at)
        await session.commit()


async def books(session) -> Books:
    estate, other = await two_estates(session)
    estate.code = f"QS{uuid.uuid4().hex[:4]}"
    session.add(estate)
    await session.commit()
    b1 = await make_building(session, estate=estate, number=1)
    b2 = await make_building(session, estate=estate, number=2)
    units = {"A": await make_unit(session, building=b1, number="101"), "B": await make_unit(session, building=b1, number="102"),
             "C": await make_unit(session, building=b2, number="201"), "D": await make_unit(session, building=b2, number="202")}
    items = {"mgmt": await make_fee_item(session, estate=estate, code="mgmt", name="物业管理费"),
             "water": await make_fee_item(session, estate=estate, code="water", name="水费", kind=FeeKind.metered, price="5.00")}
    cashier = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="李娜")
    colleague = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="王芳")
    reader = await make_staff(session, estates=[estate], roles=[Role.finance], full_name="赵会计")
    return Books(estate=estate, other=other, items=items, units=units, cashier=cashier, colleague=colleague, reader=reader)


async def november(session) -> Books:
    b = await books(session)
    for key, unit, item, amount, period in [
        ("A-mgmt", "A", "mgmt", "160.56", "2026-11"), ("A-water", "A", "water", "30.00", "2026-11"),
        ("B-mgmt", "B", "mgmt", "150.00", "2026-11"), ("B-water", "B", "water", "20.00", "2026-11"),
        ("C-mgmt", "C", "mgmt", "200.00", "2026-11"), ("D-mgmt", "D", "mgmt", "120.00", "2026-11"),
        ("C-mgmt-oct", "C", "mgmt", "200.00", "2026-10"), ("A-mgmt-dec", "A", "mgmt", "160.56", "2026-12"),
    ]:
        await b.charge(session, key, unit, item, amount, period)
    await b.pay(session, "B", "20.00", local(2026, 10, 25, 10), "B-water")
    await b.pay(session, "A", "190.56", local(2026, 11, 3, 10), "A-mgmt", "A-water")
    await b.pay(session, "C", "300.00", local(2026, 11, 5, 11), "C-mgmt-oct", "C-mgmt", method="wechat", by=b.colleague)
    wrong = await b.pay(session, "B", "150.00", local(2026, 11, 10, 9), "B-mgmt")
    await b.void(session, wrong, local(2026, 11, 10, 15))
    await b.pay(session, "A", "200.00", local(2026, 11, 20, 16), "A-mgmt-dec", method="alipay", by=b.colleague)
    await b.refund(session, "A", "30.00", local(2026, 11, 25, 10), method="bank_transfer")
    await b.pay(session, "B", "50.00", local(2026, 11, 30, 23, 50), "B-mgmt")
    await b.pay(session, "C", "100.00", local(2026, 12, 1, 0, 10), "C-mgmt")
    return b


def api_key_headers(session, estate: Estate, scopes: list[str]):
    key = secrets.new_token(secrets.API_KEY_PREFIX)
    session.add(ApiKey(company_id=estate.company_id, name="財務系統", prefix=key[:12], key_hash=secrets.token_hash(key),
                       estate_ids=[estate.id], scopes=scopes))
    return {"Authorization": f"Bearer {key}"}


async def week48(session) -> Books:
    b = await books(session)
    for key, unit, item, amount, period in [
        ("A-mgmt", "A", "mgmt", "160.56", "2026-11"), ("A-water", "A", "water", "30.00", "2026-11"),
        ("B-mgmt", "B", "mgmt", "150.00", "2026-11"), ("B-water", "B", "water", "20.00", "2026-11"),
        ("B-mgmt-oct", "B", "mgmt", "150.00", "2026-10"), ("A-mgmt-dec", "A", "mgmt", "160.56", "2026-12"),
    ]:
        await b.charge(session, key, unit, item, amount, period)
    await b.pay(session, "A", "190.56", local(2026, 11, 21, 0, 0), "A-mgmt", "A-water", payer="王建國")
    await b.pay(session, "B", "150.00", local(2026, 11, 23, 10), "B-mgmt-oct", method="wechat", by=b.colleague)
    wrong = await b.pay(session, "B", "100.00", local(2026, 11, 24, 10), "B-mgmt")
    await b.void(session, wrong, local(2026, 11, 25, 9))
    await b.pay(session, "B", "200.00", local(2026, 11, 25, 14), "B-mgmt", "B-water", method="alipay", by=b.colleague)
    await b.refund(session, "B", "10.00", local(2026, 11, 26, 10))
    await b.pay(session, "A", "160.56", local(2026, 11, 27, 23, 30), "A-mgmt-dec", method="wechat")
    await b.pay(session, "B", "50.00", local(2026, 11, 28, 0, 10))
    return b
