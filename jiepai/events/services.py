"""Writing the trace. Call inside the transaction of the change you record."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection, models
from django.utils import timezone

from jiepai.core.entities import entity_of
from jiepai.events.models import Event
from jiepai.events.prepared import prepared_cursor

_PLAIN = (str, int, float, bool, type(None))


def to_jsonable(value: Any) -> Any:
    """Model field values as JSON for before/after (dates ISO, money as string, FKs as ids)."""
    if type(value) in _PLAIN:  # most values: nothing to convert (checked first, it is hot)
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields` (attnames for FKs) as JSON."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = to_jsonable(getattr(instance, attname))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value changed, from both sides."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def new_event(
    *,
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: int = 0,
    verb: str,
    actor: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Event:
    """The Event `record_event` would write, not yet saved (for `record_events`)."""
    if subject is not None:
        subject_type, subject_id = entity_of(subject), int(subject.pk)
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return Event(
        created_at=now or timezone.now(),
        actor=actor_obj,
        subject_type=subject_type,
        subject_id=subject_id,
        verb=verb,
        before=to_jsonable(before or {}),
        after=to_jsonable(after or {}),
        data=to_jsonable(data or {}),
    )


def record_event(
    *,
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: int = 0,
    verb: str,
    actor: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> Event:
    event = new_event(
        subject=subject,
        subject_type=subject_type,
        subject_id=subject_id,
        verb=verb,
        actor=actor,
        before=before,
        after=after,
        data=data,
        now=now,
    )
    event.save(force_insert=True)
    return event


def record_events(events: list[Event], *, batch: int = 500) -> None:
    """Write several events (from `new_event`) with multi-row INSERTs of up to `batch` rows, in
    list order (their ids follow it, so a timeline sorted by time then id shows them in the order
    they happened).

    For hot paths (every intake writes 2–5): plain INSERTs with each field's own database
    adaptation, without the ORM's per-statement compiling; the events' `pk` stay unset."""
    fields = [f for f in Event._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # table and column names come from the model, never from input
    head = (
        f"INSERT INTO {quote(Event._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        params = [
            f.get_db_prep_save(getattr(e, f.attname), connection) for e in chunk for f in fields
        ]
        with prepared_cursor() as cursor:  # one shape per number of rows
            cursor.execute(head + ", ".join([row] * len(chunk)), params)
