"""Running imports: validation, ownership, idempotency, duplicate policies, events, trial."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from jiepai.customers.models import Account, Contact
from jiepai.customers.services import create_account, create_contact
from jiepai.customfields.models import FieldDefinition
from jiepai.dedup.models import DuplicateFlag
from jiepai.events.models import Event
from jiepai.imports import services
from jiepai.imports.models import ImportJob, ImportLedger, ImportRowResult, ImportStatus
from jiepai.imports.tests.conftest import distinct_leads
from jiepai.intake.models import Lead
from jiepai.intake.services import create_lead
from jiepai.pipeline.models import Opportunity

NOW = timezone.make_aware(datetime.datetime(2026, 2, 17, 9, 0))

LEAD_HEADER = ["姓名", "公司", "手机号", "邮箱", "预算"]


def run(path: Path, entity: str, actor: Any, **kwargs: Any) -> ImportJob:
    job = services.create_job(
        actor=actor, entity=entity, filename=path.name, source_path=str(path), **kwargs
    )
    assert services.mapping_problems(job) == []
    return services.run_job(job, now=NOW)


def results(job: ImportJob) -> dict[int, ImportRowResult]:
    return {r.row_number: r for r in ImportRowResult.objects.filter(job=job)}


@pytest.mark.django_db
def test_leads_are_created_with_converted_values_and_events(people, sheet):
    path = sheet(
        [
            LEAD_HEADER,
            ["张主任", "上海瑞金医院", 13800138000, "ZHANG@example.com", "12万"],
            ["李总", "杭州科达", "139 0013 9000", "", 3000.5],
        ]
    )
    job = run(path, "lead", people.marketing)
    assert job.status == ImportStatus.DONE
    assert job.created_count == 2
    zhang = Lead.objects.get(name="张主任")
    assert zhang.mobile == "13800138000"
    assert zhang.budget == 120000
    assert zhang.channel.kind == "import"
    assert zhang.owner is None and zhang.state == "unassigned"
    event = Event.objects.get(subject_type="lead", subject_id=zhang.pk, verb="lead.created")
    assert event.actor == people.marketing
    assert event.after["company"] == "上海瑞金医院"
    assert event.data["import_row"] == 2


@pytest.mark.django_db
def test_importer_owns_accounts_unless_an_owner_column_names_someone(people, sheet):
    path = sheet([["客户名称", "负责人"], ["瑞金医院", ""], ["华山医院", "teammate"]])
    job = run(path, "account", people.manager)
    assert job.created_count == 2
    assert Account.objects.get(name="瑞金医院").owner == people.manager
    assert Account.objects.get(name="华山医院").owner == people.teammate


@pytest.mark.django_db
def test_rep_cannot_hand_records_to_someone_else(people, sheet):
    path = sheet([["客户名称", "负责人"], ["瑞金医院", "outsider"]])
    job = run(path, "account", people.rep)
    assert job.failed_count == 1
    assert "无权" in results(job)[2].errors[0]["message"]
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_bad_cells_are_rejected_per_row_with_the_column_named(people, sheet):
    path = sheet(
        [
            ["客户名称", "纬度", "邮箱"],
            ["瑞金医院", "北纬31度", ""],
            ["", "31.2", ""],
        ]
    )
    job = run(path, "account", people.rep)
    assert job.created_count == 0 and job.failed_count == 2
    rows = results(job)
    assert rows[2].errors[0]["column"] == "纬度"
    assert "不是数字" in rows[2].errors[0]["message"]
    assert rows[3].errors[0]["column"] == "客户名称"
    assert rows[3].values == ["", "31.2", ""]


@pytest.mark.django_db
def test_running_the_same_file_twice_writes_no_second_copy(people, sheet):
    path = sheet([LEAD_HEADER, ["张主任", "瑞金医院", "13800138000", "", ""]])
    run(path, "lead", people.marketing)
    second = run(path, "lead", people.marketing)
    assert Lead.objects.count() == 1
    assert second.unchanged_count == 1 and second.created_count == 0
    assert ImportLedger.objects.count() == 1


@pytest.mark.django_db
def test_external_id_is_the_idempotency_key_and_merge_updates_by_it(people, sheet):
    first = sheet([["外部编号", "客户名称", "城市"], ["A-1", "瑞金医院", "上海"]], name="a.xlsx")
    run(first, "account", people.rep)
    changed = sheet([["外部编号", "客户名称", "城市"], ["A-1", "瑞金医院", "杭州"]], name="b.xlsx")
    skipped = run(changed, "account", people.rep)
    assert skipped.unchanged_count == 1
    assert Account.objects.get().city == "上海"
    merged = run(changed, "account", people.rep, on_duplicate="merge")
    assert merged.merged_count == 1
    assert Account.objects.get().city == "杭州"
    assert Account.objects.count() == 1


@pytest.mark.django_db
def test_duplicate_of_existing_record_is_skipped_by_default(people, sheet):
    existing = create_lead(actor=people.rep, values={"name": "张主任", "mobile": "13800138000"})
    path = sheet([LEAD_HEADER, ["张主任", "瑞金医院", "+86 138-0013-8000", "", ""]])
    job = run(path, "lead", people.rep)
    assert job.skipped_count == 1
    row = results(job)[2]
    assert row.duplicate_ids == [existing.pk]
    assert "同一手机号" in row.errors[0]["message"]
    assert Lead.objects.count() == 1


@pytest.mark.django_db
def test_merge_policy_fills_the_existing_record_through_its_service(people, sheet):
    existing = create_contact(actor=people.rep, values={"name": "张主任", "mobile": "13800138000"})
    path = sheet([["姓名", "手机号", "职位"], ["张主任", "13800138000", "采购科主任"]])
    job = run(path, "contact", people.rep, on_duplicate="merge")
    assert job.merged_count == 1
    existing.refresh_from_db()
    assert existing.title == "采购科主任"
    assert Contact.objects.count() == 1
    assert Event.objects.filter(subject_id=existing.pk, verb="contact.updated").exists()


@pytest.mark.django_db
def test_merge_into_a_record_the_importer_cannot_see_flags_instead(people, sheet):
    hidden = create_contact(
        actor=people.outsider, values={"name": "张主任", "mobile": "13800138000"}
    )
    path = sheet([["姓名", "手机号"], ["张主任", "13800138000"]])
    job = run(path, "contact", people.rep, on_duplicate="merge")
    assert job.flagged_count == 1
    hidden.refresh_from_db()
    assert hidden.owner == people.outsider
    assert Contact.objects.count() == 2


@pytest.mark.django_db
def test_flag_policy_keeps_both_and_marks_them_for_review(people, sheet):
    existing = create_contact(actor=people.rep, values={"name": "张主任", "email": "z@x.cn"})
    path = sheet([["姓名", "邮箱"], ["张主任", "Z@X.CN"]])
    job = run(path, "contact", people.rep, on_duplicate="flag")
    assert job.flagged_count == 1
    new = Contact.objects.exclude(pk=existing.pk).get()
    flag = DuplicateFlag.objects.get(entity="contact")
    assert (flag.object_id, flag.candidate_id) == (new.pk, existing.pk)
    assert flag.source == "import"


@pytest.mark.django_db
def test_duplicates_within_one_file_follow_the_policy(people, sheet):
    path = sheet(
        [
            LEAD_HEADER,
            ["张主任", "瑞金医院", "13800138000", "", ""],
            ["张主任", "瑞金医院", "13800138000", "", ""],
            ["张三", "瑞金医院", "13800138000", "", ""],
        ]
    )
    job = run(path, "lead", people.rep)
    assert job.created_count == 1 and job.skipped_count == 2
    assert "第 2 行" in results(job)[3].errors[0]["message"]


@pytest.mark.django_db
def test_contacts_link_to_an_account_by_name(people, sheet):
    account = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    path = sheet(
        [["姓名", "公司", "角色"], ["张主任", "上海瑞金医院", "决策人"], ["王五", "不存在医院", ""]]
    )
    job = run(path, "contact", people.rep)
    assert job.created_count == 1 and job.failed_count == 1
    contact = Contact.objects.get(name="张主任")
    assert contact.account == account and contact.role == "decision_maker"
    assert "找不到客户" in results(job)[3].errors[0]["message"]


@pytest.mark.django_db
def test_opportunities_start_in_the_first_stage_or_the_named_one(people, sheet):
    create_account(actor=people.rep, values={"name": "瑞金医院"})
    path = sheet(
        [
            ["商机名称", "客户", "金额", "预计成交日期", "阶段"],
            ["CT 采购", "瑞金医院", "¥1,200,000", "2026年3月31日", ""],
            ["MR 采购", "瑞金医院", "80万", 46100, "不存在的阶段"],
        ]
    )
    job = run(path, "opportunity", people.rep)
    assert job.created_count == 1 and job.failed_count == 1
    deal = Opportunity.objects.get()
    assert deal.amount == 1200000
    assert deal.expected_close_date == datetime.date(2026, 3, 31)
    assert deal.stage.position == min(s.position for s in deal.stage.pipeline.stages.all())
    assert "可选" in results(job)[3].errors[0]["message"]


@pytest.mark.django_db
def test_custom_fields_are_checked_and_unmatched_options_collected(people, sheet):
    FieldDefinition.objects.create(
        entity="lead",
        key="industry_detail",
        label="细分行业",
        field_type="select",
        options=[
            {"value": "machinery", "label": "机械制造", "synonyms": ["机械"]},
            {"value": "auto_parts", "label": "汽车零部件", "synonyms": []},
        ],
    )
    FieldDefinition.objects.create(
        entity="lead", key="visit_on", label="回访日期", field_type="date"
    )
    path = sheet(
        [
            ["姓名", "细分行业", "回访日期"],
            ["张三", "机械", "2026/2/17"],
            ["李四", "医疗器械", 46070],
            ["王五", "汽车零部件", "下周"],
        ]
    )
    job = run(path, "lead", people.marketing)
    assert job.created_count == 1 and job.failed_count == 2
    lead = Lead.objects.get()
    assert lead.custom == {"industry_detail": "machinery", "visit_on": "2026-02-17"}
    assert job.unmatched == {"industry_detail": {"医疗器械": 1}}
    message = results(job)[3].errors[0]["message"]
    assert "医疗器械" in message and "机械制造" in message


@pytest.mark.django_db
def test_trial_runs_ten_rows_and_writes_nothing(people, sheet):
    rows = [LEAD_HEADER, *distinct_leads(15)]
    rows[3][4] = "很多"
    job = services.create_job(
        actor=people.marketing, entity="lead", filename="t.xlsx", source_path=str(sheet(rows))
    )
    trial = services.trial_job(job, now=NOW)
    assert len(trial) == 10
    assert [r.outcome for r in trial].count("failed") == 1
    assert trial[0].label == rows[1][0]
    assert not Lead.objects.exists() and not ImportLedger.objects.exists()
    assert len(ImportJob.objects.get(pk=job.pk).trial) == 10


@pytest.mark.django_db
def test_service_and_import_write_the_same_record_and_event(people, sheet):
    """The import's bulk path mirrors create_lead: same fields, same event snapshot."""
    values = {"name": "张主任", "company": "瑞金医院", "mobile": "13800138000"}
    by_service = create_lead(actor=people.rep, values={**values, "channel": None}, now=NOW)
    path = sheet([["姓名", "公司", "手机号"], ["张主任", "瑞金医院", "13900139000"]])
    run(path, "lead", people.rep)
    by_import = Lead.objects.exclude(pk=by_service.pk).get()
    for name in ("name", "company", "owner_id", "state", "custom"):
        assert getattr(by_import, name) == getattr(by_service, name), name
    service_event = Event.objects.get(subject_id=by_service.pk, verb="lead.created")
    import_event = Event.objects.get(subject_id=by_import.pk, verb="lead.created")
    assert set(import_event.after) - {"channel"} == set(service_event.after) - {"channel"}
    assert import_event.after["state"] == service_event.after["state"] == "assigned"


