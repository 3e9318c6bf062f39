"""Chinese duplicate benchmark: N generated zh_CN contacts with injected duplicates (fixed seed).

    .venv/bin/python bench/bench_dedup_cn.py [--size 1000000] [--dup-share 0.1] [--queries 1000]
        [--database-url postgres://postgres@127.0.0.1:5432/jiepai_bench_dedup] [--keep DIR]

1. Generates people at companies and hospitals and writes them as Jiepai contacts (and their
   accounts) into a fresh database (SQLite file in a temporary directory, or the PostgreSQL
   database named by --database-url, dropped and created), with their match keys, the way the
   services write them (jiepai.dedup.keys). About `dup-share` of the contacts are duplicates
   of another contact, written the ways seed 002 describes: the mobile in another format, one
   digit wrong, or missing; the company with or without its city, legal form, "(中国)", in
   traditional characters, or the hospital by its short name vs its university-affiliated full
   name (瑞金医院 vs 上海交通大学医学院附属瑞金医院); the person as "张主任"/"李总", in pinyin, or with a
   title. Distinct people also share names, companies and switchboards, as in life.
2. Scan: `jiepai dedup scan --entity contacts --format json` in a child process; its wall time
   and peak memory (max RSS), and precision / recall / F1 of the pairs inside its clusters
   against the generator's truth.
3. The door: `find_duplicates("contact", values)` for `queries` new entries, half of them a
   new way of writing an existing person, half new people; p50 / p95 / max latency, and how
   often the existing person was the first candidate.
Generation and loading are timed but are not the benchmark.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import accumulate
from pathlib import Path

from benchdb import fresh_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEED = 20260302

CITIES = [
    "北京", "上海", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "重庆", "天津",
    "长沙", "郑州", "济南", "青岛", "宁波", "无锡", "合肥", "福州", "厦门", "昆明", "沈阳", "大连",
]  # fmt: skip
BRAND_CHARS = (
    "凌云创汇华强泰和鑫博腾飞海创联世纪彩虹兰金天益恒聪百思优时空盒数字晨光瑞丰嘉禾"
    "永盛宏图锦程远航星辰启明智联云帆新睿博雅汇通信达安康佳宁德润东方亿诺立华中科"
)
INDUSTRIES = [
    "科技", "网络科技", "信息技术", "医疗器械", "生物医药", "智能装备", "电子", "精密机械",
    "新材料", "供应链管理", "环保科技", "汽车零部件",
]  # fmt: skip
LEGAL = ["有限公司", "有限公司", "股份有限公司", "有限责任公司"]
UNIVERSITIES = ["复旦大学", "上海交通大学医学院", "浙江大学医学院", "中山大学", "四川大学华西"]
#: job title → how colleagues address its holder (张 + 主任, 李 + 总)
TITLES = {
    "采购经理": ["经理"],
    "设备科主任": ["主任"],
    "总经理": ["总", "总经理"],
    "工程师": ["工", "工程师"],
    "院长": ["院长"],
    "采购主管": ["经理", "主管"],
    "技术总监": ["总", "总监"],
    "主任": ["主任"],
}
HONORIFICS = ["老师"]  # for anyone
EMAIL_DOMAINS = ["163.com", "qq.com", "126.com", "sina.com"]


# --- generation ---------------------------------------------------------------------------------


@dataclass
class Company:
    name: str
    variants: list[str] = field(default_factory=list)  # other ways people write it


@cache
def _pinyin(name: str) -> str:
    from jiepai.lib.names import surname_of
    from jiepai.lib.pinyin_keys import han_pinyin

    surname = surname_of(name)
    return f"{han_pinyin(surname).title()} {han_pinyin(name[len(surname) :]).title()}"


@cache
def _traditional(text: str) -> str:
    return _s2t().convert(text)


@lru_cache(maxsize=1)
def _s2t():  # noqa: ANN202
    import opencc

    return opencc.OpenCC("s2t")


def make_companies(count: int, rng: random.Random) -> list[Company]:
    companies: list[Company] = []
    seen: set[str] = set()
    while len(companies) < count:
        city = rng.choice(CITIES)
        brand = "".join(rng.sample(BRAND_CHARS, 2))
        if rng.random() < 0.12:  # a hospital
            if rng.random() < 0.3:
                n = rng.choice("一二三四五六七八九")
                name = f"{city}市第{n}人民医院"
                variants = [f"{city}第{n}人民医院", f"{city}市第{n}人民醫院"]
            else:
                name = f"{city}{brand}医院"
                university = rng.choice(UNIVERSITIES)
                variants = [f"{brand}医院", f"{university}附属{brand}医院", f"{city}市{brand}医院"]
        else:
            industry = rng.choice(INDUSTRIES)
            legal = rng.choice(LEGAL)
            name = f"{city}{brand}{industry}{legal}"
            variants = [
                f"{brand}{industry}{legal}",
                f"{city}{brand}{industry}",
                f"{brand}{industry}({city}){legal}",
                _traditional(name),
                f"{city}市{brand}{industry}{legal}",
            ]
        if name in seen:
            continue
        seen.add(name)
        companies.append(Company(name, variants))
    return companies


#: mobile prefixes in use (China Mobile, Unicom, Telecom, Broadnet)
MOBILE_PREFIXES = [
    *map(str, range(130, 140)), "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "166", "172", "173", "175", "176", "177", "178", *map(str, range(180, 190)),
    "191", "193", "195", "196", "197", "198", "199",
]  # fmt: skip


def _mobile(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def _mobile_variant(mobile: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.25:
        return ""
    if r < 0.4:  # one digit wrong, or two neighbours swapped
        digits = list(mobile)
        i = rng.randrange(3, 11)
        if rng.random() < 0.5:
            digits[i] = str((int(digits[i]) + rng.randrange(1, 10)) % 10)
        else:
            j = i - 1 if i == 10 else i + 1
            digits[i], digits[j] = digits[j], digits[i]
        return "".join(digits)
    formats = [
        f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
        f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        f"0086{mobile}",
        "".join(chr(ord(c) + 0xFEE0) for c in mobile),
        mobile,
    ]
    return rng.choice(formats)


def _name_variant(name: str, title: str, rng: random.Random) -> tuple[str, str]:
    from jiepai.lib.names import surname_of

    r = rng.random()
    if r < 0.5:
        return name, title if rng.random() < 0.5 else ""
    if r < 0.7:
        addressed = rng.choice(TITLES.get(title, HONORIFICS) if rng.random() < 0.85 else HONORIFICS)
        return surname_of(name) + addressed, ""
    if r < 0.82:
        return _pinyin(name), title
    if r < 0.92:
        return f"{name} {title or '经理'}", ""
    return _traditional(name), title


@dataclass
class Generated:
    companies: list[Company]
    account_names: list[str]  # account id - 1 → name (base companies first, then variants)
    contacts: list[tuple]  # (account index, name, title, mobile, phone, email)
    person: array  # contact index → person id
    queries: list[tuple[dict, int]]  # door queries: (values, expected contact index or -1)


def generate(size: int, dup_share: float, queries: int, rng: random.Random) -> Generated:
    from faker.providers.person import zh_CN

    surnames = list(zh_CN.Provider.last_names.keys())
    surname_weights = list(accumulate(zh_CN.Provider.last_names.values()))
    given = zh_CN.Provider.first_names
    companies = make_companies(max(20, size // 18), rng)
    account_names = [c.name for c in companies]
    variant_account: dict[str, int] = {}
    # company sizes are skewed: big hospitals and groups have hundreds of contacts
    # the biggest account has ~100 times the contacts of an average one (a hospital group)
    company_weights = list(accumulate(min(rng.paretovariate(1.2), 100.0) for _ in companies))
    company_range = range(len(companies))
    switchboards = [
        f"0{rng.choice(['21', '10', '571', '755', '20'])}-{rng.randrange(10**7, 10**8)}"
        for _ in companies
    ]
    contacts: list[tuple] = []
    person = array("i")
    p_dup = dup_share / (1.4 * (1 - dup_share))  # persons with duplicates; 1.4 copies on average
    person_id = 0
    door: list[tuple[dict, int]] = []
    while len(contacts) < size:
        company_index = rng.choices(company_range, cum_weights=company_weights)[0]
        company = companies[company_index]
        name = rng.choices(surnames, cum_weights=surname_weights)[0] + "".join(
            rng.choice(given) for _ in range(1 if rng.random() < 0.4 else 2)
        )
        title = rng.choice(list(TITLES))
        mobile = _mobile(rng)
        email = (
            f"{_pinyin(name).replace(' ', '').lower()}{rng.randrange(100)}@{rng.choice(EMAIL_DOMAINS)}"
            if rng.random() < 0.3
            else ""
        )
        phone = switchboards[company_index] if rng.random() < 0.2 else ""
        contacts.append((company_index, name, title, mobile, phone, email))
        person.append(person_id)
        first = len(contacts) - 1
        copies = 0
        if rng.random() < p_dup:
            copies = rng.choices([1, 2, 3], weights=[70, 20, 10])[0]
        for _ in range(copies):
            if len(contacts) >= size:
                break
            account = company_index
            if rng.random() < 0.5 and company.variants:
                variant = rng.choice(company.variants)
                if variant not in variant_account:
                    variant_account[variant] = len(account_names)
                    account_names.append(variant)
                account = variant_account[variant]
            v_name, v_title = _name_variant(name, title, rng)
            v_email = (
                (email.upper() if rng.random() < 0.3 else email)
                if email and rng.random() < 0.5
                else ""
            )
            contacts.append(
                (
                    account,
                    v_name,
                    v_title,
                    _mobile_variant(mobile, rng),
                    phone if rng.random() < 0.5 else "",
                    v_email,
                )
            )
            person.append(person_id)
        if len(door) < queries and rng.random() < 0.02:
            if len(door) % 2 == 0:  # an existing person written a new way
                v_name, v_title = _name_variant(name, title, rng)
                account = rng.choice([company.name, *company.variants])
                values = {
                    "name": v_name,
                    "title": v_title,
                    "mobile": _mobile_variant(mobile, rng) or mobile,
                    "company": account,
                }
                door.append((values, first))
            else:  # somebody new
                values = {
                    "name": rng.choices(surnames, cum_weights=surname_weights)[0]
                    + rng.choice(given)
                    + rng.choice(given),
                    "mobile": _mobile(rng),
                    "company": company.name,
                    "title": rng.choice(list(TITLES)),
                }
                door.append((values, -1))
        person_id += 1
    return Generated(companies, account_names, contacts, person, door)


# --- loading ------------------------------------------------------------------------------------


def reuse_database(tmp: Path) -> str:
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.pop("JIEPAI_TEST_DATABASE_URL", None)
    os.environ["JIEPAI_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiepai.settings")
    os.environ["JIEPAI_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    return url


def _keys_chunk(chunk: list[tuple[int, dict]]) -> list[tuple[str, int, str, str, bool]]:
    from jiepai.dedup.keys import person_keys

    rows = []
    for object_id, values in chunk:
        for kind, found in person_keys(values).items():
            for value in found:
                rows.append(("contact", object_id, kind, value, False))
    return rows


def load(data: Generated, *, batch: int = 20_000) -> dict[str, float]:
    from django.db import connection, transaction

    from jiepai.customers.models import Account, Contact
    from jiepai.dedup.models import MatchKey
    from jiepai.org.services import create_department, create_user

    timings = {}
    started = time.perf_counter()
    department = create_department(name="华东大区")
    owner = create_user(
        username="bench", password=None, role="rep", department=department, display_name="王磊"
    )
    with transaction.atomic():
        Account.objects.bulk_create(
            (Account(name=n, owner=owner) for n in data.account_names), batch_size=batch
        )
    account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    first_contact = (Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    for start in range(0, len(data.contacts), batch):
        with transaction.atomic():
            Contact.objects.bulk_create(
                [
                    Contact(
                        account_id=account_ids[a],
                        name=n[:50],
                        title=t,
                        mobile=m,
                        phone=p,
                        email=e,
                        owner=owner,
                    )
                    for a, n, t, m, p, e in data.contacts[start : start + batch]
                ],
                batch_size=batch,
            )
    timings["insert contacts"] = time.perf_counter() - started

    started = time.perf_counter()
    work = [
        (
            first_contact + i,
            {
                "name": n,
                "title": t,
                "mobile": m,
                "phone": p,
                "email": e,
                "company": data.account_names[a],
            },
        )
        for i, (a, n, t, m, p, e) in enumerate(data.contacts)
    ]
    chunks = [work[i : i + batch] for i in range(0, len(work), batch)]
    table = MatchKey._meta.db_table
    sql = f"INSERT INTO {table} (entity, object_id, kind, value, enforced) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
    rows_written = 0
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for rows in pool.imap(_keys_chunk, chunks):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            rows_written += len(rows)
    timings["match keys"] = time.perf_counter() - started
    timings["key rows"] = rows_written
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return timings


# --- measuring ----------------------------------------------------------------------------------


def truth_pairs(person: array) -> set[int]:
    groups: dict[int, list[int]] = {}
    for index, pid in enumerate(person):
        groups.setdefault(pid, []).append(index)
    pairs: set[int] = set()
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pairs.add(a << 32 | b)
    return pairs


def run_scan(url: str, tmp: Path) -> tuple[dict, float, float, float]:
    """The CLI in a child process: (its JSON, wall seconds, CPU seconds, peak RSS in MB)."""
    env = {**os.environ, "DATABASE_URL": url, "JIEPAI_VAR_DIR": str(tmp)}
    out_path = tmp / "scan.json"
    wrapper = (
        "import resource, subprocess, sys;"
        f"r = subprocess.run(sys.argv[1:], stdout=open({str(out_path)!r}, 'w'));"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(u.ru_utime + u.ru_stime, u.ru_maxrss, file=sys.stderr);"
        "sys.exit(r.returncode)"
    )
    command = [sys.executable, "-c", wrapper, str(ROOT / ".venv/bin/jiepai"), "dedup", "scan",
               "--entity", "contacts", "--format", "json"]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    lines = result.stderr.strip().splitlines()
    cpu, peak_kb = lines[-1].split()
    print("   ", lines[-2] if len(lines) > 1 else "")
    return json.loads(out_path.read_text()), seconds, float(cpu), int(peak_kb) / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def door(data: Generated, first_contact: int) -> None:
    from jiepai.dedup.matcher import find_duplicates
    from jiepai.org.models import User

    viewer = User.objects.get(username="bench")
    for label, who in (("no viewer", None), ("with viewer's visibility", viewer)):
        latencies, cpu = [], []
        found_first = expected = new_clean = news = 0
        for values, target in data.queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            candidates = find_duplicates("contact", values, viewer=who)
            latencies.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            if target >= 0:
                expected += 1
                if (
                    candidates
                    and data.person[candidates[0].object_id - first_contact] == data.person[target]
                ):
                    found_first += 1
            else:
                news += 1
                new_clean += not candidates
        print(
            f"door ({label}): p50 {percentile(latencies, 0.5) * 1000:.2f} ms · "
            f"p95 {percentile(latencies, 0.95) * 1000:.2f} ms · max {max(latencies) * 1000:.2f} ms "
            f"(n={len(latencies)}; CPU p50 {percentile(cpu, 0.5) * 1000:.2f} ms · "
            f"p95 {percentile(cpu, 0.95) * 1000:.2f} ms); existing person first: {found_first}/{expected}; "
            f"new people with no candidate: {new_clean}/{news}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--dup-share", type=float, default=0.1)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", default=None, help="keep the SQLite database in this directory")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: the database there was loaded by an earlier run of the same size",
    )
    args = parser.parse_args()

    tmp = Path(args.keep or tempfile.mkdtemp(prefix="jiepai-dedup-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    reuse = args.reuse and args.keep and (tmp / "bench.sqlite3").exists()
    try:
        url = reuse_database(tmp) if reuse else fresh_database(tmp, args.database_url)
        rng = random.Random(SEED)
        started = time.perf_counter()
        data = generate(args.size, args.dup_share, args.queries, rng)
        print(
            f"generated {len(data.contacts):,} contacts ({len(set(data.person)):,} people, "
            f"{len(data.account_names):,} accounts) in {time.perf_counter() - started:.1f}s"
        )
        from jiepai.customers.models import Contact

        if not reuse:
            timings = load(data)
            print(
                f"loaded into {url.split(':')[0]}: contacts {timings['insert contacts']:.1f}s, "
                f"{int(timings['key rows']):,} match keys {timings['match keys']:.1f}s"
            )
        first_contact = Contact.objects.order_by("pk").values_list("pk", flat=True).first()

        truth = truth_pairs(data.person)
        result, seconds, cpu, peak_mb = run_scan(url, tmp)
        predicted: set[int] = set()
        for cluster in result["clusters"]:
            ids = sorted(r["id"] - first_contact for r in cluster["records"])
            for i, a in enumerate(ids):
                for b in ids[i + 1 :]:
                    predicted.add(a << 32 | b)
        hits = len(predicted & truth)
        precision = hits / len(predicted) if predicted else 0.0
        recall = hits / len(truth) if truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        print(
            f"scan: {len(result['clusters']):,} clusters, {len(predicted):,} pairs vs {len(truth):,} true; "
            f"precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f}; "
            f"{seconds:.1f}s wall ({cpu:.1f}s CPU), peak memory {peak_mb:.0f} MB"
        )
        door(data, first_contact)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
