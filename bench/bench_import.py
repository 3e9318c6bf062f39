"""Import benchmark: a generated 100,000-row × 12-column .xlsx of leads (fixed seed) imported with
validation (built-in + custom select/date fields), duplicate matching and routing on SQLite.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--keep]

Prints: wall and CPU seconds of the import and of routing the leads it created (route_leads,
which run_job calls when the import is done), their sum, peak memory (max RSS), the seconds of
a bare python-calamine read of the same file in the same run, the ratio, and the load average. The generated file is cached under
bench/out/. The database is a fresh SQLite file under a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SEED = 20260217
HEADERS = [
    "姓名", "职位", "公司", "手机号", "邮箱", "微信",
    "省份", "城市", "预算", "留言", "细分行业", "回访日期",
]  # fmt: skip
INDUSTRIES = ["机械制造", "汽车零部件", "机械", "IT服务", "IT", ""] * 10 + ["医疗器械", "化工"]
PROVINCES = [
    ("上海", "上海"),
    ("浙江", "杭州"),
    ("江苏", "苏州"),
    ("广东", "深圳"),
    ("北京", "北京"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
TITLES = ["采购经理", "总经理", "设备科主任", "技术总监", "采购专员", "", "IT负责人"]
BRAND_CHARS = "瑞金华山科达中兴海康联影迈东方长城恒信德泰宏远鼎盛嘉和永新佳美安博创亿"
TRADES = ["机械", "电子", "医疗器械", "化工", "物流", "软件", "材料", "能源", "汽配", "仪器"]
SUFFIXES = ["有限公司", "科技有限公司", "股份有限公司", "集团", "医院"]


def generate(path: Path, rows: int) -> None:
    """Fixed-seed rows of ~12,000 companies (city + two-character brand + trade + suffix):
    ~2% repeat an earlier person (duplicates typed differently), ~1% carry a bad budget,
    ~3% carry an industry that is not an option (医疗器械, 化工)."""
    from openpyxl import Workbook

    rng = random.Random(SEED)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("线索")
    sheet.append(HEADERS)
    people: list[tuple[str, str, str, str]] = []
    for i in range(rows):
        province, city = rng.choice(PROVINCES)
        if people and rng.random() < 0.02:
            # The same person again, typed differently: mobile spacing or +86, the company
            # with or without its city.
            name, mobile, company, home = rng.choice(people)
            mobile = rng.choice(
                [mobile, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"+86{mobile}"]
            )
            company = company.removeprefix(home) if rng.random() < 0.5 else company
        else:
            mobile = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
            name = (
                rng.choice(SURNAMES)
                + rng.choice(GIVEN)
                + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            )
            brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
            company = f"{city}{brand}{rng.choice(TRADES)}{rng.choice(SUFFIXES)}"
            people.append((name, mobile, company, city))
        budget: object = rng.choice([rng.randrange(1, 500) * 1000, f"{rng.randrange(1, 90)}万", ""])
        if rng.random() < 0.01:
            budget = "面议"
        sheet.append(
            [
                name,
                rng.choice(TITLES),
                company,
                int(mobile) if mobile.isdigit() and rng.random() < 0.5 else mobile,
                f"user{i}@example.com" if rng.random() < 0.7 else "",
                f"wx_{i}" if rng.random() < 0.3 else "",
                province,
                city,
                budget,
                "希望尽快报价" if rng.random() < 0.2 else "",
                rng.choice(INDUSTRIES),
                rng.choice(["2026/3/1", "2026年3月15日", 46100, ""]),
            ]
        )
    workbook.save(path)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare_read(path: Path) -> tuple[float, float, int]:
    import python_calamine

    started, cpu = time.perf_counter(), time.process_time()
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    count = sum(1 for _row in workbook.get_sheet_by_index(0).iter_rows())
    return time.perf_counter() - started, time.process_time() - cpu, count


def setup_database(tmp: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["JIEPAI_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiepai.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed_configuration() -> object:
    from jiepai.customfields.models import FieldDefinition
    from jiepai.org.services import create_department, create_user, set_online_status

    company = create_department(name="节拍科技")
    sales = create_department(name="华东大区", parent=company)
    for i in range(20):
        rep = create_user(username=f"rep{i}", password="x" * 12, role="rep", department=sales)
        set_online_status(user=rep, status="online")
    FieldDefinition.objects.create(
        entity="lead",
        key="industry_detail",
        label="细分行业",
        field_type="select",
        options=[
            {"value": "machinery", "label": "机械制造", "synonyms": ["机械"]},
            {"value": "auto_parts", "label": "汽车零部件", "synonyms": []},
            {"value": "it", "label": "IT服务", "synonyms": ["IT"]},
        ],
    )
    FieldDefinition.objects.create(
        entity="lead", key="visit_on", label="回访日期", field_type="date"
    )
    return create_user(
        username="marketing", password="x" * 12, role="marketing", department=company
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="prepare every chunk in this process (no second process), for comparison",
    )
    parser.add_argument(
        "--pipelined",
        action="store_true",
        help="use the preparing worker even when the load average says the machine is busy",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"leads_{args.rows}.xlsx"
    if not path.exists():
        if not args.generate_only:
            # Generate in a child process so openpyxl's memory is not counted in our peak.
            subprocess.run(
                [sys.executable, __file__, "--rows", str(args.rows), "--generate-only"], check=True
            )
        else:
            generate(path, args.rows)
    if args.generate_only:
        return
    sys.path.insert(0, str(ROOT))
    size_mb = path.stat().st_size / 1024 / 1024
    with tempfile.TemporaryDirectory() as tmp:
        setup_database(Path(tmp))
        marketing = seed_configuration()
        rss_before = rss_mb()
        read_seconds, read_cpu, read_rows = bare_read(path)

        from django.utils import timezone

        from jiepai.imports import runner, services

        if args.in_process:
            runner.PIPELINE_MIN_ROWS = 10**12
        if args.pipelined:
            runner.pipeline_cpus = lambda: 2
        print(f"load average {os.getloadavg()[0]:.1f}: CPUs for a worker {runner.pipeline_cpus()}")

        load_before = os.getloadavg()[0]
        started, cpu, child_cpu = time.perf_counter(), time.process_time(), children_cpu()
        job = services.create_job(
            actor=marketing, entity="lead", filename=path.name, source_path=str(path)
        )
        # run_job routes the leads it created when the import is done; the two parts are timed
        # apart here (route=False, then the same call run_job makes).
        job = services.run_job(job, now=timezone.now(), route=False)
        import_seconds = time.perf_counter() - started
        import_main_cpu = time.process_time() - cpu
        import_cpu = import_main_cpu + children_cpu() - child_cpu
        routing_started, routing_cpu = time.perf_counter(), time.process_time()
        routed = services.route_created_leads(job, now=timezone.now())
        routing_seconds = time.perf_counter() - routing_started
        routing_cpu = time.process_time() - routing_cpu
        seconds = time.perf_counter() - started
        # this process's CPU plus any child's
        cpu_seconds = time.process_time() - cpu + children_cpu() - child_cpu
        print(f"file: {path.name} ({size_mb:.1f} MB, {read_rows:,} rows incl. header, 12 columns)")
        print(f"bare python-calamine read: {read_seconds:.2f} s (CPU {read_cpu:.2f} s)")
        print(
            f"import: {import_seconds:.2f} s, CPU {import_cpu:.2f} s  ({job.processed_rows:,} rows:"
            f" created {job.created_count:,}, skipped duplicates {job.skipped_count:,},"
            f" rejected {job.failed_count:,}) status={job.status} {job.message}"
        )
        print(
            f"  of which this process {import_main_cpu:.2f} s CPU, the preparing worker"
            f" {import_cpu - import_main_cpu:.2f} s CPU"
        )
        print(
            f"routing (route_leads, all created leads): {routing_seconds:.2f} s,"
            f" CPU {routing_cpu:.2f} s  {routed}"
        )
        print(f"import + routing: {seconds:.2f} s, CPU {cpu_seconds:.2f} s")
        print(
            f"ratio to the bare read: {seconds / read_seconds:.1f}x wall,"
            f" {cpu_seconds / read_cpu:.1f}x CPU; load average {load_before:.1f} before,"
            f" {os.getloadavg()[0]:.1f} after (2 cores)"
        )
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"peak memory (max RSS): {rss_mb():.0f} MB (before the read: {rss_before:.0f} MB;"
            f" largest child process: {child_rss:.0f} MB)"
        )
        print(f"unmatched select values: {job.unmatched}")


if __name__ == "__main__":
    main()
