"""Telling people things. `notify` is the one entry point for every feature.

It writes the in-app inbox row in the caller's transaction (so a notification exists exactly
when the business change does) and never raises because a delivery channel is down: e-mail and
group-robot deliveries happen later, in tasks, with retries.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from jiepai.notify.models import Notification
from jiepai.org.models import User


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
) -> list[Notification]:
    """Notify each recipient once. With `dedupe_key`, a repeat for the same recipient is a no-op
    (e.g. one stall alert per deal per stage entry, however often the sweeper runs)."""
    created = []
    for user in {u.pk: u for u in recipients if u is not None}.values():
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        recipient=user,
                        kind=kind,
                        title=title[:200],
                        body=body,
                        url=url,
                        dedupe_key=dedupe_key,
                    )
                )
        except IntegrityError:
            continue  # already notified under this dedupe key
    return created
