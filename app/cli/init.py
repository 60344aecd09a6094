"""`propdesk init`: a real office's company, first estate and first administrator, on an empty database.

app/cli/__init__.py registers it; the helpers every command shares are in app/cli/common.py.
"""
from __future__ import annotations

import sys
from datetime import time
from typing import Any

import typer
from pydantic import ValidationError

TIME_HELP = "HH:MM, the estate's own wall clock."


def _password(from_stdin: bool) -> str:
    if from_stdin:
        # The first line: `printf '%s\n' "$PW" | propdesk init ... --password-stdin`.
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password of the first administrator", hide_input=True, confirmation_prompt=True)
    return password


def _parse_time(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a time of day such as 08:00") from None


async def _init(settings: Any, company: Any, estate: Any, admin: Any) -> str:
    from app.cli.common import _cli_actor, _database
    from app.db import session_scope
    from app.domain.registry import setup

    async with _database(settings) as sessionmaker, session_scope(sessionmaker) as session:
        office = await setup.set_up_office(session, actor=_cli_actor(None), company=company, estate=estate, admin=admin)
        return (f"{office.company.legal_name} ({office.company.name}) set up with estate {office.estate.code} "
                f"{office.estate.name} and administrator {office.admin.username}.\n"
                "Sign in with POST /api/v1/auth/login; the README's \"Going live\" section has the next steps.")


def _validated(fields: dict[str, Any]) -> tuple[Any, Any, Any]:
    from app.cli.common import _describe, _fail
    from app.domain.registry.company import CompanyCreate
    from app.domain.registry.schemas import EstateCreate
    from app.domain.registry.setup import FirstAdmin

    try:
        return (CompanyCreate.model_validate(fields["company"]), EstateCreate.model_validate(fields["estate"]),
                FirstAdmin.model_validate(fields["admin"]))
    except ValidationError as exc:
        _fail(_describe(exc))
    raise AssertionError("unreachable")


def init(
    legal_name: str = typer.Option(..., help="The company's registered name, as receipts print it."),
    short_name: str = typer.Option(..., help="The name the office goes by, e.g. 祥瑞物業."),
    address: str = typer.Option(..., help="The company's address (printed on notices)."),
    phone: str = typer.Option(..., help="The company's phone (printed on notices)."),
    credit_code: str = typer.Option(..., help="统一社会信用代码: 18 characters, the last one is checked."),
    estate_name: str = typer.Option(..., help="The first estate's name, e.g. 淇水春天."),
    office_name: str = typer.Option(..., help="The management office's name, said when answering the phone."),
    estate_code: str = typer.Option(..., help="Short code of the estate, the prefix of its receipt numbers, e.g. QS."),
    time_zone: str = typer.Option("Asia/Shanghai", help="The estate's IANA time zone."),
    script: str = typer.Option("simplified", help="Characters of the estate's scripts and documents: simplified or traditional."),
    morning_open: str = typer.Option("08:00", help=TIME_HELP),
    morning_close: str = typer.Option("12:00", help=TIME_HELP),
    afternoon_open: str = typer.Option("14:00", help=TIME_HELP),
    afternoon_close: str = typer.Option("18:00", help=TIME_HELP),
    admin_username: str = typer.Option("admin", help="Sign-in name of the first administrator."),
    admin_full_name: str = typer.Option(..., help="The administrator's name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set up a real office on an empty database: company, first estate, first administrator."""
    from app.cli.common import _fail, _migrate, _prepare, _run, _settings

    hours = {k: _parse_time(v) for k, v in (("morning_open", morning_open), ("morning_close", morning_close),
                                              ("afternoon_open", afternoon_open), ("afternoon_close", afternoon_close))}
    company, estate, admin = _validated({
        "company": {"legal_name": legal_name, "name": short_name, "address": address, "phone": phone, "credit_code": credit_code},
        "estate": {"name": estate_name, "office_name": office_name, "code": estate_code, "time_zone": time_zone,
                   "script": script, **hours},
        "admin": {"username": admin_username, "full_name": admin_full_name, "password": _password(password_stdin)},
    })
    if not admin.password:
        _fail("no password given")
    settings = _settings()
    _migrate(_run(_prepare(settings)))
    typer.echo(_run(_init(settings, company, estate, admin)))
