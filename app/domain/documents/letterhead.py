"""The office details a document is printed under, read from the company and estate settings."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.documents.page import Layout, Letterhead, Printing, render
from app.domain.documents.writing import written_in
from app.domain.registry.model import Company, Estate
from app.domain.registry.script import Script


async def letterhead_of(session: AsyncSession, *, estate: Estate) -> Letterhead:
    """A company made before its legal name was kept prints its short name rather than nothing."""
    company = await session.get(Company, estate.company_id)
    assert company is not None  # estate.company_id is a foreign key
    return Letterhead(legal_name=company.legal_name or company.name, office_name=estate.office_name,
                      address=company.address, phone=company.phone, script=Script(estate.script))


def printing_by(actor: Actor, *, estate: Estate, now: datetime | None = None) -> Printing:
    return Printing(by=actor.label, at=now or datetime.now(UTC), time_zone=estate.time_zone)


async def render_for(session: AsyncSession, *, estate: Estate, printing: Printing,
                     build: Callable[[Letterhead], Layout]) -> bytes:
    """A document of the estate's: its letterhead, and every word in the estate's characters.
    `build` makes the layout from the letterhead, inside the estate's script."""
    head = await letterhead_of(session, estate=estate)
    with written_in(head.script):
        return render(build(head), letterhead=head, printing=printing)
