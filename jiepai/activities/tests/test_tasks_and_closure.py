"""Next actions as tasks: one reminder when due, and closure checks (seed 000) on D+1."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jiepai.activities.models import ClosureCheck, ClosureResult, Task
from jiepai.activities.selectors import process_quality
from jiepai.activities.services import complete_task, log_follow_up
from jiepai.deadlines.sweeper import sweep_once
from jiepai.files.models import Attachment
from jiepai.notify.models import Notification

from .conftest import SHANGHAI

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def signing(people, customer, now) -> Task:
    activity = log_follow_up(
        actor=people.rep,
        opportunity=customer.opportunity,
        method="call",
        next_action="签约",
        next_action_kind="signing",
        next_action_due=at(5, 15),
        now=now,
    )
    return activity.tasks.get()


def test_owner_is_reminded_once_when_the_task_is_due(people, customer, now) -> None:
    task = signing(people, customer, now)
    sweep_once(now=at(5, 14, 59))
    assert not Notification.objects.filter(kind="task.due").exists()
    sweep_once(now=at(5, 15, 1))
    sweep_once(now=at(5, 16))
    reminders = Notification.objects.filter(kind="task.due")
    assert [(n.recipient, n.title) for n in reminders] == [(people.rep, "待办到期:签约")]
    task.refresh_from_db()
    assert task.remind_at is None and task.reminded_at == at(5, 15, 1)


def test_done_task_is_not_reminded(people, customer, now) -> None:
    task = signing(people, customer, now)
    complete_task(actor=people.rep, task=task, now=at(4, 9))
    sweep_once(now=at(5, 16))
    assert not Notification.objects.filter(kind="task.due").exists()


def test_outsider_cannot_complete_the_reps_task(people, customer, now) -> None:
    from django.core.exceptions import PermissionDenied

    task = signing(people, customer, now)
    with pytest.raises(PermissionDenied):
        complete_task(actor=people.outsider, task=task, now=now)


def test_signing_action_books_a_closure_check_the_next_morning(people, customer, now) -> None:
    task = signing(people, customer, now)
    check = ClosureCheck.objects.get(task=task)
    assert check.check_at == at(6, 9)
    assert check.evidence_kinds == ["contract", "contract_draft"]
    assert check.result == ClosureResult.PENDING


def test_missing_contract_on_d_plus_1_reminds_rep_and_manager_and_counts(
    people, customer, now
) -> None:
    signing(people, customer, now)
    sweep_once(now=at(6, 8, 59))
    assert ClosureCheck.objects.get().result == ClosureResult.PENDING
    sweep_once(now=at(6, 9, 1))
    sweep_once(now=at(6, 12))
    check = ClosureCheck.objects.get()
    assert check.result == ClosureResult.FAILED and check.checked_at == at(6, 9, 1)
    failed = Notification.objects.filter(kind="closure.failed")
    assert sorted(n.recipient.username for n in failed) == ["manager", "rep"]
    rows = process_quality(people.manager, since=at(1, 0), until=at(31, 0))
    assert [(r.rep, r.passed, r.failed, r.score) for r in rows] == [(people.rep, 0, 1, 0)]


def test_uploaded_contract_passes_the_closure_check(people, customer, now) -> None:
    signing(people, customer, now)
    contract = Attachment.objects.create(
        entity="opportunity",
        object_id=customer.opportunity.pk,
        kind="contract",
        file=SimpleUploadedFile("合同.pdf", b"%PDF"),
        original_name="合同.pdf",
    )
    Attachment.objects.filter(pk=contract.pk).update(created_at=at(5, 17))  # uploaded on D
    sweep_once(now=at(6, 9, 1))
    assert ClosureCheck.objects.get().result == ClosureResult.PASSED
    assert not Notification.objects.filter(kind="closure.failed").exists()
    rows = process_quality(people.rep, since=at(1, 0), until=at(31, 0))
    assert [(r.passed, r.score) for r in rows] == [(1, 100)]


def test_outsider_sees_no_process_quality_of_the_rep(people, customer, now) -> None:
    signing(people, customer, now)
    sweep_once(now=at(6, 9, 1))
    assert process_quality(people.outsider, since=at(1, 0), until=at(31, 0)) == []


def test_action_kinds_without_a_rule_get_no_closure_check(people, customer, now) -> None:
    log_follow_up(
        actor=people.rep,
        opportunity=customer.opportunity,
        method="call",
        next_action="发报价",
        next_action_kind="send_quote",
        next_action_due=at(5, 15),
        now=now,
    )
    assert not ClosureCheck.objects.exists()
