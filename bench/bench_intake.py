"""Intake benchmark (fixed seed): leads through the intake service function, and over HTTP.

    .venv/bin/python bench/bench_intake.py [--contacts 1000000] [--reps 50] [--intakes 2000]
        [--http-requests 6000] [--http-seconds 30] [--http-clients 6]
        [--database-url postgres://postgres@127.0.0.1:5432/jiepai_intake_bench] [--rebuild]

On file: `contacts` contacts (on 100,000 accounts) with their duplicate-matching keys (the dedup
key table, as the contact services would have written them), and `reps` reps online in one
department under the default round-robin policy. The populated database is built once and kept
(SQLite: bench/out/intake-<contacts>.sqlite3; PostgreSQL: the named database) — `--rebuild`
builds it again.

1. Service: `intake_lead` on `intakes` generated payloads (site-builder field names; ~10% the
   mobile of a contact on file, ~10% missing a required field, ~20% with a visitor id carrying
   earlier behaviour events, ~30% an Idempotency-Key), timed call by call after 50 warm-up
   calls: p50 / p95 / p99 / max of wall and CPU time, where the time goes (our code, duplicate
   matching, tags, routing) from timers wrapped around those calls (wall and CPU), each call
   without its routing part (routing is jiepai.routing's, benchmarked by bench_routing.py too),
   and the SQL statements per intake (of which routing's).
2. HTTP: gunicorn with 2 sync workers on 127.0.0.1, `http-clients` client threads posting JSON
   to /api/v1/intake/<channel>, bounded by `http-requests` and `http-seconds`: intakes per second
   and latency percentiles, and the CPU time per request of the gunicorn workers (from /proc)
   and of the load generator (which runs on the same cores). The channel's rate limit is off
   for the run.
The machine's load average is printed: other processes on the same 2 cores skew every figure,
so the service part also prints the CPU time this process spent per call.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SEED = 20260224
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯"
CITIES = ["上海", "杭州", "苏州", "宁波", "南京", "深圳", "广州", "北京", "天津", "成都", "武汉",
          "西安", "重庆", "青岛", "厦门", "合肥", "长沙", "郑州", "济南", "无锡"]  # fmt: skip
CORES = ["恒锐", "华山", "科达", "联影", "迈瑞", "东方", "长城", "瑞金", "海康", "中兴", "金鹰",
         "远航", "新华", "博创", "宏达", "正泰", "德力", "天成", "安捷", "智达", "晨光", "蓝海"]  # fmt: skip
TRADES = ["智能装备", "医疗器械", "电子科技", "自动化", "机械制造", "精密仪器", "信息技术", ""]
SUFFIXES = ["有限公司", "股份有限公司", "科技有限公司", "集团有限公司", "医院"]
TITLES = ["采购经理", "总经理", "设备科主任", "技术总监", "采购专员", "IT负责人", "厂长", ""]


def setup_database(url: str | None, rebuild: bool, contacts: int) -> tuple[str, bool]:
    """(database url, whether it must be populated)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    os.environ["JIEPAI_VAR_DIR"] = str(tmp)
    os.environ.pop("JIEPAI_TEST_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiepai.settings")
    os.environ["JIEPAI_LOG_LEVEL"] = "WARNING"
    populate = rebuild
    if url:
        import psycopg

        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if rebuild or not exists:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
                populate = True
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"intake-{contacts}.sqlite3"
        if rebuild or not path.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            populate = True
        url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url, populate


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt_ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5) * 1000:.2f} ms · p95 {percentile(values, 0.95) * 1000:.2f}"
        f" ms · p99 {percentile(values, 0.99) * 1000:.2f} ms · max {max(values) * 1000:.2f} ms"
        f" (n={len(values)})"
    )


# --- populating ---------------------------------------------------------------------------------


def person(rng: random.Random) -> tuple[str, str]:
    name = (
        rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    )
    return name, rng.choice(TITLES)


def company_name(rng: random.Random) -> str:
    return f"{rng.choice(CITIES)}{rng.choice(CORES)}{rng.choice(TRADES)}{rng.choice(SUFFIXES)}"


