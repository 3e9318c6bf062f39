"""Routing many leads at once (an import): `route_leads(lead_ids=..., now=..., actor=...)`.

Same decisions as calling `route_lead` on each lead in id order, at a fraction of the cost:
- the configuration is read once and each policy's pool (its reps and the figures they are
  scored on) is loaded once for the whole call; the decisions run in memory, the round-robin
  pointer and the reps' loads advancing as leads are given out (a rep who reaches the load cap
  gets no more leads from this batch);
- each chunk of `CHUNK` leads is one transaction of bulk statements (lead updates, Assignments,
  LeadRouting rows, offer rounds and offers, one `lead.routed` event per lead);
- people get one summary notification each at the end ("N 条新线索" per rep, "N 条线索无人可分"
  per responsible manager), not one per lead.

The `lead.routed` event of a batch-routed lead is smaller than `route_lead`'s (no table of every
candidate's factors, which for 100,000 leads would be gigabytes of JSON), but still explains the
decision: the policy and where it came from, the winner or the reps offered to and the reason,
how many candidates were eligible and why the others were not, and for a lead nobody could take,
that it went to the unassigned queue and which manager was told (`"batch": true` marks it).

Concurrency. Each chunk locks its leads (only those still `unassigned` are routed; a lead routed
meanwhile by someone else is skipped), then the round-robin pointers it uses in policy order —
the lock order of `jiepai.routing.services` — re-reads those pointers and the reps' loads (capped
counts, one query per policy), so live intakes routing at the same time take turns with the
batch instead of racing it. The pointer locks are held for one chunk only.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.core.entities import entity_of
from jiepai.events.models import Event
from jiepai.events.services import to_jsonable
from jiepai.intake.models import Lead, LeadState
from jiepai.notify.services import notify
from jiepai.org.models import User
from jiepai.routing import conditions, scoring
from jiepai.routing.assigning import decide
from jiepai.routing.candidates import (
    PoolFigures,
    capped_active_counts,
    max_capacity,
    nearest_managers,
    pool_rows,
)
from jiepai.routing.models import (
    Assignment,
    AssignMethod,
    LeadOffer,
    LeadRouting,
    OfferRound,
    PolicyKind,
    RoundRobinPointer,
    RoutingPolicy,
    RoutingRule,
)
from jiepai.routing.policies import RoutingSettings, routing_settings, select_policy
from jiepai.routing.rows import insert_rows

#: leads per transaction: big enough for few statements, small enough to keep locks short
CHUNK = 1000


@dataclass(eq=False)  # hashed by identity: a key of the serialised explanations
class _Memo:
    version: int
    choice: scoring.Choice
    explained: dict[str, Any]


@dataclass
class _Loads:
    """Active leads per rep, shared by every policy of the batch (a rep can be in several
    pools), and a version bumped whenever one changes: cached candidates are then rebuilt."""

    active: dict[int, int] = field(default_factory=dict)
    version: int = 0

    def refresh(self, rows: list[tuple[Any, ...]]) -> None:
        active = capped_active_counts([row[0] for row in rows], max_capacity(rows))
        if active != {pk: n for pk, n in self.active.items() if n}:
            self.active = active
            self.version += 1

    def took(self, rep_id: int) -> None:
        self.active[rep_id] = self.active.get(rep_id, 0) + 1
        self.version += 1


@dataclass
class _Pool:
    """One policy's pool for the whole batch, with its round-robin pointer as it advances."""

    policy: RoutingPolicy
    rows: list[tuple[Any, ...]]
    figures: PoolFigures
    loads: _Loads
    last_rep_id: int | None = None
    candidates: dict[Any, tuple[int, list[scoring.Candidate]]] = field(default_factory=dict)
    memo: dict[Any, _Memo] = field(default_factory=dict)

    def key(self, lead: Lead) -> Any:
        if self.policy.kind == PolicyKind.WEIGHTED_POOL:
            return lead.industry or ""
        if self.policy.kind == PolicyKind.CAPABILITY_MATCH:
            return (lead.industry or "", scoring.deal_size_band(lead.budget))
        return None

    def decide(self, lead: Lead, now: datetime.datetime) -> _Memo:
        version = self.loads.version
        key = self.key(lead)
        memo = self.memo.get(key)
        if memo is not None and memo.version == version:
            return memo
        cached = self.candidates.get(key)
        if cached is None or cached[0] != version:
            cached = (
                version,
                self.figures.candidates(
                    self.rows,
                    self.loads.active,
                    industry=lead.industry or "",
                    budget=lead.budget,
                    now=now,
                ),
            )
            self.candidates[key] = cached
        choice = decide(
            self.policy,
            cached[1],
            previous=set(),
            reassigning=False,
            last_rep_id=self.last_rep_id,
        )
        memo = _Memo(version, choice, _explain(choice))
        # A choice can be reused while the loads have not changed, except round-robin's, which
        # moves on with the pointer (its "nobody eligible" does not depend on the pointer).
        if self.policy.kind != PolicyKind.ROUND_ROBIN or not choice.chosen:
            self.memo[key] = memo
        return memo

    def took(self, rep_id: int) -> None:
        """`rep_id` was given a lead: one more active lead, and round-robin moves past them."""
        self.loads.took(rep_id)
        if self.policy.kind == PolicyKind.ROUND_ROBIN:
            self.last_rep_id = rep_id


