"""Endpoints of the roster area: importing the office's owner roster (業主名冊一覽表)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, UploadFile
from starlette import status

from app.api.deps import KnownFormFields, SessionDep, SettingsDep, require
from app.api.errors import PROBLEM, Problem, Responses, problems
from app.api.idempotency import idempotent
from app.domain import files
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.registry import roster_import as service
from app.domain.types import QueryFlag

router = APIRouter(tags=["roster"])

Importer = Annotated[Actor, Depends(require(Perm.roster_import))]
TOO_LARGE: Responses = {status.HTTP_413_CONTENT_TOO_LARGE: {"model": Problem, "content": {PROBLEM: {}},
                                                 "description": "The request body is larger than the request cap"}}


async def _read_capped(file: UploadFile, limit: int) -> bytes:
    # The same answer as every other upload's file over the cap (422 naming the field); 413 is
    # left to the whole request body's cap.
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise files.FileTooLarge(f"the file is larger than {limit} bytes", field="file", max_bytes=limit)
    return data


@router.post(
    "/estates/{estate_id}/roster-imports", response_model=service.RosterReport,
    responses={**problems(service.EstateNotFound, service.RosterUnreadable, service.RosterHasErrors, files.FileTooLarge),
               **TOO_LARGE},
)
@idempotent(200)
async def import_roster(
    estate_id: uuid.UUID,
    file: UploadFile,
    actor: Importer,
    _parts: KnownFormFields,
    session: SessionDep,
    settings: SettingsDep,
    dry_run: Annotated[QueryFlag, Query(description="true: only check the file and report what would change")] = True,
) -> service.RosterReport:
    """Import the office's roster (CSV in GB18030 or UTF-8, or XLSX) into the estate's registry.

    A dry run (the default) reads the file, compares it with the registry and reports what
    would be created, updated or left unchanged, and every row it cannot read (row number
    as in the spreadsheet, column as in its header, the problem). A real run (`dry_run=false`)
    writes everything or, if any row has a problem, nothing (422 `roster-has-errors` listing
    the problems). Uploading the same file again changes nothing.
    """
    data = await _read_capped(file, settings.max_upload_bytes)
    return await service.import_roster(
        session, actor=actor, estate_id=estate_id, data=data, filename=file.filename or "", dry_run=dry_run,
    )