def mobile_of(i: int) -> str:
    """A distinct, valid mobile per contact number (a fixed permutation of 10^8 numbers)."""
    return f"13{(i * 7_919_993 + 12_345_678) % 100_000_000:08d}9"


def memoise_key_helpers() -> None:
    """The dedup key helpers are pure: memoising them (in this process only) makes computing
    nine keys for a million contacts take seconds, with the real `person_keys` composing them."""
    from jiepai.dedup import keys as dedup_keys

    for name in ("pinyin_keys", "surname_pinyin", "normalize_company", "split_name",
                 "normalize_title"):  # fmt: skip
        setattr(dedup_keys, name, functools.lru_cache(maxsize=None)(getattr(dedup_keys, name)))


def bulk_insert(model, columns: list[str], rows) -> int:
    """Rows (tuples in `columns` order) straight into the table: COPY on PostgreSQL,
    executemany in chunks on SQLite."""
    from django.db import connection, transaction

    table = model._meta.db_table
    count = 0
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    sql = (
        f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})'
    )
    chunk: list[tuple] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for row in rows:
            chunk.append(row)
            if len(chunk) == 20_000:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def template_row(model, overrides: list[str]) -> tuple[list[str], list]:
    """Column names and database values of a default instance (the fields to override last)."""
    from django.db import connection

    instance = model()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    fields.sort(key=lambda f: f.attname in overrides)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    return [connection.ops.quote_name(f.column) for f in fields], values


