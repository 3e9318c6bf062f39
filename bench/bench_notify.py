"""Notification benchmark (fixed seed): what `notify` adds to a business transaction, and how
fast the worker sends deliveries.

    .venv/bin/python bench/bench_notify.py [--calls 2000] [--deliveries 1000]
        [--database-url postgres://postgres@127.0.0.1:5432/x]

1. `notify` latency, one recipient, each call in its own transaction: the call itself (what it
   adds to a business transaction) and the whole transaction with its commit and the task
   enqueue after it; in-app only (no delivery), with an e-mail, and with a group robot.
   Task enqueueing happens on commit into the database queue (django-tasks-db), as in
   production; nothing is sent during this part.
2. Sending: `deliveries` group-robot deliveries queued as tasks, drained by the worker's task
   runner (the `jiepai worker` code path) against a WeCom-format webhook server on 127.0.0.1;
   deliveries per second end to end (claim, HTTP POST, record the outcome).
The database is a fresh SQLite file in a temporary directory, or (with --database-url) a
PostgreSQL database of that name dropped and created for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchdb import fresh_database

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260302
sys.path.insert(0, str(ROOT))


def setup_database(tmp: Path, url: str | None) -> str:
    os.environ["JIEPAI_TASK_BACKEND"] = "django_tasks_db.DatabaseBackend"
    return fresh_database(tmp, url)


class Sink(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Sink.lock:
            Sink.received += 1
        data = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    random.seed(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        url = setup_database(Path(tmp), args.database_url)
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    import logging

    from django.db import transaction

    from jiepai.deadlines.worker import Worker
    from jiepai.notify.models import Delivery, RobotEndpoint
    from jiepai.notify.services import ensure_kind, notify
    from jiepai.org.services import create_department, create_user

    logging.getLogger("django_tasks").setLevel(logging.WARNING)
    company = create_department(name="节拍科技")
    reps = [
        create_user(
            username=f"rep{i}",
            password="x" * 12,
            role="rep",
            department=company,
            display_name=f"销售{i}",
        )
        for i in range(50)
    ]
    for i, rep in enumerate(reps):
        rep.email = f"rep{i}@example.cn"
        rep.mobile = f"138{i:08d}"
        rep.save(update_fields=["email", "mobile"])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    robot = RobotEndpoint.objects.create(
        name="销售群",
        platform="wecom",
        url=f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=k",
        message_format="text",
    )
    robot.kinds.add(ensure_kind("bench.broadcast"))
    urgent = ensure_kind("bench.urgent")
    urgent.email_by_default = True
    urgent.save()
    ensure_kind("bench.inapp")

    def timed(kind: str) -> tuple[list[float], list[float]]:
        inside, whole = [], []
        for i in range(args.calls):
            rep = random.choice(reps)
            start = time.perf_counter()
            with transaction.atomic():
                notify(
                    recipients=[rep],
                    kind=kind,
                    title=f"线索待认领:客户{i}",
                    body="请在 30 分钟内认领",
                    url=f"/leads/{i}/",
                )
                inside.append((time.perf_counter() - start) * 1000)
            whole.append((time.perf_counter() - start) * 1000)
        return inside, whole

    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"database: {engine}; calls per case: {args.calls}")
    for label, kind in [
        ("in-app only", "bench.inapp"),
        ("in-app + e-mail (urgent kind)", "bench.urgent"),
        ("in-app + group robot", "bench.broadcast"),
    ]:
        inside, whole = timed(kind)
        print(
            f"notify, {label}: in the transaction p50 {statistics.median(inside):.2f} ms, "
            f"p99 {percentile(inside, 0.99):.2f} ms; with commit and enqueue "
            f"p50 {statistics.median(whole):.2f} ms, p99 {percentile(whole, 0.99):.2f} ms"
        )

    # Sending: drain the queued robot deliveries (and e-mail ones, cancelled first: no SMTP).
    Delivery.objects.filter(channel="email").update(status="failed", next_attempt_at=None)
    queued = Delivery.objects.filter(channel="wecom", status="pending").count()
    extra = max(args.deliveries - queued, 0)
    for i in range(extra):
        with transaction.atomic():
            notify(recipients=[random.choice(reps)], kind="bench.broadcast", title=f"事件{i}")
    total = Delivery.objects.filter(channel="wecom", status="pending").count()
    Sink.received = 0
    worker = Worker(interval=0)
    start = time.perf_counter()
    while Delivery.objects.filter(channel="wecom", status="pending").exists():
        if not worker.run_tasks():
            break
    elapsed = time.perf_counter() - start
    sent = Delivery.objects.filter(channel="wecom", status="sent").count()
    print(
        f"worker sent {sent}/{total} robot deliveries in {elapsed:.2f} s "
        f"({sent / elapsed:.0f}/s; webhook received {Sink.received})"
    )
    server.shutdown()


if __name__ == "__main__":
    main()
