"""The import pages, the error report, templates, exports and the `jiepai import` command."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from jiepai.conftest import PASSWORD
from jiepai.customers.models import Account
from jiepai.customers.services import create_account
from jiepai.customfields.models import FieldDefinition
from jiepai.imports.models import ImportJob, ImportMapping
from jiepai.intake.models import Lead
from jiepai.intake.services import create_lead


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def upload(client, path, entity="lead", **extra):
    with path.open("rb") as handle:
        return client.post(
            reverse("imports:upload"),
            {"entity": entity, "file": handle, "on_duplicate": "skip", **extra},
        )


@pytest.fixture
def industry(db):
    return FieldDefinition.objects.create(
        entity="lead",
        key="industry_detail",
        label="细分行业",
        field_type="select",
        options=[{"value": "machinery", "label": "机械制造", "synonyms": []}],
    )


@pytest.mark.django_db
def test_upload_shows_the_guessed_mapping(client, people, sheet):
    login(client, people.marketing)
    response = upload(
        client, sheet([["手机号码", "公司名称", "备用列"], ["13800138000", "瑞金", "x"]])
    )
    job = ImportJob.objects.get()
    assert response.url == job.get_absolute_url()
    assert job.mapping == {"0": "mobile", "1": "company"}
    page = client.get(job.get_absolute_url()).content.decode()
    assert "确认表头对应" in page and "13800138000" in page


@pytest.mark.django_db
def test_trial_then_start_imports_in_the_background_task(client, people, sheet, industry):
    login(client, people.marketing)
    upload(
        client,
        sheet(
            [
                ["姓名", "手机号", "细分行业"],
                ["张三", "13800138000", "机械制造"],
                ["李四", "13900139000", "医疗"],
            ]
        ),
    )
    job = ImportJob.objects.get()
    url = reverse("imports:mapping", args=[job.public_id])
    form = {"column_0": "name", "column_1": "mobile", "column_2": "custom.industry_detail"}
    client.post(url, {**form, "action": "trial", "save_as": "展会表"})
    job.refresh_from_db()
    assert [r["outcome"] for r in job.trial] == ["created", "failed"]
    assert not Lead.objects.exists()
    assert ImportMapping.objects.get(name="展会表").columns["手机号"] == "mobile"
    client.post(url, {**form, "action": "start"})  # tasks run inline in tests
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 1 and job.failed_count == 1
    progress = client.get(reverse("imports:progress", args=[job.public_id]), HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true"
    page = client.get(job.get_absolute_url()).content.decode()
    assert "医疗" in page and "机械制造" in page


@pytest.mark.django_db
def test_mapping_without_a_required_field_is_refused(client, people, sheet):
    login(client, people.rep)
    upload(client, sheet([["城市"], ["上海"]]), entity="account")
    job = ImportJob.objects.get()
    response = client.post(
        reverse("imports:mapping", args=[job.public_id]),
        {"column_0": "city", "action": "start"},
        follow=True,
    )
    assert "必填字段“客户名称”" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "uploaded"


@pytest.mark.django_db
def test_rejected_rows_download_with_an_error_column(client, people, sheet):
    login(client, people.rep)
    upload(
        client,
        sheet([["客户名称", "纬度"], ["瑞金医院", "很北"], ["华山医院", "31.2"]]),
        entity="account",
    )
    job = ImportJob.objects.get()
    client.post(
        reverse("imports:mapping", args=[job.public_id]),
        {"column_0": "name", "column_1": "latitude", "action": "start"},
    )
    response = client.get(reverse("imports:report", args=[job.public_id]))
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[0][:3] == ("客户名称", "纬度", "错误原因")
    assert rows[1][0] == "瑞金医院" and "不是数字" in rows[1][2] and rows[1][3] == 2


@pytest.mark.django_db
def test_outsider_cannot_see_or_download_anothers_import(client, people, sheet):
    login(client, people.rep)
    upload(client, sheet([["客户名称"], ["瑞金医院"]]), entity="account")
    job = ImportJob.objects.get()
    client.logout()
    login(client, people.outsider)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.get(reverse("imports:report", args=[job.public_id])).status_code == 404
    assert client.post(reverse("imports:rerun", args=[job.public_id])).status_code == 404
    assert "瑞金医院" not in client.get(reverse("imports:list")).content.decode()


@pytest.mark.django_db
def test_admin_adds_an_unmatched_value_as_an_option_in_one_click(client, people, sheet, industry):
    login(client, people.marketing)
    upload(client, sheet([["姓名", "细分行业"], ["张三", "医疗器械"]]))
    job = ImportJob.objects.get()
    client.post(
        reverse("imports:mapping", args=[job.public_id]),
        {"column_0": "name", "column_1": "custom.industry_detail", "action": "start"},
    )
    job.refresh_from_db()
    assert job.unmatched == {"industry_detail": {"医疗器械": 1}}
    add = reverse("imports:add_option", args=[job.public_id])
    assert client.post(add, {"field": "industry_detail", "value": "医疗器械"}).status_code == 403
    job.created_by = people.admin
    job.save()
    client.logout()
    login(client, people.admin)
    client.post(add, {"field": "industry_detail", "value": "医疗器械"})
    industry.refresh_from_db()
    assert "医疗器械" in industry.option_values()
    client.post(reverse("imports:rerun", args=[job.public_id]))
    job.refresh_from_db()
    assert job.created_count == 1 and Lead.objects.get().custom["industry_detail"] == "医疗器械"


@pytest.mark.django_db
def test_unmatched_value_can_become_a_synonym(client, people, industry):
    from jiepai.customfields.services import add_option

    add_option(industry, value="机械", synonym_of="machinery", actor=people.admin)
    industry.refresh_from_db()
    assert industry.options[0]["synonyms"] == ["机械"]


@pytest.mark.django_db
def test_upload_over_the_limit_is_refused_before_reading(client, people):
    login(client, people.marketing)
    response = client.post(
        reverse("imports:upload"),
        data=b"x" * 100,
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(100 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "50 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_upload_without_a_size_stops_at_the_limit(client, people, settings, sheet):
    settings.IMPORT_MAX_UPLOAD_BYTES = 2 * 1024
    login(client, people.marketing)
    big = SimpleUploadedFile("big.csv", b"name\n" + b"x" * 20 * 1024)
    response = client.post(reverse("imports:upload"), {"entity": "lead", "file": big})
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_wrong_file_type_upload_gets_a_message(client, people, tmp_path):
    login(client, people.marketing)
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n")
    response = upload(client, path)
    assert response.status_code == 400
    assert ".xlsx、.xls 或 .csv" in response.content.decode()


@pytest.mark.django_db
def test_template_has_current_fields_and_dropdowns(client, people, industry):
    login(client, people.marketing)
    response = client.get(reverse("imports:template", args=["lead"]))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert "手机" in headers and "细分行业" in headers
    column = headers.index("细分行业")
    validations = sheet.data_validations.dataValidation
    assert any(chr(65 + column) in str(v.sqref) for v in validations)
    assert workbook.worksheets[1].sheet_state == "hidden"


@pytest.mark.django_db
def test_contact_template_lists_the_role_choices(client, people):
    login(client, people.rep)
    response = client.get(reverse("imports:template", args=["contact"]))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    options = [c.value for c in workbook.worksheets[1]["A"]]
    assert "决策人" in options


@pytest.mark.django_db
def test_export_csv_follows_the_list_filters_and_visibility(client, people):
    create_account(actor=people.rep, values={"name": "上海瑞金医院", "city": "上海"})
    create_account(actor=people.rep, values={"name": "杭州市一医院", "city": "杭州"})
    create_account(actor=people.outsider, values={"name": "北京协和医院", "city": "北京"})
    login(client, people.rep)
    response = client.get(reverse("imports:export", args=["account", "csv"]), {"q": "上海"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["系统编号", "客户名称"]
    assert [r[1] for r in rows[1:]] == ["上海瑞金医院"]
    all_rows = b"".join(
        client.get(reverse("imports:export", args=["account", "csv"])).streaming_content
    )
    assert "北京协和医院" not in all_rows.decode("utf-8-sig")


@pytest.mark.django_db
def test_outsider_export_contains_none_of_the_reps_records(client, people):
    create_lead(actor=people.rep, values={"name": "张主任", "mobile": "13800138000"})
    login(client, people.outsider)
    response = client.get(reverse("imports:export", args=["lead", "xlsx"]))
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert len(rows) == 1  # the header only


@pytest.mark.django_db
def test_exported_xlsx_imports_back_without_copies(client, people, tmp_path):
    create_account(actor=people.rep, values={"name": "上海瑞金医院", "city": "上海"})
    login(client, people.rep)
    response = client.get(reverse("imports:export", args=["account", "xlsx"]))
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    upload(client, path, entity="account")
    job = ImportJob.objects.get()
    assert "name" in job.mapping.values() and "city" in job.mapping.values()
    client.post(
        reverse("imports:mapping", args=[job.public_id]),
        {**{f"column_{k}": v for k, v in job.mapping.items()}, "action": "start"},
    )
    job.refresh_from_db()
    assert job.skipped_count == 1 and Account.objects.count() == 1


@pytest.mark.django_db
def test_list_page_links_to_its_export(client, people):
    login(client, people.rep)
    page = client.get(reverse("customers:account_list"), {"q": "瑞金"}).content.decode()
    assert reverse("imports:export", args=["account", "xlsx"]) in page


@pytest.mark.django_db
def test_command_dry_run_writes_nothing_then_imports(people, sheet):
    path = sheet(
        [
            ["姓名", "手机号", "预算"],
            ["张三", "13800138000", "5万"],
            ["李四", "13900139000", "很多"],
        ]
    )
    out = io.StringIO()
    call_command("import", str(path), entity="leads", dry_run=True, user="marketing", stdout=out)
    assert "created: 1" in out.getvalue() and "failed: 1" in out.getvalue()
    assert not Lead.objects.exists() and not ImportJob.objects.exists()
    out = io.StringIO()
    report = path.parent / "rejected.xlsx"
    call_command(
        "import", str(path), entity="leads", user="marketing", report=str(report), stdout=out
    )
    assert Lead.objects.count() == 1
    assert report.exists()
    out = io.StringIO()
    call_command("import", str(path), entity="leads", user="marketing", stdout=out)
    assert "unchanged: 1" in out.getvalue() and Lead.objects.count() == 1


@pytest.mark.django_db
def test_command_refuses_a_bad_file_with_its_reason(people, tmp_path):
    path = tmp_path / "x.docx"
    path.write_bytes(b"PK")
    with pytest.raises(CommandError, match=r"\.xlsx、\.xls 或 \.csv"):
        call_command("import", str(path), entity="leads", user="marketing")


@pytest.mark.django_db
def test_uploaded_sheet_is_kept_outside_the_served_media(client, people, sheet, settings):
    from pathlib import Path

    login(client, people.marketing)
    upload(client, sheet([["姓名"], ["张三"]]))
    stored = Path(ImportJob.objects.get().file.path).resolve()
    assert stored.is_file()
    assert Path(settings.MEDIA_ROOT).resolve() not in stored.parents
