"""Staff accounts and integration keys: managed by admins within their own estates."""
from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ARRAY, Uuid, any_, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth import rules, secrets
from app.domain.auth.model import ApiKey, User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, UserCreate, UserRead, UserUpdate
from app.domain.auth.service import InvalidToken, revoke_tokens
from app.domain.base import snapshot, utcnow
from app.domain.errors import AlreadyExists, NotFound
from app.domain.pagination import PageRequest, paginate


class UsernameTaken(AlreadyExists):
    title = "That username is taken"
    title_zh = "该用户名已被使用"


class UserNotFound(NotFound):
    title = "User not found"
    title_zh = "未找到该用户"


class ApiKeyNotFound(NotFound):
    title = "API key not found"
    title_zh = "未找到该 API 密钥"


async def _estate_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.execute(select(UserEstate.estate_id).where(UserEstate.user_id == user_id))
    return sorted(rows.scalars())


async def to_read(session: AsyncSession, user: User) -> UserRead:
    return UserRead.model_validate({**user.model_dump(), "estate_ids": await _estate_ids(session, user.id)})


async def me(session: AsyncSession, *, actor: Actor) -> UserRead:
    """The signed-in user: the estates are the ones authentication just read for this request."""
    if actor.is_api_key or actor.id is None:
        raise InvalidToken("an API key has no user")
    user = await session.get(User, actor.id)
    assert user is not None  # authentication found the active user in this transaction
    return UserRead.model_validate({**user.model_dump(), "estate_ids": sorted(actor.estate_ids)})


