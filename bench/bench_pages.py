"""Entity pages benchmark (fixed seed): the rep's lead list and a lead detail page with
100,000 leads and 1,000,000 events on file.

    .venv/bin/python bench/bench_pages.py --db sqlite|postgres [--leads 100000]
        [--events 1000000] [--runs 20] [--reuse] [--explain]

Data: 5 sales regions × (1 manager + 10 reps); 100,000 leads (90 % owned, spread over the
50 reps, the rest unassigned), 1,000 personal shares and 500 project-team shares, and
1,000,000 events on the leads (the benchmarked lead carries 300 of them). Rows go in with raw
multi-row inserts (SQLite) or COPY (PostgreSQL), then ANALYZE.

Pages are rendered through Django's test Client as the rep (`bench_rep`, ~1,800 own leads)
and, for comparison, as their manager (a region of ~18,000 leads). Each page is requested
twice to warm up, then `runs` times; the figures are the server time of each request
(Client.get wall time: middleware, views, queries, templates), median and p95.

The database is bench/out/bench_pages.sqlite3, or the PostgreSQL database jiepai_bench on
127.0.0.1:5432 (dropped and created). --reuse keeps an existing database of the right size.
--explain prints each page's queries with their time and the plan of the slowest.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SEED = 20261124
PG_URL = "postgres://postgres@127.0.0.1:5432/jiepai_bench"
REGIONS = ["华东大区", "华北大区", "华南大区", "华中大区", "西南大区"]
REPS_PER_REGION = 10
VERBS = [
    ("lead.updated", 0.35),
    ("activity.logged", 0.25),
    ("tag.added", 0.15),
    ("lead.contacted", 0.1),
    ("behaviour.page_view", 0.1),
    ("lead.routed", 0.05),
]
STATES = [
    ("assigned", 0.2),
    ("contacted", 0.3),
    ("qualified", 0.1),
    ("converted", 0.1),
    ("disqualified", 0.2),
    ("nurture", 0.1),
]


def configure(db: str, reuse: bool) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    if db == "postgres":
        url = PG_URL
        if not reuse:
            import psycopg

            admin = url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute('DROP DATABASE IF EXISTS "jiepai_bench"')
                conn.execute('CREATE DATABASE "jiepai_bench"')
    else:
        path = OUT / "bench_pages.sqlite3"
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = url
    os.environ.pop("JIEPAI_TEST_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "jiepai.settings"
    os.environ["JIEPAI_LOG_LEVEL"] = "WARNING"
    os.environ["DEBUG"] = "False"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


# --- fast inserts ------------------------------------------------------------------------------


def insert_rows(model, rows: Iterable[dict], *, batch: int = 5000) -> int:
    """Insert dicts (attname → value) into `model`'s table; fields left out get their model
    default. COPY on PostgreSQL, multi-row INSERT on SQLite. Returns the number of rows."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    static = {f.attname: f.get_default() for f in fields if not callable(f.default)}
    dynamic = [f for f in fields if callable(f.default)]

    def values(row: dict) -> list:
        full = {**static, **{f.attname: f.get_default() for f in dynamic}, **row}
        return [f.get_db_prep_save(full[f.attname], connection) for f in fields]

    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor, for COPY
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
                    count += 1
            return count
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        per_statement = max(1, 900 // len(fields))  # SQLite's limit on bound variables
        chunk: list = []
        for row in rows:
            chunk.append(values(row))
            count += 1
            if len(chunk) == per_statement:
                _insert_chunk(cursor, table, columns, one, chunk)
                chunk = []
        if chunk:
            _insert_chunk(cursor, table, columns, one, chunk)
    return count


def _insert_chunk(cursor, table: str, columns: str, one: str, chunk: list) -> None:
    sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * len(chunk))  # noqa: S608
    cursor.execute(sql, [value for row in chunk for value in row])


# --- data ------------------------------------------------------------------------------------


