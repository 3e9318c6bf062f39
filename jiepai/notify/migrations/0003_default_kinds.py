"""Seed the retry policy row and the notification kinds the product ships with.

Urgent kinds (a missed response window, nobody to route to, a stalled deal, an overdue task,
an expiring document) also go by e-mail by default; everything else is in-app only."""

from django.db import migrations

KINDS = [
    ("lead.offered", "线索待认领", False),
    ("lead.assigned", "新分配的线索", False),
    ("lead.reassigned", "线索已改派", False),
    ("lead.response_window_expired", "线索响应超时", True),
    ("lead.unassigned", "线索无人可分配", True),
    ("lead.incomplete", "待补全线索", False),
    ("opportunity.stalled", "商机停滞", True),
    ("task.due", "待办到期提醒", False),
    ("task.overdue", "待办逾期", True),
    ("import.finished", "导入完成", False),
    ("document.expiring", "资质文件即将到期", True),
]


def seed(apps, schema_editor):
    NotificationKind = apps.get_model("notify", "NotificationKind")
    DeliveryPolicy = apps.get_model("notify", "DeliveryPolicy")
    DeliveryPolicy.objects.get_or_create(pk=1)
    for key, label, email in KINDS:
        NotificationKind.objects.get_or_create(
            key=key, defaults={"label": label, "email_by_default": email}
        )


def unseed(apps, schema_editor):
    apps.get_model("notify", "NotificationKind").objects.filter(
        key__in=[key for key, _label, _email in KINDS]
    ).delete()
    apps.get_model("notify", "DeliveryPolicy").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("notify", "0002_delivery_channels")]

    operations = [migrations.RunPython(seed, unseed)]
