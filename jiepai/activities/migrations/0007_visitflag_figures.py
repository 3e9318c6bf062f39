"""Visit flags keep figures, not sentences: complete the figures of the flags written before.

Until now a flag stored its message already worded in Chinese. The message is now worded from
the kind and `detail` when shown (VisitFlag.message), so old rows need every figure in
`detail`: the period flags lacked the window (`days`) and the ratio, which are read back from
the stored sentence (else the current settings). Going back words the Chinese sentence again
(the column reappears in 0008's reverse).
"""

import re

from django.db import migrations

#: defaults of ActivitySettings.review_window_days and visits_per_communication
DEFAULT_DAYS = 14
DEFAULT_RATIO = 3


def _number(pattern: str, text: str) -> int | None:
    found = re.search(pattern, text or "")
    return int(found.group(1)) if found else None


def complete_figures(apps, schema_editor):
    VisitFlag = apps.get_model("activities", "VisitFlag")
    ActivitySettings = apps.get_model("activities", "ActivitySettings")
    current = ActivitySettings.objects.order_by("pk").first()
    days = current.review_window_days if current else DEFAULT_DAYS
    ratio = current.visits_per_communication if current else DEFAULT_RATIO
    for flag in VisitFlag.objects.filter(kind__in=["empty_visits", "visit_ratio"]):
        detail = dict(flag.detail or {})
        detail.setdefault("days", _number(r"近\s*(\d+)\s*天", flag.message) or days)
        if flag.kind == "visit_ratio":
            detail.setdefault("ratio", _number(r"超过\s*(\d+)\s*倍", flag.message) or ratio)
        if detail != flag.detail:
            VisitFlag.objects.filter(pk=flag.pk).update(detail=detail)


#: the sentences as 0006 stored them (frozen here: the app's wording may change later)
SENTENCES = {
    "no_geolocation": "签到时没有定位({status})",
    "far_from_account": "签到位置距客户地址约 {km:.1f} 公里",
    "impossible_speed": "距上一次签到 {km:.1f} 公里、{minutes} 分钟,约 {speed} km/h",
    "clock_skew": "设备时间与服务器相差 {skew} 分钟",
    "empty_visits": "近 {days} 天有 {n} 次拜访没有跟进内容",
    "visit_ratio": "近 {days} 天拜访 {visits} 次,有效沟通 {communications} 次(超过 {ratio} 倍)",
}
GEO_LABELS = {
    "ok": "已定位",
    "denied": "定位被拒绝",
    "unavailable": "无法定位",
    "timeout": "定位超时",
    "unsupported": "设备不支持定位",
}


def word_messages(apps, schema_editor):
    VisitFlag = apps.get_model("activities", "VisitFlag")
    for flag in VisitFlag.objects.all():
        d = flag.detail or {}
        figures = {
            "status": GEO_LABELS.get(d.get("status"), d.get("status")),
            "km": (d.get("distance_m") or 0) / 1000,
            "minutes": d.get("minutes"),
            "speed": d.get("speed_kmh"),
            "skew": round(abs(d.get("skew_seconds") or 0) / 60),
            "days": d.get("days"),
            "n": len(d["visits"]) if isinstance(d.get("visits"), list) else d.get("visits"),
            "visits": d.get("visits"),
            "communications": d.get("communications"),
            "ratio": d.get("ratio"),
        }
        message = SENTENCES.get(flag.kind, flag.kind).format(**figures)
        VisitFlag.objects.filter(pk=flag.pk).update(message=message[:300])


class Migration(migrations.Migration):
    dependencies = [("activities", "0006_default_configuration")]

    operations = [migrations.RunPython(complete_figures, word_messages)]
