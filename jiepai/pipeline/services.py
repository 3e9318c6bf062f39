"""Use-cases that write opportunities. Stage moves (with gates) live in pipeline.stages."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiepai.core.records import create_record, settable, update_record
from jiepai.org.models import User
from jiepai.pipeline.models import Opportunity, Pipeline, Stage
from jiepai.pipeline.stalls import stall_due_at, touch_opportunity

OPPORTUNITY_FIELDS = (
    "name",
    "account",
    "contact",
    "lead",
    "amount",
    "expected_close_date",
    "description",
    "owner",
    "external_id",
)


def first_stage(pipeline: Pipeline | None = None) -> Stage:
    pipeline = (
        pipeline or Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    )
    if pipeline is None:
        raise Stage.DoesNotExist("no pipeline is configured")
    return (
        pipeline.stages.filter(is_won=False, is_lost=False).order_by("position").first()
        or pipeline.stages.first()
    )


def create_opportunity(
    *,
    actor: User | None,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
    stage: Stage | None = None,
) -> Opportunity:
    """A new deal starts in its pipeline's first open stage (gates apply to later moves)."""
    now = now or timezone.now()
    values = {"owner": actor, **settable(values, OPPORTUNITY_FIELDS)}
    stage = stage or first_stage()
    return create_record(
        Opportunity,
        actor=actor,
        values={
            **values,
            "stage": stage,
            "stage_entered_at": now,
            "touched_at": now,
            "stall_due_at": stall_due_at(stage, now),
        },
        custom=custom,
        now=now,
    )


def update_opportunity(
    *,
    actor: User | None,
    opportunity: Opportunity,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Opportunity:
    """Edit the deal's fields (never its stage: see pipeline.stages); a real change restarts the
    stall clock."""
    now = now or timezone.now()
    with transaction.atomic():
        before = opportunity.updated_at
        update_record(
            opportunity,
            actor=actor,
            values=settable(values, OPPORTUNITY_FIELDS),
            custom=custom,
            now=now,
        )
        if opportunity.updated_at != before:
            touch_opportunity(opportunity=opportunity, now=now)
    return opportunity
