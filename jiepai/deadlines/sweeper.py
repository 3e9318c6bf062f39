"""The deadline sweeper: acts once on each overdue row, however many workers run.

The pattern is Healthchecks' `sendalerts`: read a batch of overdue (pk, due) pairs, then claim
each with a compare-and-set UPDATE ... WHERE pk = %s AND due = <the value we read>. Only one
worker's UPDATE matches (on PostgreSQL the second waits on the row lock, then re-checks the
WHERE against the committed row and matches nothing; SQLite serialises writers), so only the
winner acts. Claim and action share one transaction: if `act` fails, the claim rolls back and
the due time is pushed `retry_after` ahead, so a broken row cannot crash-loop the worker.
Side effects (notifications) are enqueued as tasks inside that transaction: an outbox.
"""

from __future__ import annotations

import datetime
import logging

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from jiepai.deadlines.registry import DeadlineKind, deadline_kinds

logger = logging.getLogger(__name__)


def claim_and_act(
    kind: DeadlineKind, pk: int, due: datetime.datetime, now: datetime.datetime
) -> bool:
    """Act on one row if this caller wins the claim. Returns True when it acted."""
    model = apps.get_model(kind.model)
    try:
        with transaction.atomic():
            claimed = model._default_manager.filter(pk=pk, **{kind.due_field: due}).update(
                **{kind.due_field: None}
            )
            if claimed != 1:
                return False  # another worker won, or the row changed since we read it
            row = model._default_manager.get(pk=pk)
            kind.act(row, now)
            return True
    except Exception:
        logger.exception("deadline %s on %s#%s failed; retrying later", kind.name, kind.model, pk)
        model._default_manager.filter(pk=pk, **{kind.due_field: due}).update(
            **{kind.due_field: now + kind.retry_after}
        )
        return False


def sweep_once(*, now: datetime.datetime | None = None, batch: int = 200) -> int:
    """One pass over every registered kind. Returns how many deadlines were acted on."""
    now = now or timezone.now()
    acted = 0
    for kind in deadline_kinds():
        model = apps.get_model(kind.model)
        due_rows = list(
            model._default_manager.filter(**{f"{kind.due_field}__lte": now})
            .order_by(kind.due_field)
            .values_list("pk", kind.due_field)[:batch]
        )
        for pk, due in due_rows:
            acted += claim_and_act(kind, pk, due, now)
    return acted
