"""Demo data: a company with two estates, their roster and staff in every role.

Loading is a list of steps over one shared context: each area (a few weeks of repair history,
a year of billing) is a step that reads what the earlier ones made. A fixed seed
makes every load identical, which keeps screenshots and the guide's examples stable.
"""
from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import (
    complaints as demo_complaints,
)
from app.demo import (
    desk as demo_desk,
)
from app.demo import (
    fees as demo_fees,
)
from app.demo import (
    fees_prepaid as demo_fees_prepaid,
)
from app.demo import (
    fees_prorate as demo_prorate,
)
from app.demo import (
    fees_sharedmeter as demo_fees_sharedmeter,
)
from app.demo import (
    fees_waivers as demo_waivers,
)
from app.demo import (
    names,
)
from app.demo import (
    repairs as demo_repairs,
)
from app.demo import (
    staff as demo_staff,
)
from app.demo import (
    stock as demo_stock,
)
from app.domain.audit import service as audit
from app.domain.auth import secrets
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.registry.model import Building, Company, Estate, Jurisdiction, Owner, OwnerPhone, Title, Unit, UnitOwner
from app.domain.registry.names import derive_surname
from app.domain.registry.phones import normalize_phone

DEMO_PASSWORD = "propdesk-demo"
SEED = 20240601
AREAS = [Decimal(a) for a in ("68.5", "89.2", "96.0", "112.7", "128.3", "143.9")]

# (code, name, office name, buildings as (entrances, floors, units per floor per entrance))
ESTATES = [
    ("QS", "淇水春天", "淇水春天管理處", [(2, 11, 2), (2, 11, 2), (3, 11, 2), (3, 11, 2), (2, 18, 2), (1, 18, 4)]),
    ("XR", "祥瑞花园", "祥瑞花园管理處", [(2, 12, 2), (3, 12, 2), (2, 15, 2), (1, 18, 3)]),
]
# Common parts the office bills or books: (room, floor, area).
PUBLIC_UNITS = [("会所", 1, Decimal("320.00")), ("物业用房", 1, Decimal("85.60"))]

# One account per role in each estate; (username suffix, roles, staff member's name).
STAFF = [
    ("reception", [Role.receptionist], "前台"),
    ("tech1", [Role.technician], "维修一"),
    ("tech2", [Role.technician], "维修二"),
    ("tech3", [Role.technician], "维修三"),
    ("manager", [Role.manager], "片区一"),
    ("manager2", [Role.manager], "片区二"),
    ("night", [Role.night_duty], "夜班"),
    ("supervisor", [Role.supervisor], "主管"),
    ("director", [Role.cs_director], "客服总监"),
    ("finance", [Role.finance], "财务"),
    ("records", [Role.records_clerk], "档案"),
    ("agency", [Role.agency], "中介"),
]

VACANT_SHARE = 0.05
CO_OWNER_SHARE = 0.15
SECOND_UNIT_SHARE = 0.03
SECOND_PHONE_SHARE = 0.2
LANDLINE_SHARE = 0.05


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    roles: list[str]
    estates: list[str]


@dataclass
class DemoLogins:
    password: str
    logins: list[DemoLogin]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class DemoContext:
    """What the steps share: the seeded generator and the rows made so far."""

    session: AsyncSession
    rng: random.Random
    password_hash: str
    company: Company | None = None
    estates: list[Estate] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    user_estates: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)
    owners: list[Owner] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, rows: list[Any]) -> None:
        self.session.add_all(rows)
        self.counts[kind] = self.counts.get(kind, 0) + len(rows)


Step = Callable[[DemoContext], Awaitable[None]]


async def has_company(session: AsyncSession) -> bool:
    return (await session.execute(select(func.count()).select_from(Company))).scalar_one() > 0


async def _company_and_estates(ctx: DemoContext) -> None:
    ctx.company = Company(name="祥瑞物業", legal_name="新乡市祥瑞物业服务有限公司", address="河南省新乡市红旗区平原路 88 号",
                          phone="0373-5551234", credit_code="91410700MA3X4B2K1P")
    ctx.session.add(ctx.company)
    await ctx.session.flush()
    ctx.estates = [
        Estate(company_id=ctx.company.id, name=name, office_name=office, code=code)
        for code, name, office, _ in ESTATES
    ]
    ctx.add("estates", ctx.estates)
    await ctx.session.flush()


