"""A record's timeline: its events and its follow-ups, newest first, in one list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jiepai.activities.selectors import activities_for
from jiepai.events.labels import changes, verb_label
from jiepai.events.selectors import events_for

TIMELINE_LIMIT = 100
#: events that a follow-up entry already shows in full
SHOWN_AS_ACTIVITY = ("activity.logged",)


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "event" | "activity"
    actor: Any
    title: str
    changes: list[dict[str, Any]]
    item: Any


def timeline(
    entity: str, ids: int | list[int], *, limit: int = TIMELINE_LIMIT
) -> list[TimelineEntry]:
    id_list = [ids] if isinstance(ids, int) else ids
    entries = [
        TimelineEntry(e.created_at, "event", e.actor, verb_label(e.verb), changes(e), e)
        for e in events_for(entity, id_list).exclude(verb__in=SHOWN_AS_ACTIVITY)[:limit]
    ]
    entries += [
        TimelineEntry(a.occurred_at, "activity", a.owner, a.get_kind_display(), [], a)
        for a in activities_for(entity, id_list)[:limit]
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
