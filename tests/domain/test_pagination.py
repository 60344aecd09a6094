"""paginate: one ordering for every list, keys from the list's enum, blanks last either way."""
from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from app.domain.pagination import PageRequest, UnknownSortKey, ordering, paginate, sort_values
from app.domain.registry.model import Building
from tests.registry_factories import make_building, two_estates


class Keys(StrEnum):
    number = "number"
    name = "name"


SORTABLE = {Keys.number: Building.number, Keys.name: Building.name}


def order_sql(sort: str | None) -> list[str]:
    order = ordering(PageRequest(sort=sort), sortable=SORTABLE, default=[Building.id])
    return [str(c.compile(dialect=postgresql.dialect())) for c in order]


class TestOrdering:
    def test_blanks_come_last_in_either_direction(self):
        assert order_sql("number")[0] == "building.number ASC NULLS LAST"
        assert order_sql("-number")[0] == "building.number DESC NULLS LAST"

    def test_default_breaks_ties_and_stands_alone_without_sort(self):
        assert order_sql("-name")[1:] == ["building.id"]
        assert order_sql(None) == ["building.id"]

    @pytest.mark.parametrize("sort", ["password", "--number", "-", "Number"])
    def test_an_unknown_key_is_refused_naming_the_field(self, sort):
        with pytest.raises(UnknownSortKey) as caught:
            order_sql(sort)
        assert caught.value.extra == {"field": "sort"}
        assert "name, number" in caught.value.detail

    def test_a_sortable_that_misses_a_key_of_its_enum_is_a_programming_error(self):
        with pytest.raises(TypeError, match="every Keys"):
            ordering(PageRequest(), sortable={Keys.number: Building.number}, default=[])

    def test_the_values_sort_takes(self):
        assert sort_values(Keys) == ["number", "-number", "name", "-name"]


class TestPaginate:
    async def test_descending_puts_a_building_without_a_number_last(self, session):
        estate, _ = await two_estates(session)
        for number in (1, 2):
            await make_building(session, estate=estate, number=number)
        session.add(Building(estate_id=estate.id, name="會所", number=None))
        await session.flush()
        stmt = select(Building).where(Building.estate_id == estate.id)
        rows, total = await paginate(session, stmt, PageRequest(sort="-number"), sortable=SORTABLE, default=[Building.id])
        assert [b.number for b in rows] == [2, 1, None] and total == 3
