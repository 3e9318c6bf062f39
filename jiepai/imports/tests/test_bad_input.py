"""Bad files get a clear message, never a crash, and nothing half-written."""

from __future__ import annotations

import csv
import datetime
import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import xlwt
from hypothesis import given, settings
from hypothesis import strategies as st
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook

from jiepai.imports import services
from jiepai.imports.readers import ReadError, detect_encoding, open_table
from jiepai.intake.models import Lead

LIMIT = 1_000_000


def read(path: Path, name: str | None = None, max_rows: int = LIMIT) -> list[tuple[int, list]]:
    return list(open_table(path, filename=name or path.name, max_rows=max_rows).rows())


def test_wrong_extension_is_refused_naming_what_is_accepted(tmp_path):
    path = tmp_path / "leads.pdf"
    path.write_bytes(b"%PDF-1.4 whatever")
    with pytest.raises(ReadError, match=r"\.xlsx、\.xls 或 \.csv"):
        read(path)


def test_pdf_renamed_to_csv_is_refused(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    with pytest.raises(ReadError, match="不是 Excel 或 CSV"):
        read(path)


def test_corrupt_xlsx_is_refused(tmp_path, sheet):
    good = sheet([["姓名"], ["张三"]]).read_bytes()
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ReadError, match="损坏"):
        read(path)


def test_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ReadError, match="不是 Excel 工作簿"):
        read(path)


def test_password_protected_xlsx_is_refused(tmp_path, sheet):
    plain = sheet([["姓名"], ["张三"]])
    encrypted = io.BytesIO()
    with plain.open("rb") as handle:
        office = OOXMLFile(handle)
        office.encrypt("secret", encrypted)
    path = tmp_path / "locked.xlsx"
    path.write_bytes(encrypted.getvalue())
    with pytest.raises(ReadError, match="密码"):
        read(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ReadError, match="空的"):
        read(path)


@pytest.mark.django_db
def test_empty_sheet_is_refused(people, sheet):
    path = sheet([])
    with pytest.raises(ReadError, match="空的"):
        services.create_job(
            actor=people.rep, entity="lead", filename=path.name, source_path=str(path)
        )


@pytest.mark.django_db
def test_header_only_sheet_is_refused(people, sheet):
    path = sheet([["姓名", "手机号"]])
    with pytest.raises(ReadError, match="只有表头"):
        services.create_job(
            actor=people.rep, entity="lead", filename=path.name, source_path=str(path)
        )


@pytest.mark.django_db
def test_title_row_above_the_header_is_skipped(people, sheet):
    path = sheet([["2026年展会线索"], ["姓名", "手机号"], ["张三", "13800138000"]], merge=["A1:B1"])
    job = services.create_job(
        actor=people.rep, entity="lead", filename=path.name, source_path=str(path)
    )
    assert job.header_row == 2
    assert job.mapping == {"0": "name", "1": "mobile"}


def test_merged_cells_carry_their_value_down_the_area(sheet):
    path = sheet(
        [["公司", "姓名"], ["瑞金医院", "张主任"], [None, "李医生"], ["华山医院", "王五"]],
        merge=["A2:A3"],
    )
    rows = read(path)
    assert [cells[0] for _n, cells in rows] == ["公司", "瑞金医院", "瑞金医院", "华山医院"]


def test_formulas_give_their_cached_value_or_are_flagged(tmp_path):
    path = tmp_path / "f.xlsx"
    workbook = Workbook()
    workbook.active.append(["姓名", "预算"])
    workbook.active.append(["张三", "=1+1"])
    workbook.save(path)
    table = open_table(path, filename=path.name, max_rows=LIMIT)
    assert table.formula_cells == {(2, 1)}


@pytest.mark.django_db
def test_formula_without_a_value_rejects_its_row_with_the_cell_named(people, tmp_path):
    path = tmp_path / "f.xlsx"
    workbook = Workbook()
    workbook.active.append(["姓名", "预算"])
    workbook.active.append(["张三", "=1+1"])
    workbook.active.append(["李四", 3000])
    workbook.save(path)
    job = services.create_job(
        actor=people.marketing, entity="lead", filename=path.name, source_path=str(path)
    )
    job = services.run_job(job)
    assert job.created_count == 1 and job.failed_count == 1
    failed = job.row_results.get()
    assert "B2" in failed.errors[0]["message"] and "公式" in failed.errors[0]["message"]


