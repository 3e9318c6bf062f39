"""The routing configuration every decision reads (policies, rules, each policy's departments and
named reps), kept in memory while it has not changed, and choosing a lead's policy from it.

Each caller asks one question of the database: the rows of those four small configuration tables
as text, in one UNION query. While the answer equals the last one, the snapshot built then is
used again; when an admin changes anything (including with `QuerySet.update()`, which leaves
`updated_at` alone, so counting rows and comparing timestamps would not do), the next decision in
every process rebuilds it. This replaces 2–4 ORM queries per routed lead with one raw query
that returns a handful of short rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from jiepai.intake.models import Lead
from jiepai.org.models import Department
from jiepai.routing import conditions
from jiepai.routing.models import RoutingPolicy, RoutingRule


@dataclass(frozen=True)
class RoutingSettings:
    policies: dict[int, RoutingPolicy]
    rules: list[RoutingRule]  # active rules of active policies, in priority order
    #: per policy id: its departments as (id, path), ordered by path
    departments: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    #: per policy id: the ids of the reps it names
    reps: dict[int, list[int]] = field(default_factory=dict)

    def active_by_key(self, key: str) -> RoutingPolicy | None:
        for policy in self.policies.values():
            if policy.key == key and policy.active:
                return policy
        return None

    def default(self) -> RoutingPolicy | None:
        for policy in self.policies.values():
            if policy.is_default and policy.active:
                return policy
        return None

    def queue_department_id(self, policy: RoutingPolicy | None) -> int | None:
        """The department whose unassigned queue a lead of this policy falls into (the policy's
        top-most department), None for the company-wide queue."""
        if policy is None:
            return None
        departments = self.departments.get(policy.pk)
        return departments[0][0] if departments else None


def _text_rows_sql() -> str:
    """One UNION ALL query returning every configuration row as text columns."""
    quote = connection.ops.quote_name
    parts: list[tuple[str, str, list[str]]] = []
    for tag, model in (("p", RoutingPolicy), ("r", RoutingRule)):
        columns = [f"{quote(f.column)}" for f in model._meta.concrete_fields]
        parts.append((tag, quote(model._meta.db_table), columns))
    through = RoutingPolicy.departments.through
    department_table = quote(Department._meta.db_table)
    parts.append(
        (
            "d",
            f"{quote(through._meta.db_table)} t JOIN {department_table} d"
            f" ON d.{quote('id')} = t.{quote('department_id')}",
            [f"t.{quote('routingpolicy_id')}", f"t.{quote('department_id')}", "d.path"],
        )
    )
    reps = RoutingPolicy.reps.through
    parts.append(("u", quote(reps._meta.db_table), [quote("routingpolicy_id"), quote("user_id")]))
    width = max(len(columns) for _tag, _table, columns in parts)
    selects = []
    for tag, table, columns in parts:
        cells = [f"CAST({c} AS TEXT)" for c in columns]
        cells += ["CAST(NULL AS TEXT)"] * (width - len(cells))
        # table and column names come from the models, never from input
        selects.append(f"SELECT '{tag}', {', '.join(cells)} FROM {table}")  # noqa: S608
    return " UNION ALL ".join(selects)


_lock = threading.Lock()
_sql: dict[str, str] = {}
_cached: tuple[Any, RoutingSettings] | None = None


def _fingerprint() -> tuple[Any, ...]:
    vendor = connection.vendor
    sql = _sql.get(vendor)
    if sql is None:
        sql = _sql[vendor] = _text_rows_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return (connection.settings_dict["NAME"], *sorted(rows, key=lambda row: tuple(map(str, row))))


def _build() -> RoutingSettings:
    policies = {p.pk: p for p in RoutingPolicy.objects.all()}
    rules = []
    for rule in RoutingRule.objects.filter(active=True).order_by("priority", "id"):
        policy = policies.get(rule.policy_id)
        if policy is not None and policy.active:
            rule.policy = policy
            rules.append(rule)
    through = RoutingPolicy.departments.through
    departments: dict[int, list[tuple[int, str]]] = {}
    for policy_id, department_id, path in through.objects.values_list(
        "routingpolicy_id", "department_id", "department__path"
    ):
        departments.setdefault(policy_id, []).append((department_id, path))
    for items in departments.values():
        items.sort(key=lambda item: item[1])
    reps: dict[int, list[int]] = {}
    for policy_id, user_id in RoutingPolicy.reps.through.objects.values_list(
        "routingpolicy_id", "user_id"
    ):
        reps.setdefault(policy_id, []).append(user_id)
    for ids in reps.values():
        ids.sort()
    return RoutingSettings(policies, rules, departments, reps)


def routing_settings() -> RoutingSettings:
    """The current configuration (one small query; rebuilt only after a change)."""
    global _cached
    fingerprint = _fingerprint()
    cached = _cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    snapshot = _build()
    with _lock:
        _cached = (fingerprint, snapshot)
    return snapshot


def select_policy(
    lead: Lead, settings: RoutingSettings | None = None
) -> tuple[RoutingPolicy | None, RoutingRule | None, str, list[str]]:
    """(policy, matching rule, where it came from, rule errors) for a lead.

    Rules in priority order first (the first whose condition holds), then the channel's policy
    key, then the default policy. A rule whose condition fails to evaluate is skipped and named
    in the errors (it was valid when saved; the lead's data made it fail).
    """
    settings = settings or routing_settings()
    errors: list[str] = []
    if settings.rules:
        names = conditions.lead_names(lead)
        for rule in settings.rules:
            try:
                if conditions.evaluate(rule.condition, names):
                    return rule.policy, rule, "rule", errors
            except Exception as exc:  # a bad rule must never stop a lead being routed
                errors.append(f"{rule.name}: {exc}")
    channel = lead.channel if lead.channel_id else None
    key = channel.routing_policy if channel else ""
    if key:
        policy = settings.active_by_key(key)
        if policy is not None:
            return policy, None, "channel", errors
    return settings.default(), None, "default", errors


def pool_filter(policy: RoutingPolicy, settings: RoutingSettings) -> models.Q | None:
    """The filter on users for a policy's pool: its named reps plus the reps of its departments
    (subtrees); None when it names neither (every active rep)."""
    from jiepai.org.models import Role

    departments = settings.departments.get(policy.pk, [])
    rep_ids = settings.reps.get(policy.pk, [])
    if not departments and not rep_ids:
        return None
    rule = models.Q(pk__in=rep_ids)
    for _department_id, path in departments:
        rule |= models.Q(role=Role.REP, department__path__startswith=path)
    return rule
