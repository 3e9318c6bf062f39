from __future__ import annotations

from jiepai.customers.models import Account
from jiepai.org.models import Team
from jiepai.org.visibility import visible_to


def _account(owner, name="上海瑞金医院"):
    return Account.objects.create(name=name, owner=owner)


def test_rep_sees_own_record_only(people):
    mine = _account(people.rep)
    _account(people.teammate, "别人的客户")
    assert list(visible_to(people.rep, Account.objects.all())) == [mine]


def test_outsider_does_not_see_other_departments_record(people):
    _account(people.rep)
    assert not visible_to(people.outsider, Account.objects.all()).exists()


def test_manager_sees_department_subtree(people):
    a = _account(people.rep)
    b = _account(people.teammate, "B")
    _account(people.outsider, "C")
    assert set(visible_to(people.manager, Account.objects.all())) == {a, b}


def test_director_and_admin_see_everything(people):
    _account(people.rep)
    _account(people.outsider, "C")
    assert visible_to(people.director, Account.objects.all()).count() == 2
    assert visible_to(people.admin, Account.objects.all()).count() == 2


def test_share_with_a_person_grants_visibility(people):
    account = _account(people.rep)
    account.shared_with.add(people.outsider)
    assert list(visible_to(people.outsider, Account.objects.all())) == [account]


def test_project_team_share_grants_visibility_to_members(people):
    account = _account(people.rep)
    team = Team.objects.create(name="瑞金项目组")
    team.members.add(people.outsider, people.rep)
    account.teams.add(team)
    assert list(visible_to(people.outsider, Account.objects.all())) == [account]
    assert visible_to(people.rep, Account.objects.all()).count() == 1  # no duplicate rows


def test_inactive_user_sees_nothing(people):
    _account(people.rep)
    people.rep.is_active = False
    assert not visible_to(people.rep, Account.objects.all()).exists()
