"""Read side of the notify app.

An inbox is private: it is narrowed to the viewer's own rows here, never by `visible_to` (a
director who sees every lead still does not read a rep's inbox). Someone else's notification id
answers 404 like any record outside a scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from jiepai.notify.models import (
    Delivery,
    Notification,
    NotificationKind,
    Preference,
    RobotEndpoint,
)
from jiepai.org.models import Role, User


def inbox_for(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    notes = Notification.objects.filter(recipient=user)
    return notes.filter(read_at__isnull=True) if unread_only else notes


def unread_count(user: User) -> int:
    return inbox_for(user, unread_only=True).count()


def own_notification_or_404(user: User, pk: int) -> Notification:
    try:
        return inbox_for(user).get(pk=pk)
    except Notification.DoesNotExist as exc:
        raise Http404 from exc


def can_see_delivery_log(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN)


def delivery_log(*, status: str = "", channel: str = "") -> QuerySet[Delivery]:
    deliveries = Delivery.objects.select_related("endpoint", "recipient")
    if status:
        deliveries = deliveries.filter(status=status)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    return deliveries


@dataclass
class PreferenceRow:
    kind: NotificationKind
    email: bool
    robot_ids: set[int]
    broadcast_to: list[RobotEndpoint]
    customised: bool


def preference_rows(user: User) -> tuple[list[PreferenceRow], list[RobotEndpoint]]:
    """Every kind with the user's effective choice, and the robots the user may choose."""
    kinds = list(NotificationKind.objects.prefetch_related("endpoints"))
    selectable = list(RobotEndpoint.objects.filter(active=True, user_selectable=True))
    selectable_ids = {e.pk for e in selectable}
    saved = {p.kind_id: p for p in Preference.objects.filter(user=user).prefetch_related("robots")}
    rows = []
    for kind in kinds:
        preference = saved.get(kind.pk)
        rows.append(
            PreferenceRow(
                kind=kind,
                email=preference.email if preference else kind.email_by_default,
                robot_ids=(
                    {r.pk for r in preference.robots.all()} & selectable_ids
                    if preference
                    else set()
                ),
                broadcast_to=[e for e in kind.endpoints.all() if e.active],
                customised=preference is not None,
            )
        )
    return rows, selectable
