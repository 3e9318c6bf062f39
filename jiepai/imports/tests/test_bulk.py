"""insert_instances writes the rows bulk_create writes."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import models

from jiepai.events.models import Event
from jiepai.imports.bulk import insert_instances, insert_rows
from jiepai.intake.models import Channel, Lead

NOW = datetime.datetime(2026, 2, 17, 1, 0, tzinfo=datetime.UTC)
STAMPED = {"id", "created_at", "updated_at"}  # ids and auto_now stamps differ by nature


def _leads(people: Any, channel: Channel, tag: str) -> list[Lead]:
    return [
        Lead(name=f"张伟{tag}", company="瑞金医院", mobile="13800138000", channel=channel),
        Lead(
            name=f"李娜{tag}",
            owner=people.rep,
            state="assigned",
            budget=Decimal("120000.50"),
            custom={"visit_on": "2026-03-01", "industry": "it"},
            raw_payload={"手机": 138},
            missing_fields=["email"],
            assigned_at=NOW,
            score=3,
            intent_score=1.5,
            message="",
        ),
    ]


def _rows(model: type[models.Model], ids: list[int]) -> list[dict[str, Any]]:
    rows = list(model._default_manager.filter(pk__in=ids).order_by("pk").values())
    return [{k: v for k, v in row.items() if k not in STAMPED} for row in rows]


@pytest.mark.django_db
def test_leads_are_written_as_bulk_create_writes_them(people):
    channel = Channel.objects.create(name="导入", slug="imp", kind="import")
    ours = _leads(people, channel, "")
    insert_instances(ours)
    theirs = Lead.objects.bulk_create(_leads(people, channel, ""))
    assert all(lead.pk and not lead._state.adding for lead in ours)
    assert _rows(Lead, [lead.pk for lead in ours]) == _rows(Lead, [lead.pk for lead in theirs])
    stored = Lead.objects.get(pk=ours[1].pk)
    assert stored.budget == Decimal("120000.50") and stored.assigned_at == NOW
    assert stored.created_at is not None and stored.custom["industry"] == "it"


@pytest.mark.django_db
def test_events_are_written_as_bulk_create_writes_them(people):
    def events() -> list[Event]:
        return [
            Event(
                created_at=NOW,
                actor=people.rep if i % 2 else None,
                subject_type="lead",
                subject_id=i,
                verb="lead.created",
                after={"name": "张伟", "budget": "12.00"},
                data={"import_row": i},
            )
            for i in range(5)
        ]

    ours = events()
    insert_instances(ours)
    theirs = Event.objects.bulk_create(events())
    assert [e.pk for e in ours] == sorted(e.pk for e in ours)  # ids in list order
    rows = list(Event.objects.filter(pk__in=[e.pk for e in ours]).order_by("pk").values())
    same = list(Event.objects.filter(pk__in=[e.pk for e in theirs]).order_by("pk").values())
    assert [{**r, "id": 0} for r in rows] == [{**r, "id": 0} for r in same]


@pytest.mark.django_db
def test_many_rows_go_in_several_statements(people):
    channel = Channel.objects.create(name="导入", slug="imp", kind="import")
    leads = [Lead(name=f"客户{i}", channel=channel) for i in range(2300)]
    insert_instances(leads)
    assert Lead.objects.count() == 2300
    assert [lead.name for lead in Lead.objects.order_by("pk")] == [lead.name for lead in leads]
    assert Lead.objects.get(pk=leads[-1].pk).name == "客户2299"


@pytest.mark.django_db
def test_rows_given_as_values_are_written_as_bulk_create_writes_them(people):
    def event(i: int) -> dict[str, Any]:
        return {
            "created_at": NOW,
            "actor_id": people.rep.pk if i % 2 else None,
            "subject_type": "lead",
            "subject_id": i,
            "verb": "lead.created",
            "before": {},
            "after": {"name": "张伟", "custom": {"visit_on": "2026-03-01"}},
            "data": {"import_row": i, "import_job": "x"},
        }

    insert_rows(Event, [event(i) for i in range(3)])
    Event.objects.bulk_create([Event(**event(i)) for i in range(3)])
    rows = [{**r, "id": 0} for r in Event.objects.order_by("pk").values()]
    assert rows[:3] == rows[3:]
