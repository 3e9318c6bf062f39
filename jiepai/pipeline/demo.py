"""Stage facts for the demo company (`jiepai demo`): which deals sit stalled, and their trace.

Most open demo deals were touched within the last two days (their stall clock is running and
the worker will alert on them in a few days if nobody works them); about one in five was last
touched 4–20 days ago and sits stalled: its alert is in the trace (`opportunity.stalled`, read
by the stage health report) and no deadline is pending, so loading the demo does not flood the
inbox. The board marks those deals as stalled.
"""

from __future__ import annotations

import datetime
import random

from jiepai.events.models import Event
from jiepai.pipeline.models import Opportunity
from jiepai.pipeline.stalls import STALL_KIND, stall_due_at

STALLED_SHARE = 0.2


def mark_stalls(deals: list[Opportunity], *, now: datetime.datetime, rng: random.Random) -> None:
    """Set touched_at / stall_due_at on unsaved demo deals (their stage and entry time set)."""
    for deal in deals:
        entered = deal.stage_entered_at or now
        stage = deal.stage
        if stage.is_closed or not stage.stall_hours:
            deal.touched_at, deal.stall_due_at = entered, None
            continue
        limit = datetime.timedelta(hours=stage.stall_hours)
        if rng.random() < STALLED_SHARE and now - entered > limit:
            deal.touched_at = max(entered, now - datetime.timedelta(days=rng.uniform(4, 20)))
            deal.stall_due_at = None  # alerted already (see stall_events)
            continue
        deal.touched_at = max(entered, now - datetime.timedelta(hours=rng.uniform(0, 48)))
        deal.stall_due_at = stall_due_at(stage, deal.touched_at)


def stall_events(deals: list[Opportunity], *, now: datetime.datetime) -> list[Event]:
    """The `opportunity.stalled` events of the deals `mark_stalls` left stalled (saved deals)."""
    events = []
    for deal in deals:
        stage = deal.stage
        if stage.is_closed or deal.stall_due_at is not None or deal.touched_at is None:
            continue
        at = deal.touched_at + datetime.timedelta(hours=stage.stall_hours)
        if at > now:
            continue
        events.append(
            Event(
                created_at=at,
                subject_type="opportunity",
                subject_id=deal.pk,
                verb=STALL_KIND,
                data={
                    "stage": stage.pk,
                    "stage_name": stage.name,
                    "owner": deal.owner_id,
                    "stall_hours": stage.stall_hours,
                    "touched_at": deal.touched_at.isoformat(),
                },
            )
        )
    return events