@pytest.mark.django_db
def test_failed_run_leaves_whole_chunks_and_rerun_resumes(people, sheet, monkeypatch):
    rows = [LEAD_HEADER, *distinct_leads(25)]
    path = sheet(rows)
    job = services.create_job(
        actor=people.marketing, entity="lead", filename="r.xlsx", source_path=str(path)
    )
    from jiepai.imports import runner as runner_module

    original = runner_module.ImportRunner._write
    calls = {"n": 0}

    def failing_write(self, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            original(self, rows)
            raise RuntimeError("disk full")
        return original(self, rows)

    monkeypatch.setattr(runner_module, "CHUNK_SIZE", 10)
    monkeypatch.setattr(runner_module.ImportRunner, "_write", failing_write)
    failed = services.run_job(job, now=NOW)
    assert failed.status == ImportStatus.FAILED
    assert "disk full" in failed.message
    assert Lead.objects.count() == 10  # the first chunk; the second rolled back whole
    monkeypatch.setattr(runner_module.ImportRunner, "_write", original)
    done = services.run_job(failed, now=NOW)
    assert done.status == ImportStatus.DONE
    assert Lead.objects.count() == 25
    assert done.created_count == 25  # resumed rows count as created by this job


@pytest.mark.django_db
def test_imported_records_are_found_by_the_duplicate_matcher(people, sheet):
    from jiepai.dedup.matcher import find_duplicates

    path = sheet([["姓名", "手机号", "公司"], ["张主任", "13800138000", "上海瑞金医院"]])
    run(path, "lead", people.marketing)
    found = find_duplicates(
        "lead", {"name": "张主任", "mobile": "138 0013 8000"}, viewer=people.marketing
    )
    assert [c.object_id for c in found] == [Lead.objects.get().pk]


@pytest.mark.django_db
def test_similar_rows_in_one_chunk_are_scored_against_each_other(people, sheet):
    path = sheet(
        [
            ["姓名", "手机号", "公司"],
            ["张主任", "13800138000", "上海瑞金医院"],
            ["张主任", "13800138000", "瑞金医院采购科"],
            ["张伟", "13900139000", "上海瑞金医院"],
        ]
    )
    job = run(path, "lead", people.marketing)
    assert job.created_count == 2 and job.skipped_count == 1
    assert "第 2 行" in results(job)[3].errors[0]["message"]


@pytest.mark.django_db
def test_account_with_the_same_credit_code_is_a_duplicate(people, sheet):
    existing = create_account(
        actor=people.rep, values={"name": "上海瑞金医院", "credit_code": "91310000MA1FL0N0XD"}
    )
    path = sheet([["客户名称", "统一社会信用代码"], ["瑞金医院", "91310000MA1FL0N0XD"]])
    job = run(path, "account", people.rep)
    assert job.skipped_count == 1
    assert results(job)[2].duplicate_ids == [existing.pk]


@pytest.mark.django_db
def test_unique_rule_rejects_a_row_whose_key_is_taken(people, sheet):
    from jiepai.dedup.services import set_unique_rule

    create_contact(actor=people.rep, values={"name": "张主任", "mobile": "13800138000"})
    set_unique_rule(entity="contact", kind="mobile", active=True, actor=people.admin)
    path = sheet(
        [
            ["姓名", "手机号"],
            ["李四", "13800138000"],
            ["王五", "13900139000"],
            ["赵六", "13900139000"],
        ]
    )
    job = run(path, "contact", people.rep, on_duplicate="flag")
    assert job.created_count == 1
    rows = results(job)
    assert rows[2].outcome == "failed" and "唯一" in rows[2].errors[0]["message"]
    assert rows[4].outcome in ("failed", "flagged")


@pytest.mark.django_db
def test_imported_leads_without_an_owner_are_routed_after_the_import(people, sheet):
    path = sheet([LEAD_HEADER, *distinct_leads(3)])
    job = run(path, "lead", people.marketing)  # the routing task runs inline in tests
    routed = Event.objects.filter(verb="lead.routed", subject_type="lead")
    assert sorted(routed.values_list("subject_id", flat=True)) == sorted(
        services.imported_lead_ids(job)
    )


@pytest.mark.django_db
def test_leads_imported_by_a_rep_are_theirs_and_not_routed(people, sheet):
    path = sheet([LEAD_HEADER, *distinct_leads(2)])
    run(path, "lead", people.rep)
    assert set(Lead.objects.values_list("owner", "state")) == {(people.rep.pk, "assigned")}
    assert not Event.objects.filter(verb="lead.routed").exists()


@pytest.mark.django_db
def test_a_run_whose_worker_died_can_be_queued_again(people, sheet):
    path = sheet([LEAD_HEADER, *distinct_leads(2)])
    job = services.create_job(
        actor=people.marketing, entity="lead", filename=path.name, source_path=str(path)
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    assert services.queue_job(job) is False  # still running as far as anyone knows
    ImportJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=11)
    )
    job.refresh_from_db()
    assert job.is_stale
    assert services.queue_job(job) is True  # tasks run inline: it is imported now
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and Lead.objects.count() == 2


