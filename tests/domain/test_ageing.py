"""Pure rules of the arrears ageing and of the bill's sentences: no database."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.domain.fees.billing import rules as billing
from app.domain.fees.late_fees import accrual
from app.domain.fees.late_fees.model import LateFeeRule
from app.domain.fees.late_fees.service import Accruing, Posted
from app.domain.fees.model import Charge, ChargeSource, FeeKind, VacantRule
from app.domain.fees.statements.arrears import BUCKETS, age, bucket_edges, bucket_of
from app.domain.fees.statements.service import VoucherInfo, default_first_month, explain, in_window, late_fee_read, plain

D = Decimal
TODAY = date(2026, 4, 1)


class TestBuckets:
    @pytest.mark.parametrize(("days", "bucket"), [
        (-1, None), (0, "days_0_30"), (30, "days_0_30"), (31, "days_31_90"), (90, "days_31_90"),
        (91, "days_91_365"), (365, "days_91_365"), (366, "days_over_365"), (4000, "days_over_365"),
    ])
    def test_boundaries(self, days, bucket):
        assert bucket_of(days) == bucket

    def test_edges_are_the_oldest_due_date_of_each_bucket(self):
        d30, d90, d365 = bucket_edges(TODAY)
        assert (d30, d90, d365) == (date(2026, 3, 2), date(2026, 1, 1), date(2025, 4, 1))
        assert bucket_of((TODAY - d30).days) == "days_0_30" and bucket_of((TODAY - d30).days + 1) == "days_31_90"
        assert bucket_of((TODAY - d365).days) == "days_91_365" and bucket_of((TODAY - d365).days + 1) == "days_over_365"

    def test_age_sums_by_bucket_and_skips_what_is_not_due_or_paid(self):
        items = [(TODAY, D("1.00")), (date(2026, 3, 2), D("2.00")), (date(2026, 3, 1), D("4.00")),
                 (date(2026, 1, 1), D("8.00")), (date(2025, 12, 31), D("16.00")), (date(2025, 4, 1), D("32.00")),
                 (date(2025, 3, 31), D("64.00")), (TODAY + timedelta(days=1), D("128.00")), (date(2020, 1, 1), D("0.00"))]
        assert age(items, today=TODAY) == dict(zip(BUCKETS, [D("3.00"), D("12.00"), D("48.00"), D("64.00")], strict=True))


class TestSentences:
    def test_management_fee_by_area(self):
        line = billing.compute(kind=FeeKind.per_area, price=D("2.50"), area=D("89.20"))
        comp, text = explain(kind=FeeKind.per_area, item_name="物业管理费", rate_unit="", basis=line.basis,
                             amount=line.amount, source=ChargeSource.billing, description="2026年10月物业管理费")
        assert text == "物业管理费 2.50元/㎡·月 × 89.20㎡ × 1个月 = 223.00元"
        assert (comp.method, comp.rate, comp.area, comp.months, comp.amount) == (FeeKind.per_area, "2.50", "89.20", 1, D("223.00"))

    def test_vacant_discount_is_read_out(self):
        line = billing.compute(kind=FeeKind.per_area, price=D("2.50"), area=D("89.20"), vacant=True,
                               vacant_rule=VacantRule.discount, vacant_discount=D("0.5"))
        comp, text = explain(kind=FeeKind.per_area, item_name="物业管理费", rate_unit="元/㎡·月", basis=line.basis,
                             amount=line.amount, source=ChargeSource.billing, description="")
        assert text == "物业管理费 2.50元/㎡·月 × 89.20㎡ × 1个月 = 223.00元，空置减免50% −111.50元 = 111.50元"
        assert (comp.gross, comp.discount, comp.vacant_discount) == (D("223.00"), D("111.50"), "0.5")

    def test_fixed_fee_with_a_quantity(self):
        line = billing.compute(kind=FeeKind.fixed, price=D("150"), area=D("89.20"), quantity=D("2"))
        _, text = explain(kind=FeeKind.fixed, item_name="车位管理费", rate_unit="", basis=line.basis, amount=line.amount,
                          source=ChargeSource.billing, description="")
        assert text == "车位管理费 150.00元/月 × 2 × 1个月 = 300.00元"

    def test_metered(self):
        line = billing.metered(price=D("3.20"), previous=D("1203"), current=D("1228"))
        comp, text = explain(kind=FeeKind.metered, item_name="水费", rate_unit="", basis=line.basis, amount=line.amount,
                             source=ChargeSource.meter, description="")
        assert text == "水费 上次读数 1203 → 本次 1228，用量 25 × 3.20元 = 80.00元"
        assert (comp.previous, comp.current, comp.quantity) == ("1203", "1228", "25")

    def test_repair_charge_names_its_work_order(self):
        order = uuid.uuid4()
        basis = {"voucher_id": str(uuid.uuid4()), "work_order_id": str(order), "amount": "150.00"}
        voucher = VoucherInfo(work_order_id=order, work_order_number="QS-WX-2026-000123", work_done="更换水龙头阀芯",
                              posted_on=date(2026, 11, 5))
        comp, text = explain(kind=FeeKind.one_off, item_name="维修费", rate_unit="元", basis=basis, amount=D("150.00"),
                             source=ChargeSource.voucher, description="维修费（更换水龙头阀芯）", voucher=voucher)
        assert text == "维修费 150.00元：维修工单 QS-WX-2026-000123 有偿维修（2026-11-05，更换水龙头阀芯）"
        assert comp.work_order_id == order and comp.work_done == "更换水龙头阀芯"
        assert comp.work_order_number == "QS-WX-2026-000123"

    def test_deposit_entered_at_the_desk(self):
        _, text = explain(kind=FeeKind.one_off, item_name="装修押金", rate_unit="", basis={"amount": "500.00", "entered_by": "李娜"},
                          amount=D("500.00"), source=ChargeSource.manual, description="装修押金")
        assert text == "装修押金 500.00元：装修押金（前台录入：李娜）"

    @pytest.mark.parametrize("basis", [{}, {"rate": None}, {"previous": "1"}, {"rate": "2.50", "months": "x"},
                                       {"rate": "2.50", "area": "many"}])
    def test_unreadable_basis_still_gives_a_line(self, basis):
        comp, text = explain(kind=FeeKind.per_area, item_name="物业管理费", rate_unit="", basis=basis, amount=D("9.90"),
                             source=ChargeSource.billing, description="2026年10月物业管理费")
        assert comp.method is None and comp.amount == D("9.90")
        assert text == "2026年10月物业管理费 9.90元"

    def test_plain_numbers(self):
        assert [plain(v) for v in ("1203.00", "25.50", "1000", "0.0005")] == ["1203", "25.5", "1000", "0.0005"]


def _charge(amount: str, paid: str, due: date) -> Charge:
    return Charge(estate_id=uuid.uuid4(), unit_id=uuid.uuid4(), fee_item_id=uuid.uuid4(), period=None, description="",
                  amount=D(amount), amount_paid=D(paid), due_date=due, source=ChargeSource.billing)


class TestLateFee:
    ITEM_ID = uuid.uuid4()
    RULE = LateFeeRule(estate_id=uuid.uuid4(), effective_from=date(2000, 1, 1), daily_rate=D("0.0005"), grace_days=10,
                       cap_share=D("0.05"), fee_item_ids=[ITEM_ID])

    def read(self, charge: Charge, today: date, posted: str = "0.00"):
        charge.fee_item_id = self.ITEM_ID
        due = Accruing(accrued=accrual.accrued(charge, self.RULE, today), posted=Posted(amount=D(posted)))
        return late_fee_read(due, due_date=charge.due_date)

    def test_after_grace(self):
        fee = self.read(_charge("223.00", "100.00", date(2026, 10, 1)), date(2026, 11, 20))
        assert (fee.amount, fee.days_past_due, fee.days_charged, fee.capped) == (D("2.46"), 50, 40, False)
        assert fee.explanation == "滞纳金 未缴123.00元 × 0.05%/天 × 40天（宽限10天之后起算） = 2.46元"

    def test_posted_already_is_taken_off(self):
        # 123.00 × 0.0005 × 40 = 2.46 accrued; 1.00 posted before: 1.46 would be posted today
        fee = self.read(_charge("223.00", "100.00", date(2026, 10, 1)), date(2026, 11, 20), posted="1.00")
        assert (fee.amount, fee.posted) == (D("1.46"), D("1.00"))
        assert fee.explanation.endswith("= 2.46元，已计1.00元，本次1.46元")

    def test_capped(self):
        fee = self.read(_charge("223.00", "0.00", date(2025, 11, 1)), date(2026, 11, 20))
        assert (fee.amount, fee.days_charged, fee.cap, fee.capped) == (D("11.15"), 374, D("11.15"), True)
        assert fee.explanation.endswith("= 41.70元，封顶5% = 11.15元")

    def test_within_grace_and_paid_owe_nothing(self):
        assert self.read(_charge("223.00", "0.00", date(2026, 11, 10)), date(2026, 11, 20)).amount == 0
        paid = self.read(_charge("223.00", "223.00", date(2025, 1, 1)), date(2026, 11, 20))
        assert (paid.amount, paid.explanation) == (0, "")


class TestWindow:
    def test_default_is_the_last_twelve_months(self):
        assert default_first_month(date(2026, 11, 20)) == "2025-12"
        assert default_first_month(date(2026, 1, 1)) == "2025-02"
        assert default_first_month(date(2026, 12, 31)) == "2026-01"

    def test_open_charges_always_shown_by_default(self):
        today = date(2026, 11, 20)
        old_open, old_paid = _charge("1", "0", date(2020, 1, 1)), _charge("1", "1", date(2020, 1, 1))
        assert in_window(old_open, from_month=None, to_month=None, today=today)
        assert not in_window(old_paid, from_month=None, to_month=None, today=today)
        assert not in_window(old_open, from_month="2026-01", to_month=None, today=today)
        assert in_window(old_paid, from_month=None, to_month="2020-01", today=today)
