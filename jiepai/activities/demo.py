"""Follow-up facts for the demo company (`jiepai demo`): next actions as tasks, closure checks
with their results (so the process-quality page has figures), and the last five working days of
visits with a few anomalies for the managers' review queue.

A demo step (see jiepai.demo.generate.STEPS): idempotent by its step marker, fixed seed, writes
history only (no notifications, no pending reminders in the past).
"""

from __future__ import annotations

import datetime
import random
from typing import TYPE_CHECKING

from jiepai.activities.models import (
    Activity,
    ActivitySettings,
    ClosureCheck,
    ClosureResult,
    GeoStatus,
    Task,
    Visit,
    VisitFlag,
)
from jiepai.activities.selectors import user_zone
from jiepai.lib.notes import DEFAULT_VOCABULARY, parse_note

if TYPE_CHECKING:
    from jiepai.demo.generate import Demo

VISIT_DAYS = 5
NEEDS = [
    "希望缩短交付周期",
    "想了解售后响应时间",
    "关心设备能耗",
    "需要和现有系统对接",
    "预算在审批",
]
OBJECTIONS = ["价格偏高", "交期太长", "担心稳定性", "无", "要先比比别家"]
NEXT_STEPS = [
    "下周二看样机",
    "周五前发报价",
    "下周约院长汇报方案",
    "月底前确认预算",
    "3天后电话回访",
]


def make_follow_up_facts(demo: Demo) -> None:
    from jiepai.demo.generate import _insert, _mark_done, _step_done

    if _step_done("follow_up_facts"):
        return
    rng = demo.rng("follow_up_facts")
    tasks = _tasks_from_activities(demo, rng)
    _insert(Task, tasks)
    checks = _closure_checks(demo, rng)
    visits = _visits(demo, rng)
    _mark_done(demo, "follow_up_facts", len(tasks) + checks + visits)


def _kind_of(title: str, now: datetime.datetime) -> str:
    parsed = parse_note(title, now=now, vocabulary=DEFAULT_VOCABULARY)
    return parsed.action.kind if parsed.action else ""


def _tasks_from_activities(demo: Demo, rng: random.Random) -> list[Task]:
    """The recent follow-ups' next actions as tasks: past ones mostly done, future ones open
    (their reminders pending, so `jiepai worker` reminds the reps on time)."""
    since = demo.now - datetime.timedelta(days=10)
    rows = []
    people = [user.pk for user in demo.users.values()]
    activities = Activity.objects.filter(
        owner_id__in=people,
        next_action_due__gte=since,
        occurred_at__lte=demo.now,
        tasks__isnull=True,
    ).exclude(next_action="")
    for activity in activities.order_by("id"):
        due = activity.next_action_due
        past = due < demo.now
        done = past and rng.random() < 0.7
        rows.append(
            Task(
                title=activity.next_action,
                kind=_kind_of(activity.next_action, activity.occurred_at),
                owner_id=activity.owner_id,
                due_at=due,
                remind_at=None if past else due,
                reminded_at=due if past else None,
                done_at=due + datetime.timedelta(hours=rng.uniform(-20, 4)) if done else None,
                lead_id=activity.lead_id,
                account_id=activity.account_id,
                opportunity_id=activity.opportunity_id,
                activity_id=activity.pk,
                source="demo",
                created_at=activity.occurred_at,
                updated_at=activity.occurred_at,
            )
        )
    return rows


