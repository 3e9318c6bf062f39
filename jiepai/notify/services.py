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
from dataclasses import dataclass, field

from django.db import connection, transaction
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


@dataclass(frozen=True)
class Message:
    """One notification to send to some people (see `notify`)."""

    recipients: Iterable[User | None]
    kind: str
    title: str
    body: str = ""
    url: str = ""
    dedupe_key: str = ""


def notify(
    *,
    recipients: Iterable[User | None],
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
    return notify_many([Message(recipients, kind, title, body, url, dedupe_key)], now=now)


def notify_many(
    messages: Iterable[Message], *, now: datetime.datetime | None = None
) -> list[Notification]:
    """Several notifications at once (e.g. a reassignment tells the previous owner, the new
    owner and the manager): one INSERT for the inbox rows and one query for every kind's
    delivery settings, instead of a few statements per notification."""
    rows = []
    for message in messages:
        for user in {u.pk: u for u in message.recipients if u is not None}.values():
            rows.append(
                Notification(
                    recipient=user,
                    kind=message.kind,
                    title=message.title[:200],
                    body=message.body,
                    url=message.url,
                    dedupe_key=message.dedupe_key,
                )
            )
    created = _insert_notifications(rows)
    if created:
        _plan_deliveries(created)
    return created


def _insert_notifications(rows: list[Notification]) -> list[Notification]:
    """Insert the inbox rows, skipping those a dedupe key says were already sent."""
    plain = [row for row in rows if not row.dedupe_key]
    keyed = [row for row in rows if row.dedupe_key]
    created = Notification.objects.bulk_create(plain) if plain else []
    return created + _insert_deduplicated(keyed)


_NOTIFICATION_COLUMNS = (
    "recipient_id",
    "kind",
    "title",
    "body",
    "url",
    "dedupe_key",
    "created_at",
    "updated_at",
)


def _insert_deduplicated(rows: list[Notification]) -> list[Notification]:
    """One INSERT ... ON CONFLICT DO NOTHING RETURNING for rows with a dedupe key: a repeat is
    skipped by the database (the unique index on recipient and key, partial: non-empty keys),
    without the savepoint and the error a plain INSERT would need (SQLite ≥ 3.35, PostgreSQL)."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    holder = "(" + ", ".join(["%s"] * len(_NOTIFICATION_COLUMNS)) + ")"
    # table and column names come from the model, never from input; values are parameters
    sql = (
        f"INSERT INTO {quote(Notification._meta.db_table)}"  # noqa: S608
        f" ({', '.join(map(quote, _NOTIFICATION_COLUMNS))})"
        f" VALUES {', '.join([holder] * len(rows))}"
        f" ON CONFLICT ({quote('recipient_id')}, {quote('dedupe_key')})"
        f" WHERE NOT ({quote('dedupe_key')} = '') DO NOTHING"  # the index's own condition
        f" RETURNING {quote('id')}, {quote('recipient_id')}, {quote('dedupe_key')}"
    )
    params: list[object] = []
    for row in rows:
        params += [row.recipient_id, row.kind, row.title, row.body, row.url, row.dedupe_key]
        params += [stamp, stamp]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {(recipient, key): pk for pk, recipient, key in cursor.fetchall()}
    created = []
    for row in rows:
        pk = inserted.pop((row.recipient_id, row.dedupe_key), None)
        if pk is None:
            continue  # already notified under this dedupe key (or a repeat in this batch)
        row.pk, row.created_at, row.updated_at = pk, now, now
        row._state.adding, row._state.db = False, connection.alias
        created.append(row)
    return created


def ensure_kind(key: str) -> NotificationKind:
    """The kind's configuration row, created with defaults on first use so an admin sees it."""
    kind, _created = NotificationKind.objects.get_or_create(key=key[:60], defaults={"label": key})
    return kind


@dataclass
class _Endpoint:
    """What planning a delivery needs of a group robot."""

    pk: int
    platform: str
    mention_recipients: bool
    usable: bool = True  # (for a personal choice: active and user-selectable)


@dataclass
class _KindSettings:
    email_by_default: bool = False
    endpoints: list[_Endpoint] = field(default_factory=list)
    #: per recipient with a stored preference: (e-mail?, the robots they chose)
    preferences: dict[int, tuple[bool, list[_Endpoint]]] = field(default_factory=dict)


def _delivery_settings(keys: list[str], user_ids: list[int]) -> dict[str, _KindSettings]:
    """Each kind's e-mail default, its broadcast robots and the recipients' preferences, read
    fresh in ONE query (these rows are few; a cache would have to notice every change to them,
    and this is what the 4–5 queries per notification it replaces cost)."""
    quote = connection.ops.quote_name
    kind_t = quote(NotificationKind._meta.db_table)
    robot_t = quote(RobotEndpoint._meta.db_table)
    robot_kinds_t = quote(RobotEndpoint.kinds.through._meta.db_table)
    pref_t = quote(Preference._meta.db_table)
    pref_robots_t = quote(Preference.robots.through._meta.db_table)
    keys_in = ", ".join(["%s"] * len(keys))
    users_in = ", ".join(["%s"] * len(user_ids))
    # table names come from the models, never from input; values are parameters
    sql = (
        f"SELECT 'k', k.key, k.id, k.email_by_default, CAST(NULL AS TEXT),"  # noqa: S608
        f" CAST(NULL AS BIGINT), CAST(NULL AS BOOLEAN), CAST(NULL AS BOOLEAN)"
        f" FROM {kind_t} k WHERE k.key IN ({keys_in})"
        f" UNION ALL SELECT 'e', k.key, e.id, e.mention_recipients, e.platform,"
        f" CAST(NULL AS BIGINT), CAST(NULL AS BOOLEAN), CAST(NULL AS BOOLEAN)"
        f" FROM {robot_t} e JOIN {robot_kinds_t} ek ON ek.robotendpoint_id = e.id"
        f" JOIN {kind_t} k ON k.id = ek.notificationkind_id"
        f" WHERE k.key IN ({keys_in}) AND e.active"
        f" UNION ALL SELECT 'p', k.key, p.user_id, p.email, e.platform, e.id,"
        f" e.mention_recipients, e.active AND e.user_selectable"
        f" FROM {pref_t} p JOIN {kind_t} k ON k.id = p.kind_id"
        f" LEFT JOIN {pref_robots_t} pr ON pr.preference_id = p.id"
        f" LEFT JOIN {robot_t} e ON e.id = pr.robotendpoint_id"
        f" WHERE k.key IN ({keys_in}) AND p.user_id IN ({users_in})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*keys, *keys, *keys, *user_ids])
        rows = cursor.fetchall()
    found: dict[str, _KindSettings] = {}
    for tag, key, a, b, platform, robot_id, mention, usable in rows:
        settings = found.setdefault(key, _KindSettings())
        if tag == "k":
            settings.email_by_default = bool(b)
        elif tag == "e":
            settings.endpoints.append(_Endpoint(a, platform, bool(b)))
        else:
            email, robots = settings.preferences.get(a, (bool(b), []))
            if robot_id is not None:
                robots.append(_Endpoint(robot_id, platform, bool(mention), bool(usable)))
            settings.preferences[a] = (email, robots)
    for key in keys:
        if key not in found:  # first use of this kind: its row appears for an admin to name
            found[key] = _KindSettings(email_by_default=ensure_kind(key).email_by_default)
    return found


def _plan_deliveries(notifications: list[Notification]) -> None:
    by_kind: dict[str, list[Notification]] = {}
    for note in notifications:
        by_kind.setdefault(note.kind, []).append(note)
    settings = _delivery_settings(sorted(by_kind), sorted({n.recipient_id for n in notifications}))
    deliveries: list[Delivery] = []
    for key, notes in by_kind.items():
        deliveries += _kind_deliveries(notes, settings[key])
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


def _kind_deliveries(notifications: list[Notification], kind: _KindSettings) -> list[Delivery]:
    """The e-mail and group-robot copies of one kind's notifications (one event)."""
    first = notifications[0]
    content = {
        "kind": first.kind,
        "title": first.title,
        "body": first.body,
        "url": absolute_url(first.url),
    }
    deliveries: list[Delivery] = []
    for note in notifications:
        user = note.recipient
        preference = kind.preferences.get(user.pk)
        wants_email = preference[0] if preference else kind.email_by_default
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
    groups: dict[int, tuple[_Endpoint, list[Notification]]] = {}
    for endpoint in kind.endpoints:
        groups[endpoint.pk] = (endpoint, list(notifications))
    for note in notifications:
        preference = kind.preferences.get(note.recipient_id)
        for endpoint in preference[1] if preference else ():
            if not endpoint.usable:
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
                endpoint_id=endpoint.pk,
                mentions=mobiles if endpoint.mention_recipients else [],
                **content,
            )
        )
    return deliveries


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
