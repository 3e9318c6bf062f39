"""Notification configuration in the YAML file (`jiepai config export/import`).

Sections: `notification_kinds` (by key), `group_robots` (by name; kinds by key) and
`delivery_policy` (one item). A robot's webhook URL and signing secret are credentials (the URL
carries the access token), so they are never exported; an import may give them, and must for a
robot that does not exist yet.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from jiepai.core.config import (
    UNCHANGED,
    UPDATED,
    Item,
    ItemError,
    apply_item,
    check_keys,
    plain_fields,
    row_to_item,
    save_item,
)
from jiepai.notify.models import DeliveryPolicy, NotificationKind, RobotEndpoint

ROBOT_CREDENTIALS = ("url", "secret")


def export_kinds() -> list[Item]:
    fields = plain_fields(NotificationKind)
    return [row_to_item(kind, fields) for kind in NotificationKind.objects.order_by("key")]


def import_kind(item: Item) -> str:
    fields = plain_fields(NotificationKind)
    check_keys(item, [f.name for f in fields], ("key",))
    kind = NotificationKind.objects.filter(key=str(item["key"])).first() or NotificationKind()
    if kind._state.adding and not item.get("label"):
        item = {**item, "label": str(item["key"])}
    return save_item(kind, apply_item(kind, item, fields))


def export_robots() -> list[Item]:
    fields = plain_fields(RobotEndpoint, exclude=ROBOT_CREDENTIALS)
    items = []
    for robot in RobotEndpoint.objects.prefetch_related("kinds").order_by("name"):
        item = row_to_item(robot, fields)
        item["kinds"] = sorted(kind.key for kind in robot.kinds.all())
        items.append(item)
    return items


def import_robot(item: Item) -> str:
    fields = plain_fields(RobotEndpoint)
    check_keys(item, [f.name for f in fields] + ["kinds"], ("name", "platform"))
    keys = item.get("kinds") or []
    if not isinstance(keys, list):
        raise ItemError(_("kinds 应为通知类型标识的列表"))
    kinds = list(NotificationKind.objects.filter(key__in=[str(k) for k in keys]))
    missing = sorted({str(k) for k in keys} - {k.key for k in kinds})
    if missing:
        raise ItemError(_("通知类型不存在:%(keys)s") % {"keys": ", ".join(missing)})
    robot = RobotEndpoint.objects.filter(name=str(item["name"])).first() or RobotEndpoint()
    if robot._state.adding and not item.get("url"):
        raise ItemError(_("新的群机器人需要 url(Webhook 地址不会被导出)"))
    plain = {k: v for k, v in item.items() if k != "kinds"}
    outcome = save_item(robot, apply_item(robot, plain, fields))
    if {k.pk for k in robot.kinds.all()} != {k.pk for k in kinds}:
        robot.kinds.set(kinds)
        return UPDATED if outcome == UNCHANGED else outcome
    return outcome


def export_policy() -> list[Item]:
    return [row_to_item(DeliveryPolicy.current(), plain_fields(DeliveryPolicy))]


def import_policy(item: Item) -> str:
    fields = plain_fields(DeliveryPolicy)
    check_keys(item, [f.name for f in fields], ())
    policy = DeliveryPolicy.current()
    changed = apply_item(policy, item, fields)
    if policy._state.adding:
        policy.save(force_insert=True)
        return "created"
    return save_item(policy, changed)
