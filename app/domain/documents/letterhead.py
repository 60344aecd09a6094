"""The office details a document is printed under, read from the company and estate settings."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.documents.page import Letterhead, Printing
from app.domain.registry.model import Company, Estate


async def letterhead_of(session: AsyncSession, *, estate: Estate) -> Letterhead:
    """A company made before its legal name was kept prints its short name rather than nothing."""
    company = await session.get(Company, estate.company_id)
    assert company is not None  # estate.company_id is a foreign key
    return Letterhead(legal_name=company.legal_name or company.name, office_name=estate.office_name,
                      address=company.address, phone=company.phone)


def printing_by(actor: Actor, *, estate: Estate, now: datetime | None = None) -> Printing:
    return Printing(by=actor.label, at=now or datetime.now(UTC), time_zone=estate.time_zone)
