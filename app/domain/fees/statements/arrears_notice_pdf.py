"""The arrears notice (催缴通知单): what a unit owes, line by line, and the day to pay it by.

One notice per unit, A4 portrait, read from the same services as the bill explanation and
the arrears ageing: each charge past due with its period, amount, due date, age in days and
the late fee as of the estate-local today, the totals, the office's address and phone, and
the pay-by day. A batch for a building or the estate is one PDF: a notice per owing unit,
each on its own pages, numbered 第 n 页 / 共 m 页 within the notice.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.documents import page, parts
from app.domain.documents.letterhead import printing_by, render_for
from app.domain.errors import Conflict, Invalid
from app.domain.fees.billing.items import load_estate
from app.domain.fees.model import ChargeSource
from app.domain.fees.statements import arrears
from app.domain.fees.statements import service as statements
from app.domain.fees.statements.schemas import BillLine, UnitArrears, UnitBill
from app.domain.pagination import PageRequest
from app.domain.registry import service as registry
from app.domain.registry.errors import BuildingNotInEstate
from app.domain.registry.model import Estate

SIZE = page.A4_PORTRAIT
WIDTH = SIZE[0] - 2 * page.MARGIN
ZERO = Decimal("0.00")
PAY_WITHIN_DAYS = 15  # the pay-by day when none is given: 15 days from the estate's today
LATEST_PAY_BY_DAYS = 366
# A batch is printed while the desk waits; past this many notices it is split by building.
MAX_NOTICES = 300
# 减免 has its own column so that every row reads 应收 − 减免 − 已缴 = 欠费 on the paper.
HEADER = ["序号", "收费项目", "所属期间", "应收金额", "减免金额", "已缴金额", "欠费金额", "应缴日期", "逾期天数", "滞纳金", "小计"]
WIDTHS = [w * mm for w in (10, 22, 16, 18, 17, 18, 18, 20, 14, 17, 20)]


class PayByOutOfRange(Invalid):
    title = "pay_by must be a day from the estate's today to a year ahead"
    title_zh = "pay_by 必须在小区今天起一年以内"


class UnitOwesNothing(Conflict):
    title = "The unit owes nothing past due: there is no arrears notice to print"
    title_zh = "该房号没有逾期欠费，无需打印催缴通知单"


class TooManyNotices(Invalid):
    title = "More units owe than one batch prints; narrow it with building_id or min_age_days"
    title_zh = "欠费房号超过一批可打印的数量；请用 building_id 或 min_age_days 缩小范围"


@dataclass(frozen=True, kw_only=True)
class Notice:
    bill: UnitBill
    owners: Sequence[str]

    @property
    def lines(self) -> list[BillLine]:
        """The charges past due and still open: what the ageing counts as arrears, plus their late fees."""
        return [ln for ln in self.bill.lines if ln.outstanding > 0 and ln.due_date <= self.bill.as_of]

    @property
    def owed(self) -> Decimal:
        return sum((ln.outstanding for ln in self.lines), ZERO)

    @property
    def late_fees(self) -> Decimal:
        """What a payment today would post: the lines' late-fee column."""
        return sum((ln.late_fee.amount for ln in self.lines), ZERO)

    @property
    def posted_late_fees(self) -> Decimal:
        """Late fees posted already and still open: lines of their own, inside `owed`."""
        return sum((ln.outstanding for ln in self.lines if ln.source is ChargeSource.late_fee), ZERO)


def pay_by_day(estate: Estate, pay_by: date | None, *, now: datetime | None = None) -> date:
    today = estate_time.today(estate, now=now)
    if pay_by is None:
        return today + timedelta(days=PAY_WITHIN_DAYS)
    if not today <= pay_by <= today + timedelta(days=LATEST_PAY_BY_DAYS):
        raise PayByOutOfRange(field="pay_by", pay_by=pay_by.isoformat(), today=today.isoformat())
    return pay_by


# --- the paper ------------------------------------------------------------------------------

def _table(notice: Notice) -> Flowable:
    rows = [[str(n), ln.fee_item_name, ln.period or "—", parts.money(ln.amount), parts.money(ln.waived), parts.money(ln.paid),
             parts.money(ln.outstanding), ln.due_date.isoformat(), str(ln.late_fee.days_past_due),
             parts.money(ln.late_fee.amount), parts.money(ln.balance)]
            for n, ln in enumerate(notice.lines, 1)]
    lines = notice.lines
    total = ["", "合计", "", *(parts.money(sum((getattr(ln, f) for ln in lines), ZERO)) for f in ("amount", "waived", "paid")),
             parts.money(notice.owed), "", "", parts.money(notice.late_fees), parts.money(notice.owed + notice.late_fees)]
    return parts.grid(HEADER, rows, widths=WIDTHS, right=[3, 4, 5, 6, 8, 9, 10], total=total)


def _letter(notice: Notice, *, estate: Estate, pay_by: date) -> list[Flowable]:
    bill = notice.bill
    whom = "、".join(notice.owners) or "业主"
    due = notice.owed + notice.late_fees
    body = (f"尊敬的{whom}：\n您好！截至{bill.as_of.isoformat()}，您名下房屋（{bill.unit_label}）尚有以下费用逾期未缴，"
            f"合计{parts.money(due)}元（其中欠费{parts.money(notice.owed - notice.posted_late_fees)}元，"
            f"滞纳金{parts.money(notice.posted_late_fees + notice.late_fees)}元）。"
            f"请于{pay_by.isoformat()}前到{estate.office_name}缴纳。如您已缴纳，请忽略本通知。谢谢您的支持与配合！")
    return [parts.fields([("房号", bill.unit_label), ("业主", whom), ("通知日期", bill.as_of.isoformat()),
                          ("缴费截止日期", pay_by.isoformat())], width=WIDTH),
            parts.gap(3), parts.text(body)]


