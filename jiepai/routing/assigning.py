"""What every routing use-case shares: deciding under a policy, the round-robin pointer,
and the writes made while holding a lead's row (assign, end a stint, the routing row, the
unassigned queue, the explained event, the "new lead" notification).

Lock order and the compare-and-set races: see jiepai.routing.services.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiepai.core.entities import entity_of
from jiepai.events.models import Event
from jiepai.events.services import to_jsonable
from jiepai.intake.models import Lead, LeadState
from jiepai.notify.services import Message, notify, notify_many
from jiepai.org.models import User
from jiepai.routing import scoring
from jiepai.routing.candidates import (
    nearest_managers,
)
from jiepai.routing.models import (
    Assignment,
    LeadRouting,
    PolicyKind,
    RoundRobinPointer,
    RoutingPolicy,
)
from jiepai.routing.policies import routing_settings
from jiepai.routing.rows import insert_rows

# --- deciding under a policy, the round-robin pointer -----------------------------------


def decide(
    policy: RoutingPolicy,
    candidates: list[scoring.Candidate],
    *,
    previous: set[int],
    reassigning: bool,
    last_rep_id: int | None = None,
) -> scoring.Choice:
    if policy.kind == PolicyKind.WEIGHTED_POOL:
        return scoring.weighted_pool(
            candidates,
            weights=policy.weights,
            normalisation=policy.normalisation,
            top=1 if reassigning else policy.offer_count,
            skip_offline=policy.skip_offline,
            previous=previous,
        )
    if policy.kind == PolicyKind.CAPABILITY_MATCH:
        return scoring.capability_match(
            candidates,
            skip_offline=policy.skip_offline,
            require_skill=policy.skills_required,
            previous=previous,
        )
    return scoring.round_robin(
        candidates,
        last_rep_id=last_rep_id,
        skip_offline=policy.skip_offline,
        previous=previous,
    )


class PointerMoved(Exception):
    """Another routing committed a turn under the same round-robin policy after we read the
    pointer: the decision is stale and is made again (see `route_lead`)."""


def read_pointer(policy: RoutingPolicy, *, lock: bool) -> int | None:
    """The rep who had the last turn under a round-robin policy (locked with `lock`)."""
    # Plain SQL: this runs on every routed lead, and the ORM's query building cost more than
    # the query (the table and column names come from the model, never from input).
    sql = f"SELECT {_POINTER_REP} FROM {_POINTER_TABLE} WHERE {_POINTER_KEY} = %s"  # noqa: S608
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [policy.pk])
        found = cursor.fetchone()
    if found is not None:
        return found[0]
    return RoundRobinPointer.objects.get_or_create(policy=policy)[0].last_rep_id


def advance_pointer(
    policy: RoutingPolicy, rep_id: int, now: datetime.datetime, *, seen: int | None
) -> None:
    """Record `rep_id`'s turn, if the pointer still says `seen` (compare-and-set).

    This UPDATE takes the pointer's row lock, which is held until the transaction ends, so it
    is the last statement of a routing: two leads routed at once under one policy queue on the
    lock only for the commit, not for the whole routing. The second one's UPDATE waits, then
    (PostgreSQL re-checks the WHERE against the committed row) matches nothing, and
    PointerMoved makes it decide again under the lock: they take turns, never both getting the
    same "next" rep. SQLite serialises whole transactions, so it never gets there.
    """
    if policy.kind != PolicyKind.ROUND_ROBIN:
        return
    was = f"{_POINTER_REP} IS NULL" if seen is None else f"{_POINTER_REP} = %s"
    sql = (
        f"UPDATE {_POINTER_TABLE} SET {_POINTER_REP} = %s, updated_at = %s"  # noqa: S608
        f" WHERE {_POINTER_KEY} = %s AND {was}"
    )
    params = [rep_id, connection.ops.adapt_datetimefield_value(now), policy.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params if seen is None else [*params, seen])
        moved = cursor.rowcount
    if moved != 1:
        raise PointerMoved(policy.pk)


_POINTER_TABLE = RoundRobinPointer._meta.db_table
_POINTER_KEY = RoundRobinPointer._meta.get_field("policy").column
_POINTER_REP = RoundRobinPointer._meta.get_field("last_rep").column


# --- small write helpers (call inside a transaction holding the lead's row) -------------------


def lead_url(lead: Lead) -> str:
    try:
        return lead.get_absolute_url()
    except NoReverseMatch:
        return reverse("routing:my_leads")


def window(lead: Lead, policy: RoutingPolicy | None) -> datetime.timedelta:
    if lead.channel_id and lead.channel:
        minutes = lead.channel.response_window_minutes
    else:
        minutes = policy.fallback_window_minutes if policy else 240
    return datetime.timedelta(minutes=minutes)


def assign(
    *,
    lead: Lead,
    rep: User,
    policy: RoutingPolicy | None,
    method: str,
    now: datetime.datetime,
    keep_state: bool = False,
    reassigned: bool = False,
) -> Assignment:
    """Make `rep` the lead's owner, start its response window, open an Assignment.

    Plain SQL (this runs for every assigned lead, and the ORM's UPDATE and INSERT building cost
    more CPU than the statements): on PostgreSQL the lead's UPDATE and the Assignment's INSERT
    are one statement (a data-modifying CTE: one round trip), elsewhere two. No signals are
    connected to either model; the one-current-assignment constraint still raises
    IntegrityError as before."""
    due = None if keep_state else now + window(lead, policy)
    values: dict[str, Any] = {"owner_id": rep.pk, "updated_at": now, "response_due_at": due}
    if not keep_state:
        values.update(state=LeadState.ASSIGNED, assigned_at=now)
    if reassigned:
        values["reassign_count"] = lead.reassign_count + 1  # the caller holds the row
    adapt = connection.ops.adapt_datetimefield_value
    quote = connection.ops.quote_name
    sets, set_params = [], []
    for name, value in values.items():
        sets.append(f"{quote(_LEAD_COLUMNS[name])} = %s")
        if isinstance(value, datetime.datetime):
            value = adapt(value)
        elif isinstance(value, str):
            value = str(value)  # a choices member as its plain value
        set_params.append(value)
    # table and column names come from the models, never from input
    update = (
        f"UPDATE {quote(Lead._meta.db_table)} SET {', '.join(sets)}"  # noqa: S608
        f" WHERE {quote('id')} = %s"
    )
    set_params.append(lead.pk)
    stamp = timezone.now()
    insert_values = [
        adapt(stamp),
        adapt(stamp),
        lead.pk,
        rep.pk,
        policy.pk if policy else None,
        str(method),
        adapt(now),
        adapt(due),
        "",
        "",
    ]
    with connection.cursor() as cursor:
        insert = _assignment_insert()
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH moved AS ({update}) {insert}", set_params + insert_values)
        else:
            cursor.execute(update, set_params)
            cursor.execute(insert, insert_values)
        assignment_id = cursor.fetchone()[0]
    for name, value in values.items():
        setattr(lead, name, value)
    lead.owner = rep
    assignment = Assignment(
        id=assignment_id,
        created_at=stamp,
        updated_at=stamp,
        lead=lead,
        rep=rep,
        policy=policy,
        method=method,
        assigned_at=now,
        response_due_at=due,
    )
    assignment._state.adding = False
    assignment._state.db = connection.alias
    return assignment


_LEAD_COLUMNS = {f.attname: f.column for f in Lead._meta.concrete_fields}


def _assignment_insert() -> str:
    found = _insert_sql.get(("assignment", connection.vendor))
    if found is not None:
        return found
    quote = connection.ops.quote_name
    names = [
        "created_at",
        "updated_at",
        "lead_id",
        "rep_id",
        "policy_id",
        "method",
        "assigned_at",
        "response_due_at",
        "contact_method",
        "end_reason",
    ]
    columns = ", ".join(quote(Assignment._meta.get_field(n).column) for n in names)
    holders = ", ".join(["%s"] * len(names))
    # table and column names come from the model, never from input
    sql = _insert_sql["assignment", connection.vendor] = (
        f"INSERT INTO {quote(Assignment._meta.db_table)} ({columns})"  # noqa: S608
        f" VALUES ({holders}) RETURNING {quote('id')}"
    )
    return sql


_insert_sql: dict[tuple[str, str], str] = {}


def end_assignment(lead: Lead, reason: str, now: datetime.datetime) -> None:
    Assignment.objects.filter(lead=lead, ended_at__isnull=True).update(
        ended_at=now, end_reason=reason, updated_at=now
    )


def set_routing(
    lead: Lead,
    *,
    policy: RoutingPolicy | None,
    queue_department_id: int | None,
    escalated_at: datetime.datetime | None = None,
    reason: str = "",
) -> None:
    # one INSERT ... ON CONFLICT (lead) DO UPDATE; the caller holds the lead's row lock
    adapt = connection.ops.adapt_datetimefield_value
    insert_rows(
        LeadRouting,
        ["lead_id", "policy_id", "queue_department_id", "escalated_at", "escalation_reason"],
        [
            (
                lead.pk,
                policy.pk if policy else None,
                queue_department_id,
                adapt(escalated_at),
                reason,
            )
        ],
        constant={"created_at": adapt(timezone.now()), "updated_at": adapt(timezone.now())},
        upsert_on="lead_id",
    )


def to_queue(
    *,
    lead: Lead,
    policy: RoutingPolicy | None,
    reason: str,
    now: datetime.datetime,
    queue_department_id: int | None = None,
) -> list[User]:
    """Put the lead in its unassigned queue (no owner) and notify the responsible manager(s)."""
    Lead.objects.filter(pk=lead.pk).update(
        owner=None, state=LeadState.UNASSIGNED, response_due_at=None, updated_at=now
    )
    lead.owner, lead.owner_id, lead.state, lead.response_due_at = (
        None,
        None,
        LeadState.UNASSIGNED,
        None,
    )
    if queue_department_id is None:
        queue_department_id = routing_settings().queue_department_id(policy)
    set_routing(
        lead,
        policy=policy,
        queue_department_id=queue_department_id,
        escalated_at=now,
        reason=reason,
    )
    managers = nearest_managers(queue_department_id)
    notify(
        recipients=managers,
        kind="routing.unassigned",
        title=_("线索无人可分,请处理:%(lead)s") % {"lead": lead},
        body=str(ESCALATION_TEXT.get(reason, reason)),
        url=reverse("routing:queue"),
        dedupe_key=f"routing.unassigned:{lead.pk}:{now.isoformat()}",
        now=now,
    )
    return managers


ESCALATION_TEXT = {
    "no_policy": gettext_lazy("没有可用的分配策略"),
    "no_eligible": gettext_lazy("当前没有可分配的销售(均已暂停、离线或达到在跟上限)"),
    "max_reassignments": gettext_lazy("多次超时未联系,已达改派上限"),
    "nobody_claimed": gettext_lazy("抢单超时无人认领,且无可锁定的销售"),
}


def person(user_id: int | None, candidates: list[scoring.Candidate] | None = None) -> Any:
    if user_id is None:
        return None
    for c in candidates or []:
        if c.rep_id == user_id:
            return {"id": c.rep_id, "name": c.name}
    user = User.objects.filter(pk=user_id).first()
    return {"id": user_id, "name": str(user) if user else f"#{user_id}"}


def who(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": str(user)}


def explained_event(
    *,
    subject: Lead,
    verb: str,
    actor: User | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any],
    now: datetime.datetime,
) -> Event:
    """`record_event` for a decision's explanation: its candidate table (Scored.as_json, plain
    JSON already) is not walked again value by value (with 50 reps that walk cost more than
    the decision)."""
    data = dict(data)
    candidates = data.pop("candidates", None)
    plain = to_jsonable(data)
    if candidates is not None:
        plain["candidates"] = candidates
    event = Event(
        created_at=now,
        actor=actor if actor is not None and actor.is_authenticated else None,
        subject_type=entity_of(subject),
        subject_id=subject.pk,
        verb=verb,
        before=to_jsonable(before or {}),
        after=to_jsonable(after or {}),
        data=plain,
    )
    # One plain INSERT ... RETURNING (as the ORM's, without compiling it each time: that cost
    # more CPU than the statement). Events have no signals; they are only ever inserted.
    ops = connection.ops
    params = [
        ops.adapt_datetimefield_value(now),
        event.actor_id,
        event.subject_type,
        event.subject_id,
        verb,
        ops.adapt_json_value(event.before, None),
        ops.adapt_json_value(event.after, None),
        ops.adapt_json_value(plain, None),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_event_insert(), params)
        event.pk = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, connection.alias
    return event


def _event_insert() -> str:
    found = _insert_sql.get(("event", connection.vendor))
    if found is not None:
        return found
    quote = connection.ops.quote_name
    names = ["created_at", "actor_id", "subject_type", "subject_id", "verb", "before", "after"]
    names.append("data")
    columns = ", ".join(quote(Event._meta.get_field(n).column) for n in names)
    # table and column names come from the model, never from input
    sql = _insert_sql["event", connection.vendor] = (
        f"INSERT INTO {quote(Event._meta.db_table)} ({columns})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(names))}) RETURNING {quote('id')}"
    )
    return sql


def policy_json(policy: RoutingPolicy | None) -> Any:
    if policy is None:
        return None
    return {"id": policy.pk, "key": policy.key, "name": policy.name, "kind": policy.kind}


def notify_assigned(lead: Lead, now: datetime.datetime, body: str = "") -> None:
    notify_many([assigned_message(lead, now, body)], now=now)


def assigned_message(lead: Lead, now: datetime.datetime, body: str = "") -> Message:
    """ "New lead, contact it within N minutes", to its new owner."""
    minutes = (
        int((lead.response_due_at - now).total_seconds() // 60) if lead.response_due_at else "-"
    )
    return Message(
        recipients=[lead.owner],
        kind="routing.assigned",
        title=_("新线索:%(lead)s,请在 %(minutes)s 分钟内联系") % {"lead": lead, "minutes": minutes},
        body=body or lead.company,
        url=lead_url(lead),
        dedupe_key=f"routing.assigned:{lead.pk}:{now.isoformat()}",
    )