@pytest.mark.django_db
def test_title_written_contact_meets_the_full_name_like_at_the_door(people, sheet):
    from jiepai.customers.services import create_account
    from jiepai.dedup.matcher import find_duplicates

    account = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    existing = create_contact(
        actor=people.rep, values={"name": "张伟", "title": "主任", "account": account}
    )
    door = find_duplicates(
        "contact", {"name": "张主任", "company": "上海瑞金医院"}, viewer=people.rep
    )
    path = sheet([["姓名", "客户"], ["张主任", "上海瑞金医院"]])
    job = run(path, "contact", people.rep, on_duplicate="flag")
    found_at_door = any(c.record.pk == existing.pk for c in door)
    assert (job.flagged_count == 1) == found_at_door
    # flagged for review the way the door's "allow and flag" flags: a flag naming the record
    assert DuplicateFlag.objects.filter(entity="contact", candidate_id=existing.pk).exists()


@pytest.mark.django_db
def test_row_key_is_the_hash_of_its_normalised_cells(people, sheet):
    # Re-running a file imported by an earlier version must find its rows: the key's form is
    # part of the ledger, so it is pinned here.
    import hashlib
    import json

    path = sheet([["姓名", "手机号"], ["  张 主任 ", 13800138000]])
    job = run(path, "contact", people.rep)
    cells = sorted([("name", "张 主任"), ("mobile", "13800138000")])
    digest = hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()
    assert ImportLedger.objects.get(job=job).key == f"row:{digest}"


@pytest.mark.django_db
def test_created_event_holds_the_snapshot_create_record_would_write(people, sheet):
    from jiepai.events.services import snapshot

    path = sheet([LEAD_HEADER, ["张主任", "上海瑞金医院", 13800138000, "z@example.com", "12万"]])
    run(path, "lead", people.marketing)
    lead = Lead.objects.get()
    event = Event.objects.get(subject_type="lead", subject_id=lead.pk, verb="lead.created")
    fields = [name for name in event.after if name != "custom"]
    assert {"name", "company", "mobile", "budget", "channel", "state"} <= set(fields)
    assert event.after == {
        **snapshot(lead, fields),
        **({"custom": lead.custom} if lead.custom else {}),
    }
