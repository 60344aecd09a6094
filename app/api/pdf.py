"""Answering with a printable document: the PDF's bytes, its name, and what OpenAPI says of it."""
from __future__ import annotations

from typing import Any

from fastapi.responses import Response

PDF_MEDIA_TYPE = "application/pdf"
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
          "description": "The printable document (PDF, Chinese, its font embedded)"},
}


def pdf_response(body: bytes, *, filename: str) -> Response:
    """Shown in the browser's viewer (inline), saved under `filename` (ASCII, so every browser keeps it)."""
    return Response(body, media_type=PDF_MEDIA_TYPE, headers={"Content-Disposition": f'inline; filename="{filename}"'})
