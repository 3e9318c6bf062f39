"""RecordBuilder gives the instances and errors core.records.build_record gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from jiepai.core.records import build_record
from jiepai.customers.models import Contact
from jiepai.customfields.models import FieldDefinition
from jiepai.customfields.services import definitions_for
from jiepai.imports.validation import RecordBuilder
from jiepai.intake.models import Channel, Lead


def _outcome(build: Any) -> tuple[str, Any]:
    try:
        instance = build()
    except ValidationError as exc:
        return "errors", exc.message_dict
    fields = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    stamps = ("created_at", "updated_at")
    return "ok", {k: (type(v), v) for k, v in fields.items() if k not in stamps}


def _compare(
    model: type[models.Model], rows: list[tuple[dict, dict, tuple[str, ...]]]
) -> list[str]:
    definitions = definitions_for(model._meta.model_name)
    builder = RecordBuilder(model, definitions=definitions)
    kinds = []
    for _round in range(2):  # the second time round, outcomes come from what it remembers
        for values, custom, trusted in rows:
            ours = _outcome(
                lambda v=values, c=custom, t=trusted: builder.build(values=v, custom=c, trusted=t)
            )
            theirs = _outcome(
                lambda v=values, c=custom, t=trusted: build_record(
                    model, values=v, custom=c, definitions=definitions, trusted=t
                )
            )
            assert ours == theirs, values
            kinds.append(ours[0])
    return kinds


@pytest.mark.django_db
def test_leads_valid_and_invalid_are_built_alike(people):
    FieldDefinition.objects.create(
        entity="lead",
        key="industry_detail",
        label="细分行业",
        field_type="select",
        options=[{"value": "machinery", "label": "机械制造", "synonyms": ["机械"]}],
    )
    FieldDefinition.objects.create(
        entity="lead", key="visit_on", label="回访日期", field_type="date", required=True
    )
    channel = Channel.objects.create(name="导入", slug="imp", kind="import")
    good = {"visit_on": "2026-03-01", "industry_detail": "机械"}
    rows = [
        ({"name": " 张伟 ", "channel": channel, "state": "unassigned"}, good, ("channel",)),
        (
            {"name": "李娜", "owner": people.rep, "state": "assigned", "budget": Decimal("12.5")},
            good,
            ("owner",),
        ),
        ({"name": "王" * 60, "email": "not-an-address", "state": "unassigned"}, good, ()),
        ({"name": "赵六", "state": "nonsense", "budget": Decimal("1e15")}, good, ()),
        ({"name": "钱七", "state": "unassigned", "score": 3}, {"industry_detail": "化工"}, ()),
        ({"name": "孙八", "state": "unassigned", "mobile": 13800138000}, good, ()),
        ({"name": "", "state": "unassigned", "province": True}, {"visit_on": "下周"}, ()),
        (
            {"name": "周九", "state": "unassigned", "email": "bad"},
            good,
            ("email",),
        ),  # not looked at
    ]
    assert _compare(Lead, rows)[:8] == [
        "ok",
        "ok",
        "errors",
        "errors",
        "errors",
        "ok",
        "errors",
        "ok",
    ]


@pytest.mark.django_db
def test_contacts_with_constraints_are_built_alike(people):
    rows = [
        ({"name": "张伟", "owner": people.rep, "decision_weight": 30}, {}, ("owner",)),
        ({"name": "李娜", "owner": people.rep, "decision_weight": 130}, {}, ("owner",)),
        ({"name": "", "owner": people.rep}, {}, ("owner",)),
    ]
    assert _compare(Contact, rows)[:3] == ["ok", "errors", "errors"]


@pytest.mark.django_db
def test_built_instances_do_not_share_mutable_defaults():
    builder = RecordBuilder(Lead, definitions=[])
    one, two = (builder.build(values={"name": n, "state": "unassigned"}, custom={}, trusted=())
                for n in ("张伟", "李娜"))  # fmt: skip
    assert one.raw_payload == {} and one.raw_payload is not two.raw_payload
    assert one._state.adding and one.pk is None
