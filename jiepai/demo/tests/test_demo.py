from __future__ import annotations

import datetime
import os
import subprocess
import sys

from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation

from jiepai.activities.models import Activity
from jiepai.customers.models import Account, Contact
from jiepai.demo.data import REGIONS
from jiepai.demo.generate import (
    ACTIVE_DAYS,
    INCOMPLETE_DAYS,
    OFFERED_PER_REGION,
    PASSWORD,
    UNASSIGNED_PER_REGION,
    load_demo,
)
from jiepai.events.models import Event
from jiepai.intake.models import Channel, Lead
from jiepai.org.models import Department, User
from jiepai.pipeline.models import Opportunity

SCALE = 0.02  # 40 accounts, 100 leads, 16 deals, 200 follow-ups


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Department,
            Channel,
            Account,
            Contact,
            Lead,
            Opportunity,
            Activity,
            Event,
        )
    }


def test_demo_loads_every_entity_with_its_trace(db):
    load_demo(scale=SCALE)
    counts = _counts()
    assert counts["User"] == 19 and counts["Department"] == 4 and counts["Channel"] == 6
    assert counts["Account"] == 40 and counts["Lead"] == 100 and counts["Opportunity"] == 16
    assert counts["Activity"] == 200 and counts["Contact"] >= 40
    lead = Lead.objects.exclude(owner=None).first()
    assert Event.objects.filter(subject_type="lead", subject_id=lead.pk).exists()
    assert set(Lead.objects.values_list("state", flat=True)) >= {"assigned", "contacted"}


def test_demo_history_lies_in_the_last_90_days(db):
    now = timezone.now()
    load_demo(scale=SCALE, now=now)
    oldest = now - datetime.timedelta(days=90, minutes=1)
    assert not Lead.objects.filter(created_at__lt=oldest).exists()
    assert not Activity.objects.filter(occurred_at__lt=oldest).exists()
    assert not Event.objects.filter(created_at__gt=now).exists()


def test_running_the_demo_twice_changes_nothing(db):
    load_demo(scale=SCALE)
    first = _counts()
    second_run = load_demo(scale=SCALE)
    assert _counts() == first
    assert not any(second_run.created.values())


def test_demo_is_the_same_with_the_same_seed(db):
    now = timezone.now()

    def generated():
        with transaction.atomic():
            load_demo(scale=SCALE, now=now)
            rows = sorted(Lead.objects.values_list("name", "company", "state", "created_at"))
            transaction.set_rollback(True)  # the second run starts from an empty database
        return rows

    assert generated() == generated()


def test_demo_logins_work_and_rep_sees_only_their_region(db):
    call_command("demo", "--scale", str(SCALE))
    client = Client()
    assert client.login(username="rep01", password=PASSWORD)
    rep = User.objects.get(username="rep01")
    assert client.get("/leads/").status_code == 200
    mine = Lead.objects.filter(owner=rep).first()
    if mine is not None:
        assert client.get(mine.get_absolute_url()).status_code == 200


def test_demo_command_prints_logins_and_url(db, capsys):
    call_command("demo", "--scale", str(SCALE))
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000" in out and PASSWORD in out and "rep12" in out
    call_command("demo", "--scale", str(SCALE))
    again = capsys.readouterr().out
    assert "已存在,未做修改" in again and "密码未改" not in again


def test_demo_keeps_an_existing_admin_and_says_so(db, capsys):
    User.objects.create_user(username="admin", password="their-own", email="boss@example.com")
    call_command("demo", "--scale", str(SCALE))
    out = capsys.readouterr().out
    assert "admin" in out and "密码未改" in out
    assert User.objects.get(username="admin").check_password("their-own")


def test_demo_leads_waiting_for_someone_came_in_recently(db):
    now = timezone.now()
    load_demo(scale=0.05, now=now)
    waiting = Lead.objects.filter(state__in=["offered", "unassigned", "incomplete", "assigned"])
    limits = {
        "offered": datetime.timedelta(minutes=30),  # the offer round is still open
        "assigned": datetime.timedelta(hours=4),  # the longest demo response window
        "unassigned": datetime.timedelta(days=1),
        "incomplete": datetime.timedelta(days=INCOMPLETE_DAYS),
    }
    for lead in waiting:
        assert now - limits[lead.state] < lead.created_at <= now, lead.state
    regions = len(REGIONS)
    assert 0 < waiting.filter(state="offered").count() <= OFFERED_PER_REGION * regions
    assert 0 < waiting.filter(state="unassigned").count() <= UNASSIGNED_PER_REGION * regions


def test_old_demo_leads_are_decided(db):
    now = timezone.now()
    load_demo(scale=0.05, now=now)
    old = Lead.objects.filter(created_at__lt=now - datetime.timedelta(days=ACTIVE_DAYS))
    assert old.exists()
    assert set(old.values_list("state", flat=True)) <= {"converted", "disqualified", "nurture"}


def test_incomplete_demo_leads_miss_what_their_raw_payload_lacks(db):
    load_demo(scale=0.05)
    incomplete = Lead.objects.filter(state="incomplete")
    assert incomplete.exists()
    for lead in incomplete:
        (missing,) = lead.missing_fields
        assert getattr(lead, missing) == "" and lead.owner_id is None
        aliases = {field: alias for alias, field in lead.channel.alias_map.items()}
        sent = lead.raw_payload.get(aliases.get(missing, missing))
        assert sent is None or missing in lead.field_errors  # not sent, or sent unreadable


def test_demo_command_speaks_english_when_asked(db, capsys):
    with translation.override("en"):
        call_command("demo", "--scale", str(SCALE))
        call_command("demo", "--scale", str(SCALE))
    out = capsys.readouterr().out
    assert "Demo data loaded" in out and "log in with any of these accounts" in out
    assert "nothing changed" in out


def test_jiepai_language_chooses_the_language_of_the_command_line(tmp_path):
    env = {**os.environ, "JIEPAI_VAR_DIR": str(tmp_path), "JIEPAI_LANGUAGE": "en"}
    english = subprocess.run(
        [sys.executable, "-m", "jiepai.cli", "demo", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Load the demo data" in english and "Size multiplier" in english
