"""`jiepai import PATH --entity accounts|contacts|leads|opportunities [--dry-run]
[--on-duplicate skip|merge|flag]`.

The module is named after the command (Django imports it with importlib, where the keyword
`import` is just a string), so `jiepai import` works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jiepai.imports import services
from jiepai.imports.fields import PLURALS
from jiepai.imports.models import DuplicatePolicy, ImportJob, RowOutcome
from jiepai.imports.readers import ReadError, open_table
from jiepai.imports.reports import write_error_report
from jiepai.org.models import User


class Command(BaseCommand):
    help = "Import an .xlsx, .xls or .csv file of accounts, contacts, leads or opportunities."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--entity", required=True, choices=sorted(PLURALS))
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, write nothing"
        )
        parser.add_argument(
            "--on-duplicate", choices=[p.value for p in DuplicatePolicy], default="skip"
        )
        parser.add_argument(
            "--user", help="username of the importer (default: the first active admin)"
        )
        parser.add_argument("--mapping", default="", help="name of a saved header mapping")
        parser.add_argument("--report", default="", help="write rejected rows to this .xlsx")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        entity = PLURALS[options["entity"]]
        actor = self._actor(options["user"])
        try:
            job = services.create_job(
                actor=actor,
                entity=entity,
                filename=path.name,
                source_path=str(path.resolve()),
                on_duplicate=options["on_duplicate"],
                mapping_name=options["mapping"],
            )
        except ReadError as exc:
            raise CommandError(exc.message) from exc
        self._show_mapping(job)
        problems = services.mapping_problems(job)
        if problems:
            job.delete()
            raise CommandError("; ".join(problems))
        if options["dry_run"]:
            self._dry_run(job, options["report"])
            job.delete()
            return
        job = services.run_job(job, now=timezone.now())
        self._summary(
            {
                RowOutcome.CREATED: job.created_count,
                RowOutcome.MERGED: job.merged_count,
                RowOutcome.FLAGGED: job.flagged_count,
                RowOutcome.SKIPPED: job.skipped_count,
                RowOutcome.UNCHANGED: job.unchanged_count,
                RowOutcome.FAILED: job.failed_count,
            }
        )
        if options["report"] and job.failed_count:
            with open(options["report"], "wb") as handle:
                write_error_report(job, handle)
            self.stdout.write(f"rejected rows written to {options['report']}")
        if job.status == "failed":
            raise CommandError(job.message)
        self.stdout.write(f"job {job.public_id}: {job.get_status_display()}")

    def _actor(self, username: str | None) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {username!r}")
            return user
        user = (
            User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
            or User.objects.filter(is_active=True, role="admin").order_by("pk").first()
        )
        if user is None:
            raise CommandError("no admin user; pass --user USERNAME")
        return user

    def _show_mapping(self, job: ImportJob) -> None:
        for column, key in sorted(job.mapping.items(), key=lambda kv: int(kv[0])):
            header = job.headers[int(column)] if int(column) < len(job.headers) else column
            self.stdout.write(f"  {header} → {key}")
        unmapped = [
            h for i, h in enumerate(job.headers) if str(i) not in job.mapping and str(h).strip()
        ]
        if unmapped:
            self.stdout.write("  ignored columns: " + ", ".join(map(str, unmapped)))

    def _dry_run(self, job: ImportJob, report: str) -> None:
        table = open_table(
            services.job_path(job), filename=job.original_name, max_rows=services.max_rows()
        )
        runner = services.runner_for(job, table, persist=False, now=timezone.now())
        runner.run(services.data_rows(table, job.header_row), dry_run=True)
        self._summary(runner.counts)
        failed = [r for r in runner.results if r.outcome == RowOutcome.FAILED]
        for result in failed[:20]:
            self.stdout.write(f"  row {result.row_number}: {result.message}")
        if len(failed) > 20:
            self.stdout.write(f"  … and {len(failed) - 20} more")
        if report and failed:
            with open(report, "wb") as handle:
                write_error_report(job, handle, rows=failed)
            self.stdout.write(f"rejected rows written to {report}")
        self.stdout.write("dry run: nothing was written")

    def _summary(self, counts: Any) -> None:
        for outcome in RowOutcome:
            self.stdout.write(f"{outcome.value}: {counts.get(outcome.value, 0)}")