@pytest.mark.django_db
def test_mixed_types_in_a_column_are_each_converted_or_rejected(people, sheet):
    path = sheet(
        [
            ["姓名", "手机号", "预算"],
            ["甲", 13800138000, 5000],
            ["乙", "13900139000", "5万"],
            ["丙", "１３７００１３７０００", datetime.date(2026, 2, 17)],
            ["丁", "13600136000", "¥1,200.50"],
        ]
    )
    job = services.create_job(
        actor=people.marketing, entity="lead", filename=path.name, source_path=str(path)
    )
    job = services.run_job(job)
    assert job.created_count == 3 and job.failed_count == 1
    budgets = dict(Lead.objects.values_list("name", "budget"))
    assert budgets == {"甲": 5000, "乙": 50000, "丁": 1200.5}
    assert job.row_results.get().row_number == 4


def test_csv_in_gbk_is_read(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("姓名,手机号\n张三,13800138000\n".encode("gbk"))
    assert read(path)[1] == (2, ["张三", "13800138000"])


def test_csv_in_utf8_with_bom_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("姓名,手机号\n张三,13800138000\n".encode("utf-8-sig"))
    assert read(path)[0] == (1, ["姓名", "手机号"])


def test_encoding_detection():
    assert detect_encoding("张三".encode()) == "utf-8"
    assert detect_encoding("张三".encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding("张三".encode("gbk")) == "gb18030"


def test_tab_separated_csv_is_read(tmp_path):
    path = tmp_path / "tabs.csv"
    path.write_text("姓名\t手机号\n张三\t13800138000\n", encoding="utf-8")
    assert read(path)[1][1] == ["张三", "13800138000"]


def test_xls_is_read(tmp_path):
    path = tmp_path / "old.xls"
    book = xlwt.Workbook()
    ws = book.add_sheet("线索")
    for r, row in enumerate([["姓名", "手机号"], ["张三", 13800138000]]):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    book.save(str(path))
    assert read(path)[1] == (2, ["张三", 13800138000])


def test_xlsx_named_xls_is_read_by_its_content(sheet, tmp_path):
    path = sheet([["姓名"], ["张三"]])
    renamed = tmp_path / "export.xls"
    renamed.write_bytes(path.read_bytes())
    assert read(renamed)[1] == (2, ["张三"])


def test_html_table_saved_as_xls_is_explained(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<html><table><tr><td>姓名</td></tr></table></html>", encoding="utf-8")
    with pytest.raises(ReadError, match="HTML"):
        read(path)


def _big_xlsx(path: Path, data_rows: int) -> Path:
    """A minimal valid .xlsx with one column and `data_rows` rows under a header, written
    directly as XML (openpyxl would take minutes for a million rows)."""
    sheet_head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as stream:
            stream.write(sheet_head.encode())
            batch = []
            for r in range(2, data_rows + 2):
                batch.append(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>')
                if len(batch) == 50_000:
                    stream.write("".join(batch).encode())
                    batch = []
            stream.write(("".join(batch) + "</sheetData></worksheet>").encode())
    return path


def test_xlsx_over_the_row_limit_is_refused_without_loading_it(tmp_path):
    path = _big_xlsx(tmp_path / "big.xlsx", LIMIT + 1)
    tracemalloc.start()
    with pytest.raises(ReadError, match="1,000,000"):
        open_table(path, filename=path.name, max_rows=LIMIT)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_xlsx_at_the_row_limit_is_accepted(tmp_path):
    path = _big_xlsx(tmp_path / "ok.xlsx", 5)
    assert open_table(path, filename=path.name, max_rows=5).row_count == 6
    with pytest.raises(ReadError, match="5 行"):
        open_table(_big_xlsx(tmp_path / "six.xlsx", 6), filename="six.xlsx", max_rows=5)


def test_csv_over_the_row_limit_is_refused_without_loading_it(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("姓名,手机号\n")
        line = "张三,13800138000\n"
        for _ in range((LIMIT + 1) // 10_000):
            handle.write(line * 10_000)
        handle.write(line * ((LIMIT + 1) % 10_000))
    tracemalloc.start()
    with pytest.raises(ReadError, match="1,000,000"):
        open_table(path, filename=path.name, max_rows=LIMIT)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


@pytest.mark.django_db
def test_bad_file_leaves_no_job_behind(people, tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ReadError):
        services.create_job(
            actor=people.rep, entity="lead", filename=path.name, source_path=str(path)
        )
    from jiepai.imports.models import ImportJob

    assert not ImportJob.objects.exists()


_CELL_TEXT = st.text(
    alphabet=st.sampled_from(list("张王李瑞金医院采购科主任abcXYZ0123456789 ,\"'-;\t")), max_size=12
)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.lists(_CELL_TEXT, min_size=2, max_size=2), min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
)
def test_any_csv_reads_back_its_cells(tmp_path_factory, rows, encoding):
    """Whatever the text, quoting and encoding, a CSV's non-empty rows read back unchanged."""
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    table = [["姓名", "单位"], *rows]
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(table)
    expected = [r for r in table if any(c.strip() for c in r)]
    assert [cells for _n, cells in read(path)] == expected
