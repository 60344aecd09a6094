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


def content_disposition(kind: Literal["inline", "attachment"], *, filename: str, name: str | None = None) -> str:
    """`filename` in plain ASCII, which every client keeps; `name`, when given, the real (Chinese) name
    in `filename*` (RFC 6266), which browsers prefer."""
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    value = f'{kind}; filename="{plain}"'
    return value + (f"; filename*=UTF-8''{quote(name, safe='')}" if name else "")


def download(body: bytes, *, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": content_disposition("attachment", filename=filename)})


def pdf_response(body: bytes, *, filename: str) -> Response:
    """Shown in the browser's viewer (inline), saved under `filename`."""
    return Response(body, media_type=PDF_MEDIA_TYPE, headers={"Content-Disposition": content_disposition("inline", filename=filename)})
