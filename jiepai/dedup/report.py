"""The weekly duplicate top-10 (《重复录入TOP10清单》, seed 002): which entry points and which reps
created the most duplicates last week, sent to managers.

Scheduling is data, like every deadline: one ReportSchedule row ("weekly_duplicates",
switched on with `jiepai dedup schedule-report`) whose `next_run_at` the sweeper in
`jiepai worker` acts on (it claims the row with a compare-and-set,
so with several workers the report goes out once). The sweeper's action only enqueues the
`send_weekly_report` task and moves `next_run_at` a week on; the scan itself runs in the task,
outside the sweeper's write transaction (a scan of a million contacts takes a minute; SQLite
would hold its write lock that long). `jiepai dedup report` runs it by hand.

A "duplicate created" in the week is a record created in the week that was then flagged as a
duplicate at the door, merged into another record, or found by the scan as the newer record of
a cluster. It is counted for the person who created it (the actor of its `*.created` event, else
its owner) and for its entry point (the lead's channel; for accounts and contacts the event's
`source`, else 手工录入).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from jiepai.core.entities import ENTITY_LABELS, model_for
from jiepai.deadlines.registry import DeadlineKind, register_deadline
from jiepai.dedup.models import (
    DEDUP_ENTITIES,
    ClusterStatus,
    DuplicateCluster,
    DuplicateFlag,
    ReportSchedule,
)
from jiepai.events.models import Event
from jiepai.notify.services import notify
from jiepai.org.models import Role, User
from jiepai.org.visibility import subtree_department_ids

SCHEDULE_NAME = "weekly_duplicates"
TOP = 10
#: Monday 09:00 local time: the start of the week's sales meeting
WEEKDAY, HOUR = 0, 9


@dataclass
class WeeklyReport:
    since: datetime.datetime
    until: datetime.datetime
    total: int = 0
    by_rep: list[tuple[str, int]] = field(default_factory=list)
    by_entry: list[tuple[str, int]] = field(default_factory=list)
    by_entity: dict[str, int] = field(default_factory=dict)


def next_run(now: datetime.datetime) -> datetime.datetime:
    """The next Monday 09:00 (settings.TIME_ZONE) strictly after `now`."""
    local = now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    days = (WEEKDAY - local.weekday()) % 7
    candidate = (local + datetime.timedelta(days=days)).replace(
        hour=HOUR, minute=0, second=0, microsecond=0
    )
    if candidate <= local:
        candidate += datetime.timedelta(days=7)
    return candidate.astimezone(datetime.UTC)


def set_report_schedule(*, on: bool, now: datetime.datetime | None = None) -> ReportSchedule:
    """Switch the weekly report on (next Monday 09:00) or off."""
    schedule, _ = ReportSchedule.objects.get_or_create(name=SCHEDULE_NAME)
    schedule.next_run_at = next_run(now or timezone.now()) if on else None
    schedule.save(update_fields=["next_run_at"])
    return schedule


def schedule_due(schedule: ReportSchedule, now: datetime.datetime) -> None:
    """The sweeper's action: enqueue the report (an outbox row) and set the next run."""
    send_weekly_report.enqueue(now=now.isoformat())
    schedule.last_run_at = now
    schedule.next_run_at = next_run(now)
    schedule.save(update_fields=["last_run_at", "next_run_at"])


def register() -> None:
    register_deadline(
        DeadlineKind("dedup.weekly_report", "dedup.ReportSchedule", "next_run_at", schedule_due)
    )


@task()
def send_weekly_report(*, now: str) -> int:
    return run_weekly_report(now=datetime.datetime.fromisoformat(now))


def _duplicates_created(since: datetime.datetime, until: datetime.datetime) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {entity: set() for entity in DEDUP_ENTITIES}
    for entity in DEDUP_ENTITIES:
        model = model_for(entity)
        created = model._default_manager.filter(created_at__gte=since, created_at__lt=until)
        found[entity] |= set(
            DuplicateFlag.objects.filter(
                entity=entity, created_at__gte=since, created_at__lt=until
            ).values_list("object_id", flat=True)
        )
        found[entity] |= set(created.filter(merged_into__isnull=False).values_list("pk", flat=True))
        newer: set[int] = set()
        for ids in DuplicateCluster.objects.filter(
            entity=entity, status=ClusterStatus.OPEN
        ).values_list("record_ids", flat=True):
            newer |= set(sorted(ids)[1:])
        if newer:
            found[entity] |= set(created.filter(pk__in=newer).values_list("pk", flat=True))
    return found


