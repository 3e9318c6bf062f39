"""Which channels a notification takes: kind defaults, a person's preferences, group robots."""

from __future__ import annotations

import pytest

from jiepai.notify.models import Delivery, NotificationKind, Preference, RobotEndpoint
from jiepai.notify.services import ensure_kind, notify, save_preferences


@pytest.fixture
def contacts(people):
    for user, mobile in [(people.rep, "13800138000"), (people.teammate, "13900139000")]:
        user.email = f"{user.username}@example.cn"
        user.mobile = mobile
        user.save(update_fields=["email", "mobile"])
    return people


def _robot(name="销售一组钉钉群", *, selectable=True, kinds=(), **fields):
    endpoint = RobotEndpoint.objects.create(
        name=name,
        platform=fields.pop("platform", "dingtalk"),
        url="http://127.0.0.1:9/robot/send?access_token=t",
        user_selectable=selectable,
        **fields,
    )
    endpoint.kinds.set([ensure_kind(k) for k in kinds])
    return endpoint


def _expired(recipients):
    return notify(recipients=recipients, kind="routing.window_expired", title="线索响应超时")


def _offered(recipients):
    return notify(recipients=recipients, kind="routing.offer", title="线索待认领")


def test_urgent_kind_goes_by_email_by_default(contacts):
    _expired([contacts.rep])
    assert list(Delivery.objects.values_list("channel", "address")) == [("email", "rep@example.cn")]


def test_user_can_turn_email_off_for_an_urgent_kind(contacts):
    kind = NotificationKind.objects.get(key="routing.window_expired")
    save_preferences(user=contacts.rep, choices={kind.pk: (False, set())})
    _expired([contacts.rep, contacts.teammate])
    assert list(Delivery.objects.values_list("address", flat=True)) == ["teammate@example.cn"]


def test_user_can_turn_email_on_for_an_ordinary_kind(contacts):
    kind = NotificationKind.objects.get(key="routing.offer")
    save_preferences(user=contacts.rep, choices={kind.pk: (True, set())})
    _offered([contacts.rep, contacts.teammate])
    assert list(Delivery.objects.values_list("address", flat=True)) == ["rep@example.cn"]


def test_unknown_kind_is_registered_in_app_only(contacts):
    notify(recipients=[contacts.rep], kind="contract.signed", title="合同已签署")
    kind = NotificationKind.objects.get(key="contract.signed")
    assert (kind.label, kind.email_by_default) == ("contract.signed", False)
    assert not Delivery.objects.exists()


def test_admin_can_make_a_kind_email_by_default(contacts):
    NotificationKind.objects.filter(key="routing.offer").update(email_by_default=True)
    _offered([contacts.rep])
    assert Delivery.objects.get().channel == "email"


def test_deactivated_user_gets_no_email(contacts):
    contacts.rep.is_active = False
    contacts.rep.save(update_fields=["is_active"])
    _expired([contacts.rep])
    assert not Delivery.objects.exists()


def test_personal_robot_choice_sends_to_that_group_and_mentions_the_user(contacts):
    robot = _robot()
    kind = NotificationKind.objects.get(key="routing.offer")
    save_preferences(user=contacts.rep, choices={kind.pk: (False, {robot.pk})})
    _offered([contacts.rep, contacts.teammate])
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.endpoint, delivery.mentions) == (
        "dingtalk",
        robot,
        ["13800138000"],
    )


def test_two_people_choosing_one_group_get_one_message_mentioning_both(contacts):
    robot = _robot()
    kind = NotificationKind.objects.get(key="routing.offer")
    for user in (contacts.rep, contacts.teammate):
        save_preferences(user=user, choices={kind.pk: (False, {robot.pk})})
    _offered([contacts.rep, contacts.teammate])
    delivery = Delivery.objects.get()
    assert delivery.mentions == ["13800138000", "13900139000"]


def test_broadcast_group_gets_each_event_once_whatever_the_preferences(contacts):
    robot = _robot(kinds=["routing.offer"], selectable=True)
    kind = NotificationKind.objects.get(key="routing.offer")
    save_preferences(user=contacts.rep, choices={kind.pk: (False, {robot.pk})})
    _offered([contacts.rep, contacts.teammate])
    assert Delivery.objects.filter(endpoint=robot).count() == 1


def test_robot_without_mentions_mentions_nobody(contacts):
    _robot(kinds=["routing.offer"], mention_recipients=False)
    _offered([contacts.rep])
    assert Delivery.objects.get().mentions == []


def test_inactive_or_non_selectable_robot_cannot_be_chosen(contacts):
    closed = _robot("管理层群", selectable=False)
    off = _robot("停用群", active=False)
    kind = NotificationKind.objects.get(key="routing.offer")
    save_preferences(user=contacts.rep, choices={kind.pk: (False, {closed.pk, off.pk})})
    assert not Preference.objects.filter(user=contacts.rep, robots__isnull=False).exists()
    _offered([contacts.rep])
    assert not Delivery.objects.exists()


def test_robot_switched_off_after_being_chosen_gets_nothing(contacts):
    robot = _robot()
    kind = NotificationKind.objects.get(key="routing.offer")
    save_preferences(user=contacts.rep, choices={kind.pk: (False, {robot.pk})})
    RobotEndpoint.objects.filter(pk=robot.pk).update(active=False)
    _offered([contacts.rep])
    assert not Delivery.objects.exists()


def test_inactive_broadcast_robot_gets_nothing(contacts):
    _robot(kinds=["routing.offer"], active=False)
    _offered([contacts.rep])
    assert not Delivery.objects.exists()


def test_preferences_of_one_user_do_not_touch_another(contacts):
    kind = NotificationKind.objects.get(key="routing.window_expired")
    save_preferences(user=contacts.rep, choices={kind.pk: (False, set())})
    assert not Preference.objects.filter(user=contacts.teammate).exists()


def test_choice_equal_to_the_defaults_follows_later_default_changes(contacts):
    kind = NotificationKind.objects.get(key="routing.offer")
    save_preferences(user=contacts.rep, choices={kind.pk: (False, set())})
    assert not Preference.objects.filter(user=contacts.rep).exists()
    NotificationKind.objects.filter(pk=kind.pk).update(email_by_default=True)
    _offered([contacts.rep])
    assert Delivery.objects.get().channel == "email"


def test_going_back_to_the_defaults_removes_the_stored_choice(contacts):
    kind = NotificationKind.objects.get(key="routing.offer")
    save_preferences(user=contacts.rep, choices={kind.pk: (True, set())})
    save_preferences(user=contacts.rep, choices={kind.pk: (False, set())})
    assert not Preference.objects.filter(user=contacts.rep).exists()
