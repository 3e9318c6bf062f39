"""Routing benchmark (fixed seed): one routing decision among 50 reps, and the deadline sweeper
acting on expiring response windows while 100,000 deadlines are pending.

    .venv/bin/python bench/bench_routing.py [--reps 50] [--pending 100000] [--expiring 600]
        [--window 60] [--burst 2000] [--database-url postgres://postgres@127.0.0.1:5432/x]

1. Decision: 50 reps in one department with history (open and won opportunities, converted
   leads per industry). For each policy: the time to load the candidates (queries), the pure
   decision (jiepai.routing.scoring, the part that must stay ≤ 1 ms) timed call by call, and
   `route_lead` end to end (choose policy, load, decide, write lead/assignment/offers/event/
   notifications, commit) over fresh leads.
2. Sweeper: `pending` deadlines, of which `expiring` response windows of assigned leads fall
   due evenly over `window` seconds and the rest days ahead (open offer rounds' locks, or with
   --far-kind windows more response windows of the same reps). A real `jiepai worker` process
   (idle interval 1 s) runs meanwhile; lateness = the reassignment's insert time − due time.
   Then a burst: `burst` deadlines due at the same instant, and the time the worker takes to
   drain them (its throughput).
The database is a fresh SQLite file in a temporary directory, or (with --database-url) a
PostgreSQL database of that name dropped and created for the run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchdb import fresh_database

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260302
#: room for the leads part 1 routes and the windows part 2 reassigns (a realistic cap is 8)
CAPACITY = 40
INDUSTRIES = ["机械制造", "医疗器械", "汽车零部件", "IT服务", "化工", "半导体"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt_ms(timings: tuple[list[float], list[float]]) -> str:
    """Wall-clock and CPU (process) time percentiles: on a shared machine the CPU time is the
    cost of the code, the wall time adds waiting for a core."""
    wall, cpu = timings
    return (
        f"wall p50 {percentile(wall, 0.5) * 1000:.3f} · p99 {percentile(wall, 0.99) * 1000:.3f} ms"
        f" | cpu p50 {percentile(cpu, 0.5) * 1000:.3f} · p99 {percentile(cpu, 0.99) * 1000:.3f} ms"
        f" (n={len(wall)})"
    )


def measure(fn, times: int) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(times):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return wall, cpu


def build_team(reps: int, rng: random.Random):
    from decimal import Decimal

    from django.utils import timezone

    from jiepai.customers.models import Account
    from jiepai.intake.models import Lead
    from jiepai.org.models import RepProfile
    from jiepai.org.services import create_department, create_user
    from jiepai.pipeline.models import Opportunity, Pipeline, Stage

    now = timezone.now()
    company = create_department(name="节拍科技")
    region = create_department(name="华东大区", parent=company)
    manager = create_user(username="mgr", password=None, role="manager", department=region)
    region.manager = manager
    region.save()
    users = [
        create_user(
            username=f"rep{i:02d}", password=None, department=region, display_name=f"销售{i:02d}"
        )
        for i in range(reps)
    ]
    RepProfile.objects.filter(user__in=users).update(
        online_status="online", last_seen_at=now, capacity=CAPACITY
    )
    for i, user in enumerate(users):
        # a few reps paused or offline, as on a real day
        if i % 10 == 3:
            RepProfile.objects.filter(user=user).update(paused=True)
        if i % 10 == 7:
            RepProfile.objects.filter(user=user).update(online_status="offline", last_seen_at=None)
        RepProfile.objects.filter(user=user).update(
            industries=rng.sample(INDUSTRIES, 2),
            deal_size_bands=[rng.choice(["small", "medium", "large"])],
        )
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.create(
        name="默认"
    )
    open_stage = pipeline.stages.filter(is_won=False, is_lost=False).first()
    won_stage = pipeline.stages.filter(is_won=True).first() or Stage.objects.create(
        pipeline=pipeline, name="赢单", is_won=True, position=99
    )
    accounts = Account.objects.bulk_create(
        [Account(name=f"客户{i}", industry=rng.choice(INDUSTRIES)) for i in range(500)]
    )
    opportunities = []
    for i in range(3000):
        won = rng.random() < 0.4
        opportunities.append(
            Opportunity(
                name=f"商机{i}",
                account=rng.choice(accounts),
                owner=rng.choice(users),
                stage=won_stage if won else open_stage,
                amount=Decimal(rng.choice([50_000, 200_000, 800_000, 2_000_000])),
                closed_at=now - datetime.timedelta(days=rng.randrange(60)) if won else None,
            )
        )
    Opportunity.objects.bulk_create(opportunities, batch_size=1000)
    Lead.objects.bulk_create(
        [
            Lead(
                name=f"历史{i}",
                owner=rng.choice(users),
                industry=rng.choice(INDUSTRIES),
                state=rng.choice(["converted", "disqualified", "disqualified", "nurture"]),
            )
            for i in range(5000)
        ],
        batch_size=1000,
    )
    return region, users


def decider(kind: str, policy, candidates, last_rep_id: int):
    from jiepai.routing import scoring
    from jiepai.routing.models import PolicyKind

    if kind == PolicyKind.ROUND_ROBIN:
        return lambda: scoring.round_robin(candidates, last_rep_id=last_rep_id)
    if kind == PolicyKind.WEIGHTED_POOL:
        return lambda: scoring.weighted_pool(
            candidates, weights=policy.weights, normalisation=policy.normalisation, top=3
        )
    return lambda: scoring.capability_match(candidates)


def bench_decision(region, users, rng: random.Random, routes: int) -> None:
    from django.utils import timezone

    from jiepai.intake.models import Lead
    from jiepai.routing.candidates import load_candidates
    from jiepai.routing.models import PolicyKind, RoutingPolicy, RoutingRule
    from jiepai.routing.services import route_lead

    RoutingRule.objects.all().delete()
    policies = {}
    for key, kind in (
        ("round_robin", PolicyKind.ROUND_ROBIN),
        ("weighted_pool", PolicyKind.WEIGHTED_POOL),
        ("capability_match", PolicyKind.CAPABILITY_MATCH),
    ):
        policy = RoutingPolicy.objects.get(key=key)
        policy.departments.set([region])
        policies[kind] = policy
    sample = Lead(name="样例", industry="医疗器械", budget=800_000)
    now = timezone.now()
    print(f"\n== 1. one routing decision among {len(users)} reps")
    for kind, policy in policies.items():
        candidates = load_candidates(policy=policy, lead=sample, now=now)
        loads = measure(lambda p=policy: load_candidates(policy=p, lead=sample, now=now), 50)
        decide = decider(kind, policy, candidates, users[17].pk)
        for _ in range(200):
            decide()  # warm up
        print(f"{kind:17s} decision (pure Python): {fmt_ms(measure(decide, 10_000))}")
        print(f"{'':17s} loading candidates:      {fmt_ms(loads)}")

    RoutingPolicy.objects.update(is_default=False)
    for kind, policy in policies.items():
        RoutingPolicy.objects.filter(pk=policy.pk).update(is_default=True)
        leads = Lead.objects.bulk_create(
            [
                Lead(
                    name=f"新线索{kind}{i}",
                    industry=rng.choice(INDUSTRIES),
                    budget=rng.choice([None, 300_000, 900_000]),
                )
                for i in range(routes)
            ]
        )
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        last = leads.pop()
        queue = iter(leads)
        times = measure(lambda q=queue: route_lead(lead=next(q), now=timezone.now()), len(leads))
        with CaptureQueriesContext(connection) as statements:  # one more, like the others
            route_lead(lead=last, now=timezone.now())
        RoutingPolicy.objects.filter(pk=policy.pk).update(is_default=False)
        print(
            f"{kind:17s} route_lead end to end ({len(statements)} statements incl. BEGIN/COMMIT"
            f", load average {os.getloadavg()[0]:.1f}): {fmt_ms(times)}"
        )
        if os.environ.get("BENCH_SHOW_SQL"):
            for query in statements.captured_queries:
                print("    ", query["sql"][:160])
    RoutingPolicy.objects.filter(key="round_robin").update(is_default=True)


def bench_batch(users, rng: random.Random, count: int, capacity: int) -> None:
    """route_leads over `count` fresh unassigned leads (the import's entry point), reps capped
    at `capacity` active leads: most leads end in the unassigned queue, as they should."""
    from django.db import connection
    from django.utils import timezone

    from jiepai.intake.models import Lead
    from jiepai.org.models import RepProfile
    from jiepai.routing.batch import route_leads

    print(f"\n== 3. route_leads: {count:,} leads at once, load cap {capacity}, {len(users)} reps")
    saved = dict(RepProfile.objects.values_list("user_id", "capacity"))
    RepProfile.objects.update(capacity=capacity)
    ids: list[int] = []
    for offset in range(0, count, 5000):
        ids += [
            lead.pk
            for lead in Lead.objects.bulk_create(
                [
                    Lead(
                        name=f"导入{offset + i}",
                        company=f"导入公司{offset + i}",
                        industry=rng.choice(INDUSTRIES),
                        budget=rng.choice([None, 300_000, 900_000]),
                    )
                    for i in range(min(5000, count - offset))
                ]
            )
        ]
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    counts = route_leads(lead_ids=ids, now=timezone.now())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"route_leads({count:,}): {counts} in wall {wall:.2f} s · cpu {cpu:.2f} s "
        f"({count / wall:,.0f} leads/s wall; load average before {load:.1f})"
    )
    for user_id, value in saved.items():
        RepProfile.objects.filter(user_id=user_id).update(capacity=value)
    connection.close()


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from jiepai.cli import main; main()", "worker", "--interval", "1"],
        cwd=ROOT,
        env=os.environ.copy(),
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=60)


def make_deadlines(
    users, dues: list[datetime.datetime], prefix: str
) -> dict[int, datetime.datetime]:
    """Assigned leads with the given response deadlines (as routing would have left them)."""
    from django.utils import timezone

    from jiepai.intake.models import Lead
    from jiepai.routing.models import Assignment, LeadRouting, RoutingPolicy

    policy = RoutingPolicy.objects.get(key="round_robin")
    now = timezone.now()
    due_by_pk: dict[int, datetime.datetime] = {}
    for offset in range(0, len(dues), 5000):
        chunk = dues[offset : offset + 5000]
        leads = Lead.objects.bulk_create(
            [
                Lead(
                    name=f"{prefix}{offset + i}",
                    owner=users[(offset + i) % len(users)],
                    state="assigned",
                    assigned_at=now,
                    response_due_at=due,
                )
                for i, due in enumerate(chunk)
            ]
        )
        LeadRouting.objects.bulk_create([LeadRouting(lead=lead, policy=policy) for lead in leads])
        Assignment.objects.bulk_create(
            [
                Assignment(
                    lead=lead,
                    rep=lead.owner,
                    policy=policy,
                    method="round_robin",
                    assigned_at=now,
                    response_due_at=lead.response_due_at,
                )
                for lead in leads
            ]
        )
        due_by_pk.update({lead.pk: lead.response_due_at for lead in leads})
    return due_by_pk


def make_offer_deadlines(dues: list[datetime.datetime]) -> None:
    """Offered leads with an open offer round whose lock falls due at the given times."""
    from django.utils import timezone

    from jiepai.intake.models import Lead
    from jiepai.routing.models import OfferRound, RoutingPolicy

    policy = RoutingPolicy.objects.get(key="weighted_pool")
    now = timezone.now()
    for offset in range(0, len(dues), 5000):
        chunk = dues[offset : offset + 5000]
        leads = Lead.objects.bulk_create(
            [Lead(name=f"抢单{offset + i}", state="offered") for i in range(len(chunk))]
        )
        OfferRound.objects.bulk_create(
            [
                OfferRound(lead=lead, policy=policy, offered_at=now, closes_at=due, lock_due_at=due)
                for lead, due in zip(leads, chunk, strict=True)
            ]
        )


def acted_lateness(due_by_pk: dict[int, datetime.datetime]) -> tuple[list[float], int]:
    from jiepai.events.models import Event
    from jiepai.routing.models import Assignment

    lateness = [
        (created - due_by_pk[lead_id]).total_seconds()
        for lead_id, created in Assignment.objects.filter(
            method="window_reassigned", lead_id__in=list(due_by_pk)
        ).values_list("lead_id", "created_at")
    ]
    escalated = Event.objects.filter(verb="lead.escalated", subject_id__in=list(due_by_pk)).count()
    return lateness, escalated


def bench_sweeper(
    users,
    rng: random.Random,
    pending: int,
    expiring: int,
    window: float,
    burst: int,
    far_kind: str,
) -> None:
    from django.db import close_old_connections
    from django.utils import timezone

    print(
        f"\n== 2. sweeper: {pending:,} pending deadlines, {expiring} falling due over {window:.0f} s"
    )
    build_start = time.perf_counter()
    far = [
        timezone.now() + datetime.timedelta(days=1, seconds=rng.randrange(30 * 86400))
        for _ in range(pending - expiring)
    ]
    if far_kind == "windows":
        make_deadlines(users, far, "远期")
    else:
        make_offer_deadlines(far)
    close_old_connections()
    print(
        f"{pending - expiring:,} future deadlines ({far_kind}) built in "
        f"{time.perf_counter() - build_start:.1f} s"
    )
    worker = start_worker()
    try:
        time.sleep(8)  # the worker starts and makes its first (idle) passes
        step = window / max(1, expiring)
        start = timezone.now() + datetime.timedelta(seconds=5)
        soon = [start + datetime.timedelta(seconds=i * step) for i in range(expiring)]
        due_by_pk = make_deadlines(users, soon, "到期")
        close_old_connections()
        print(
            f"first of the {expiring} deadlines due in {(start - timezone.now()).total_seconds():.1f} s"
        )
        while timezone.now() < start + datetime.timedelta(seconds=window + 10):
            time.sleep(0.5)
        lateness, escalated = acted_lateness(due_by_pk)
        print(
            f"acted on {len(lateness)} of {expiring} (escalated {escalated}); lateness: "
            f"p50 {percentile(lateness, 0.5):.2f} s · p95 {percentile(lateness, 0.95):.2f} s · "
            f"p99 {percentile(lateness, 0.99):.2f} s · max {max(lateness):.2f} s; "
            f"within 5 s: {sum(1 for x in lateness if x <= 5) / expiring:.1%}"
        )
        if burst:
            print(f"\n== 2b. burst: {burst} deadlines due at the same instant")
            from jiepai.org.models import RepProfile

            RepProfile.objects.update(capacity=1_000_000)  # every one a real reassignment
            at = timezone.now() + datetime.timedelta(seconds=5)
            burst_due = make_deadlines(users, [at] * burst, "齐发")
            close_old_connections()
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                time.sleep(1)
                lateness, escalated = acted_lateness(burst_due)
                if len(lateness) + escalated >= burst:
                    break
            drain = max(lateness)
            print(
                f"drained {len(lateness)} (+{escalated} escalated) in {drain:.1f} s after the "
                f"due time: {(len(lateness) + escalated) / drain:.1f} deadlines/s; "
                f"p50 lateness {percentile(lateness, 0.5):.1f} s"
            )
    finally:
        stop_worker(worker)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--routes", type=int, default=300)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--expiring", type=int, default=600)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--batch", type=int, default=100_000, help="leads for route_leads (0: skip that part)"
    )
    parser.add_argument("--batch-capacity", type=int, default=8)
    parser.add_argument(
        "--parts", default="decision,batch,sweeper", help="which parts to run (comma-separated)"
    )
    parser.add_argument(
        "--far-kind",
        choices=["offers", "windows"],
        default="offers",
        help="the deadlines days ahead: offer locks (default) or response windows of the same "
        "50 reps' assigned leads (2,000 active leads each: the worst case for the load count; "
        "reps then get an unlimited capacity)",
    )
    parser.add_argument(
        "--lead-owner-state-index",
        action="store_true",
        help="experiment: add an index on intake_lead (owner_id, state) for the load-cap count",
    )
    args = parser.parse_args()
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(Path(tmp), args.database_url)
        print(
            f"database: {url.split('@')[-1]} · python {sys.version.split()[0]} · {os.cpu_count()} cpu"
        )
        if args.lead_owner_state_index:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(
                    "CREATE INDEX bench_lead_owner_state ON intake_lead (owner_id, state)"
                )
            print("with an extra index on intake_lead (owner_id, state)")
        region, users = build_team(args.reps, rng)
        parts = set(args.parts.split(","))
        if "decision" in parts:
            bench_decision(region, users, rng, args.routes)
        if "batch" in parts and args.batch:
            bench_batch(users, rng, args.batch, args.batch_capacity)
        if "sweeper" not in parts:
            return
        if args.far_kind == "windows":
            from jiepai.org.models import RepProfile

            RepProfile.objects.update(capacity=1_000_000)
        bench_sweeper(
            users, rng, args.pending, args.expiring, args.window, args.burst, args.far_kind
        )


if __name__ == "__main__":
    main()
