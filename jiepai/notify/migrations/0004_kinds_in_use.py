"""Seed the kinds the features actually notify (routing, pipeline, activities, dedup) with
their labels and e-mail defaults, and drop the provisional seeds of 0003 that no feature uses
(only when nothing was ever notified under them).

E-mailed by default (urgent): nobody to route a lead to, a response window missed, a lead
reassigned for lateness (to the manager), a stalled deal, a failed closure check."""

from django.db import migrations

KINDS = [
    ("routing.offer", "线索待认领", False),
    ("routing.assigned", "新分配的线索", False),
    ("routing.unassigned", "线索无人可分配", True),
    ("routing.window_expired", "线索响应超时已收回", True),
    ("routing.window_reassigned", "线索超时改派", True),
    ("routing.reassigned_away", "线索被改派", False),
    ("opportunity.stalled", "商机停滞", True),
    ("task.due", "待办到期提醒", False),
    ("closure.failed", "闭环校验未通过", True),
    ("dedup.weekly_report", "重复数据周报", False),
    ("dedup.access_requested", "查看客户申请", False),
    ("dedup.access_decided", "查看申请处理结果", False),
    ("dedup.merged", "客户已合并", False),
]
PROVISIONAL = [
    "lead.offered",
    "lead.assigned",
    "lead.reassigned",
    "lead.response_window_expired",
    "lead.unassigned",
    "lead.incomplete",
    "task.overdue",
    "import.finished",
    "document.expiring",
]


def seed(apps, schema_editor):
    NotificationKind = apps.get_model("notify", "NotificationKind")
    Notification = apps.get_model("notify", "Notification")
    used = set(
        Notification.objects.filter(kind__in=PROVISIONAL).values_list("kind", flat=True)
    )
    NotificationKind.objects.filter(key__in=set(PROVISIONAL) - used).delete()
    for key, label, email in KINDS:
        kind, created = NotificationKind.objects.get_or_create(
            key=key, defaults={"label": label, "email_by_default": email}
        )
        if not created and kind.label == key:  # auto-created on first use: name it
            kind.label, kind.email_by_default = label, email
            kind.save(update_fields=["label", "email_by_default"])


class Migration(migrations.Migration):
    dependencies = [("notify", "0003_default_kinds")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
