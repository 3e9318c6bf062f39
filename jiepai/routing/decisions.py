"""Routing a new lead: `route_lead` (intake's entry point; many leads at once:
jiepai.routing.batch.route_leads)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from jiepai.events.models import Event
from jiepai.events.services import record_event
from jiepai.intake.models import Lead, LeadState
from jiepai.org.models import User
from jiepai.routing import scoring
from jiepai.routing.assigning import (
    PointerMoved,
    advance_pointer,
    assign,
    decide,
    explained_event,
    notify_assigned,
    person,
    policy_json,
    read_pointer,
    set_routing,
    to_queue,
    who,
)
from jiepai.routing.candidates import (
    Pool,
    load_pool,
)
from jiepai.routing.models import (
    AssignMethod,
    PolicyKind,
    RoutingPolicy,
    RoutingRule,
)
from jiepai.routing.offers import open_offers
from jiepai.routing.policies import routing_settings, select_policy

#: states from which a lead may be routed automatically
ROUTABLE_STATES = (LeadState.UNASSIGNED,)


@dataclass
class RoutingDecision:
    """What `route_lead` did. `outcome` is "assigned", "offered", "unassigned" or "skipped"."""

    lead: Lead
    outcome: str
    policy: RoutingPolicy | None = None
    rule: RoutingRule | None = None
    rep: User | None = None
    offered_to: list[User] = field(default_factory=list)
    reason: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    event: Event | None = None


def route_lead(
    *, lead: Lead, now: datetime.datetime | None = None, actor: User | None = None
) -> RoutingDecision:
    """Route one lead in state `unassigned`: pick its policy, decide, write, explain.

    - policy: the first active RoutingRule whose condition holds, else the channel's
      `routing_policy` key, else the default policy;
    - round_robin / capability_match assign the lead to one rep (state `assigned`, the response
      window starts: Lead.response_due_at = now + the channel's window);
    - weighted_pool offers it to the best N reps (state `offered`, LeadOffer rows, an in-app
      notification with a claim link each); the first claim wins (`claim_offer`); unclaimed
      after `claim_minutes` the sweeper locks it to the best-scored rep (`lock_offer_round`);
    - nobody eligible: the lead stays `unassigned` in its queue and the manager is notified.
    The lead's timeline gets one `lead.routed` event with the policy, every candidate's factors
    and score, and the reason. Leads in any other state are left alone (outcome "skipped").

    Runs in its own transaction (a savepoint when the caller already has one) and locks the
    lead's row, so routing the same lead twice at once routes it once. Round-robin reads its
    pointer without a lock and advances it by compare-and-set as the last statement (the lock
    is held only for the commit); when another routing took that turn meanwhile, this attempt
    is rolled back and made again holding the pointer's lock (`advance_pointer`).
    """
    now = now or timezone.now()
    saved = {name: lead.__dict__[name] for name in _ROUTED_FIELDS if name in lead.__dict__}
    try:
        with transaction.atomic():
            return _route(lead=lead, now=now, actor=actor, lock_pointer=False)
    except PointerMoved:
        # Another lead took this turn meanwhile: forget what this attempt wrote (rolled back)
        # and decide again, holding the pointer's lock from the start this time.
        lead.__dict__.update(saved)
        lead._state.fields_cache.pop("owner", None)
    with transaction.atomic():
        return _route(lead=lead, now=now, actor=actor, lock_pointer=True)


#: the lead's attributes routing changes in memory (restored when an attempt is retried)
_ROUTED_FIELDS = ("state", "owner_id", "assigned_at", "response_due_at", "updated_at")


def _route(
    *, lead: Lead, now: datetime.datetime, actor: User | None, lock_pointer: bool
) -> RoutingDecision:
    state = lock_lead_state(lead.pk)
    if not state or state[0] not in ROUTABLE_STATES:
        return RoutingDecision(lead=lead, outcome="skipped", reason="not_routable")
    lead.state = state[0]
    settings = routing_settings()
    policy, rule, source, rule_errors = select_policy(lead, settings)
    if policy is None:
        managers = to_queue(lead=lead, policy=None, reason="no_policy", now=now)
        event = record_event(
            subject=lead,
            verb="lead.routed",
            actor=actor,
            data={
                "outcome": "unassigned",
                "reason": "no_policy",
                "rule_errors": rule_errors,
                "notified": [who(m) for m in managers],
            },
            now=now,
        )
        return RoutingDecision(lead=lead, outcome="unassigned", reason="no_policy", event=event)
    pool = load_pool(policy=policy, lead=lead, now=now, settings=settings)
    seen = None
    if policy.kind == PolicyKind.ROUND_ROBIN:
        seen = read_pointer(policy, lock=lock_pointer)
    choice = decide(policy, pool.candidates, previous=set(), reassigning=False, last_rep_id=seen)
    return _apply_route(
        lead=lead,
        policy=policy,
        rule=rule,
        source=source,
        rule_errors=rule_errors,
        pool=pool,
        choice=choice,
        now=now,
        actor=actor,
        seen=seen,
    )


def lock_lead_state(lead_id: int) -> list[str]:
    """The lead's state, its row locked until the transaction ends (empty: no such lead).
    Plain SQL: the ORM's query building cost more than this one-row lookup."""
    sql = _LOCK_SQL
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [lead_id])
        return [row[0] for row in cursor.fetchall()]


