"""Clearing what intake only needs for a while: idempotency keys older than a week and finished
rate-limit windows. A daily deadline per channel (`Channel.housekeeping_due_at`), acted on by the
deadline sweeper (`jiepai worker`) like every other deadline."""

from __future__ import annotations

import datetime

from jiepai.deadlines.registry import DeadlineKind
from jiepai.intake.models import Channel, IdempotencyKey, RateWindow
from jiepai.intake.throttle import WINDOW_SECONDS

#: a repeat of an Idempotency-Key within this long answers the first answer
IDEMPOTENCY_RETENTION = datetime.timedelta(days=7)
HOUSEKEEPING_EVERY = datetime.timedelta(days=1)


def schedule_housekeeping(*, channel: Channel, now: datetime.datetime) -> None:
    channel.housekeeping_due_at = now + HOUSEKEEPING_EVERY
    Channel.objects.filter(pk=channel.pk).update(housekeeping_due_at=channel.housekeeping_due_at)


def clear_expired(channel: Channel, now: datetime.datetime) -> None:
    """The sweeper's act for one channel (it cleared the due time; this sets the next one)."""
    IdempotencyKey.objects.filter(
        channel=channel, created_at__lt=now - IDEMPOTENCY_RETENTION
    ).delete()
    current = int(now.timestamp()) // WINDOW_SECONDS
    RateWindow.objects.filter(channel=channel, bucket__lt=current - 1).delete()
    schedule_housekeeping(channel=channel, now=now)


HOUSEKEEPING = DeadlineKind(
    name="intake.housekeeping",
    model="intake.Channel",
    due_field="housekeeping_due_at",
    act=clear_expired,
)
