"""The visibility rule reads short id lists first (so lists are answered from indexes); long
lists stay subqueries. Both give the same rows."""

from __future__ import annotations

import pytest

from jiepai.customers.models import Account
from jiepai.org import visibility
from jiepai.org.models import Team
from jiepai.org.visibility import visible_to


@pytest.fixture(params=[1000, 1], ids=["inline ids", "subquery"])
def inline_ids(request, monkeypatch):
    monkeypatch.setattr(visibility, "INLINE_IDS", request.param)


def test_shares_and_team_shares_are_visible_either_way(people, inline_ids):
    mine = Account.objects.create(name="自己的", owner=people.outsider)
    shared = [Account.objects.create(name=f"共享{i}", owner=people.rep) for i in range(3)]
    for account in shared:
        account.shared_with.add(people.outsider)
    team = Team.objects.create(name="项目组")
    team.members.add(people.outsider)
    by_team = Account.objects.create(name="项目组的", owner=people.teammate)
    by_team.teams.add(team)
    Account.objects.create(name="看不到", owner=people.rep)
    expected = {mine, *shared, by_team}
    assert set(visible_to(people.outsider, Account.objects.all())) == expected


def test_manager_sees_the_department_either_way(people, inline_ids):
    a = Account.objects.create(name="A", owner=people.rep)
    b = Account.objects.create(name="B", owner=people.teammate)
    Account.objects.create(name="C", owner=people.outsider)
    assert set(visible_to(people.manager, Account.objects.all())) == {a, b}