def _entry_point(entity: str, record: object, event: Event | None) -> str:
    if entity == "lead" and getattr(record, "channel_id", None):
        return str(record.channel)
    data = event.data if event is not None else {}
    source = data.get("source") or data.get("channel") or ("import" if data.get("import") else "")
    labels = {"import": _("批量导入"), "api": _("API"), "intake": _("渠道接入")}
    return str(labels.get(source, source)) if source else _("手工录入")


def weekly_report(*, now: datetime.datetime, reps: set[int] | None = None) -> WeeklyReport:
    """The top-10 of the 7 days before `now`; with `reps`, only records those people created."""
    since = now - datetime.timedelta(days=7)
    report = WeeklyReport(since=since, until=now)
    by_rep: Counter[str] = Counter()
    by_entry: Counter[str] = Counter()
    for entity, ids in _duplicates_created(since, now).items():
        if not ids:
            continue
        model = model_for(entity)
        records = model._default_manager.filter(pk__in=ids).select_related("owner")
        if entity == "lead":
            records = records.select_related("channel")
        events = {
            e.subject_id: e
            for e in Event.objects.filter(
                subject_type=entity, subject_id__in=ids, verb=f"{entity}.created"
            ).select_related("actor")
        }
        for record in records:
            event = events.get(record.pk)
            person = (event.actor if event is not None and event.actor else None) or record.owner
            if reps is not None and (person is None or person.pk not in reps):
                continue
            by_rep[str(person) if person else _("无")] += 1
            by_entry[_entry_point(entity, record, event)] += 1
            report.by_entity[entity] = report.by_entity.get(entity, 0) + 1
            report.total += 1
    report.by_rep = by_rep.most_common(TOP)
    report.by_entry = by_entry.most_common(TOP)
    return report


def report_text(report: WeeklyReport) -> str:
    lines = [_("上周共新增疑似重复记录 %(n)d 条。") % {"n": report.total}]
    if report.by_entity:
        lines.append(
            "、".join(f"{ENTITY_LABELS.get(e, e)} {n}" for e, n in sorted(report.by_entity.items()))
        )
    if report.by_entry:
        lines.append(_("高频出错入口:"))
        lines += [f"{i}. {name} {n}" for i, (name, n) in enumerate(report.by_entry, 1)]
    if report.by_rep:
        lines.append(_("重复录入最多的人:"))
        lines += [f"{i}. {name} {n}" for i, (name, n) in enumerate(report.by_rep, 1)]
    return "\n".join(lines)


def reps_of(manager: User) -> set[int] | None:
    if manager.sees_everything:
        return None
    departments = subtree_department_ids(manager)
    return set(User.objects.filter(department_id__in=departments).values_list("pk", flat=True))


def run_weekly_report(*, now: datetime.datetime) -> int:
    """Scan every entity (refreshing the review clusters), then notify each manager with the
    top-10 of their own people (directors and admins: everyone). Returns notifications sent."""
    from jiepai.dedup.scan import save_clusters, scan

    for entity in DEDUP_ENTITIES:
        save_clusters(entity, scan(entity), now=now)
    week = next_run(now - datetime.timedelta(days=7)).date().isoformat()
    sent = 0
    managers = User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.DIRECTOR])
    for manager in managers:
        report = weekly_report(now=now, reps=reps_of(manager))
        if not report.total:
            continue
        sent += len(
            notify(
                recipients=[manager],
                kind="dedup.weekly_report",
                title=_("重复录入 TOP10(截至 %(date)s):%(n)d 条")
                % {"date": timezone.localtime(now).date().isoformat(), "n": report.total},
                body=report_text(report),
                url=reverse("dedup:report"),
                dedupe_key=f"dedup.weekly:{week}",
            )
        )
    return sent