def populate(contacts: int, reps: int, rng: random.Random) -> None:
    from django.db import connection
    from django.utils import timezone

    from jiepai.customers.models import Account, Contact
    from jiepai.dedup.keys import keys_for
    from jiepai.dedup.models import MatchKey
    from jiepai.org.models import RepProfile
    from jiepai.org.services import create_department, create_user
    from jiepai.routing.models import RoutingPolicy

    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)  # the form the ORM would store
    started = time.perf_counter()
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
        online_status="online", last_seen_at=now, capacity=1_000_000
    )
    policy = RoutingPolicy.objects.get(is_default=True)
    policy.departments.set([region])

    accounts = 100_000
    columns, base = template_row(Account, ["name", "created_at", "updated_at"])
    names = [company_name(rng) + (f"{i % 97}分公司" if i % 5 == 0 else "") for i in range(accounts)]
    bulk_insert(
        Account, [*columns], (tuple(base[:-3]) + (stamp, stamp, names[i]) for i in range(accounts))
    )
    first_account = Account.objects.order_by("id").values_list("id", flat=True).first()
    print(f"  {accounts:,} accounts in {time.perf_counter() - started:.0f} s")

    people = [person(rng) for _ in range(contacts)]
    account_of = [rng.randrange(accounts) for _ in range(contacts)]
    columns, base = template_row(
        Contact, ["account_id", "name", "title", "mobile", "email", "created_at", "updated_at"]
    )
    head = tuple(base[:-7])

    def contact_rows():
        for i in range(contacts):
            name, title = people[i]
            email = f"c{i}@example.com" if i % 3 == 0 else ""
            yield head + (
                stamp,
                stamp,
                first_account + account_of[i],
                name,
                title,
                mobile_of(i),
                email,
            )

    # the override order follows template_row's sort (stable): created_at, updated_at, ... by field order
    order = [c.strip('"') for c in columns[-7:]]
    assert order == [
        "created_at",
        "updated_at",
        "account_id",
        "name",
        "title",
        "mobile",
        "email",
    ], order
    bulk_insert(Contact, columns, contact_rows())
    first_contact = Contact.objects.order_by("id").values_list("id", flat=True).first()
    print(f"  {contacts:,} contacts in {time.perf_counter() - started:.0f} s")

    memoise_key_helpers()
    from jiepai.dedup.keys import person_keys

    def contact_keys(i: int) -> dict[str, list[str]]:
        # the mobile is ours, so its E.164 key is known without parsing it (parsing is most of
        # the cost); the rest is the real person_keys, checked against keys_for below
        name, title = people[i]
        values = {"name": name, "title": title, "company": names[account_of[i]],
                  "email": f"c{i}@example.com" if i % 3 == 0 else ""}  # fmt: skip
        return {"mobile": ["+86" + mobile_of(i)], **person_keys(values)}

    def key_rows():
        for i in range(contacts):
            for kind, found in contact_keys(i).items():
                for value in found:
                    yield ("contact", first_contact + i, kind, value, False)

    for i in range(0, contacts, max(1, contacts // 100)):
        values = {"name": people[i][0], "title": people[i][1], "company": names[account_of[i]],
                  "mobile": mobile_of(i), "email": f"c{i}@example.com" if i % 3 == 0 else ""}  # fmt: skip
        expected = keys_for("contact", values)
        assert {k: sorted(v) for k, v in contact_keys(i).items()} == {
            k: sorted(v) for k, v in expected.items()
        }, (contact_keys(i), expected)
    with connection.schema_editor() as editor:  # bulk load without the indexes, then build them
        for index in MatchKey._meta.indexes:
            editor.remove_index(MatchKey, index)
    keys = bulk_insert(MatchKey, ["entity", "object_id", "kind", "value", "enforced"], key_rows())
    with connection.schema_editor() as editor:
        for index in MatchKey._meta.indexes:
            editor.add_index(MatchKey, index)
    print(f"  {keys:,} duplicate-matching keys in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- 1. the service function --------------------------------------------------------------------


def payloads(n: int, contacts: int, rng: random.Random) -> list[tuple[dict, str]]:
    """(payload, idempotency key) pairs with the field names a Chinese site builder sends."""
    out = []
    for i in range(n):
        name, title = person(rng)
        payload = {
            "姓名": name,
            "手机号": mobile_of(rng.randrange(contacts))
            if rng.random() < 0.1
            else f"15{rng.randrange(10**9):09d}",
            "公司名称": company_name(rng),
            "职位": title or "经理",
            "页面地址": rng.choice(
                [
                    "https://example.com/product/plc/s7",
                    "https://example.com/",
                    "https://example.com/product/servo",
                ]
            ),  # fmt: skip
            "utm_source": rng.choice(["baidu", "wechat", "douyin", ""]),
            "留言": "想了解一下价格和交期",
        }
        if rng.random() < 0.1:
            payload.pop(rng.choice(["公司名称", "职位"]))
        if rng.random() < 0.2:
            payload["visitor_id"] = f"v-{i}-{rng.randrange(10**9)}"
        key = f"bench-{SEED}-{i}-{time.time_ns()}" if rng.random() < 0.3 else ""
        out.append((payload, key))
    return out


class Timer:
    """Accumulates the wall and CPU time spent in a wrapped function during one intake."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.cpu = 0.0

    def wrap(self, fn):
        def timed(*args, **kwargs):
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - start
                self.cpu += time.process_time() - start_cpu

        return timed


def bench_service(channel, items: list[tuple[dict, str]]) -> None:
    from django.utils import timezone

    from jiepai.intake import pipeline
    from jiepai.intake.behaviour import BehaviourInput, record_behaviour

    now = timezone.now()
    anonymous = [
        BehaviourInput(kind="page_view", occurred_at=now, visitor_id=p["visitor_id"], seconds=150)
        for p, _ in items
        if "visitor_id" in p
    ]
    for start in range(0, len(anonymous), 100):
        record_behaviour(channel=channel, items=anonymous[start : start + 100], now=now)

    timers = {"duplicates": Timer(), "tags": Timer(), "routing": Timer()}
    pipeline.check_duplicates = timers["duplicates"].wrap(pipeline.check_duplicates)
    pipeline.apply_tags = timers["tags"].wrap(pipeline.apply_tags)
    pipeline.hand_to_routing = timers["routing"].wrap(pipeline.hand_to_routing)
    warmup, measured = items[:50], items[50:]
    for payload, key in warmup:
        pipeline.intake_lead(channel=channel, payload=payload, idempotency_key=key)
    for t in timers.values():
        t.spent = t.cpu = 0.0
    times, cpu, states = [], [], {}
    routing = timers["routing"]
    server_before = backend_cpu()
    own, own_cpu = [], []  # each call without its routing part
    for payload, key in measured:
        routed, routed_cpu = routing.spent, routing.cpu
        start, start_cpu = time.perf_counter(), time.process_time()
        answer = pipeline.intake_lead(channel=channel, payload=payload, idempotency_key=key)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        own.append(times[-1] - (routing.spent - routed))
        own_cpu.append(cpu[-1] - (routing.cpu - routed_cpu))
        states[str(answer.body["state"])] = states.get(str(answer.body["state"]), 0) + 1
    server = backend_cpu() - server_before
    total, total_cpu = sum(times), sum(cpu)
    print(f"intake_lead wall time: {fmt_ms(times)}")
    print(f"  this process's CPU time per call: {fmt_ms(cpu)}")
    print("  (CPU time leaves out waiting for a core other processes hold; on PostgreSQL it also")
    print("  leaves out the database server's own work)")
    if server:
        print(f"  the PostgreSQL server's CPU time (this connection's backend, /proc): "
              f"{server / len(times) * 1000:.2f} ms per intake")  # fmt: skip
    print(f"  states: {states}")
    for label, values, whole, attr in (
        ("wall", times, total, "spent"),
        ("CPU", cpu, total_cpu, "cpu"),
    ):
        rest = whole - sum(getattr(t, attr) for t in timers.values())
        shares = {"intake (ours)": rest, **{k: getattr(t, attr) for k, t in timers.items()}}
        print(f"  {label} time per intake: " + " · ".join(
            f"{name} {spent / len(values) * 1000:.2f} ms ({spent / whole:.0%})"
            for name, spent in shares.items()
        ))  # fmt: skip
    print(f"  without routing (each call less its route_lead): wall {fmt_ms(own)}")
    print(f"  without routing, CPU: {fmt_ms(own_cpu)}")
    count_queries(channel, measured[:50])


def backend_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL backend serving this connection (from /proc:
    the server runs on this machine); 0 on SQLite or where it cannot be read."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_queries(channel, items: list[tuple[dict, str]]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiepai.intake import pipeline

    routed = pipeline.hand_to_routing
    in_routing = 0

    def counted(**kwargs):
        nonlocal in_routing
        before = len(ctx.captured_queries)
        try:
            return routed(**kwargs)
        finally:
            in_routing += len(ctx.captured_queries) - before

    pipeline.hand_to_routing = counted
    with CaptureQueriesContext(connection) as ctx:
        for payload, key in items:
            payload = {**payload, "姓名": payload.get("姓名", "") + "乙"}
            pipeline.intake_lead(
                channel=channel, payload=payload, idempotency_key=f"{key}-q" if key else ""
            )
    pipeline.hand_to_routing = routed
    total = len(ctx.captured_queries)
    print(f"  SQL statements per intake (BEGIN/COMMIT/SAVEPOINT included): "
          f"{total / len(items):.1f}, of which routing {in_routing / len(items):.1f}")  # fmt: skip


# --- 2. over HTTP -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def tree_cpu(root: int = 0, database: str = "") -> float:
    """CPU seconds (user + system) used so far, from /proc (0 where there is none): by the
    children of process `root` (the gunicorn workers), or by the PostgreSQL server processes
    serving `database` (their command line names it)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().decode(errors="replace") if database else ""
        except OSError:
            continue
        mine = f" {database} " in command if database else int(fields[1]) == root  # ppid
        if mine:
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def bench_http(channel, rng: random.Random, contacts: int, requests: int, seconds: float,
               clients: int) -> None:  # fmt: skip
    port = free_port()
    env = {**os.environ, "JIEPAI_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "jiepai.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_for(port)
        bodies = [
            json.dumps(p, ensure_ascii=False).encode() for p, _ in payloads(requests, contacts, rng)
        ]
        path = f"/api/v1/intake/{channel.slug}"
        headers = {"Content-Type": "application/json", "X-Jiepai-Key": channel.intake_key}
        for body in bodies[:20]:  # warm both workers
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", path, body, headers)
            conn.getresponse().read()
            conn.close()
        lock = threading.Lock()
        cursor = iter(range(20, len(bodies)))
        latencies: list[float] = []
        codes: dict[int, int] = {}
        deadline = time.monotonic() + seconds

        def client() -> None:
            while time.monotonic() < deadline:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                start = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                try:
                    conn.request("POST", path, bodies[index], headers)
                    status = conn.getresponse().status
                except OSError:
                    status = 0
                finally:
                    conn.close()
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    codes[status] = codes.get(status, 0) + 1

        threads = [threading.Thread(target=client) for _ in range(clients)]
        from django.db import connection

        database = connection.settings_dict["NAME"] if connection.vendor == "postgresql" else ""
        server_cpu, client_cpu = tree_cpu(server.pid), time.process_time()
        database_cpu = tree_cpu(database=database) if database else 0.0
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        server_cpu, client_cpu = tree_cpu(server.pid) - server_cpu, time.process_time() - client_cpu
        database_cpu = tree_cpu(database=database) - database_cpu if database else 0.0
        ok = codes.get(201, 0)
        print(f"HTTP: {ok} intakes answered 201 in {wall:.1f} s = {ok / wall:.0f} intakes/s "
              f"({clients} client threads, gunicorn 2 sync workers); status codes {codes}")  # fmt: skip
        print(f"  latency: {fmt_ms(latencies)}")
        answered = max(1, sum(codes.values()))
        print(f"  CPU per request: gunicorn workers {server_cpu / answered * 1000:.2f} ms, "
              f"load generator {client_cpu / answered * 1000:.2f} ms (same 2 cores)"
              + (f", PostgreSQL server {database_cpu / answered * 1000:.2f} ms" if database else ""))  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--intakes", type=int, default=2000)
    parser.add_argument("--http-requests", type=int, default=6000)
    parser.add_argument("--http-seconds", type=float, default=30)
    parser.add_argument("--http-clients", type=int, default=6)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    url, must_populate = setup_database(args.database_url, args.rebuild, args.contacts)
    from django.db import connection

    from jiepai.intake.models import Channel
    from jiepai.intake.services import create_channel

    print(f"database: {connection.vendor} ({url.split('@')[-1]}) · load average {load_average()}")
    rng = random.Random(SEED)
    if must_populate:
        print(f"populating: {args.contacts:,} contacts, {args.reps} reps")
        populate(args.contacts, args.reps, rng)
    from jiepai.customers.models import Contact

    print(f"on file: {Contact.objects.count():,} contacts")
    channel = Channel.objects.filter(slug="bench-web").first() or create_channel(
        name="官网表单", slug="bench-web", kind="web_form"
    )
    channel.rate_limit_per_minute = 0
    channel.save()

    print(f"\n== 1. intake_lead × {args.intakes} (after 50 warm-up calls) · load {load_average()}")
    # The database is kept between runs: seeded by the number of leads already on file, a rerun
    # sends new people (the same mixture) instead of exact repeats of the last run's leads.
    from jiepai.intake.models import ACTIVE_LEAD_STATES, Lead, LeadState

    on_file = Lead.objects.count()
    print(f"leads on file before this run: {on_file:,}")
    # Reps work their leads: without this, every rerun would start with the reps holding all the
    # leads earlier runs gave them (never contacted here), and routing's load count grows with
    # them (the reps' capacity is set out of reach, so the count is not capped either).
    closed = Lead.objects.filter(state__in=ACTIVE_LEAD_STATES).update(state=LeadState.DISQUALIFIED)
    if closed:
        print(f"closed {closed:,} active leads left by earlier runs: the reps start empty")
    if connection.vendor == "postgresql":
        # Statistics as autovacuum would eventually have them. Without this, the statistics taken
        # when the database was built say every key belongs to a contact, and the planner looks a
        # new lead's keys up through the (entity, object_id) index, reading every lead key.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dedup_matchkey, intake_lead, events_event")
    run_rng = random.Random(SEED + 1 + on_file)
    bench_service(channel, payloads(args.intakes + 50, args.contacts, run_rng))
    if not args.skip_http:
        # the same start for the HTTP part: reps without the leads part 1 gave them
        closed = Lead.objects.filter(state__in=ACTIVE_LEAD_STATES).update(
            state=LeadState.DISQUALIFIED
        )
        connection.close()
        print(f"\n== 2. HTTP · load {load_average()} · closed the {closed:,} leads part 1 assigned")
        bench_http(channel, run_rng, args.contacts, args.http_requests, args.http_seconds,
                   args.http_clients)  # fmt: skip
    print(f"\nload average at the end: {load_average()}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
