"""Signing in and out, resolving a bearer credential to an Actor."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, DateTime, Uuid, bindparam, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth import secrets, throttle
from app.domain.auth.model import ApiKey, AuthToken, User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm, Role
from app.domain.base import rows_affected, utcnow
from app.domain.errors import Invalid, NotAuthenticated

LAST_USED_RESOLUTION = timedelta(minutes=1)


class InvalidCredentials(NotAuthenticated):
    title = "Wrong username or password"
    title_zh = "用户名或密码错误"


class InvalidToken(NotAuthenticated):
    title = "The credential is missing, expired or revoked"
    title_zh = "凭证缺失、已过期或已被吊销"


class CurrentPasswordWrong(Invalid):
    title = "The current password is wrong"
    title_zh = "当前密码不正确"
    # Counted like a failed sign-in, so a stolen token cannot be used to guess the password.
    keeps_changes = True


async def login(
    session: AsyncSession, *, admission: throttle.Admission, password: str, policy: throttle.Policy, token_minutes: int
) -> tuple[str, AuthToken, User]:
    """Check the password of an admitted attempt (throttle.admit) and issue a token.

    argon2 runs first, on the hashing pool, while `session` has not yet taken a connection: a
    storm of sign-ins waits for the pool's threads, not holding the database pool meanwhile.
    A wrong password writes nothing: admit already counted the attempt as a failure.
    """
    if not await secrets.verify_in_pool(admission.password_hash, password):
        raise InvalidCredentials()
    user = (await session.execute(
        select(User).where(User.id == admission.user_id, User.is_active.is_(True)))).scalar_one_or_none()
    if user is None:  # deactivated while the password was being checked
        raise InvalidCredentials()
    await throttle.signed_in(session, admission=admission, policy=policy)
    token, row = await _issue_token(session, user=user, token_minutes=token_minutes)
    return token, row, user


async def _issue_token(session: AsyncSession, *, user: User, token_minutes: int) -> tuple[str, AuthToken]:
    token = secrets.new_token()
    row = AuthToken(user_id=user.id, token_hash=secrets.token_hash(token),
                    expires_at=utcnow() + timedelta(minutes=token_minutes))
    session.add(row)
    await session.flush()
    return token, row


async def revoke_tokens(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    """End every session of the user (a new password, a deactivation); returns how many."""
    result = await session.execute(
        update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return rows_affected(result)


async def change_password(
    session: AsyncSession,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    address: str,
    policy: throttle.Policy,
    token_minutes: int,
    now: datetime,
) -> tuple[str, AuthToken, User]:
    """The signed-in user's own new password: every token ends, and the caller gets a fresh one.

    The current password is admitted like a sign-in of this user from this address (counted as a
    failure first, given back when right), so a stolen token cannot guess it past the throttle."""
    if actor.is_api_key or actor.id is None:
        raise InvalidToken("an API key has no password")
    user = await session.get(User, actor.id)
    assert user is not None  # authentication found the active user in this transaction
    admission = await throttle.admit(session, username=user.username, address=address, policy=policy, now=now)
    if not await secrets.verify_in_pool(user.password_hash, current_password):
        raise CurrentPasswordWrong(field="current_password")
    secrets.check_password(new_password, field="new_password", user_inputs=[user.username, user.full_name])
    await throttle.signed_in(session, admission=admission, policy=policy)
    user.password_hash = await secrets.hash_in_pool(new_password)
    revoked = await revoke_tokens(session, user_id=user.id)
    token, row = await _issue_token(session, user=user, token_minutes=token_minutes)
    await audit.record(session, actor=actor, action="change_password", entity="user", entity_id=user.id, estate_id=None,
                       after={"tokens_revoked": revoked})
    return token, row, user


async def logout(session: AsyncSession, *, token: str) -> None:
    await session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == secrets.token_hash(token), AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# Every request runs this: one round trip, plain rows (no ORM identity map), and a statement
# built once, so SQLAlchemy neither rebuilds nor recompiles it per request.
_USER = User.__table__.c
_TOKEN = AuthToken.__table__.c
_ESTATE_IDS = (
    select(func.coalesce(func.array_agg(UserEstate.__table__.c.estate_id), literal([], ARRAY(Uuid))))
    .where(UserEstate.__table__.c.user_id == _USER.id)
    .scalar_subquery()
)
_TOKEN_ACTOR = (
    select(_USER.id, _USER.full_name, _USER.company_id, _USER.roles, _ESTATE_IDS.label("estate_ids"))
    .select_from(AuthToken.__table__.join(User.__table__, _USER.id == _TOKEN.user_id))
    .where(
        _TOKEN.token_hash == bindparam("token_hash"),
        _TOKEN.revoked_at.is_(None),
        _TOKEN.expires_at > bindparam("now", type_=DateTime(timezone=True)),
        _USER.is_active.is_(True),
    )
)


async def authenticate(session: AsyncSession, *, credential: str) -> Actor:
    return await authenticate_hash(session, credential_hash=secrets.token_hash(credential),
                                   is_api_key=credential.startswith(secrets.API_KEY_PREFIX))


async def authenticate_hash(session: AsyncSession, *, credential_hash: str, is_api_key: bool) -> Actor:
    """The actor of a credential known by its hash (a stream ticket keeps only that): refused like
    the credential itself once it is revoked, expired, or its user disabled."""
    if is_api_key:
        return await _authenticate_api_key(session, key_hash=credential_hash)
    row = (await session.execute(_TOKEN_ACTOR, {"token_hash": credential_hash, "now": utcnow()})).first()
    if row is None:
        raise InvalidToken()
    return Actor(
        id=row.id,
        label=row.full_name,
        company_id=row.company_id,
        roles=frozenset(Role(r) for r in row.roles),
        estate_ids=frozenset(row.estate_ids),
    )


async def actor_for(session: AsyncSession, *, user: User) -> Actor:
    estates = (await session.execute(select(UserEstate.estate_id).where(UserEstate.user_id == user.id))).scalars()
    return Actor(
        id=user.id,
        label=user.full_name,
        company_id=user.company_id,
        roles=frozenset(Role(r) for r in user.roles),
        estate_ids=frozenset(estates),
    )


async def _authenticate_api_key(session: AsyncSession, *, key_hash: str) -> Actor:
    key = (await session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        raise InvalidToken()
    now = utcnow()
    # A polling integration would otherwise write the key's row on every request.
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
    return Actor(
        id=key.id,
        label=f"api-key:{key.name}",
        company_id=key.company_id,
        estate_ids=frozenset(key.estate_ids),
        is_api_key=True,
        extra_perms=frozenset(Perm(s) for s in key.scopes),
    )


async def purge_expired_tokens(session: AsyncSession, *, older_than: datetime) -> int:
    result = await session.execute(
        delete(AuthToken).where((AuthToken.expires_at < older_than) | (AuthToken.revoked_at < older_than))
    )
    return rows_affected(result)
