"""Telling people things. `notify` is the one entry point for every feature.

It writes the in-app inbox row in the caller's transaction (so a notification exists exactly
when the business change does) and never raises because a delivery channel is down: e-mail and
group-robot copies are `Delivery` rows, sent by a task after the caller's transaction commits,
retried with exponential backoff by the deadline sweeper (`next_attempt_at`), logged per attempt.

Life of a Delivery:
    created pending, attempts=0, next_attempt_at = now + lease   (fallback if the task is lost)
    on commit → task send_delivery(attempt=0)
    attempt_delivery claims attempt n → n+1 (compare-and-set), sends outside any transaction:
        ok       → sent, next_attempt_at = None
        failure  → next_attempt_at = now + backoff(n+1); after max_attempts → failed
    sweeper (deadline kind "notify.delivery_retry") on a due pending row → task(attempt=n)
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.notify.channels import absolute_url, send
from jiepai.notify.models import (
    Delivery,
    DeliveryChannel,
    DeliveryPolicy,
    DeliveryStatus,
    Notification,
    NotificationKind,
    Preference,
    RobotEndpoint,
)
from jiepai.org.models import User

logger = logging.getLogger(__name__)


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
    now: datetime.datetime | None = None,
) -> list[Notification]:
    """Notify each recipient once. With `dedupe_key`, a repeat for the same recipient is a no-op
    (e.g. one stall alert per deal per stage entry, however often the sweeper runs).

    Besides the inbox rows, plans the e-mail and group-robot copies the recipients' preferences
    ask for; they are sent after the caller's transaction commits (nothing if it rolls back).
    `now` is accepted from callers that run on a passed-in clock; the inbox row's time and the
    delivery schedule use the real clock."""
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
    if created:
        _plan_deliveries(created)
    return created


def ensure_kind(key: str) -> NotificationKind:
    """The kind's configuration row, created with defaults on first use so an admin sees it."""
    kind, _created = NotificationKind.objects.get_or_create(key=key[:60], defaults={"label": key})
    return kind


def _plan_deliveries(notifications: list[Notification]) -> None:
    first = notifications[0]
    kind = ensure_kind(first.kind)
    content = {
        "kind": first.kind,
        "title": first.title,
        "body": first.body,
        "url": absolute_url(first.url),
    }
    preferences = {
        p.user_id: p
        for p in Preference.objects.filter(
            kind=kind, user_id__in=[n.recipient_id for n in notifications]
        ).prefetch_related("robots")
    }
    deliveries: list[Delivery] = []
    for note in notifications:
        user = note.recipient
        preference = preferences.get(user.pk)
        wants_email = preference.email if preference else kind.email_by_default
        if wants_email and user.email and user.is_active:
            deliveries.append(
                Delivery(
                    notification=note,
                    channel=DeliveryChannel.EMAIL,
                    recipient=user,
                    address=user.email,
                    **content,
                )
            )

    # Group robots: one message per group per event, however many recipients it concerns.
    groups: dict[int, tuple[RobotEndpoint, list[Notification]]] = {}
    for endpoint in kind.endpoints.filter(active=True):
        groups[endpoint.pk] = (endpoint, list(notifications))
    for note in notifications:
        preference = preferences.get(note.recipient_id)
        for endpoint in preference.robots.all() if preference else ():
            if not (endpoint.active and endpoint.user_selectable):
                continue
            members = groups.setdefault(endpoint.pk, (endpoint, []))[1]
            if note not in members:
                members.append(note)
    for endpoint, members in groups.values():
        mobiles = sorted({n.recipient.mobile for n in members if n.recipient.mobile})
        deliveries.append(
            Delivery(
                notification=members[0],
                channel=endpoint.platform,
                endpoint=endpoint,
                mentions=mobiles if endpoint.mention_recipients else [],
                **content,
            )
        )
    if not deliveries:
        return
    # When the sweeper sends a copy whose task got lost. On the real clock, not the caller's
    # `now` (which may be a replayed or simulated time): it is about a real network send.
    fallback = timezone.now() + DeliveryPolicy.current().lease
    for delivery in deliveries:
        delivery.next_attempt_at = fallback
    Delivery.objects.bulk_create(deliveries)
    plan = [(d.pk, 0) for d in deliveries]
    # After commit only: a rolled-back business change sends nothing. robust=True: a broken
    # task queue must not turn a committed business action into an error; the rows' fallback
    # next_attempt_at lets the sweeper send them anyway.
    transaction.on_commit(lambda: enqueue_attempts(plan), robust=True)


def enqueue_attempts(plan: list[tuple[int, int]]) -> None:
    from jiepai.notify.tasks import send_delivery

    for delivery_id, attempt in plan:
        try:
            send_delivery.enqueue(delivery_id=delivery_id, attempt=attempt)
        except Exception:
            logger.exception("could not enqueue delivery %s; the sweeper will retry", delivery_id)