def _explain(choice: scoring.Choice) -> dict[str, Any]:
    excluded = Counter(s.excluded for s in choice.scored if s.excluded)
    return {
        "reason": choice.reason,
        "params": to_jsonable(choice.params),
        "candidate_count": len(choice.scored),
        "eligible": len(choice.scored) - sum(excluded.values()),
        "excluded": dict(sorted(excluded.items())),
    }


def _policy_json(policy: RoutingPolicy | None) -> Any:
    if policy is None:
        return None
    return {"id": policy.pk, "key": policy.key, "name": policy.name, "kind": policy.kind}


def _rule_json(rule: RoutingRule | None) -> Any:
    if rule is None:
        return None
    return {"id": rule.pk, "name": rule.name, "condition": rule.condition}


@dataclass
class _Batch:
    now: datetime.datetime
    actor: User | None
    settings: RoutingSettings
    pools: dict[int, _Pool] = field(default_factory=dict)
    loads: _Loads = field(default_factory=_Loads)
    managers: dict[int | None, list[dict[str, Any]]] = field(default_factory=dict)
    assigned_to: Counter[int] = field(default_factory=Counter)
    offered_to: Counter[int] = field(default_factory=Counter)
    unassigned_by_queue: Counter[int | None] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    explained: dict[Any, str] = field(default_factory=dict)
    policies: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def select_policy(self, lead: _LeadRow) -> Any:
        """`select_policy` for leads that look the same to the rules and the channel: once."""
        names = conditions.lead_names(lead)
        key = (*names.values(), lead.channel.routing_policy if lead.channel else "")
        found = self.policies.get(key)
        if found is None:
            found = self.policies[key] = select_policy(lead, self.settings)  # type: ignore[arg-type]
        return found

    def pool(self, policy: RoutingPolicy) -> _Pool:
        pool = self.pools.get(policy.pk)
        if pool is None:
            rows = pool_rows(policy, self.settings)
            figures = PoolFigures(policy, [row[0] for row in rows], self.now)
            pool = _Pool(policy, rows, figures, self.loads)
            self.pools[policy.pk] = pool
        return pool

    def notified(self, queue_department_id: int | None) -> list[dict[str, Any]]:
        if queue_department_id not in self.managers:
            self.managers[queue_department_id] = [
                {"id": m.pk, "name": str(m)} for m in nearest_managers(queue_department_id)
            ]
        return self.managers[queue_department_id]


