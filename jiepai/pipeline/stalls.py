"""Stall alerts (停滞提醒): a deal that sits in an open stage longer than the stage's `stall_hours`
without being touched notifies its owner and their manager, once per stall.

The deadline is data: `Opportunity.stall_due_at` (indexed) = `touched_at` + `stage.stall_hours`.
It is set when a deal is created, edited or moved, and when a follow-up is logged on it: the
follow-ups code calls `touch_opportunity(opportunity=..., now=...)`. The deadline sweeper
(`jiepai worker`, kind "opportunity.stalled") claims an overdue row with a compare-and-set and
calls `stall_alert`, which records an `opportunity.stalled` Event (the stage health report counts
these) and notifies with a one-tap "add follow-up" link. The sweeper has cleared `stall_due_at`
by then and nothing sets it again until the deal is touched: one alert per stall. The
notification's dedupe key names the stall (deal + the touch it follows) as a second guard.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.deadlines.registry import DeadlineKind
from jiepai.events.services import record_event
from jiepai.notify.services import notify
from jiepai.org.models import Department, User
from jiepai.pipeline.models import Opportunity, Stage

STALL_KIND = "opportunity.stalled"


def stall_due_at(stage: Stage, touched_at: datetime.datetime) -> datetime.datetime | None:
    """When a deal touched at `touched_at` in `stage` counts as stalled (None: never)."""
    if stage.is_closed or not stage.stall_hours:
        return None
    return touched_at + datetime.timedelta(hours=stage.stall_hours)


def touch_opportunity(*, opportunity: Opportunity, now: datetime.datetime | None = None) -> None:
    """Record that the deal moved forward now (edited, moved, or a follow-up was logged on it):
    the stall clock restarts. Call it in the transaction of the change.

    The UPDATE only applies when `now` is later than the last touch, so a late or concurrent
    caller with an older time never pulls the deadline back.
    """
    now = now or timezone.now()
    stage = Stage.objects.get(pk=opportunity.stage_id)
    due = stall_due_at(stage, now)
    Opportunity.objects.filter(
        Q(touched_at__isnull=True) | Q(touched_at__lt=now), pk=opportunity.pk
    ).update(touched_at=now, stall_due_at=due)
    opportunity.touched_at, opportunity.stall_due_at = now, due


def managers_of(user: User | None) -> list[User]:
    """The nearest manager up the user's department tree (not the user themselves)."""
    if user is None or user.department_id is None:
        return []
    department = user.department
    ids = [int(part) for part in department.path.strip("/").split("/") if part]
    by_id = {
        d.pk: d
        for d in Department.objects.filter(pk__in=ids, manager__isnull=False).select_related(
            "manager"
        )
    }
    for pk in reversed(ids):
        node = by_id.get(pk)
        if node and node.manager and node.manager.pk != user.pk and node.manager.is_active:
            return [node.manager]
    return []


def follow_up_url(opportunity: Opportunity) -> str:
    return reverse("pipeline:follow_up", args=[opportunity.pk])


def stall_alert(opportunity: Opportunity, now: datetime.datetime) -> None:
    """The deadline action: one `opportunity.stalled` Event and one notification per person."""
    stage = opportunity.stage
    if stage.is_closed or not stage.stall_hours:
        return
    touched = opportunity.touched_at or opportunity.stage_entered_at or opportunity.created_at
    hours = int((now - touched).total_seconds() // 3600)
    record_event(
        subject=opportunity,
        verb=STALL_KIND,
        data={
            "stage": stage.pk,
            "stage_name": stage.name,
            "owner": opportunity.owner_id,
            "stall_hours": stage.stall_hours,
            "touched_at": touched,
        },
        now=now,
    )
    owner = opportunity.owner
    notify(
        recipients=[owner, *managers_of(owner)],
        kind=STALL_KIND,
        title=_("商机“%(name)s”在“%(stage)s”阶段已 %(hours)d 小时没有进展")
        % {"name": opportunity.name, "stage": stage.name, "hours": hours},
        body=_("负责人:%(owner)s。点一下补一条跟进,或推进到下一阶段。")
        % {"owner": owner or _("无")},
        url=follow_up_url(opportunity),
        dedupe_key=f"{STALL_KIND}:{opportunity.pk}:{touched.isoformat()}",
    )


STALL_DEADLINE = DeadlineKind(
    name=STALL_KIND, model="pipeline.Opportunity", due_field="stall_due_at", act=stall_alert
)
