"""The routing health report as an Excel workbook (openpyxl, write-only)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from jiepai.routing.selectors import HealthReport


def health_workbook(report: HealthReport) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("按销售"))
    sheet.append([_("统计期间"), report.start.isoformat(), report.end.isoformat()])
    sheet.append([_("均衡度(1 − 基尼系数)"), report.balance])
    sheet.append([])
    sheet.append(
        [
            _("销售"),
            _("部门"),
            _("在跟上限"),
            _("分配"),
            _("已联系"),
            _("已确认"),
            _("已转化"),
            _("联系率"),
            _("转化率"),
            _("首次响应中位数(分钟)"),
            _("被改派"),
            _("改派占比"),
        ]
    )
    for h in report.reps:
        sheet.append(
            [
                str(h.rep),
                str(h.rep.department or ""),
                h.capacity,
                h.assigned,
                h.contacted,
                h.qualified,
                h.converted,
                h.rate(h.contacted),
                h.rate(h.converted),
                h.median_response_minutes,
                h.reassigned,
                h.reassigned_share,
            ]
        )
    t = report.totals
    sheet.append(
        [
            _("合计"),
            "",
            sum(h.capacity for h in report.reps),
            t["assigned"],
            t["contacted"],
            t["qualified"],
            t["converted"],
            None,
            None,
            t["median_response_minutes"],
            t["reassigned"],
            t["reassigned_share"],
        ]
    )
    series = book.create_sheet(_("均衡度趋势"))
    series.append([_("日期"), _("均衡度(近7天)")])
    for day, value in report.balance_series:
        series.append([day, value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
