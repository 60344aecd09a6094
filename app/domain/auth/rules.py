"""Who may manage whom: the rules that keep an estate's admin inside their estates.

Reading a staff member needs one shared estate; managing one (update, reset the password,
deactivate, change roles or estates) needs every estate of theirs, because a password or a
role works in all of them. What is granted (estates, roles, key scopes) must be the
granter's own. And no change may leave an estate without an active administrator.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import any_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm, Role
from app.domain.errors import Conflict, Forbidden


class UserOutsideYourScope(Forbidden):
    title = "This staff member also works in estates you are not assigned to"
    title_zh = "该员工还在您未被分配的小区工作"


class ApiKeyOutsideYourScope(Forbidden):
    title = "This API key also covers estates you are not assigned to"
    title_zh = "该 API 密钥还涵盖您未被分配的小区"


class EstateOutsideYourScope(Forbidden):
    title = "You may only grant estates you are assigned to"
    title_zh = "您只能授予自己被分配的小区"


class RoleOutsideYourRights(Forbidden):
    title = "You may only grant roles you hold"
    title_zh = "您只能授予自己拥有的角色"


class ScopeOutsideYourRights(Forbidden):
    title = "You may only give a key permissions you hold"
    title_zh = "您只能给密钥授予自己拥有的权限"


class LastAdmin(Conflict):
    title = "This would leave an estate without an active administrator"
    title_zh = "此操作会使某个小区没有在职的管理员"


def check_manageable(actor: Actor, estate_ids: Iterable[uuid.UUID], *, entity: str = "user") -> None:
    if actor.is_system:
        return
    if set(estate_ids) - actor.estate_ids:
        error = ApiKeyOutsideYourScope if entity == "api_key" else UserOutsideYourScope
        raise error("manage it from an account assigned to all of its estates")


def check_estates_grantable(actor: Actor, estate_ids: Iterable[uuid.UUID]) -> None:
    outside = sorted(e for e in set(estate_ids) if not actor.sees(e))
    if outside:
        raise EstateOutsideYourScope(estate_ids=[str(e) for e in outside])


def grantable_roles(actor: Actor) -> frozenset[Role]:
    # The administrator hands out the office's roles (that is the job), including their own;
    # anyone else who may one day manage staff hands out only the roles they hold.
    if actor.is_system or actor.has_role(Role.admin):
        return frozenset(Role)
    return actor.roles


def check_roles_grantable(actor: Actor, roles: Iterable[Role], *, already: Iterable[str] = ()) -> None:
    added = {Role(r) for r in roles} - {Role(r) for r in already}
    outside = sorted(r.value for r in added - grantable_roles(actor))
    if outside:
        raise RoleOutsideYourRights(roles=outside)


def check_scopes_grantable(actor: Actor, scopes: Iterable[str]) -> None:
    outside = sorted(s for s in set(scopes) if not actor.can(Perm(s)))
    if outside:
        raise ScopeOutsideYourRights(scopes=outside)


async def check_admins_remain(
    session: AsyncSession, *, user: User, estates_before: Iterable[uuid.UUID], estates_after: Iterable[uuid.UUID],
    roles_after: Iterable[str], active_after: bool,
) -> None:
    """Refuse a change that takes the last active administrator away from an estate."""
    if not (user.is_active and Role.admin.value in user.roles):
        return
    keeps = active_after and Role.admin.value in roles_after
    losing = set(estates_before) - (set(estates_after) if keeps else set())
    if not losing:
        return
    # Two admins demoting each other at once must not both see the other as the one who stays:
    # changes that remove an admin are taken one company at a time.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"propdesk.admins:{user.company_id}", 0))))
    covered = await session.execute(
        select(UserEstate.estate_id).join(User, User.id == UserEstate.user_id).where(
            UserEstate.estate_id.in_(losing), User.id != user.id, User.is_active.is_(True), any_(User.roles) == Role.admin.value,
        ).distinct()
    )
    orphaned = losing - set(covered.scalars())
    if orphaned:
        raise LastAdmin("no other active administrator works in these estates",
                        estate_ids=sorted(str(e) for e in orphaned))
