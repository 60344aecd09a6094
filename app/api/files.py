"""Files the endpoints hand out for the office's PCs: the CSV encoding asked for, the download, the
printable PDF, and the one Content-Disposition they all carry."""
from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Query
from fastapi.responses import Response

from app.domain.spreadsheet import CsvEncoding

Encoding = Annotated[CsvEncoding, Query(
    description="The CSV's encoding: utf-8 (the default, with a BOM, as Excel wants it) or gb18030 (for older "
                "Chinese systems); not used by the other formats")]

PDF_MEDIA_TYPE = "application/pdf"
PDF_CONTENT: dict[str, Any] = {PDF_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": PDF_CONTENT, "description": "The printable document (PDF, Chinese, its font embedded)"},
}


# What the office calls each paper, by its ASCII file name's start: a download saved from the
# browser carries the Chinese name (`filename*`), the plain one stays for clients that keep only ASCII.
CHINESE_NAMES = {
    "saturday-register-": "周收费登记表-",
    "month-fee-report-": "月度收费报表-",
    "cash-handover-": "现金交接单-",
    "arrears-notices-": "催缴通知书汇总-",
    "arrears-notice-": "催缴通知书-",
    "repair-log-": "维修日志-",
    "task-sheet-": "派工单-",
    "stocktake-": "盘点表-",
    "account-": "预存款对账单-",
    "reconciliation-": "支付渠道对账报表-",
}


def chinese_name(filename: str) -> str | None:
    """The paper's Chinese name for an ASCII file name, or None when it has none."""
    return next((zh + filename[len(ascii_start):] for ascii_start, zh in CHINESE_NAMES.items()
                 if filename.startswith(ascii_start)), None)


def content_disposition(kind: Literal["inline", "attachment"], *, filename: str, name: str | None = None) -> str:
    """`filename` in plain ASCII, which every client keeps; the real (Chinese) name -- `name`, or the
    paper's own from CHINESE_NAMES -- in `filename*` (RFC 6266), which browsers prefer."""
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    value = f'{kind}; filename="{plain}"'
    name = name or chinese_name(filename)
    return value + (f"; filename*=UTF-8''{quote(name, safe='')}" if name else "")


def download(body: bytes, *, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": content_disposition("attachment", filename=filename)})


def pdf_response(body: bytes, *, filename: str) -> Response:
    """Shown in the browser's viewer (inline), saved under `filename`."""
    return Response(body, media_type=PDF_MEDIA_TYPE, headers={"Content-Disposition": content_disposition("inline", filename=filename)})
