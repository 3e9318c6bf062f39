"""`jiepai dedup scan|reindex|report`.

jiepai dedup scan --entity contacts [--format json|text] [--threshold 0.85] [--save]
jiepai dedup reindex --entity accounts|contacts|leads|all
jiepai dedup report            (the weekly duplicate top-10, now)
jiepai dedup schedule-report [--off]   (send it every Monday 09:00 from `jiepai worker`)
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jiepai.dedup.index import reindex_all
from jiepai.dedup.models import DEDUP_ENTITIES
from jiepai.dedup.report import run_weekly_report, set_report_schedule
from jiepai.dedup.scan import ScanStats, clusters_json, save_clusters, scan

ENTITY_NAMES = {
    "accounts": "account",
    "contacts": "contact",
    "leads": "lead",
    "account": "account",
    "contact": "contact",
    "lead": "lead",
}


def _entity(name: str) -> str:
    try:
        return ENTITY_NAMES[name]
    except KeyError as exc:
        raise CommandError(f"unknown entity {name!r}: use accounts, contacts or leads") from exc


class Command(BaseCommand):
    help = "Duplicate scan, key index rebuild and the weekly duplicate report."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        scan_parser = sub.add_parser("scan", help="cluster likely duplicates of one entity")
        scan_parser.add_argument(
            "--entity", required=True, choices=["contacts", "accounts", "leads"]
        )
        scan_parser.add_argument("--format", choices=["json", "text"], default="text")
        scan_parser.add_argument("--threshold", type=float, default=None)
        scan_parser.add_argument(
            "--save", action="store_true", help="store the clusters for the review page"
        )
        reindex_parser = sub.add_parser("reindex", help="rebuild the match keys")
        reindex_parser.add_argument(
            "--entity", required=True, choices=["contacts", "accounts", "leads", "all"]
        )
        sub.add_parser("report", help="send the weekly duplicate top-10 now")
        schedule_parser = sub.add_parser(
            "schedule-report", help="send the top-10 every Monday 09:00 (from jiepai worker)"
        )
        schedule_parser.add_argument("--off", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "scan":
            self._scan(options)
        elif action == "reindex":
            entities = (
                DEDUP_ENTITIES if options["entity"] == "all" else [_entity(options["entity"])]
            )
            for entity in entities:
                done = reindex_all(entity)
                self.stderr.write(f"{entity}: {done} records indexed")
        elif action == "report":
            sent = run_weekly_report(now=timezone.now())
            self.stderr.write(f"{sent} notifications sent")
        elif action == "schedule-report":
            schedule = set_report_schedule(on=not options["off"], now=timezone.now())
            self.stderr.write(f"next weekly duplicate report: {schedule.next_run_at or 'off'}")

    def _scan(self, options: dict[str, Any]) -> None:
        threshold = options["threshold"]
        if threshold is not None and not 0 <= threshold <= 1:
            raise CommandError("--threshold is between 0 and 1")
        entity = _entity(options["entity"])
        stats = ScanStats()
        started = time.perf_counter()
        clusters = scan(entity, threshold=threshold, stats=stats)
        seconds = time.perf_counter() - started
        if options["save"]:
            save_clusters(entity, clusters)
        if options["format"] == "json":
            self.stdout.write(json.dumps(clusters_json(clusters), ensure_ascii=False, indent=1))
        else:
            data = clusters_json(clusters)
            for cluster in data["clusters"]:
                names = " | ".join(f"#{r['id']} {r['name']}" for r in cluster["records"])
                self.stdout.write(
                    f"{cluster['confidence']:.2f}  {names}  ({'、'.join(cluster['reasons'])})"
                )
        self.stderr.write(
            f"{entity}: {len(clusters)} clusters from {stats.pairs} candidate pairs "
            f"({stats.groups} key groups, {stats.records} records) in {seconds:.1f}s"
        )
