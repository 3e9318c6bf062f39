"""The weekly duplicate top-10 for managers, scheduled as a deadline the sweeper acts on."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from jiepai.conftest import PASSWORD
from jiepai.customers.services import create_contact
from jiepai.deadlines.sweeper import sweep_once
from jiepai.dedup.models import ReportSchedule
from jiepai.dedup.report import next_run, run_weekly_report, set_report_schedule, weekly_report
from jiepai.intake.models import Channel
from jiepai.intake.services import create_lead
from jiepai.notify.models import Notification


def _duplicates(people, ruijin):
    create_contact(
        actor=people.rep, values={"name": "张伟", "account": ruijin, "mobile": "13800138000"}
    )
    create_contact(
        actor=people.teammate, values={"name": "张主任", "account": ruijin, "mobile": "13800138000"}
    )
    channel = Channel.objects.create(name="展会扫码", slug="expo", kind="trade_show")
    create_lead(
        actor=people.rep, values={"name": "刘洋", "mobile": "13700137000", "channel": channel}
    )
    create_lead(
        actor=people.rep, values={"name": "刘洋", "mobile": "13700137000", "channel": channel}
    )


def test_top_10_counts_the_newer_duplicates_by_rep_and_entry_point(people, ruijin):
    _duplicates(people, ruijin)
    now = timezone.now() + datetime.timedelta(minutes=1)
    run_weekly_report(now=now)
    report = weekly_report(now=now)
    assert report.total == 2
    assert dict(report.by_entry) == {"展会扫码": 1, "手工录入": 1}
    assert dict(report.by_rep) == {"李娜": 1, "王磊": 1}


def test_managers_get_the_report_of_their_own_people(people, ruijin):
    _duplicates(people, ruijin)
    sent = run_weekly_report(now=timezone.now() + datetime.timedelta(minutes=1))
    note = Notification.objects.get(recipient=people.manager, kind="dedup.weekly_report")
    assert "展会扫码" in note.body and "王磊" in note.body
    assert Notification.objects.filter(
        recipient=people.director, kind="dedup.weekly_report"
    ).exists()
    assert not Notification.objects.filter(
        recipient=people.rep, kind="dedup.weekly_report"
    ).exists()
    assert sent == 2


def test_report_is_sent_once_a_week(people, ruijin):
    _duplicates(people, ruijin)
    now = timezone.now() + datetime.timedelta(minutes=1)
    run_weekly_report(now=now)
    run_weekly_report(now=now + datetime.timedelta(hours=1))
    assert (
        Notification.objects.filter(recipient=people.manager, kind="dedup.weekly_report").count()
        == 1
    )


def test_next_run_is_monday_nine_in_shanghai():
    tuesday = datetime.datetime(2026, 3, 3, 2, 0, tzinfo=datetime.UTC)
    assert next_run(tuesday) == datetime.datetime(2026, 3, 9, 1, 0, tzinfo=datetime.UTC)


def test_schedule_is_off_until_switched_on(db):
    assert ReportSchedule.objects.get(name="weekly_duplicates").next_run_at is None


def test_sweeper_sends_the_report_when_due_and_moves_it_a_week_on(people, ruijin):
    _duplicates(people, ruijin)
    schedule = set_report_schedule(on=True, now=timezone.now())
    due = schedule.next_run_at
    assert sweep_once(now=due) >= 1
    schedule.refresh_from_db()
    assert schedule.next_run_at == due + datetime.timedelta(days=7)
    assert Notification.objects.filter(
        recipient=people.manager, kind="dedup.weekly_report"
    ).exists()


def test_report_page_is_for_managers(client, people):
    client.login(username=people.rep.username, password=PASSWORD)
    assert client.get(reverse("dedup:report")).status_code == 403
    client.login(username=people.manager.username, password=PASSWORD)
    assert client.get(reverse("dedup:report")).status_code == 200
