"""Reading the trace: the timeline of one record."""

from __future__ import annotations

from django.db.models import QuerySet

from jiepai.events.models import Event


def events_for(subject_type: str, subject_ids: list[int] | int) -> QuerySet[Event]:
    """Events of a record (or of a record and the records merged into it), newest first."""
    ids = [subject_ids] if isinstance(subject_ids, int) else subject_ids
    return Event.objects.filter(subject_type=subject_type, subject_id__in=ids).select_related(
        "actor"
    )
