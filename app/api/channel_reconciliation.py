"""Reconciliation (对账) of channel money: a day's statement imported and matched, the items finance
resolves, and the day's and month's report (issue 18)."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import KnownFormFields, SessionDep, SettingsDep, require
from app.api.errors import problems
from app.api.fee_reports import FILES
from app.api.files import Encoding, download
from app.api.idempotency import idempotent, idempotent_responses
from app.api.ratelimit import REPORT_LIMIT, RateLimited
from app.api.roster import TOO_LARGE, _read_capped
from app.domain import files
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.fees.channels import credentials, wechat
from app.domain.fees.channels.model import Channel
from app.domain.fees.channels.reconciliation import download as channel_download
from app.domain.fees.channels.reconciliation import reports
from app.domain.fees.channels.reconciliation import service as reconciliation
from app.domain.fees.channels.reconciliation.model import ItemState, NothingToBook
from app.domain.fees.channels.reconciliation.schemas import DayReport, ItemRead, MonthReport, Resolve, StatementDay, StatementRead
from app.domain.fees.channels.reconciliation.statements import StatementUnreadable
from app.domain.fees.reports.schemas import Month, ReportFormat
from app.domain.registry.errors import EstateNotFound
from app.domain.types import Day

router = APIRouter(tags=["channel reconciliation"])

# Finance answers for where the channel money went: those who configure the fees (finance, admin).
Finance = Annotated[Actor, Depends(require(Perm.fees_configure))]
Format = Annotated[ReportFormat, Query(description="json (default), csv (for Excel; see `encoding`) or xlsx")]
OK = 200


def _file(file: reports.ReportFile) -> Response:
    return download(file.body, media_type=file.media_type, filename=file.filename)


@router.post("/estates/{estate_id}/channel-statements/wechat/download", response_model=StatementRead,
             responses=idempotent_responses(OK, EstateNotFound, reconciliation.StatementDayNotPast, StatementUnreadable,
                                            credentials.ChannelNotConfigured, credentials.CredentialsUnreadable,
                                            wechat.ChannelRefused, wechat.ChannelUnavailable,
                                            channel_download.StatementNotReady, channel_download.StatementNotVerified))
@idempotent(OK)
async def download_statement(estate_id: uuid.UUID, body: StatementDay, actor: Finance, session: SessionDep,
                             settings: SettingsDep) -> StatementRead:
    """Download the day's WeChat Pay trade bill (交易账单) through the channel's API and match it.

    The file's SHA1 must be what the channel's signed answer states, or nothing is imported. Each
    line is matched on 商户订单号 against the channel payments: matched, in the channel only, here
    only (paid here, not in the statement), amount or status mismatch; every discrepancy becomes an
    item in finance's attention queue. The daily job does this at 10:00 for yesterday; this runs or
    re-runs it. Importing a day again replaces its lines and adds only new discrepancies."""
    return await reconciliation.download_day(session, actor=actor, estate_id=estate_id, day=body.day, settings=settings)


@router.post("/estates/{estate_id}/channel-statements/wechat/upload", response_model=StatementRead,
             responses={**idempotent_responses(OK, EstateNotFound, reconciliation.StatementDayNotPast, StatementUnreadable,
                                               files.FileTooLarge), **TOO_LARGE})
@idempotent(OK)
async def upload_statement(
    estate_id: uuid.UUID,
    file: UploadFile,
    day: Annotated[Day, Form(description="The statement's day: YYYY-MM-DD, a past day")],
    actor: Finance,
    _parts: KnownFormFields,
    session: SessionDep,
    settings: SettingsDep,
) -> StatementRead:
    """Import a trade bill file as downloaded from the WeChat Pay merchant platform (CSV, UTF-8 or GB18030,
    every field prefixed with a backtick, the summary lines at the end), and match it as a download is.

    A file not in that format, or whose summary does not add up, or with a line of another day, is 422
    `statement-unreadable` naming the line (`line`). The same file twice changes nothing."""
    data = await _read_capped(file, settings.max_upload_bytes)
    return await reconciliation.upload(session, actor=actor, estate_id=estate_id, channel=Channel.wechat, day=day, data=data)


@router.get("/estates/{estate_id}/reconciliation-items", response_model=list[ItemRead], responses=problems(EstateNotFound))
async def list_items(
    estate_id: uuid.UUID, actor: Finance, session: SessionDep,
    status: Annotated[ItemState | None, Query(description="open: still in finance's queue")] = None,
    day: Annotated[Day | None, Query(description="The statement's day")] = None,
) -> list[ItemRead]:
    """The discrepancies found by reconciliation, oldest day first."""
    return await reconciliation.list_items(session, actor=actor, estate_id=estate_id, status=status, day=day)


@router.get("/reconciliation-items/{item_id}", response_model=ItemRead,
            responses=problems(reconciliation.ReconciliationItemNotFound))
async def get_item(item_id: uuid.UUID, actor: Finance, session: SessionDep) -> ItemRead:
    """One discrepancy: the channel's and our side of it, and how it was resolved."""
    return await reconciliation.get_item(session, actor=actor, item_id=item_id)