def route_leads(
    *,
    lead_ids: list[int],
    now: datetime.datetime | None = None,
    actor: User | None = None,
) -> dict[str, int]:
    """Route the given leads that are still `unassigned`, in id order, as `route_lead` would one
    by one. Returns how many were assigned, offered, left unassigned (in their queue) and
    skipped (not found, or not unassigned any more)."""
    now = now or timezone.now()
    ids = sorted(set(lead_ids))
    batch = _Batch(now=now, actor=actor, settings=routing_settings())
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            _route_chunk(batch, ids[start : start + CHUNK])
    with transaction.atomic():
        _send_summaries(batch)
    routed = batch.counts["assigned"] + batch.counts["offered"] + batch.counts["unassigned"]
    return {
        "assigned": batch.counts["assigned"],
        "offered": batch.counts["offered"],
        "unassigned": batch.counts["unassigned"],
        "skipped": len(ids) - routed,
    }


@dataclass(slots=True)
class _Channel:
    slug: str
    kind: str
    routing_policy: str
    response_window_minutes: int


@dataclass(slots=True)
class _LeadRow:
    """What a decision reads of a lead (what `conditions.lead_names` and `select_policy` use),
    without building a model instance per lead."""

    pk: int
    industry: str
    province: str
    city: str
    title: str
    company: str
    budget: Any
    score: float
    intent_score: float
    owner_id: int | None
    response_due_at: datetime.datetime | None
    channel_id: int | None
    channel: _Channel | None


def _lock_leads(ids: list[int]) -> list[_LeadRow]:
    rows = (
        Lead.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, state=LeadState.UNASSIGNED)
        .order_by("pk")
        .values_list(
            "id",
            "industry",
            "province",
            "city",
            "title",
            "company",
            "budget",
            "score",
            "intent_score",
            "owner_id",
            "response_due_at",
            "channel_id",
            "channel__slug",
            "channel__kind",
            "channel__routing_policy",
            "channel__response_window_minutes",
        )
    )
    return [
        _LeadRow(*row[:12], _Channel(*row[12:]) if row[11] is not None else None) for row in rows
    ]