def attempt_delivery(
    *, delivery_id: int, attempt: int, now: datetime.datetime | None = None
) -> Delivery | None:
    """Make attempt number `attempt + 1` of a pending delivery, if nobody made it already.

    Returns the updated delivery, or None when this caller lost the claim (or it is not pending).
    Must be called outside a transaction: the network call must not hold database locks."""
    now = now or timezone.now()
    policy = DeliveryPolicy.current()
    # Claim with compare-and-set on `attempts`: of two workers holding the same task (the fast
    # path and a sweeper retry, or a redelivered task), exactly one moves attempts from n to n+1
    # and sends; the other matches no row and stops. The lease keeps the sweeper off the row
    # while the attempt runs; if this worker dies, the sweeper retries when the lease ends.
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt
    ).update(attempts=attempt + 1, next_attempt_at=now + policy.lease, updated_at=now)
    if claimed != 1:
        return None
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    result = send(delivery)
    changes: dict = {
        "response_code": result.response_code,
        "last_error": result.error,
        "updated_at": now,
    }
    if result.ok:
        changes.update(status=DeliveryStatus.SENT, sent_at=now, next_attempt_at=None)
    elif result.permanent or delivery.attempts >= policy.max_attempts:
        changes.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        changes["next_attempt_at"] = now + policy.backoff(delivery.attempts)
    # Only the owner of this attempt records its outcome (a later attempt, after a lost lease,
    # has moved `attempts` on and owns the row).
    if Delivery.objects.filter(pk=delivery_id, attempts=attempt + 1).update(**changes):
        for name, value in changes.items():
            setattr(delivery, name, value)
    else:
        delivery.refresh_from_db()
    return delivery


def retry_due_delivery(delivery: Delivery, now: datetime.datetime) -> None:
    """Deadline act for "notify.delivery_retry": the sweeper cleared `next_attempt_at` in its
    claim (so this runs once per due time, across workers); hand the attempt to a task after the
    sweeper's transaction commits, and keep a fallback time in case that task is lost."""
    if delivery.status != DeliveryStatus.PENDING:
        return
    policy = DeliveryPolicy.current()
    if delivery.attempts >= policy.max_attempts:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, updated_at=now
        )
        return
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + policy.lease)
    plan = [(delivery.pk, delivery.attempts)]
    transaction.on_commit(lambda: enqueue_attempts(plan), robust=True)


def resend_delivery(*, delivery: Delivery, now: datetime.datetime | None = None) -> Delivery:
    """An admin's "send again": a fresh retry schedule for a given-up (or pending) delivery."""
    now = now or timezone.now()
    policy = DeliveryPolicy.current()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now + policy.lease,
        updated_at=now,
    )
    plan = [(delivery.pk, 0)]
    transaction.on_commit(lambda: enqueue_attempts(plan), robust=True)
    delivery.refresh_from_db()
    return delivery


def send_test_message(
    *, endpoint: RobotEndpoint, actor: User, now: datetime.datetime | None = None
) -> Delivery:
    """A test post to a group robot, to check its URL and secret; the outcome shows in the
    delivery log like any other delivery (sent after the caller's transaction commits)."""
    now = now or timezone.now()
    delivery = Delivery.objects.create(
        channel=endpoint.platform,
        endpoint=endpoint,
        kind="notify.test",
        title=_("节拍 CRM 测试消息"),
        body=_("%(user)s 在配置群机器人“%(name)s”:收到这条消息说明配置正确。")
        % {"user": actor, "name": endpoint.name},
        url=absolute_url("/inbox/"),
        next_attempt_at=now + DeliveryPolicy.current().lease,
    )
    plan = [(delivery.pk, 0)]
    transaction.on_commit(lambda: enqueue_attempts(plan), robust=True)
    return delivery


# --- inbox ------------------------------------------------------------------------------------


def mark_read(*, user: User, notification_id: int, now: datetime.datetime | None = None) -> bool:
    """Mark one of the user's own notifications read. False when it is not theirs."""
    now = now or timezone.now()
    own = Notification.objects.filter(pk=notification_id, recipient=user)
    if not own.exists():
        return False
    own.filter(read_at__isnull=True).update(read_at=now, updated_at=now)
    return True


def mark_all_read(*, user: User, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now, updated_at=now
    )


# --- preferences ------------------------------------------------------------------------------


def save_preferences(*, user: User, choices: dict[int, tuple[bool, set[int]]]) -> list[Preference]:
    """Store the user's choice per kind id: (e-mail?, ids of group robots). Robots the user may
    not choose (inactive or not user-selectable) are ignored; unknown kinds are skipped. A choice
    equal to the kind's defaults is stored as no row, so the user keeps following the defaults
    when an admin changes them later."""
    kinds = NotificationKind.objects.in_bulk(list(choices))
    allowed = set(
        RobotEndpoint.objects.filter(active=True, user_selectable=True).values_list("pk", flat=True)
    )
    saved = []
    with transaction.atomic():
        for kind_id, (email, robot_ids) in choices.items():
            kind = kinds.get(kind_id)
            if kind is None:
                continue
            robots = sorted(robot_ids & allowed)
            if email == kind.email_by_default and not robots:
                Preference.objects.filter(user=user, kind=kind).delete()
                continue
            preference, _created = Preference.objects.update_or_create(
                user=user, kind=kind, defaults={"email": email}
            )
            preference.robots.set(robots)
            saved.append(preference)
    return saved
