"""Reading follow-ups, tasks, visits and review flags, narrowed to what the viewer may see.

Follow-ups and tasks are not owned records of their own: a viewer sees one when they own it,
or when they can see the lead, account or deal it belongs to (jiepai.org.visibility decides
that), or as the manager of its owner. Visits and their flags are about a rep's day, so only
the rep, their managers (department subtree) and directors/admins see them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Q, QuerySet

from jiepai.activities.models import (
    Activity,
    ClosureCheck,
    ClosureResult,
    Task,
    Visit,
    VisitFlag,
)
from jiepai.customers.models import Account
from jiepai.intake.models import Lead
from jiepai.org.models import User
from jiepai.org.visibility import subtree_department_ids, visible_to
from jiepai.pipeline.models import Opportunity


def user_zone(user: User | None) -> ZoneInfo:
    """The user's time zone (their profile, else the site's)."""
    name = getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def local_now(user: User | None, now: datetime.datetime) -> datetime.datetime:
    return now.astimezone(user_zone(user))


def _people_rule(user: User, field: str = "owner") -> Q | None:
    """Rows whose `field` is the user or someone the user manages; None = no narrowing."""
    if user.sees_everything:
        return None
    rule = Q(**{field: user})
    if user.role == "manager":
        departments = subtree_department_ids(user)
        if departments:
            rule |= Q(**{f"{field}__department_id__in": departments})
    return rule


def visible_reps(user: User) -> QuerySet[User]:
    """People whose visits, flags and process figures the user may look at."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    people = User.objects.filter(is_active=True)
    if user.sees_everything:
        return people
    rule = Q(pk=user.pk)
    if user.role == "manager":
        departments = subtree_department_ids(user)
        if departments:
            rule |= Q(department_id__in=departments)
    return people.filter(rule)


def _record_rule(user: User) -> Q:
    return (
        Q(account__in=visible_to(user, Account.objects.all()).values("pk"))
        | Q(lead__in=visible_to(user, Lead.objects.all()).values("pk"))
        | Q(opportunity__in=visible_to(user, Opportunity.objects.all()).values("pk"))
    )


def visible_activities(user: User) -> QuerySet[Activity]:
    if not user.is_authenticated or not user.is_active:
        return Activity.objects.none()
    people = _people_rule(user)
    if people is None:
        return Activity.objects.all()
    return Activity.objects.filter(people | _record_rule(user))


def visible_tasks(user: User) -> QuerySet[Task]:
    if not user.is_authenticated or not user.is_active:
        return Task.objects.none()
    people = _people_rule(user)
    if people is None:
        return Task.objects.all()
    return Task.objects.filter(people | _record_rule(user))


def visible_visits(user: User) -> QuerySet[Visit]:
    if not user.is_authenticated or not user.is_active:
        return Visit.objects.none()
    rule = _people_rule(user)
    return Visit.objects.all() if rule is None else Visit.objects.filter(rule)


def visible_flags(user: User) -> QuerySet[VisitFlag]:
    if not user.is_authenticated or not user.is_active:
        return VisitFlag.objects.none()
    rule = _people_rule(user, "rep")
    return VisitFlag.objects.all() if rule is None else VisitFlag.objects.filter(rule)


def activities_for(entity: str, ids: list[int]) -> QuerySet[Activity]:
    """Follow-ups of leads, accounts, contacts or opportunities, for the timeline of a record the
    caller has already found visible (jiepai.core.timeline)."""
    field = {
        "account": "account_id__in",
        "contact": "contact_id__in",
        "lead": "lead_id__in",
        "opportunity": "opportunity_id__in",
    }.get(entity)
    if field is None:
        return Activity.objects.none()
    return Activity.objects.filter(**{field: ids}).select_related("owner", "contact")


def open_tasks(user: User) -> QuerySet[Task]:
    """The user's own open tasks, soonest first."""
    return Task.objects.filter(owner=user, done_at__isnull=True).order_by("due_at", "id")


@dataclass
class RepQuality:
    """A rep's process-quality figure: closure checks passed / checked (seed 000 过程质量分)."""

    rep: User
    passed: int = 0
    failed: int = 0
    failures: list[ClosureCheck] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def score(self) -> int | None:
        return round(100 * self.passed / self.total) if self.total else None


def process_quality(
    viewer: User,
    *,
    since: datetime.datetime,
    until: datetime.datetime,
) -> list[RepQuality]:
    """Per visible rep with checks in the period, lowest score first."""
    checks = ClosureCheck.objects.filter(
        checked_at__gte=since,
        checked_at__lt=until,
        result__in=[ClosureResult.PASSED, ClosureResult.FAILED],
        owner__in=visible_reps(viewer),
    ).select_related("owner", "task", "opportunity", "account")
    rows: dict[int, RepQuality] = {}
    for check in checks:
        row = rows.setdefault(check.owner_id, RepQuality(rep=check.owner))
        if check.result == ClosureResult.PASSED:
            row.passed += 1
        else:
            row.failed += 1
            row.failures.append(check)
    return sorted(rows.values(), key=lambda r: (r.score is None, r.score, r.rep.username))
