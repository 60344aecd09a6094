"""Who may grant what and manage whom: the pure rules, no database."""
from __future__ import annotations

import uuid

import pytest

from app.domain.auth import rules
from app.domain.auth.principal import Actor, system_actor
from app.domain.auth.roles import Role

A, B = uuid.uuid4(), uuid.uuid4()


def actor(*roles: Role, estates=(A,), api_key: bool = False, perms=frozenset()) -> Actor:
    return Actor(id=uuid.uuid4(), label="x", company_id=uuid.uuid4(), roles=frozenset(roles), estate_ids=frozenset(estates),
                 is_api_key=api_key, extra_perms=perms)


def test_managing_needs_every_estate_of_the_account():
    narrow = actor(Role.admin)
    rules.check_manageable(narrow, [A])
    with pytest.raises(rules.UserOutsideYourScope):
        rules.check_manageable(narrow, [A, B])
    with pytest.raises(rules.ApiKeyOutsideYourScope):
        rules.check_manageable(narrow, [A, B], entity="api_key")
    rules.check_manageable(actor(Role.admin, estates=(A, B)), [A, B])
    rules.check_manageable(system_actor("cli:test"), [A, B])


def test_only_held_estates_are_granted():
    with pytest.raises(rules.EstateOutsideYourScope) as err:
        rules.check_estates_grantable(actor(Role.admin), [A, B])
    assert err.value.extra == {"estate_ids": [str(B)]}


def test_a_role_is_granted_only_by_one_who_holds_it():
    # Anyone but the administrator (whose job is handing out the office's roles) grants only their own.
    boss = actor(Role.supervisor, Role.receptionist)
    rules.check_roles_grantable(boss, [Role.receptionist])
    with pytest.raises(rules.RoleOutsideYourRights) as err:
        rules.check_roles_grantable(boss, [Role.receptionist, Role.admin, Role.finance])
    assert err.value.extra == {"roles": ["admin", "finance"]}
    # A role the account already has is not being granted.
    rules.check_roles_grantable(boss, [Role.finance], already=["finance"])
    rules.check_roles_grantable(actor(Role.admin), list(Role))


def test_a_key_gets_only_permissions_the_granter_has():
    rules.check_scopes_grantable(actor(Role.admin), ["reports:read", "registry:read"])
    with pytest.raises(rules.ScopeOutsideYourRights) as err:
        rules.check_scopes_grantable(actor(Role.agency), ["reports:read", "registry:read"])
    assert err.value.extra == {"scopes": ["reports:read"]}