async def create_user(session: AsyncSession, *, actor: Actor, data: UserCreate) -> User:
    rules.check_estates_grantable(actor, data.estate_ids)
    rules.check_roles_grantable(actor, data.roles)
    assert actor.company_id is not None, "users are created by a company's staff"
    user = User(
        company_id=actor.company_id,
        username=data.username,
        full_name=data.full_name,
        phone=data.phone,
        roles=[r.value for r in data.roles],
        password_hash=await secrets.hash_in_pool(data.password),
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise UsernameTaken(field="username") from None
    session.add_all([UserEstate(user_id=user.id, estate_id=e) for e in set(data.estate_ids)])
    await session.flush()
    after = {**snapshot(user), "estate_ids": data.estate_ids}
    await audit.record(session, actor=actor, action="create", entity="user", entity_id=user.id, estate_id=None, after=after)
    return user


async def get_user(session: AsyncSession, *, actor: Actor, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or user.company_id != actor.company_id:
        raise UserNotFound()
    # A user none of whose estates the actor sees is invisible to them.
    if not actor.is_system and not set(await _estate_ids(session, user.id)) & actor.estate_ids:
        raise UserNotFound()
    return user


class UserSort(StrEnum):
    """The keys users sort by."""

    username = "username"
    full_name = "full_name"
    created_at = "created_at"


async def list_users(
    session: AsyncSession, *, actor: Actor, page: PageRequest, estate_id: uuid.UUID | None, role: str | None, q: str | None
) -> tuple[list[User], int]:
    visible = select(UserEstate.user_id).where(UserEstate.estate_id.in_(actor.estate_ids))
    if estate_id is not None:
        visible = visible.where(UserEstate.estate_id == estate_id)
    stmt = select(User).where(User.id.in_(visible), User.company_id == actor.company_id)
    if role:
        stmt = stmt.where(any_(User.roles) == role)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(User.full_name.ilike(like) | User.username.ilike(like))
    sortable = {
        UserSort.username: User.username, UserSort.full_name: User.full_name, UserSort.created_at: User.created_at,
    }
    return await paginate(session, stmt, page, sortable=sortable, default=[User.username])


async def _managed_user(session: AsyncSession, *, actor: Actor, user_id: uuid.UUID) -> tuple[User, list[uuid.UUID]]:
    """A user the actor may change: seen through one shared estate, managed only with all of them."""
    user = await get_user(session, actor=actor, user_id=user_id)
    estate_ids = await _estate_ids(session, user.id)
    rules.check_manageable(actor, estate_ids)
    return user, estate_ids


async def update_user(
    session: AsyncSession, *, actor: Actor, user_id: uuid.UUID, data: UserUpdate, expected_version: int | None = None,
) -> User:
    user, estates_before = await _managed_user(session, actor=actor, user_id=user_id)
    await versions.check_locked(session, user, expected_version=expected_version)
    before = {**snapshot(user), "estate_ids": estates_before}
    # An explicit null clears the phone; for the other fields it means "leave as is".
    changes = {k: v for k, v in data.model_dump(exclude_unset=True, exclude={"estate_ids"}).items() if v is not None or k == "phone"}
    if data.roles is not None:
        changes["roles"] = [r.value for r in data.roles]
        rules.check_roles_grantable(actor, data.roles, already=user.roles)
    if data.estate_ids is not None:
        rules.check_estates_grantable(actor, data.estate_ids)
    estates_after = sorted(set(data.estate_ids)) if data.estate_ids is not None else estates_before
    await rules.check_admins_remain(
        session, user=user, estates_before=estates_before, estates_after=estates_after,
        roles_after=changes.get("roles", user.roles), active_after=changes.get("is_active", user.is_active),
    )
    deactivating = user.is_active and changes.get("is_active") is False
    for key, value in changes.items():
        setattr(user, key, value)
    if data.estate_ids is not None:
        await session.execute(delete(UserEstate).where(UserEstate.user_id == user.id))
        session.add_all([UserEstate(user_id=user.id, estate_id=e) for e in estates_after])
    if deactivating:
        # Otherwise reactivating the account would bring its old sessions back to life.
        await revoke_tokens(session, user_id=user.id)
    await session.flush()
    after = {**snapshot(user), "estate_ids": await _estate_ids(session, user.id)}
    await audit.record(session, actor=actor, action="update", entity="user", entity_id=user.id, estate_id=None, before=before, after=after)
    return user


async def reset_password(session: AsyncSession, *, actor: Actor, user_id: uuid.UUID, new_password: str) -> User:
    user, _ = await _managed_user(session, actor=actor, user_id=user_id)
    secrets.check_password(new_password, field="new_password", user_inputs=[user.username, user.full_name])
    user.password_hash = await secrets.hash_in_pool(new_password)
    # Whoever knew the old password may hold a token made with it.
    revoked = await revoke_tokens(session, user_id=user.id)
    await session.flush()
    await audit.record(session, actor=actor, action="reset_password", entity="user", entity_id=user.id, estate_id=None,
                       after={"tokens_revoked": revoked})
    return user


async def create_api_key(session: AsyncSession, *, actor: Actor, data: ApiKeyCreate) -> ApiKeyCreated:
    rules.check_estates_grantable(actor, data.estate_ids)
    rules.check_scopes_grantable(actor, [s.value for s in data.scopes])
    key = secrets.new_token(secrets.API_KEY_PREFIX)
    assert actor.company_id is not None, "API keys are created by a company's staff"
    row = ApiKey(
        company_id=actor.company_id,
        name=data.name,
        prefix=key[:12],
        key_hash=secrets.token_hash(key),
        estate_ids=sorted(set(data.estate_ids)),
        scopes=sorted({s.value for s in data.scopes}),
        created_by=actor.id,
    )
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="create", entity="api_key", entity_id=row.id, estate_id=None, after=snapshot(row))
    return ApiKeyCreated.model_validate({**ApiKeyRead.model_validate(row).model_dump(), "key": key})


class ApiKeySort(StrEnum):
    """The keys API keys sort by."""

    name = "name"
    created_at = "created_at"


async def list_api_keys(session: AsyncSession, *, actor: Actor, page: PageRequest) -> tuple[list[ApiKey], int]:
    # The column is a generic ARRAY (no .overlap()); && is PostgreSQL's overlap.
    mine = bindparam("actor_estates", sorted(actor.estate_ids), type_=ARRAY(Uuid))
    stmt = select(ApiKey).where(ApiKey.company_id == actor.company_id, ApiKey.estate_ids.op("&&")(mine))
    return await paginate(session, stmt, page, sortable={
        ApiKeySort.name: ApiKey.name, ApiKeySort.created_at: ApiKey.created_at,
    }, default=[ApiKey.created_at.desc()])


async def revoke_api_key(session: AsyncSession, *, actor: Actor, key_id: uuid.UUID) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None or key.company_id != actor.company_id or not set(key.estate_ids) & actor.estate_ids:
        raise ApiKeyNotFound()
    rules.check_manageable(actor, key.estate_ids, entity="api_key")
    await audit.apply(session, actor=actor, row=key, action="revoke", at=utcnow())
    return key