def _staff_user(ctx: DemoContext, *, username: str, full_name: str, roles: list[Role]) -> User:
    assert ctx.company is not None  # the first step made it
    return User(
        company_id=ctx.company.id,
        username=username,
        full_name=full_name,
        phone=names.mobile(ctx.rng),
        roles=[r.value for r in roles],
        password_hash=ctx.password_hash,
    )


async def _staff(ctx: DemoContext) -> None:
    links: list[UserEstate] = []
    for estate in ctx.estates:
        for suffix, roles, _job in STAFF:
            full_name, _ = names.person(ctx.rng)
            user = _staff_user(ctx, username=f"{estate.code.lower()}.{suffix}", full_name=full_name, roles=roles)
            ctx.users.append(user)
            ctx.user_estates[user.id] = [estate.code]
            links.append(UserEstate(user_id=user.id, estate_id=estate.id))
    admin = _staff_user(ctx, username="admin", full_name="系统管理员", roles=[Role.admin])
    ctx.users.append(admin)
    ctx.user_estates[admin.id] = [e.code for e in ctx.estates]
    links += [UserEstate(user_id=admin.id, estate_id=e.id) for e in ctx.estates]
    ctx.add("users", ctx.users)
    await ctx.session.flush()
    ctx.add("user_estates", links)
    await ctx.session.flush()


def _user(ctx: DemoContext, username: str) -> User:
    return next(u for u in ctx.users if u.username == username)