def _route_chunk(batch: _Batch, ids: list[int]) -> None:
    now = batch.now
    leads = _lock_leads(ids)
    if not leads:
        return
    selected = [(lead, *batch.select_policy(lead)) for lead in leads]
    policies = sorted({p.pk: p for _l, p, *_rest in selected if p is not None}.values(), key=_pk)
    pools = [batch.pool(policy) for policy in policies]
    batch.loads.refresh([row for pool in pools for row in pool.rows])
    for policy in policies:
        pool = batch.pool(policy)
        if policy.kind == PolicyKind.ROUND_ROBIN:
            # Lock order: the leads (above), then pointers by policy id, as route_lead does.
            pointer = RoundRobinPointer.objects.select_for_update().filter(pk=policy.pk).first()
            if pointer is None:
                pointer = RoundRobinPointer.objects.get_or_create(policy=policy)[0]
            pool.last_rep_id = pointer.last_rep_id

    at = connection.ops.adapt_datetimefield_value(now)
    actor = batch.actor if batch.actor is not None and batch.actor.is_authenticated else None
    events: list[tuple[Any, ...]] = []
    routings: list[tuple[Any, ...]] = []
    assigned: list[Lead] = []
    assignments: list[Assignment] = []
    offered: list[tuple[_LeadRow, RoutingPolicy, scoring.Choice]] = []
    queued: list[int] = []
    unassigned_after = _json({"state": LeadState.UNASSIGNED, "owner": None})
    offered_after = _json({"state": LeadState.OFFERED, "owner": None})

    before_json: dict[int | None, str] = {}
    for lead, policy, rule, source, rule_errors in selected:
        before = before_json.get(lead.owner_id)
        if before is None:
            before = before_json[lead.owner_id] = _json(
                {"state": LeadState.UNASSIGNED, "owner": lead.owner_id}
            )
        queue_id = batch.settings.queue_department_id(policy)
        if policy is None:
            memo = None
            outcome, escalation = "unassigned", "no_policy"
        else:
            memo = batch.pool(policy).decide(lead, now)
            outcome = "unassigned" if not memo.choice.chosen else "chosen"
            escalation = "no_eligible" if outcome == "unassigned" else ""
        if outcome == "unassigned":
            # the same explanation for every lead this happens to: serialised once
            key = (policy.pk if policy else None, rule.pk if rule else None, source, memo)
            data = batch.explained.get(key) if not rule_errors else None
            if data is None:
                data = _json(
                    {
                        **_base(policy, rule, source, rule_errors),
                        **(memo.explained if memo else {}),
                        "decision": memo.choice.reason if memo else None,
                        "outcome": "unassigned",
                        "reason": escalation,
                        "notified": batch.notified(queue_id),
                    }
                )
                if not rule_errors:
                    batch.explained[key] = data
            if lead.owner_id is not None or lead.response_due_at is not None:
                queued.append(lead.pk)  # (an unassigned lead normally has neither: no write)
            batch.unassigned_by_queue[queue_id] += 1
            events.append((at, actor, lead.pk, before, unassigned_after, data))
            routings.append((lead.pk, policy.pk if policy else None, queue_id, at, escalation))
            batch.counts["unassigned"] += 1
            continue
        assert policy is not None and memo is not None
        choice = memo.choice
        explained = {**_base(policy, rule, source, rule_errors), **memo.explained}
        routings.append((lead.pk, policy.pk, queue_id, None, ""))
        if policy.kind == PolicyKind.WEIGHTED_POOL:
            closes = now + datetime.timedelta(minutes=policy.claim_minutes)
            explained.update(
                outcome="offered",
                offered_to=[{"id": c.rep_id, "name": c.name} for c in choice.chosen],
                closes_at=closes.isoformat(),
            )
            offered.append((lead, policy, choice))
            for c in choice.chosen:
                batch.offered_to[c.rep_id] += 1
            events.append((at, actor, lead.pk, before, offered_after, _json(explained)))
            batch.counts["offered"] += 1
            continue
        winner = choice.chosen[0]
        due = now + _window(lead, policy)
        assigned.append(
            Lead(
                pk=lead.pk,
                owner_id=winner.rep_id,
                state=LeadState.ASSIGNED,
                assigned_at=now,
                response_due_at=due,
                updated_at=now,
            )
        )
        assignments.append(
            Assignment(
                lead_id=lead.pk,
                rep_id=winner.rep_id,
                policy=policy,
                method=AssignMethod.CAPABILITY_MATCH
                if policy.kind == PolicyKind.CAPABILITY_MATCH
                else AssignMethod.ROUND_ROBIN,
                assigned_at=now,
                response_due_at=due,
            )
        )
        batch.pool(policy).took(winner.rep_id)
        batch.assigned_to[winner.rep_id] += 1
        explained.update(outcome="assigned", winner={"id": winner.rep_id, "name": winner.name})
        after = {"state": LeadState.ASSIGNED, "owner": winner.rep_id, "response_due_at": due}
        events.append((at, actor, lead.pk, before, _json(after), _json(explained)))
        batch.counts["assigned"] += 1

    if queued:
        Lead.objects.filter(pk__in=queued).update(
            owner=None, state=LeadState.UNASSIGNED, response_due_at=None, updated_at=now
        )
    if assigned:
        Lead.objects.bulk_update(
            assigned, ["owner", "state", "assigned_at", "response_due_at", "updated_at"]
        )
        Assignment.objects.bulk_create(assignments)
    if offered:
        _open_offers(offered, now)
    insert_rows(
        LeadRouting,
        ["lead_id", "policy_id", "queue_department_id", "escalated_at", "escalation_reason"],
        routings,
        constant={"created_at": at, "updated_at": at},
        upsert_on="lead_id",
    )
    insert_rows(
        Event,
        ["created_at", "actor_id", "subject_id", "before", "after", "data"],
        [(when, who.pk if who else None, *rest) for when, who, *rest in events],
        constant={"subject_type": entity_of(Lead()), "verb": "lead.routed"},
        json_columns=("before", "after", "data"),
    )
    for policy in policies:
        pool = batch.pools[policy.pk]
        if policy.kind == PolicyKind.ROUND_ROBIN:
            RoundRobinPointer.objects.filter(pk=policy.pk).update(
                last_rep_id=pool.last_rep_id, updated_at=now
            )