def _closure_checks(demo: Demo, rng: random.Random) -> int:
    """Deals that reached signing: a 签约 task some days ago and its D+1 contract check, passed
    for won deals, failed for one in three of the others."""
    deals = [d for d in demo.opportunities if d.stage.is_won or d.stage.probability >= 70]
    made = 0
    for number, deal in enumerate(deals[: max(3, len(deals) // 3)]):
        due = demo.now - datetime.timedelta(days=rng.uniform(2, 40))
        checked = due + datetime.timedelta(days=1)
        task = Task(
            title="签约",
            kind="signing",
            owner_id=deal.owner_id,
            due_at=due,
            reminded_at=due,
            done_at=due,
            opportunity_id=deal.pk,
            account_id=deal.account_id,
            source="demo",
            created_at=due - datetime.timedelta(days=rng.uniform(3, 10)),
            updated_at=due,
        )
        created = task.created_at
        task.save()
        Task.objects.filter(pk=task.pk).update(created_at=created, updated_at=due)
        failed = not deal.stage.is_won and number % 3 == 0
        ClosureCheck.objects.create(
            task=task,
            owner_id=deal.owner_id,
            opportunity_id=deal.pk,
            account_id=deal.account_id,
            action_kind="signing",
            evidence_kinds=["contract", "contract_draft"],
            check_at=None,
            checked_at=checked,
            result=ClosureResult.FAILED if failed else ClosureResult.PASSED,
        )
        made += 1
    return made


def _visits(demo: Demo, rng: random.Random) -> int:
    """Each rep's last five working days of check-ins at their own accounts; one rep per region
    has the anomalies seed 002 describes (no position, far from the account, empty visits)."""
    from jiepai.activities.visits import Position, _clock_flag, _position_flags, evaluate_rep_window

    settings_row = ActivitySettings.current()
    made = 0
    for region_reps in demo.reps.values():
        for index, rep in enumerate(region_reps):
            odd = index == len(region_reps) - 1
            accounts = [a for a in demo.accounts if a.owner_id == rep.pk and a.latitude is not None]
            if not accounts:
                continue
            zone = user_zone(rep)
            today = demo.now.astimezone(zone).date()
            days = [today - datetime.timedelta(days=n) for n in range(1, 10)]
            days = [d for d in days if d.weekday() < 5][:VISIT_DAYS]
            by_city: dict[str, list] = {}
            for account in accounts:
                by_city.setdefault(account.city, []).append(account)
            for day in reversed(days):
                moment = datetime.datetime.combine(day, datetime.time(9, 30), zone)
                city = rng.choice(sorted(by_city))  # a rep works one city a day
                for _ in range(rng.randint(1, 3)):
                    moment += datetime.timedelta(minutes=rng.randint(60, 150))
                    account = rng.choice(by_city[city])
                    position = Position(
                        GeoStatus.OK,
                        account.latitude + rng.uniform(-0.001, 0.001),
                        account.longitude + rng.uniform(-0.001, 0.001),
                        rng.uniform(8, 40),
                    )
                    empty = False
                    if odd and rng.random() < 0.25:
                        position = Position(GeoStatus.DENIED)
                    elif odd and rng.random() < 0.2:
                        position = Position(
                            GeoStatus.OK, account.latitude + 0.6, account.longitude, 30.0
                        )
                    if odd and rng.random() < 0.5:
                        empty = True
                    visit = Visit.objects.create(
                        owner=rep,
                        account=account,
                        started_at=moment,
                        client_started_at=moment + datetime.timedelta(seconds=rng.randint(-40, 40)),
                        start_latitude=position.latitude,
                        start_longitude=position.longitude,
                        start_accuracy_m=position.accuracy_m,
                        start_geo_status=position.status,
                        user_agent="Mozilla/5.0 (Linux; Android 14) Jiepai demo",
                        ended_at=moment + datetime.timedelta(minutes=rng.randint(25, 80)),
                        end_geo_status=position.status,
                        core_need="无" if empty else rng.choice(NEEDS),
                        objection="无" if empty else rng.choice(OBJECTIONS),
                        next_action="再联系" if empty else rng.choice(NEXT_STEPS),
                    )
                    _position_flags(visit, position, settings_row, moment)
                    _clock_flag(visit, visit.client_started_at, moment, settings_row)
                    # raised at check-in, so the review queue dates them then, not at loading
                    VisitFlag.objects.filter(visit=visit).update(
                        created_at=moment, updated_at=moment
                    )
                    made += 1
            evaluate_rep_window(rep=rep, now=demo.now)
    return made