async def _buildings_and_units(ctx: DemoContext) -> None:
    for estate, (code, _, _, specs) in zip(ctx.estates, ESTATES, strict=True):
        prefix = code.lower()
        patches = [
            Jurisdiction(estate_id=estate.id, name=f"{side}区", manager_id=_user(ctx, f"{prefix}.{m}").id)
            for side, m in (("东", "manager"), ("西", "manager2"))
        ]
        ctx.add("jurisdictions", patches)
        # No ORM relationships, so the unit of work does not order inserts by foreign key.
        await ctx.session.flush()
        buildings = [
            Building(estate_id=estate.id, name=f"{n}号楼", number=n, jurisdiction_id=patches[(n - 1) * 2 // len(specs)].id)
            for n in range(1, len(specs) + 1)
        ]
        ctx.add("buildings", buildings)
        await ctx.session.flush()
        units = [u for b, spec in zip(buildings, specs, strict=True) for u in _units_of(ctx, b, spec)]
        units += [
            Unit(estate_id=estate.id, building_id=buildings[0].id, number=room, floor=floor, area=area, is_public=True)
            for room, floor, area in PUBLIC_UNITS
        ]
        ctx.units += units
        ctx.add("units", units)
    await ctx.session.flush()


def _units_of(ctx: DemoContext, building: Building, spec: tuple[int, int, int]) -> list[Unit]:
    entrances, floors, per_floor = spec
    # The floor plan repeats up the building: position 1 is always the same flat type.
    plan = sorted(ctx.rng.sample(AREAS, per_floor))
    return [
        Unit(
            estate_id=building.estate_id,
            building_id=building.id,
            entrance=f"{e}单元" if entrances > 1 else "",
            number=f"{floor}{pos:02d}",
            floor=floor,
            area=plan[pos - 1],
            is_vacant=ctx.rng.random() < VACANT_SHARE,
        )
        for e in range(1, entrances + 1)
        for floor in range(1, floors + 1)
        for pos in range(1, per_floor + 1)
    ]


def _owner(ctx: DemoContext, estate_id: uuid.UUID, *, female: bool | None = None, surname: str | None = None) -> Owner:
    full_name, is_female = names.person(ctx.rng, female=female, surname=surname)
    return Owner(estate_id=estate_id, full_name=full_name, surname=derive_surname(full_name),
                 title=Title.ms if is_female else Title.mr)


def _phones(ctx: DemoContext, owner: Owner, taken: set[str]) -> list[OwnerPhone]:
    count = 2 if ctx.rng.random() < SECOND_PHONE_SHARE else 1
    phones: list[OwnerPhone] = []
    while len(phones) < count:
        digits = names.landline(ctx.rng) if ctx.rng.random() < LANDLINE_SHARE else names.mobile(ctx.rng)
        if digits in taken:
            continue
        taken.add(digits)
        raw = names.as_typed(ctx.rng, digits)
        phone = normalize_phone(raw)
        assert phone is not None  # typed from a valid number
        phones.append(OwnerPhone(estate_id=owner.estate_id, owner_id=owner.id, phone=phone, raw=raw))
    return phones


async def _owners(ctx: DemoContext) -> None:
    links: list[UnitOwner] = []
    by_estate: dict[uuid.UUID, list[Owner]] = {}
    for unit in (u for u in ctx.units if not u.is_public):
        earlier = by_estate.setdefault(unit.estate_id, [])
        if earlier and ctx.rng.random() < SECOND_UNIT_SHARE:
            # An investor or a family that bought the flat next door.
            links.append(UnitOwner(estate_id=unit.estate_id, unit_id=unit.id, owner_id=ctx.rng.choice(earlier).id))
            continue
        primary = _owner(ctx, unit.estate_id)
        earlier.append(primary)
        ctx.owners.append(primary)
        links.append(UnitOwner(estate_id=unit.estate_id, unit_id=unit.id, owner_id=primary.id))
        if ctx.rng.random() < CO_OWNER_SHARE:
            spouse = _owner(ctx, unit.estate_id, female=primary.title == Title.mr)
            ctx.owners.append(spouse)
            links.append(UnitOwner(estate_id=unit.estate_id, unit_id=unit.id, owner_id=spouse.id, is_primary=False))
    ctx.add("owners", ctx.owners)
    await ctx.session.flush()
    ctx.add("unit_owners", links)
    taken: set[str] = set()
    ctx.add("owner_phones", [p for o in ctx.owners for p in _phones(ctx, o, taken)])
    await ctx.session.flush()


# In order: a step reads what the steps before it made (repairs need owners, fees the units).
STEPS: list[Step] = [_company_and_estates, _staff, _buildings_and_units, _owners, demo_repairs.repair_history,
                     demo_fees.fee_history, demo_prorate.move_out_and_correction, demo_waivers.waiver_history,
                     demo_fees_prepaid.prepaid_accounts, demo_staff.attendance_history, demo_staff.rental_listings,
                     demo_complaints.complaint_history, demo_stock.stock_history, demo_desk.desk_history]
STEPS.insert(STEPS.index(demo_fees.fee_history) + 1, demo_fees_sharedmeter.shared_meter_history)  # needs the water readings


def _step_name(step: Step) -> str:
    return getattr(step, "__name__", "step").strip("_").replace("_", " ")


async def load_demo(session: AsyncSession, *, steps: list[Step] | None = None,
                    on_step: Callable[[str, int, int], None] | None = None) -> DemoLogins:
    """Load the demo company into an empty database; flushes, the caller commits.

    `on_step(name, n, total)` is told before each step: the CLI shows progress with it."""
    ctx = DemoContext(session=session, rng=random.Random(SEED), password_hash=secrets.hash_password(DEMO_PASSWORD))
    chosen = steps or STEPS
    for index, step in enumerate(chosen, start=1):
        if on_step is not None:
            on_step(_step_name(step), index, len(chosen))
        await step(ctx)
    assert ctx.company is not None
    actor = Actor(id=None, label="demo", company_id=ctx.company.id, is_system=True)
    await audit.record(session, actor=actor, action="demo.load", entity="company", entity_id=ctx.company.id,
                       estate_id=None, after={"name": ctx.company.name, "counts": ctx.counts})
    await session.flush()
    logins = [
        DemoLogin(username=u.username, full_name=u.full_name, roles=list(u.roles), estates=ctx.user_estates[u.id])
        for u in ctx.users
    ]
    return DemoLogins(password=DEMO_PASSWORD, logins=logins, counts=dict(ctx.counts))