def _contact(estate: Estate, head: page.Letterhead) -> Flowable:
    hours = (f"{estate.morning_open:%H:%M}-{estate.morning_close:%H:%M}，"
             f"{estate.afternoon_open:%H:%M}-{estate.afternoon_close:%H:%M}")
    pairs: list[tuple[str, str | None]] = [("缴费地点", estate.office_name), ("办公时间", hours),
                                           ("联系电话", head.phone), ("地址", head.address)]
    return parts.fields(pairs, width=WIDTH)


def notice_story(notice: Notice, *, estate: Estate, head: page.Letterhead, pay_by: date) -> list[Flowable]:
    credit = notice.bill.totals.credit
    story = [*_letter(notice, estate=estate, pay_by=pay_by), parts.gap(3), _table(notice)]
    if credit > 0:
        story += [parts.gap(2), parts.text(f"您的账户另有预存款{parts.money(credit)}元，缴费时可抵扣上述费用。", parts.CELL)]
    story += [parts.gap(2), parts.text("滞纳金按各收费项目的规定计至通知日期，缴费当日以实际计算为准。", parts.SMALL),
              parts.gap(4), _contact(estate, head), parts.gap(4),
              parts.text(f"{head.legal_name}\n{estate.office_name}\n{notice.bill.as_of.isoformat()}", parts.CELL_RIGHT),
              parts.StampBox()]
    return story


def layout(notices: Sequence[Notice], *, estate: Estate, head: page.Letterhead, pay_by: date, as_of: date) -> page.Layout:
    copies = [page.Copy(label=n.bill.unit_label, story=notice_story(n, estate=estate, head=head, pay_by=pay_by)) for n in notices]
    if not copies:
        empty = f"截至{as_of.isoformat()}，所选范围内没有逾期欠费的房屋，无需发出催缴通知。"
        copies = [page.Copy(label=None, story=[parts.gap(10), parts.text(empty, parts.CENTRED)])]
    return page.Layout(title="催缴通知单", size=SIZE, subject=f"催缴通知单 {estate.office_name} {as_of.isoformat()}", copies=copies)


# --- what the endpoints call ------------------------------------------------------------------

async def _notice(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, now: datetime | None,
                  owners: Sequence[str] | None = None) -> Notice:
    bill = await statements.unit_bill(session, actor=actor, unit_id=unit_id, now=now)
    if owners is None:
        owners = (await arrears.unit_arrears(session, actor=actor, unit_id=unit_id, now=now)).owner_names
    return Notice(bill=bill, owners=owners)


async def _render(session: AsyncSession, *, actor: Actor, estate: Estate, notices: Sequence[Notice], pay_by: date,
                  as_of: date, now: datetime | None) -> bytes:
    return await render_for(session, estate=estate, printing=printing_by(actor, estate=estate, now=now),
                            build=lambda head: layout(notices, estate=estate, head=head, pay_by=pay_by, as_of=as_of))


async def unit_notice(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, pay_by: date | None = None,
                      now: datetime | None = None) -> tuple[str, bytes]:
    """One unit's notice; a unit owing nothing past due answers UnitOwesNothing rather than a notice to no purpose."""
    notice = await _notice(session, actor=actor, unit_id=unit_id, now=now)
    estate = await session.get(Estate, notice.bill.estate_id)
    assert estate is not None
    day = pay_by_day(estate, pay_by, now=now)
    if not notice.lines:
        raise UnitOwesNothing(unit_id=str(unit_id))
    pdf = await _render(session, actor=actor, estate=estate, notices=[notice], pay_by=day, as_of=notice.bill.as_of, now=now)
    return f"arrears-notice-{notice.bill.as_of.isoformat()}-{unit_id.hex[:8]}.pdf", pdf


async def _owing(session: AsyncSession, *, actor: Actor, estate: Estate, building_id: uuid.UUID | None,
                 min_age_days: int, now: datetime | None) -> list[UnitArrears]:
    if building_id is not None:
        building = await registry.get_building(session, actor=actor, building_id=building_id)
        if building.estate_id != estate.id:
            raise BuildingNotInEstate(field="building_id")
    listed = await arrears.estate_arrears(session, actor=actor, estate_id=estate.id, building_id=building_id,
                                          min_age_days=min_age_days, now=now,
                                          page=PageRequest(limit=MAX_NOTICES, offset=0, sort=arrears.ArrearsSort.unit.value))
    if listed.total > MAX_NOTICES:
        raise TooManyNotices(field="building_id", units=listed.total, most=MAX_NOTICES)
    return listed.items


async def batch_notices(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, building_id: uuid.UUID | None = None,
                        min_age_days: int = 0, pay_by: date | None = None, now: datetime | None = None) -> tuple[str, bytes]:
    """A notice for every unit owing anything past due, in unit order; none owing: one page saying so."""
    estate = await load_estate(session, actor=actor, estate_id=estate_id)
    day = pay_by_day(estate, pay_by, now=now)
    owing = await _owing(session, actor=actor, estate=estate, building_id=building_id, min_age_days=min_age_days, now=now)
    notices = [await _notice(session, actor=actor, unit_id=u.unit_id, now=now, owners=u.owner_names) for u in owing]
    as_of = estate_time.today(estate, now=now)
    pdf = await _render(session, actor=actor, estate=estate, notices=[n for n in notices if n.lines], pay_by=day,
                        as_of=as_of, now=now)
    return f"arrears-notices-{as_of.isoformat()}.pdf", pdf
