"""Stage gates and stage reports benchmark (fixed seed).

    .venv/bin/python bench/bench_stage_reports.py [--deals 100000] [--reps 60] [--moves 300]
        [--database-url postgres://postgres@127.0.0.1:5432/x]

Builds `deals` opportunities on the default pipeline, owned by `reps` reps in 3 regions, with a
stage history over the last 180 days as events (created, stage_changed with entry times, some
stalled), then times:
1. the dwell heat map (stage × rep and × department) and the stage health report for a 90-day
   period, as the director (everything) and as a region manager (visibility narrowed);
2. the kanban board (columns, totals, first 50 cards per column) as director and manager;
3. `move_opportunity` end to end (lock, gate check, answers saved, move, event, commit) for
   `moves` deals 需求确认 → 输单 with the loss reason answered inline, and `preview_move`
   (the gate check alone) for 需求确认 → 商务谈判 (all five requirements of two stages).
The database is a fresh SQLite file in a temporary directory, or (with --database-url) a
PostgreSQL database of that name dropped and created for the run.
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from benchdb import fresh_database

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260302


def setup_database(tmp: Path, url: str | None) -> str:
    sys.path.insert(0, str(ROOT))
    return fresh_database(tmp, url)


def timed(label: str, fn, repeat: int = 3):
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<58} {best * 1000:9.1f} ms (best of {repeat})")
    return result


def build(deals: int, reps: int, now: datetime.datetime):
    from django.db import transaction

    from jiepai.customers.models import Account
    from jiepai.events.models import Event
    from jiepai.org.services import create_department, create_user
    from jiepai.pipeline.models import Opportunity, Stage

    rng = random.Random(SEED)
    company = create_department(name="节拍科技")
    regions = [create_department(name=n, parent=company) for n in ("华东", "华北", "华南")]
    managers = []
    for i, region in enumerate(regions):
        manager = create_user(
            username=f"manager{i}", password=None, role="manager", department=region
        )
        region.manager = manager
        region.save()
        managers.append(manager)
    director = create_user(username="director", password=None, role="director", department=company)
    people = [
        create_user(username=f"rep{i}", password=None, role="rep", department=regions[i % 3])
        for i in range(reps)
    ]
    stages = list(Stage.objects.filter(pipeline__is_default=True).order_by("position"))
    open_stages = [s for s in stages if not s.is_closed]
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            [Account(name=f"客户{i}", owner=people[i % reps]) for i in range(max(deals // 5, 1))],
            batch_size=2000,
        )
        rows, histories = [], []
        for i in range(deals):
            owner = people[rng.randrange(reps)]
            created = now - datetime.timedelta(days=rng.uniform(0, 180))
            steps = rng.randrange(len(open_stages))  # how many open stages it moved through
            end = rng.random()
            path = open_stages[1 : steps + 1] + (
                [won] if end < 0.15 else [lost] if end < 0.35 else []
            )
            times = sorted(created + (now - created) * rng.random() for _ in path)
            stage = path[-1] if path else open_stages[0]
            entered = times[-1] if times else created
            touched = max(entered, now - datetime.timedelta(hours=rng.uniform(0, 200)))
            rows.append(
                Opportunity(
                    name=f"商机{i}",
                    account=accounts[rng.randrange(len(accounts))],
                    owner=owner,
                    stage=stage,
                    amount=Decimal(rng.randrange(5, 500) * 10000),
                    stage_entered_at=entered,
                    closed_at=entered if stage.is_closed else None,
                    loss_reason="价格" if stage.is_lost else "",
                    touched_at=touched,
                )
            )
            histories.append((owner, created, list(zip(path, times, strict=True))))
        Opportunity.objects.bulk_create(rows, batch_size=2000)
        events = []
        for deal, (owner, created, path) in zip(rows, histories, strict=True):
            events.append(
                Event(
                    created_at=created,
                    subject_type="opportunity",
                    subject_id=deal.pk,
                    verb="opportunity.created",
                    after={
                        "stage": open_stages[0].pk,
                        "stage_entered_at": created.isoformat(),
                        "owner": owner.pk,
                    },
                )
            )
            previous, previous_at = open_stages[0], created
            for stage, at in path:
                if (at - previous_at).total_seconds() > previous.stall_hours * 3600:
                    events.append(
                        Event(
                            created_at=previous_at + datetime.timedelta(hours=previous.stall_hours),
                            subject_type="opportunity",
                            subject_id=deal.pk,
                            verb="opportunity.stalled",
                            data={"stage": previous.pk, "owner": owner.pk},
                        )
                    )
                events.append(
                    Event(
                        created_at=at,
                        subject_type="opportunity",
                        subject_id=deal.pk,
                        verb="opportunity.stage_changed",
                        before={"stage": previous.pk, "stage_entered_at": previous_at.isoformat()},
                        after={"stage": stage.pk, "stage_entered_at": at.isoformat()},
                        data={"owner": owner.pk},
                    )
                )
                previous, previous_at = stage, at
        Event.objects.bulk_create(events, batch_size=5000)
    return director, managers[0], people, len(events)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=60)
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = setup_database(Path(tmp), args.database_url)
        from django.db import connection
        from django.utils import timezone

        from jiepai.pipeline.kanban import BoardFilters, board_columns, default_pipeline
        from jiepai.pipeline.models import Opportunity, Stage
        from jiepai.pipeline.reports import Period, dwell_heatmap, stage_health
        from jiepai.pipeline.stages import move_opportunity, preview_move

        now = timezone.now()
        print(f"database: {connection.vendor} ({url.split('@')[-1]})")
        start = time.perf_counter()
        director, manager, reps, n_events = build(args.deals, args.reps, now)
        print(
            f"built {args.deals:,} deals, {n_events:,} events, {args.reps} reps "
            f"in {time.perf_counter() - start:.1f} s"
        )
        pipeline = default_pipeline()
        period = Period(start=now - datetime.timedelta(days=90), end=now)
        print("reports, 90-day period:")
        for who, viewer in (("director", director), ("manager (1 of 3 regions)", manager)):
            timed(
                f"dwell heat map × rep, {who}",
                lambda v=viewer: dwell_heatmap(viewer=v, pipeline=pipeline, period=period),
            )
            timed(
                f"dwell heat map × department, {who}",
                lambda v=viewer: dwell_heatmap(
                    viewer=v, pipeline=pipeline, period=period, by="department"
                ),
            )
            timed(
                f"stage health per rep, {who}",
                lambda v=viewer: stage_health(viewer=v, pipeline=pipeline, period=period),
            )
        print("kanban board:")
        for who, viewer in (("director", director), ("manager", manager), ("rep", reps[0])):
            timed(
                f"board columns + totals + cards, {who}",
                lambda v=viewer: board_columns(viewer=v, pipeline=pipeline, filters=BoardFilters()),
            )
        stages = {s.name: s for s in Stage.objects.filter(pipeline=pipeline)}
        candidates = list(
            Opportunity.objects.filter(stage=stages["需求确认"]).order_by("pk")[: args.moves]
        )
        previews = []
        for deal in candidates[:100]:
            t = time.perf_counter()
            preview_move(opportunity=deal, to_stage=stages["商务谈判"], now=now)
            previews.append((time.perf_counter() - t) * 1000)
        moves = []
        for deal in candidates:
            t = time.perf_counter()
            move_opportunity(
                opportunity=deal,
                to_stage=stages["输单"],
                actor=deal.owner,
                values={"loss_reason": "预算取消"},
            )
            moves.append((time.perf_counter() - t) * 1000)

        def pct(values: list[float], q: int) -> float:
            return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]

        print("gates:")
        print(
            f"  preview_move 需求确认→商务谈判 (5 requirements)         "
            f"p50 {statistics.median(previews):6.2f} ms  p95 {pct(previews, 95):6.2f} ms"
        )
        print(
            f"  move_opportunity 需求确认→输单 (answer + move + event)  "
            f"p50 {statistics.median(moves):6.2f} ms  p95 {pct(moves, 95):6.2f} ms"
        )


if __name__ == "__main__":
    main()
