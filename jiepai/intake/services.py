"""Use-cases that write leads by hand (the intake pipeline for channels builds on these)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from jiepai.core.records import create_record, update_record
from jiepai.dedup.services import record_saved
from jiepai.intake.models import Lead
from jiepai.org.models import User

LEAD_FIELDS = (
    "name",
    "title",
    "company",
    "mobile",
    "email",
    "wechat",
    "industry",
    "province",
    "city",
    "budget",
    "message",
    "channel",
    "owner",
    "external_id",
    "source_detail",
)


def _allowed(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(LEAD_FIELDS)
    if unknown:
        raise ValueError(f"fields not settable here: {sorted(unknown)}")
    return values


def create_lead(
    *,
    actor: User | None,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
    on_duplicate: str | None = None,
) -> Lead:
    """A lead entered by a person: owned by them unless `owner` says otherwise.
    `on_duplicate` overrides the duplicate policy for this call (see dedup.record_saved)."""
    values = _allowed(values)
    if actor is not None and "owner" not in values and actor.role in ("rep", "manager"):
        values = {"owner": actor, **values}
    state = "assigned" if values.get("owner") else "unassigned"
    with transaction.atomic():
        lead = create_record(
            Lead, actor=actor, values={**values, "state": state}, custom=custom, now=now
        )
        record_saved(lead, actor=actor, created=True, on_duplicate=on_duplicate, now=now)
    return lead


def update_lead(
    *,
    actor: User | None,
    lead: Lead,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Lead:
    with transaction.atomic():
        lead = update_record(lead, actor=actor, values=_allowed(values), custom=custom, now=now)
        record_saved(lead, actor=actor, created=False, now=now)
    return lead