def build_people():
    from jiepai.org.models import Team
    from jiepai.org.services import create_department, create_user

    company = create_department(name="节拍基准公司")
    managers, reps = [], []
    for number, name in enumerate(REGIONS, start=1):
        region = create_department(name=name, parent=company)
        manager = create_user(
            username=f"bench_manager{number}", password=None, role="manager", department=region
        )
        region.manager = manager
        region.save(update_fields=["manager"])
        managers.append(manager)
        for index in range(REPS_PER_REGION):
            username = "bench_rep" if not reps else f"bench_rep{number}_{index}"
            reps.append(
                create_user(username=username, password=None, role="rep", department=region)
            )
    create_user(username="bench_director", password=None, role="director", department=company)
    team = Team.objects.create(name="基准项目组")
    team.members.add(reps[0], reps[15], reps[30])
    return managers, reps, team


def lead_rows(
    count: int, reps: list, channels: list, rng: random.Random, now, created: list
) -> Iterator[dict]:
    """Consumed inside COPY, so it must not touch the database itself."""
    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    for number in range(count):
        at = now - datetime.timedelta(seconds=rng.random() ** 1.3 * 365 * 86400)
        created.append(at)
        channel_id, window = rng.choice(channels)
        owned = rng.random() < 0.9
        state = rng.choices(states, weights)[0] if owned else "unassigned"
        row = {
            "name": f"客户{number}",
            "title": rng.choice(["设备科科长", "采购经理", "院长", "IT 经理", "总经理"]),
            "company": f"{rng.choice(['上海', '北京', '广州', '杭州', '成都'])}"
            f"{rng.choice(['瑞康', '华信', '协和', '远景', '天成'])}{number % 997}有限公司",
            "mobile": f"1{rng.randint(3000000000, 9999999999)}",
            "industry": rng.choice(["医院", "医疗器械", "制造业", "SaaS", "分销"]),
            "province": "上海",
            "city": "上海",
            "channel_id": channel_id,
            "state": state,
            "score": round(rng.uniform(0, 100), 1),
            "owner_id": rng.choice(reps).pk if owned else None,
            "assigned_at": at if owned else None,
            "response_due_at": at + datetime.timedelta(minutes=window)
            if state == "assigned"
            else None,
            "external_id": f"bench-{number}",
            "created_at": at,
            "updated_at": at,
        }
        yield row


def event_rows(
    count: int, lead_ids: list[int], created: list, hot: int, rng: random.Random, now
) -> Iterator[dict]:
    verbs = [v for v, _ in VERBS]
    weights = [w for _, w in VERBS]
    hot_index = lead_ids.index(hot)
    for number in range(count):
        index = hot_index if number < 300 else rng.randrange(len(lead_ids))
        start = created[index]
        yield {
            "created_at": start + (now - start) * rng.random(),
            "actor_id": None,
            "subject_type": "lead",
            "subject_id": lead_ids[index],
            "verb": rng.choices(verbs, weights)[0],
            "before": {"state": "assigned"},
            "after": {"state": "contacted", "note": "跟进记录"},
            "data": {"n": number},
        }


