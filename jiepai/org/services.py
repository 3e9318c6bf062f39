"""Use-cases for departments, people and rep presence."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.events.services import record_event
from jiepai.org.models import Department, OnlineStatus, RepProfile, Role, User

#: roles that carry a rep profile (they can be routed leads)
SELLING_ROLES = (Role.REP, Role.MANAGER)


@transaction.atomic
def create_department(
    *, name: str, parent: Department | None = None, manager: User | None = None
) -> Department:
    department = Department.objects.create(name=name, parent=parent, manager=manager)
    department.path = f"{parent.path if parent else '/'}{department.pk}/"
    department.save(update_fields=["path"])
    return department


@transaction.atomic
def move_department(*, department: Department, parent: Department | None) -> Department:
    """Re-parent a department and rewrite the paths of its whole subtree."""
    if parent is not None and parent.path.startswith(department.path):
        raise ValidationError({"parent": _("不能把部门移到它自己的下级部门下")})
    old = department.path
    new = f"{parent.path if parent else '/'}{department.pk}/"
    for node in Department.objects.filter(path__startswith=old).select_for_update():
        node.path = new + node.path[len(old) :]
        node.save(update_fields=["path"])
    department.refresh_from_db()
    department.parent = parent
    department.save(update_fields=["parent"])
    return department


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    role: str = Role.REP,
    department: Department | None = None,
    display_name: str = "",
    email: str = "",
    superuser: bool = False,
    capacity: int = 8,
    industries: list[str] | None = None,
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("用户名已存在")})
    user = User(
        username=username,
        role=role,
        department=department,
        display_name=display_name,
        email=email,
        is_superuser=superuser,
        is_staff=superuser or role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if role in SELLING_ROLES:
        RepProfile.objects.create(user=user, capacity=capacity, industries=industries or [])
    return user


def set_online_status(
    *, user: User, status: str, now: datetime.datetime | None = None
) -> RepProfile:
    """Set by the rep themselves (按活动/在线/忙碌/离线); written to the trace."""
    if status not in OnlineStatus.values:
        raise ValidationError({"online_status": _("无效的在线状态")})
    now = now or timezone.now()
    with transaction.atomic():
        profile = RepProfile.objects.select_for_update().get(user=user)
        before = profile.online_status
        profile.online_status = status
        profile.last_seen_at = now
        profile.save(update_fields=["online_status", "last_seen_at", "updated_at"])
        record_event(
            subject_type="user",
            subject_id=user.pk,
            verb="rep.status_changed",
            actor=user,
            before={"online_status": before},
            after={"online_status": status},
            now=now,
        )
    return profile


def set_paused(
    *, user: User, paused: bool, actor: User, now: datetime.datetime | None = None
) -> RepProfile:
    """Pause or resume receiving new leads."""
    now = now or timezone.now()
    with transaction.atomic():
        profile = RepProfile.objects.select_for_update().get(user=user)
        before = profile.paused
        profile.paused = paused
        profile.save(update_fields=["paused", "updated_at"])
        record_event(
            subject_type="user",
            subject_id=user.pk,
            verb="rep.paused" if paused else "rep.resumed",
            actor=actor,
            before={"paused": before},
            after={"paused": paused},
            now=now,
        )
    return profile


#: a rep seen within this long counts as online even if they never set a status
PRESENCE_WINDOW = datetime.timedelta(minutes=15)


def touch_presence(*, user: User, now: datetime.datetime | None = None) -> None:
    """Activity marks a rep as recently seen (the "online by activity" half of presence).

    A cheap conditional UPDATE, at most once a minute per rep, so request paths can call it.
    """
    now = now or timezone.now()
    RepProfile.objects.filter(user=user).exclude(
        last_seen_at__gt=now - datetime.timedelta(minutes=1)
    ).update(last_seen_at=now)


def is_online(profile: RepProfile, now: datetime.datetime | None = None) -> bool:
    """在线 when the rep says so; 忙碌 and 离线 are never online; 按活动 (the default) is online
    while the rep was seen in the app within PRESENCE_WINDOW."""
    now = now or timezone.now()
    if profile.online_status == OnlineStatus.ONLINE:
        return True
    if profile.online_status in (OnlineStatus.BUSY, OnlineStatus.OFFLINE):
        return False
    return profile.last_seen_at is not None and now - profile.last_seen_at <= PRESENCE_WINDOW
