"""load_visible: one loader, a rule per model, another estate's row is the model's 404."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from app.domain.auth.principal import Actor, system_actor
from app.domain.auth.roles import Role
from app.domain.errors import NotFound
from app.domain.fees.cash.service import CASHIER_SESSION
from app.domain.registry.errors import BuildingNotFound, EstateNotFound
from app.domain.registry.model import Building
from app.domain.registry.service import BUILDING, ESTATE
from app.domain.stock.items import STOCK_ITEM, StockItemNotFound
from app.domain.visibility import Visible, load_visible
from tests.registry_factories import make_building, two_estates


def actor_of(*estate_ids: uuid.UUID, roles: frozenset[Role] = frozenset({Role.receptionist})) -> Actor:
    return Actor(id=uuid.uuid4(), label="test", company_id=None, roles=roles, estate_ids=frozenset(estate_ids))


class TestRules:
    def test_a_model_has_one_rule(self):
        with pytest.raises(TypeError, match="already has a visibility rule"):
            Visible(model=Building, missing=BuildingNotFound)
        assert Visible.rules[Building] is BUILDING

    def test_the_problem_names_the_id_where_it_always_has(self):
        row_id = uuid.uuid4()
        error = STOCK_ITEM.not_found(row_id)
        assert isinstance(error, StockItemNotFound) and error.extra == {"stock_item_id": str(row_id)}
        assert BUILDING.not_found(row_id).extra == {}

    def test_every_rule_raises_a_named_not_found(self):
        assert Visible.rules  # the app's modules are imported by the fixtures' app
        for model, rule in Visible.rules.items():
            assert issubclass(rule.missing, NotFound) and rule.missing is not NotFound, model.__name__


class TestLoadVisible:
    async def test_own_estate_row_loads(self, session):
        mine, _ = await two_estates(session)
        building = await make_building(session, estate=mine)
        assert (await load_visible(session, BUILDING, building.id, actor=actor_of(mine.id))).id == building.id

    async def test_another_estates_row_is_the_models_404(self, session):
        mine, other = await two_estates(session)
        theirs = await make_building(session, estate=other)
        with pytest.raises(BuildingNotFound):
            await load_visible(session, BUILDING, theirs.id, actor=actor_of(mine.id))
        with pytest.raises(BuildingNotFound):
            await load_visible(session, BUILDING, theirs.id, actor=actor_of(mine.id), lock=True)
        with pytest.raises(BuildingNotFound):
            await load_visible(session, BUILDING, uuid.uuid4(), actor=actor_of(mine.id))

    async def test_an_estate_is_its_own_estate(self, session):
        mine, other = await two_estates(session)
        assert (await load_visible(session, ESTATE, mine.id, actor=actor_of(mine.id))).id == mine.id
        with pytest.raises(EstateNotFound):
            await load_visible(session, ESTATE, other.id, actor=actor_of(mine.id))

    async def test_the_job_clock_sees_every_estate(self, session):
        _, other = await two_estates(session)
        theirs = await make_building(session, estate=other)
        assert (await load_visible(session, BUILDING, theirs.id, actor=system_actor())).id == theirs.id

    async def test_a_locked_load_reads_the_row_as_it_is_now(self, session):
        mine, _ = await two_estates(session)
        building = await make_building(session, estate=mine, name="舊名")
        await session.execute(update(Building).where(Building.id == building.id).values(name="新名")
                              .execution_options(synchronize_session=False))
        # The session still holds the old copy; under the lock the stored value wins.
        assert building.name == "舊名"
        locked = await load_visible(session, BUILDING, building.id, actor=actor_of(mine.id), lock=True)
        assert locked is building and locked.name == "新名"


class TestNarrowerRules:
    def test_an_actor_without_an_id_owns_no_cashier_session(self):
        key = Actor(id=None, label="key", company_id=None, estate_ids=frozenset({uuid.uuid4()}), is_api_key=True)
        sql = str(CASHIER_SESSION.condition(key).compile(compile_kwargs={"literal_binds": True}))
        # Not "cashier_id IS NULL": an id-less actor matches nothing rather than every unowned row.
        assert "IS NULL" not in sql and "false" in sql.lower()