def generate(leads: int, events: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from jiepai.events.models import Event
    from jiepai.intake.models import Channel, Lead

    rng = random.Random(SEED)
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        managers, reps, team = build_people()
        for slug, kind in [("web", "web_form"), ("expo", "trade_show"), ("phone", "phone")]:
            Channel.objects.create(name=slug, slug=slug, kind=kind)
        channels = list(Channel.objects.values_list("pk", "response_window_minutes"))
        created: list = []
        insert_rows(Lead, lead_rows(leads, reps, channels, rng, now, created))
        by_number = dict(Lead.objects.values_list("external_id", "pk").iterator(chunk_size=20000))
        lead_ids = [by_number[f"bench-{n}"] for n in range(leads)]
        shared = Lead.shared_with.through
        teams = Lead.teams.through
        shared.objects.bulk_create(
            [
                shared(lead_id=rng.choice(lead_ids), user_id=rng.choice(reps).pk)
                for _ in range(1000)
            ],
            ignore_conflicts=True,
        )
        teams.objects.bulk_create(
            [teams(lead_id=rng.choice(lead_ids), team_id=team.pk) for _ in range(500)],
            ignore_conflicts=True,
        )
        hot = (
            Lead.objects.filter(owner=reps[0])
            .order_by("-created_at")
            .values_list("pk", flat=True)[10]
        )
        print(f"  {leads:,} leads in {time.perf_counter() - started:.1f} s", flush=True)
        insert_rows(Event, event_rows(events, lead_ids, created, hot, rng, now))
    print(f"  {events:,} events, total {time.perf_counter() - started:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  analyzed, total {time.perf_counter() - started:.1f} s", flush=True)


# --- measuring -------------------------------------------------------------------------------


def measure(client, url: str, runs: int) -> tuple[list[float], list[float]]:
    """(wall times, CPU times of this process). On a shared machine the CPU time shows what
    the request costs apart from waiting for a core (on SQLite it includes the queries)."""
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        assert response.status_code == 200, url
    return walls, cpus


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def explain(client, url: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    queries = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
    total = sum(float(q["time"]) for q in queries)
    print(f"    {len(queries)} queries, {total * 1000:.1f} ms in the database")
    for query in queries[:5]:
        print(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:300]}")
    slowest = queries[0]["sql"] if queries else ""
    if slowest.startswith("SELECT"):
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
        with connection.cursor() as cursor:
            cursor.execute(prefix + slowest)
            for row in cursor.fetchall():
                print("      " + " | ".join(str(c) for c in row))


def realtime() -> None:
    """SCHED_FIFO for this process and for this connection's PostgreSQL backend: a loaded
    machine then delays other work, not the measured requests (which still take the same CPU)."""
    from django.db import connection

    pids = [0]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.append(cursor.fetchone()[0])
    for pid in pids:
        os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    parser.add_argument("--explain", action="store_true", help="print queries and plans")
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="run at real-time priority (Linux, root), with the PostgreSQL backend too, so that "
        "other work on a shared machine is not counted as server time",
    )
    args = parser.parse_args()

    configure(args.db, args.reuse)
    from django.test import Client

    from jiepai.events.models import Event
    from jiepai.intake.models import Lead
    from jiepai.org.models import User

    if not (
        args.reuse
        and Lead.objects.count() == args.leads
        and Event.objects.filter(subject_type="lead").count() == args.events
    ):
        if args.reuse:
            sys.exit("--reuse: the database does not have the requested size; run without it")
        print(f"Generating on {args.db} (seed {SEED})…", flush=True)
        generate(args.leads, args.events)

    if args.realtime:
        realtime()
    rep = User.objects.get(username="bench_rep")
    manager = User.objects.get(department=rep.department, role="manager")
    hot = Lead.objects.filter(owner=rep).order_by("-created_at").values_list("pk", flat=True)[10]
    pages = [
        ("rep", rep, "/leads/", "rep's lead list"),
        ("rep", rep, f"/leads/{hot}/", "lead detail (300 events)"),
        ("rep", rep, "/leads/?sort=-score&page=3", "rep's lead list, by score, page 3"),
        ("manager", manager, "/leads/", "manager's lead list (region)"),
    ]
    print(
        f"\n{args.db}: {Lead.objects.count():,} leads, {Event.objects.count():,} events; "
        f"rep owns {Lead.objects.filter(owner=rep).count():,} leads; {args.runs} runs each"
    )
    results = {}
    for _who, user, url, label in pages:
        client = Client()
        client.force_login(user)
        times, cpus = measure(client, url, args.runs)
        results[label] = times
        print(
            f"  {label:<36} median {statistics.median(times) * 1000:6.1f} ms · "
            f"p95 {p95(times) * 1000:6.1f} ms · min {min(times) * 1000:6.1f} ms · "
            f"CPU median {statistics.median(cpus) * 1000:6.1f} ms"
        )
        if args.explain:
            explain(client, url)
    print(
        json.dumps(
            {k: round(statistics.median(v) * 1000, 1) for k, v in results.items()},
            ensure_ascii=False,
        )
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
