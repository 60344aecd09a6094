"""Fee reports as produced (§5.5, §5.8): the Saturday register and the month-end fee report.

The jobs store what they produced so that what went to the supervisor or to finance can be
fetched again exactly as it was, even after later voids change the live figures. One row per
(estate, kind, period): producing a period again replaces its row (the latest run wins), so a
forced re-run after a late receipt gives finance the corrected report under the same name.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Numeric, String, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field

from app.domain.auth.principal import Actor
from app.domain.base import EstateScoped, jsonable, utcnow
from app.domain.errors import NotFound
from app.domain.fees.reports.schemas import FeeReportDetail, FeeReportKind, FeeReportRead, MonthFeeReport, SaturdayRegister
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.visibility import Visible, load_visible

__all__ = ["FeeReport", "FeeReportKind", "FeeReportNotFound", "get_report", "list_reports", "store"]


class FeeReport(EstateScoped, table=True):
    __tablename__ = "fee_report"
    __table_args__ = (UniqueConstraint("estate_id", "kind", "period"),)

    kind: FeeReportKind = Field(sa_type=String(30))
    period: str = Field(max_length=8)  # '2026-W48' or '2026-11'
    produced_at: datetime = Field(sa_type=DateTime(timezone=True))
    produced_by: str = Field(max_length=100)  # "job:saturday_register" or a person's name
    produced_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # The register's grand total, or the month's money collected: the list shows it without the body.
    total: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(14, 2))
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class FeeReportNotFound(NotFound):
    title = "Fee report not found"
    title_zh = "未找到该收费报表"


FEE_REPORT = Visible(model=FeeReport, missing=FeeReportNotFound, id_field="report_id")


async def store(session: AsyncSession, *, estate_id: uuid.UUID, kind: FeeReportKind, period: str,
                report: SaturdayRegister | MonthFeeReport, total: Decimal, produced_by: str,
                produced_by_id: uuid.UUID | None = None) -> FeeReport:
    """Store the period's report, replacing the one stored before (one row per period)."""
    now = utcnow()
    values = dict(produced_at=now, produced_by=produced_by[:100], produced_by_id=produced_by_id, total=total,
                  body=jsonable(report.model_dump(mode="json")))
    await session.execute(
        insert(FeeReport).values(id=uuid.uuid4(), created_at=now, estate_id=estate_id, kind=kind.value, period=period, **values)
        .on_conflict_do_update(index_elements=["estate_id", "kind", "period"], set_=values))
    return (await session.execute(
        select(FeeReport).where(FeeReport.estate_id == estate_id, FeeReport.kind == kind.value, FeeReport.period == period)
        .execution_options(populate_existing=True))).scalar_one()


def read(row: FeeReport) -> FeeReportRead:
    return FeeReportRead(id=row.id, estate_id=row.estate_id, kind=row.kind, period=row.period, produced_at=row.produced_at,
                         produced_by=row.produced_by, total=row.total)


def detail(row: FeeReport) -> FeeReportDetail:
    weekly = SaturdayRegister.model_validate(row.body) if row.kind == FeeReportKind.saturday_register.value else None
    month = MonthFeeReport.model_validate(row.body) if row.kind == FeeReportKind.month_end.value else None
    return FeeReportDetail(**read(row).model_dump(), saturday_register=weekly, month_report=month)


class FeeReportSort(StrEnum):
    """The keys fee reports sort by."""

    period = "period"
    produced_at = "produced_at"
    kind = "kind"


async def list_reports(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
                       kind: FeeReportKind | None = None, period: str | None = None) -> tuple[list[FeeReportRead], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(FeeReport).where(FeeReport.estate_id == estate_id)
    if kind is not None:
        stmt = stmt.where(FeeReport.kind == kind.value)
    if period is not None:
        stmt = stmt.where(FeeReport.period == period)
    sortable = {
        FeeReportSort.period: FeeReport.period, FeeReportSort.produced_at: FeeReport.produced_at,
        FeeReportSort.kind: FeeReport.kind,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable,
                                 default=[FeeReport.produced_at.desc(), FeeReport.id])
    return [read(r) for r in rows], total


async def get_report(session: AsyncSession, *, actor: Actor, report_id: uuid.UUID) -> tuple[FeeReport, FeeReportDetail]:
    row = await load_visible(session, FEE_REPORT, report_id, actor=actor)
    return row, detail(row)
