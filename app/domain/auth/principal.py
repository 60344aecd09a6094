"""Who is acting: a signed-in staff member, an integration's API key, or the job clock."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.domain.auth.roles import API_KEY_PERMS, Perm, Role, allowed
from app.domain.errors import Forbidden, NotFound


@dataclass(frozen=True, kw_only=True)
class Actor:
    id: uuid.UUID | None
    label: str
    company_id: uuid.UUID | None
    roles: frozenset[Role] = frozenset()
    estate_ids: frozenset[uuid.UUID] = frozenset()
    is_api_key: bool = False
    is_system: bool = False
    extra_perms: frozenset[Perm] = field(default_factory=frozenset)

    def can(self, perm: Perm) -> bool:
        if self.is_system:
            return True
        if self.is_api_key:
            return perm in API_KEY_PERMS and perm in self.extra_perms
        return allowed(self.roles, perm)

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise Forbidden(f"your role may not do this ({perm.value})", permission=perm.value)

    def sees(self, estate_id: uuid.UUID) -> bool:
        return self.is_system or estate_id in self.estate_ids

    def check_estate(self, estate_id: uuid.UUID, *, entity: str = "record") -> None:
        # Another estate's record is not acknowledged to exist.
        if not self.sees(estate_id):
            raise NotFound(f"{entity} not found")

    def has_role(self, role: Role) -> bool:
        return role in self.roles


def system_actor(label: str = "job-clock") -> Actor:
    return Actor(id=None, label=label, company_id=None, is_system=True)
