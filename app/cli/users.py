"""`propdesk user`: staff accounts made and mended from the office's own machine."""
from __future__ import annotations

from typing import Any

import typer
from sqlalchemy import select

from app.cli.common import CliError, _cli_actor, _database, _find_estates, _run, _settings
from app.config import Settings
from app.db import session_scope
from app.domain.auth.roles import Role

user_cli = typer.Typer(help="Staff accounts.", no_args_is_help=True)


async def _create_user(settings: Settings, fields: dict[str, Any], estate_refs: list[str]) -> str:
    from app.domain.auth import users
    from app.domain.auth.schemas import UserCreate

    async with _database(settings) as sessionmaker, session_scope(sessionmaker) as session:
        estates = await _find_estates(session, estate_refs)
        data = UserCreate(**fields, estate_ids=[e.id for e in estates])
        user = await users.create_user(session, actor=_cli_actor(estates[0].company_id), data=data)
        return f"created {user.username} ({', '.join(user.roles)}) in {', '.join(e.code for e in estates)}"


def _ask_password(password: str | None) -> str:
    if password is not None:
        return password
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


@user_cli.command("create")
def user_create(
    username: str = typer.Option(..., help="Sign-in name, e.g. qs.reception2."),
    full_name: str = typer.Option(..., help="The staff member's name."),
    role: list[Role] = typer.Option(..., help="A role; repeat for several."),
    estate: list[str] = typer.Option(..., help="Estate code (QS) or id; repeat for several."),
    phone: str | None = typer.Option(None, help="Contact phone."),
    password: str | None = typer.Option(None, help="Initial password; prompted for when left out."),
) -> None:
    """Create a staff account."""
    fields = {"username": username, "full_name": full_name, "roles": role, "phone": phone,
              "password": _ask_password(password)}
    typer.echo(_run(_create_user(_settings(), fields, estate)))


async def _reset_password(settings: Settings, username: str, password: str) -> str:
    from app.domain.auth import users
    from app.domain.auth.model import User
    from app.domain.auth.schemas import PasswordReset

    new = PasswordReset(new_password=password).new_password
    async with _database(settings) as sessionmaker, session_scope(sessionmaker) as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
        if user is None:
            raise CliError(f"no user named {username!r}")
        await users.reset_password(session, actor=_cli_actor(user.company_id), user_id=user.id, new_password=new)
        return f"password of {username} reset"


@user_cli.command("reset-password")
def user_reset_password(
    username: str = typer.Option(..., help="Whose password to reset."),
    password: str | None = typer.Option(None, help="New password; prompted for when left out."),
) -> None:
    """Set a new password."""
    typer.echo(_run(_reset_password(_settings(), username, _ask_password(password))))

