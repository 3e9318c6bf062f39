"""log_follow_up: required parts by configuration, the task, tags, event, and bad input."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiepai.activities.models import (
    Activity,
    ActivityKind,
    ConclusionChoice,
    FollowUpRequirement,
    Task,
)
from jiepai.activities.services import log_follow_up
from jiepai.customers.models import Contact
from jiepai.events.models import Event
from jiepai.pipeline.models import Opportunity
from jiepai.tagging.services import tags_of

from .conftest import SHANGHAI

pytestmark = pytest.mark.django_db


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def test_minimal_follow_up_writes_activity_task_and_event(people, customer, now) -> None:
    due = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=SHANGHAI)
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method=ActivityKind.CALL,
        next_action="工厂参观",
        next_action_kind="factory_visit",
        next_action_due=due,
        summary="客户李总约周三下午三点看厂",
        now=now,
    )
    task = Task.objects.get(activity=activity)
    assert (task.title, task.kind, task.due_at, task.remind_at) == (
        "工厂参观",
        "factory_visit",
        due,
        due,
    )
    assert task.owner == people.rep
    event = Event.objects.get(verb="activity.logged", subject_id=customer.account.pk)
    assert event.after["activity"] == activity.pk and event.data["task"] == task.pk


def test_missing_next_action_is_refused_naming_the_field(people, customer, now) -> None:
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(actor=people.rep, account=customer.account, method="call", now=now)
    assert list(errors_of(excinfo)) == ["next_action"]
    assert Activity.objects.count() == 0


def test_next_action_without_time_is_refused_naming_the_time(people, customer, now) -> None:
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep, account=customer.account, method="call", next_action="发报价", now=now
        )
    assert list(errors_of(excinfo)) == ["next_action_due"]


def test_visit_follow_up_requires_contact_role_and_conclusion_by_default(
    people, customer, now
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="meeting",
            next_action="发报价",
            next_action_due=datetime.date(2026, 3, 5),
            now=now,
        )
    assert set(errors_of(excinfo)) == {"contact", "contact_role", "conclusion"}


def test_requirements_are_configuration(people, customer, now) -> None:
    FollowUpRequirement.objects.filter(method="").update(
        requires_next_action=False, requires_conclusion=True
    )
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(actor=people.rep, account=customer.account, method="wechat", now=now)
    assert list(errors_of(excinfo)) == ["conclusion"]
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="wechat",
        conclusion="要求案例",
        conclusion_note="要三甲医院的案例",
        now=now,
    )
    assert activity.conclusion == "要求案例" and not activity.tasks.exists()


def test_conclusion_must_be_one_of_the_configured_choices(people, customer, now) -> None:
    ConclusionChoice.objects.filter(label="否决预算").update(active=False)
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="call",
            conclusion="否决预算",
            next_action="回访",
            next_action_due=datetime.date(2026, 3, 9),
            now=now,
        )
    assert list(errors_of(excinfo)) == ["conclusion"]


def test_due_in_the_past_is_refused(people, customer, now) -> None:
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="call",
            next_action="回访",
            next_action_due=datetime.date(2026, 2, 27),
            now=now,
        )
    assert "已经过去" in errors_of(excinfo)["next_action_due"][0]


def test_date_only_due_is_end_of_working_day_reminded_in_the_morning(people, customer, now) -> None:
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="call",
        next_action="发参数表",
        next_action_due=datetime.date(2026, 3, 6),
        now=now,
    )
    task = activity.tasks.get()
    assert task.due_has_time is False
    assert task.due_at == datetime.datetime(2026, 3, 6, 18, 0, tzinfo=SHANGHAI)
    assert task.remind_at == datetime.datetime(2026, 3, 6, 9, 0, tzinfo=SHANGHAI)


def test_no_customer_is_refused(people, now) -> None:
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep,
            method="call",
            next_action="回访",
            next_action_due=datetime.date(2026, 3, 9),
            now=now,
        )
    assert "customer" in errors_of(excinfo)


def test_unknown_method_is_refused(people, customer, now) -> None:
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="telepathy",
            next_action="回访",
            next_action_due=datetime.date(2026, 3, 9),
            now=now,
        )
    assert "method" in errors_of(excinfo)


def test_pain_point_keywords_become_account_tags(people, customer, now) -> None:
    log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="call",
        next_action="样机演示",
        next_action_due=datetime.date(2026, 3, 10),
        keywords=["交付周期太长"],
        now=now,
    )
    tags = tags_of("account", customer.account.pk, now=now)
    assert [(t.tag.name, t.tag.category, t.source) for t in tags] == [
        ("交付周期太长", "痛点", "note")
    ]


def test_new_contact_is_saved_on_the_account_with_role(people, customer, now) -> None:
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="meeting",
        contact_name="王主任",
        contact_role="influencer",
        save_contact=True,
        conclusion="确认POC时间",
        next_action="POC测试",
        next_action_due=datetime.date(2026, 3, 16),
        now=now,
    )
    contact = Contact.objects.get(name="王主任")
    assert contact.account == customer.account and contact.role == "influencer"
    assert activity.contact == contact


def test_role_given_on_a_follow_up_is_marked_on_the_contact(people, customer, now) -> None:
    log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="meeting",
        contact=customer.contact,
        contact_role="decision_maker",
        conclusion="确认预算",
        next_action="发报价",
        next_action_due=datetime.date(2026, 3, 5),
        now=now,
    )
    customer.contact.refresh_from_db()
    assert customer.contact.role == "decision_maker"


def test_contact_of_another_account_is_refused(people, customer, now) -> None:
    from jiepai.customers.services import create_account, create_contact

    other = create_account(actor=people.rep, values={"name": "华山医院"}, now=now)
    stranger = create_contact(actor=people.rep, values={"account": other, "name": "赵工"}, now=now)
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="call",
            contact=stranger,
            next_action="回访",
            next_action_due=datetime.date(2026, 3, 9),
            now=now,
        )
    assert "contact" in errors_of(excinfo)


def test_follow_up_on_a_deal_restarts_its_stall_clock(people, customer, now) -> None:
    later = now + datetime.timedelta(hours=30)
    log_follow_up(
        actor=people.rep,
        opportunity=customer.opportunity,
        method="call",
        next_action="发报价",
        next_action_due=datetime.date(2026, 3, 6),
        now=later,
    )
    deal = Opportunity.objects.get(pk=customer.opportunity.pk)
    assert deal.touched_at == later
    assert deal.stall_due_at == later + datetime.timedelta(hours=deal.stage.stall_hours)


def test_outsider_cannot_log_a_follow_up_on_someone_elses_account(people, customer, now) -> None:
    with pytest.raises(PermissionDenied):
        log_follow_up(
            actor=people.outsider,
            account=customer.account,
            method="call",
            next_action="回访",
            next_action_due=datetime.date(2026, 3, 9),
            now=now,
        )
    assert Activity.objects.count() == 0


def test_user_time_zone_decides_the_day_of_a_date_only_due(people, customer, now) -> None:
    people.rep.time_zone = "Europe/Berlin"
    people.rep.save()
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="call",
        next_action="回访",
        next_action_due=datetime.date(2026, 3, 9),
        now=now,
    )
    task = activity.tasks.get()
    assert task.due_at == datetime.datetime(2026, 3, 9, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_first_call_on_an_assigned_lead_marks_it_contacted(people, now) -> None:
    from jiepai.intake.services import create_lead

    lead = create_lead(
        actor=people.rep, values={"name": "陈经理", "company": "杭州某医疗器械公司"}, now=now
    )
    assert lead.state == "assigned"
    log_follow_up(
        actor=people.rep,
        lead=lead,
        method="call",
        next_action="发资料",
        next_action_due=datetime.date(2026, 3, 3),
        now=now,
    )
    lead.refresh_from_db()
    assert lead.state == "contacted" and lead.contacted_at == now
