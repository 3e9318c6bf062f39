from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from jiepai.events.models import Event
from jiepai.org.models import Department, RepProfile
from jiepai.org.services import (
    create_user,
    is_online,
    move_department,
    set_online_status,
    set_paused,
    touch_presence,
)
from jiepai.org.visibility import subtree_department_ids

NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def test_department_paths_follow_the_tree(people):
    assert people.east_shanghai.path == f"/{people.company.pk}/{people.east.pk}/{people.east_shanghai.pk}/"


def test_moving_a_department_rewrites_its_subtree(people):
    move_department(department=people.east, parent=people.north)
    shanghai = Department.objects.get(pk=people.east_shanghai.pk)
    assert shanghai.path.startswith(Department.objects.get(pk=people.north.pk).path)


def test_department_cannot_move_under_itself(people):
    with pytest.raises(ValidationError):
        move_department(department=people.east, parent=people.east_shanghai)


def test_manager_subtree_includes_child_departments(people):
    assert set(subtree_department_ids(people.manager)) == {people.east.pk, people.east_shanghai.pk}


def test_reps_and_managers_get_a_rep_profile(people):
    assert RepProfile.objects.filter(user=people.rep).exists()
    assert not RepProfile.objects.filter(user=people.director).exists()


def test_duplicate_username_is_refused_with_field_error(people):
    with pytest.raises(ValidationError) as exc:
        create_user(username="rep", password="x" * 10)
    assert "username" in exc.value.message_dict


def test_rep_sets_online_status_and_it_is_traced(people):
    set_online_status(user=people.rep, status="online", now=NOW)
    assert is_online(people.rep.rep_profile.__class__.objects.get(user=people.rep), NOW)
    assert Event.objects.filter(subject_type="user", subject_id=people.rep.pk, verb="rep.status_changed").exists()


def test_unknown_status_is_refused(people):
    with pytest.raises(ValidationError):
        set_online_status(user=people.rep, status="sleeping", now=NOW)


def test_activity_makes_a_rep_online_for_a_while(people):
    touch_presence(user=people.rep, now=NOW)
    profile = RepProfile.objects.get(user=people.rep)
    assert is_online(profile, NOW + datetime.timedelta(minutes=10))
    assert not is_online(profile, NOW + datetime.timedelta(minutes=30))


def test_busy_rep_is_not_online_even_when_active(people):
    set_online_status(user=people.rep, status="busy", now=NOW)
    touch_presence(user=people.rep, now=NOW)
    assert not is_online(RepProfile.objects.get(user=people.rep), NOW)


def test_pause_and_resume(people):
    set_paused(user=people.rep, paused=True, actor=people.rep, now=NOW)
    assert RepProfile.objects.get(user=people.rep).paused
    set_paused(user=people.rep, paused=False, actor=people.rep, now=NOW)
    assert not RepProfile.objects.get(user=people.rep).paused


def test_offline_rep_is_not_online_even_when_active(people):
    set_online_status(user=people.rep, status="offline", now=NOW)
    touch_presence(user=people.rep, now=NOW)
    assert not is_online(RepProfile.objects.get(user=people.rep), NOW)
