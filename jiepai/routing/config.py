"""Routing policies and rules in the configuration YAML (`jiepai config export/import`).

A policy names its departments by their path of names ([节拍科技, 华东大区]) and its reps by
username, so a file moves between installations; a rule names its policy by key.
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
from jiepai.org.models import Department, User
from jiepai.routing.models import RoutingPolicy, RoutingRule


def _department_path(department: Department, names: dict[int, str]) -> list[str]:
    ids = [int(part) for part in department.path.strip("/").split("/") if part]
    return [names[i] for i in ids if i in names]


def _find_department(path: object) -> Department:
    if not isinstance(path, list) or not path:
        raise ItemError(_("部门要写成从根开始的名称列表,例如 [节拍科技, 华东大区]"))
    parent = None
    for name in path:
        node = Department.objects.filter(name=str(name), parent=parent).first()
        if node is None:
            raise ItemError(_("部门不存在:%(path)s") % {"path": " / ".join(map(str, path))})
        parent = node
    assert parent is not None
    return parent


def export_policies() -> list[Item]:
    names = dict(Department.objects.values_list("id", "name"))
    fields = plain_fields(RoutingPolicy)
    items = []
    for policy in RoutingPolicy.objects.prefetch_related("departments", "reps").order_by("key"):
        item = row_to_item(policy, fields)
        item["departments"] = [
            _department_path(d, names)
            for d in sorted(policy.departments.all(), key=lambda d: d.path)
        ]
        item["reps"] = sorted(u.username for u in policy.reps.all())
        items.append(item)
    return items


def import_policy(item: Item) -> str:
    fields = plain_fields(RoutingPolicy)
    check_keys(item, [f.name for f in fields] + ["departments", "reps"], ("key", "name", "kind"))
    departments = [_find_department(path) for path in item.get("departments") or []]
    usernames = [str(u) for u in item.get("reps") or []]
    reps = list(User.objects.filter(username__in=usernames))
    missing = sorted(set(usernames) - {u.username for u in reps})
    if missing:
        raise ItemError(_("用户不存在:%(names)s") % {"names": ", ".join(missing)})
    policy = RoutingPolicy.objects.filter(key=str(item["key"])).first() or RoutingPolicy()
    plain = {k: v for k, v in item.items() if k not in ("departments", "reps")}
    if plain.get("is_default"):
        # one default policy: the file's default replaces the current one
        RoutingPolicy.objects.filter(is_default=True).exclude(key=plain["key"]).update(
            is_default=False
        )
    outcome = save_item(policy, apply_item(policy, plain, fields))
    related_changed = False
    if {d.pk for d in policy.departments.all()} != {d.pk for d in departments}:
        policy.departments.set(departments)
        related_changed = True
    if {u.pk for u in policy.reps.all()} != {u.pk for u in reps}:
        policy.reps.set(reps)
        related_changed = True
    if outcome == UNCHANGED and related_changed:
        return UPDATED
    return outcome


def export_rules() -> list[Item]:
    fields = plain_fields(RoutingRule)
    return [
        {**row_to_item(rule, fields), "policy": rule.policy.key}
        for rule in RoutingRule.objects.select_related("policy").order_by("priority", "name")
    ]


def import_rule(item: Item) -> str:
    fields = plain_fields(RoutingRule)
    check_keys(item, [f.name for f in fields] + ["policy"], ("name", "condition", "policy"))
    policy = RoutingPolicy.objects.filter(key=str(item["policy"])).first()
    if policy is None:
        raise ItemError(_("分配策略不存在:%(key)s") % {"key": item["policy"]})
    rule = RoutingRule.objects.filter(name=str(item["name"])).first() or RoutingRule()
    changed = rule.policy_id != policy.pk
    rule.policy = policy
    plain = {k: v for k, v in item.items() if k != "policy"}
    changed = apply_item(rule, plain, fields) or changed
    return save_item(rule, changed)
