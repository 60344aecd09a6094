"""Files the endpoints hand out for the office's PCs: the CSV encoding asked for, the download."""
from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from app.domain.spreadsheet import CsvEncoding

Encoding = Annotated[CsvEncoding, Query(
    description="The CSV's encoding: utf-8 (the default, with a BOM, as Excel wants it) or gb18030 (for older "
                "Chinese systems); not used by the other formats")]


def download(body: bytes, *, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
