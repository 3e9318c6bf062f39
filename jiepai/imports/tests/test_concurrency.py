"""Two runs of the same file at the same moment write each row once (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from jiepai.conftest import on_postgresql
from jiepai.imports import services
from jiepai.imports.models import ImportLedger
from jiepai.imports.tests.conftest import distinct_leads
from jiepai.intake.models import Lead


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_of_one_file_import_each_row_once(people, sheet):
    if not on_postgresql():
        pytest.skip("SQLite lets one writer in at a time; the race needs PostgreSQL")
    path = sheet([["姓名", "公司", "手机号", "邮箱", "预算"], *distinct_leads(30)])
    jobs = [
        services.create_job(
            actor=people.marketing, entity="lead", filename=path.name, source_path=str(path)
        )
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            services.run_job(job)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert Lead.objects.count() == 30
    assert ImportLedger.objects.count() == 30
    for job in jobs:
        job.refresh_from_db()
        assert job.status == "done", job.message
    assert sum(j.created_count for j in jobs) == 30