@router.post("/reconciliation-items/{item_id}/resolve", response_model=ItemRead,
             responses=idempotent_responses(OK, reconciliation.ReconciliationItemNotFound, IllegalTransition, NothingToBook))
@idempotent(OK)
async def resolve_item(item_id: uuid.UUID, body: Resolve, actor: Finance, session: SessionDep) -> ItemRead:
    """Resolve a discrepancy with a note: `book` (the money was booked here), `refund` (given back through
    the channel) or `explain` (nothing to move). Money the channel does not hold (here only) can only be
    explained. The resolver, the time and the note are kept and audited; the item leaves the queue."""
    return await reconciliation.resolve(session, actor=actor, item_id=item_id, resolution=body.resolution, note=body.note)


async def _day(session: AsyncSession, actor: Actor, estate_id: uuid.UUID, day: Any, format: str, encoding: Any) -> Any:
    if format != "json":
        return _file(await reports.day_file(session, actor=actor, estate_id=estate_id, channel=Channel.wechat, day=day,
                                            fmt=format, encoding=encoding))
    return (await reports.day_report(session, actor=actor, estate_id=estate_id, channel=Channel.wechat, day=day))[1]


@router.get("/estates/{estate_id}/channel-reconciliation/wechat/daily", response_model=DayReport, dependencies=[REPORT_LIMIT],
            responses={**FILES, **problems(EstateNotFound, RateLimited)})
async def daily_report(estate_id: uuid.UUID, actor: Finance, session: SessionDep,
                       day: Annotated[Day, Query(description="The statement's day")], format: Format = "json",
                       encoding: Encoding = "utf-8") -> Any:
    """The day's reconciliation: the statement's totals (settled, refunds, fees 手续费, net settlement), what was
    booked here, the count and amount of each category, and the day's discrepancies with their state."""
    return await _day(session, actor, estate_id, day, format, encoding)


@router.get("/estates/{estate_id}/channel-reconciliation/wechat/monthly", response_model=MonthReport,
            dependencies=[REPORT_LIMIT], responses={**FILES, **problems(EstateNotFound, reports.InvalidReportMonth, RateLimited)})
async def monthly_report(estate_id: uuid.UUID, actor: Finance, session: SessionDep,
                         month: Annotated[Month, Query(description="A month: 2026-11")], format: Format = "json",
                         encoding: Encoding = "utf-8") -> Any:
    """The month's reconciliation, a row per imported day with totals, and the past days with no statement."""
    if format != "json":
        return _file(await reports.month_file(session, actor=actor, estate_id=estate_id, channel=Channel.wechat,
                                              month=month, fmt=format, encoding=encoding))
    return (await reports.month_report(session, actor=actor, estate_id=estate_id, channel=Channel.wechat, month=month))[1]
