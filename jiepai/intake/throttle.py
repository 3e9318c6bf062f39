"""Per-channel rate limit: a fixed one-minute window counted in the database, so every gunicorn
worker (and every web host) shares one count."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection

from jiepai.intake.models import Channel, RateWindow

WINDOW_SECONDS = 60
#: windows older than this many are deleted when a channel opens a new one
KEEP_WINDOWS = 10


@dataclass(frozen=True)
class Throttle:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window ends


def hit(*, channel: Channel, now: datetime.datetime) -> Throttle:
    """Count one request against the channel's current window.

    Call in autocommit, outside the intake transaction: the counter row is hot, and holding its
    lock for the whole intake would serialise a channel's intakes on PostgreSQL. The count is one
    atomic upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, SQLite ≥ 3.35 and PostgreSQL),
    so two workers counting at once both get a distinct, correct number.
    """
    limit = channel.rate_limit_per_minute
    epoch = int(now.timestamp())
    bucket = epoch // WINDOW_SECONDS
    retry_after = WINDOW_SECONDS - epoch % WINDOW_SECONDS
    if limit == 0:
        return Throttle(allowed=True, count=0, limit=0, retry_after=0)
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (channel_id, bucket, count) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (channel_id, bucket) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING count",
            [channel.pk, bucket],
        )
        count = cursor.fetchone()[0]
    if count == 1:
        RateWindow.objects.filter(channel=channel, bucket__lt=bucket - KEEP_WINDOWS).delete()
    return Throttle(allowed=count <= limit, count=count, limit=limit, retry_after=retry_after)