def _base(
    policy: RoutingPolicy | None, rule: RoutingRule | None, source: str, rule_errors: list[str]
) -> dict[str, Any]:
    return {
        "batch": True,
        "policy": _policy_json(policy),
        "source": source,
        "rule": _rule_json(rule),
        "rule_errors": rule_errors,
    }


def _json(value: Any) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False)


def _pk(policy: RoutingPolicy) -> int:
    return policy.pk


def _window(lead: _LeadRow, policy: RoutingPolicy) -> datetime.timedelta:
    if lead.channel is not None:
        return datetime.timedelta(minutes=lead.channel.response_window_minutes)
    return datetime.timedelta(minutes=policy.fallback_window_minutes)


def _open_offers(
    offered: list[tuple[_LeadRow, RoutingPolicy, scoring.Choice]], now: datetime.datetime
) -> None:
    Lead.objects.filter(pk__in=[lead.pk for lead, _p, _c in offered]).update(
        state=LeadState.OFFERED, owner=None, response_due_at=None, updated_at=now
    )
    rounds = OfferRound.objects.bulk_create(
        [
            OfferRound(
                lead_id=lead.pk,
                policy=policy,
                offered_at=now,
                closes_at=now + datetime.timedelta(minutes=policy.claim_minutes),
                lock_due_at=now + datetime.timedelta(minutes=policy.claim_minutes),
            )
            for lead, policy, _choice in offered
        ]
    )
    offers = []
    for offer_round, (lead, _policy, choice) in zip(rounds, offered, strict=True):
        scores = {s.candidate.rep_id: s.score or 0.0 for s in choice.scored}
        offers.extend(
            LeadOffer(
                round_id=offer_round.pk,
                lead_id=lead.pk,
                rep_id=c.rep_id,
                rank=rank,
                score=scores[c.rep_id],
            )
            for rank, c in enumerate(choice.chosen, start=1)
        )
    LeadOffer.objects.bulk_create(offers)


def _send_summaries(batch: _Batch) -> None:
    """One notification per rep who was given or offered leads, one per manager responsible
    for a queue that received leads nobody could take."""
    reps = User.objects.in_bulk(sorted(set(batch.assigned_to) | set(batch.offered_to)))
    my_leads = reverse("routing:my_leads")
    for rep_id, rep in reps.items():
        assigned, offered = batch.assigned_to[rep_id], batch.offered_to[rep_id]
        parts = []
        if assigned:
            parts.append(_("分配给你 %(n)s 条,请在响应时限内联系") % {"n": assigned})
        if offered:
            parts.append(_("邀请你抢单 %(n)s 条") % {"n": offered})
        notify(
            recipients=[rep],
            kind="routing.assigned",
            title=_("%(n)s 条新线索") % {"n": assigned + offered},
            body=";".join(parts),
            url=my_leads,
            now=batch.now,
        )
    # a manager responsible for several queues hears once, with the total
    waiting: Counter[int] = Counter()
    managers: dict[int, User] = {}
    for queue_id, count in batch.unassigned_by_queue.items():
        for manager in nearest_managers(queue_id):
            waiting[manager.pk] += count
            managers[manager.pk] = manager
    queue_url = reverse("routing:queue")
    for manager_id, count in sorted(waiting.items()):
        notify(
            recipients=[managers[manager_id]],
            kind="routing.unassigned",
            title=_("%(n)s 条线索无人可分,请处理") % {"n": count},
            body=_("它们在待分配队列里:没有可用的策略,或销售均已暂停、离线或达到在跟上限"),
            url=queue_url,
            now=batch.now,
        )