# table and column names come from the model, never from input
_LOCK_SQL = f'SELECT "state" FROM "{Lead._meta.db_table}" WHERE "id" = %s'  # noqa: S608


def _apply_route(
    *,
    lead: Lead,
    policy: RoutingPolicy,
    rule: RoutingRule | None,
    source: str,
    rule_errors: list[str],
    pool: Pool,
    choice: scoring.Choice,
    now: datetime.datetime,
    actor: User | None,
    seen: int | None,
) -> RoutingDecision:
    candidates = pool.candidates
    scored = [s.as_json() for s in choice.scored]
    data: dict[str, Any] = {
        "policy": policy_json(policy),
        "source": source,
        "rule": {"id": rule.pk, "name": rule.name, "condition": rule.condition} if rule else None,
        "rule_errors": rule_errors,
        "reason": choice.reason,
        "params": choice.params,
        "candidates": scored,
    }
    before = {"state": lead.state, "owner": lead.owner_id}

    if not choice.chosen:
        managers = to_queue(
            lead=lead,
            policy=policy,
            reason="no_eligible",
            now=now,
            queue_department_id=pool.queue_department_id,
        )
        data.update(outcome="unassigned", notified=[who(m) for m in managers])
        event = explained_event(
            subject=lead,
            verb="lead.routed",
            actor=actor,
            before=before,
            after={"state": lead.state, "owner": None},
            data=data,
            now=now,
        )
        return RoutingDecision(
            lead=lead,
            outcome="unassigned",
            policy=policy,
            rule=rule,
            reason="no_eligible",
            candidates=scored,
            event=event,
        )

    set_routing(lead, policy=policy, queue_department_id=pool.queue_department_id)
    if policy.kind == PolicyKind.WEIGHTED_POOL:
        reps = pool.users([c.rep_id for c in choice.chosen])
        offered = open_offers(lead=lead, policy=policy, choice=choice, reps=reps, now=now)
        data.update(
            outcome="offered",
            offered_to=[person(c.rep_id, candidates) for c in choice.chosen],
            closes_at=offered.closes_at,
        )
        event = explained_event(
            subject=lead,
            verb="lead.routed",
            actor=actor,
            before=before,
            after={"state": LeadState.OFFERED, "owner": None},
            data=data,
            now=now,
        )
        return RoutingDecision(
            lead=lead,
            outcome="offered",
            policy=policy,
            rule=rule,
            offered_to=reps,
            reason=choice.reason,
            candidates=scored,
            event=event,
        )

    winner = choice.chosen[0]
    method = (
        AssignMethod.CAPABILITY_MATCH
        if policy.kind == PolicyKind.CAPABILITY_MATCH
        else AssignMethod.ROUND_ROBIN
    )
    assign(lead=lead, rep=pool.users([winner.rep_id])[0], policy=policy, method=method, now=now)
    data.update(outcome="assigned", winner=person(winner.rep_id, candidates))
    event = explained_event(
        subject=lead,
        verb="lead.routed",
        actor=actor,
        before=before,
        after={
            "state": lead.state,
            "owner": winner.rep_id,
            "response_due_at": lead.response_due_at,
        },
        data=data,
        now=now,
    )
    notify_assigned(lead, now)
    advance_pointer(policy, winner.rep_id, now, seen=seen)  # last: see its docstring
    return RoutingDecision(
        lead=lead,
        outcome="assigned",
        policy=policy,
        rule=rule,
        rep=lead.owner,
        reason=choice.reason,
        candidates=scored,
        event=event,
    )
