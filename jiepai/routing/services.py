"""Routing use-cases: route a lead, claim an offer, mark contacted, reassign.

Entry point for intake: `route_lead(lead=..., now=...)`; for many leads at once (an import):
`route_leads(lead_ids=..., now=...)` (jiepai.routing.batch).

Concurrency. Every function here runs in one transaction and, when it takes several row locks,
takes them in this order so two of them can never wait on each other:
    RepProfile (the claiming rep) → OfferRound → Lead → RoundRobinPointer.
Races are decided by compare-and-set UPDATEs (`filter(..., state=<expected>).update(...)` and
checking that exactly one row changed): on PostgreSQL the second UPDATE waits for the first
one's row lock, re-reads the committed row and no longer matches; SQLite serialises writers
(transactions begin IMMEDIATE). The deadline sweeper claims its rows the same way before it
calls `lock_offer_round` or `expire_response_window`, so each deadline acts exactly once.

Every change writes an Event on the lead (verbs `lead.routed`, `lead.claimed`, `lead.locked`,
`lead.contacted`, `lead.reassigned`, `lead.escalated`) whose `data` explains the decision;
`routing/_event.html` renders it on the lead's timeline.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiepai.events.models import Event
from jiepai.events.services import record_event
from jiepai.intake.models import ACTIVE_LEAD_STATES, Lead, LeadState
from jiepai.notify.services import Message, notify, notify_many
from jiepai.org.models import RepProfile, Role, User
from jiepai.org.visibility import can_see, subtree_department_ids
from jiepai.routing import scoring
from jiepai.routing.batch import route_leads as route_leads  # the import's entry point
from jiepai.routing.candidates import (
    Pool,
    active_lead_counts,
    capped_active_counts,
    load_pool,
    nearest_managers,
)
from jiepai.routing.models import (
    Assignment,
    AssignMethod,
    ContactMethod,
    EndReason,
    LeadOffer,
    LeadRouting,
    OfferRound,
    OfferState,
    PolicyKind,
    RoundRobinPointer,
    RoundState,
    RoutingPolicy,
    RoutingRule,
)
from jiepai.routing.policies import routing_settings, select_policy
from jiepai.routing.rows import insert_rows

#: states from which a lead may be routed automatically
ROUTABLE_STATES = (LeadState.UNASSIGNED,)
#: states in which a manager may hand a lead to somebody else
REASSIGNABLE_STATES = (
    LeadState.UNASSIGNED,
    LeadState.OFFERED,
    LeadState.ASSIGNED,
    LeadState.CONTACTED,
    LeadState.QUALIFIED,
    LeadState.NURTURE,
)


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


# --- choosing the policy ------------------------------------------------------------------


def _decide(
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


def _read_pointer(policy: RoutingPolicy, *, lock: bool) -> int | None:
    """The rep who had the last turn under a round-robin policy (locked with `lock`)."""
    rows = RoundRobinPointer.objects.filter(pk=policy.pk).order_by()  # (no join for ordering)
    if lock:
        rows = rows.select_for_update()
    found = list(rows.values_list("last_rep_id", flat=True))
    if found:
        return found[0]
    return RoundRobinPointer.objects.get_or_create(policy=policy)[0].last_rep_id


def _advance_pointer(
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
    rows = RoundRobinPointer.objects.filter(pk=policy.pk)
    rows = rows.filter(last_rep__isnull=True) if seen is None else rows.filter(last_rep_id=seen)
    if rows.update(last_rep_id=rep_id, updated_at=now) != 1:
        raise PointerMoved(policy.pk)


# --- small write helpers (call inside a transaction holding the lead's row) -------------------


def lead_url(lead: Lead) -> str:
    try:
        return lead.get_absolute_url()
    except NoReverseMatch:
        return reverse("routing:my_leads")


def _window(lead: Lead, policy: RoutingPolicy | None) -> datetime.timedelta:
    if lead.channel_id and lead.channel:
        minutes = lead.channel.response_window_minutes
    else:
        minutes = policy.fallback_window_minutes if policy else 240
    return datetime.timedelta(minutes=minutes)


def _assign(
    *,
    lead: Lead,
    rep: User,
    policy: RoutingPolicy | None,
    method: str,
    now: datetime.datetime,
    keep_state: bool = False,
    reassigned: bool = False,
) -> Assignment:
    """Make `rep` the lead's owner, start its response window, open an Assignment."""
    due = None if keep_state else now + _window(lead, policy)
    values: dict[str, Any] = {"owner_id": rep.pk, "updated_at": now, "response_due_at": due}
    if not keep_state:
        values.update(state=LeadState.ASSIGNED, assigned_at=now)
    if reassigned:
        values["reassign_count"] = lead.reassign_count + 1  # the caller holds the row
    Lead.objects.filter(pk=lead.pk).update(**values)
    for name, value in values.items():
        setattr(lead, name, value)
    lead.owner = rep
    return Assignment.objects.create(
        lead=lead,
        rep=rep,
        policy=policy,
        method=method,
        assigned_at=now,
        response_due_at=due,
    )


def _end_assignment(lead: Lead, reason: str, now: datetime.datetime) -> None:
    Assignment.objects.filter(lead=lead, ended_at__isnull=True).update(
        ended_at=now, end_reason=reason, updated_at=now
    )


def _set_routing(
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


def _to_queue(
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
    _set_routing(
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


def _person(user_id: int | None, candidates: list[scoring.Candidate] | None = None) -> Any:
    if user_id is None:
        return None
    for c in candidates or []:
        if c.rep_id == user_id:
            return {"id": c.rep_id, "name": c.name}
    user = User.objects.filter(pk=user_id).first()
    return {"id": user_id, "name": str(user) if user else f"#{user_id}"}


def _who(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": str(user)}


def _policy_json(policy: RoutingPolicy | None) -> Any:
    if policy is None:
        return None
    return {"id": policy.pk, "key": policy.key, "name": policy.name, "kind": policy.kind}


# --- route_lead ---------------------------------------------------------------------------


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
    lead's row, so routing the same lead twice at once routes it once.
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
    state = list(
        Lead.objects.select_for_update()
        .filter(pk=lead.pk)
        .order_by()
        .values_list("state", flat=True)
    )
    if not state or state[0] not in ROUTABLE_STATES:
        return RoutingDecision(lead=lead, outcome="skipped", reason="not_routable")
    lead.state = state[0]
    settings = routing_settings()
    policy, rule, source, rule_errors = select_policy(lead, settings)
    if policy is None:
        managers = _to_queue(lead=lead, policy=None, reason="no_policy", now=now)
        event = record_event(
            subject=lead,
            verb="lead.routed",
            actor=actor,
            data={
                "outcome": "unassigned",
                "reason": "no_policy",
                "rule_errors": rule_errors,
                "notified": [_who(m) for m in managers],
            },
            now=now,
        )
        return RoutingDecision(lead=lead, outcome="unassigned", reason="no_policy", event=event)
    pool = load_pool(policy=policy, lead=lead, now=now, settings=settings)
    seen = None
    if policy.kind == PolicyKind.ROUND_ROBIN:
        seen = _read_pointer(policy, lock=lock_pointer)
    choice = _decide(policy, pool.candidates, previous=set(), reassigning=False, last_rep_id=seen)
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
        "policy": _policy_json(policy),
        "source": source,
        "rule": {"id": rule.pk, "name": rule.name, "condition": rule.condition} if rule else None,
        "rule_errors": rule_errors,
        "reason": choice.reason,
        "params": choice.params,
        "candidates": scored,
    }
    before = {"state": lead.state, "owner": lead.owner_id}

    if not choice.chosen:
        managers = _to_queue(
            lead=lead,
            policy=policy,
            reason="no_eligible",
            now=now,
            queue_department_id=pool.queue_department_id,
        )
        data.update(outcome="unassigned", notified=[_who(m) for m in managers])
        event = record_event(
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

    _set_routing(lead, policy=policy, queue_department_id=pool.queue_department_id)
    if policy.kind == PolicyKind.WEIGHTED_POOL:
        reps = pool.users([c.rep_id for c in choice.chosen])
        offered = _open_offers(lead=lead, policy=policy, choice=choice, reps=reps, now=now)
        data.update(
            outcome="offered",
            offered_to=[_person(c.rep_id, candidates) for c in choice.chosen],
            closes_at=offered.closes_at,
        )
        event = record_event(
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
    _assign(lead=lead, rep=pool.users([winner.rep_id])[0], policy=policy, method=method, now=now)
    data.update(outcome="assigned", winner=_person(winner.rep_id, candidates))
    event = record_event(
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
    _notify_assigned(lead, now)
    _advance_pointer(policy, winner.rep_id, now, seen=seen)  # last: see its docstring
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


def _notify_assigned(lead: Lead, now: datetime.datetime, body: str = "") -> None:
    notify_many([_assigned_message(lead, now, body)], now=now)


def _assigned_message(lead: Lead, now: datetime.datetime, body: str = "") -> Message:
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


def _open_offers(
    *,
    lead: Lead,
    policy: RoutingPolicy,
    choice: scoring.Choice,
    reps: list[User],
    now: datetime.datetime,
) -> OfferRound:
    closes = now + datetime.timedelta(minutes=policy.claim_minutes)
    Lead.objects.filter(pk=lead.pk).update(
        state=LeadState.OFFERED, owner=None, response_due_at=None, updated_at=now
    )
    lead.state, lead.owner, lead.response_due_at = LeadState.OFFERED, None, None
    offer_round = OfferRound.objects.create(
        lead=lead, policy=policy, offered_at=now, closes_at=closes, lock_due_at=closes
    )
    scores = {s.candidate.rep_id: s.score or 0.0 for s in choice.scored}
    LeadOffer.objects.bulk_create(
        [
            LeadOffer(
                round=offer_round, lead=lead, rep_id=c.rep_id, rank=rank, score=scores[c.rep_id]
            )
            for rank, c in enumerate(choice.chosen, start=1)
        ]
    )
    # one notification call for the N reps: the claim link names the lead, and the page finds
    # the offer made to whoever opens it
    notify(
        recipients=reps,
        kind="routing.offer",
        title=_("抢单:%(lead)s(%(minutes)s 分钟内有效)")
        % {"lead": lead, "minutes": policy.claim_minutes},
        body=lead.company,
        url=reverse("routing:lead_offer", args=[lead.pk]),
        dedupe_key=f"routing.offer:{offer_round.pk}",
        now=now,
    )
    return offer_round


# --- offers -------------------------------------------------------------------------------


def claim_offer(*, offer: LeadOffer, rep: User, now: datetime.datetime | None = None) -> Lead:
    """The rep claims a lead offered to them. Exactly one claim per offer round wins.

    Raises ValidationError (with a message for the rep) when the offer is not theirs, the rep is
    at capacity, or somebody else was faster.
    """
    now = now or timezone.now()
    if offer.rep_id != rep.pk:
        raise ValidationError(_("这不是给你的抢单邀请"), code="not_yours")
    with transaction.atomic():
        # Lock the claiming rep's profile first: two claims by the same rep on different leads
        # are serialised, so both cannot pass the load-cap check on the same count.
        profile = RepProfile.objects.select_for_update().filter(user=rep).first()
        if profile is None:
            raise ValidationError(_("你没有销售档案,不能接收线索"), code="no_profile")
        if capped_active_counts([rep.pk], profile.capacity).get(rep.pk, 0) >= profile.capacity:
            raise ValidationError(
                _("你在跟的线索已达上限(%(cap)s 条),请先推进或关闭一些线索")
                % {"cap": profile.capacity},
                code="at_capacity",
            )
        # The race is decided here. Two reps claiming at once both run this UPDATE; on
        # PostgreSQL the second one blocks on the row lock the first one holds, and once the
        # first commits it re-checks `state = open` against the committed row and matches
        # nothing, so it updates 0 rows and loses. The sweeper's lock runs the same
        # compare-and-set on `state = open`, so a claim and the lock can never both win.
        won = OfferRound.objects.filter(pk=offer.round_id, state=RoundState.OPEN).update(
            state=RoundState.CLAIMED, winner=rep, closed_at=now, lock_due_at=None, updated_at=now
        )
        if won != 1:
            raise ValidationError(_("来晚了,这条线索已被抢走或已锁定"), code="taken")
        lead = (
            Lead.objects.select_for_update(of=("self",))
            .select_related("channel")
            .get(pk=offer.lead_id)
        )
        if lead.state != LeadState.OFFERED:
            raise ValidationError(_("这条线索已不在抢单中"), code="taken")
        policy = offer.round.policy
        _assign(lead=lead, rep=rep, policy=policy, method=AssignMethod.OFFER_CLAIMED, now=now)
        _close_offers(offer.round_id, winner_id=rep.pk)
        record_event(
            subject=lead,
            verb="lead.claimed",
            actor=rep,
            before={"state": LeadState.OFFERED, "owner": None},
            after={"state": lead.state, "owner": rep.pk, "response_due_at": lead.response_due_at},
            data={
                "policy": _policy_json(policy),
                "winner": _who(rep),
                "rank": offer.rank,
                "score": round(offer.score, 4),
                "seconds_to_claim": int((now - offer.round.offered_at).total_seconds()),
            },
            now=now,
        )
    return lead


def _close_offers(round_id: int, *, winner_id: int | None) -> None:
    LeadOffer.objects.filter(round_id=round_id).exclude(rep_id=winner_id).update(
        state=OfferState.LOST
    )
    if winner_id is not None:
        LeadOffer.objects.filter(round_id=round_id, rep_id=winner_id).update(state=OfferState.WON)


def lock_offer_round(offer_round: OfferRound, now: datetime.datetime) -> None:
    """Deadline `routing_offer_lock`: nobody claimed in time, give the lead to the best-scored
    offered rep who can still take it (not paused, under capacity); else to the queue."""
    # Compare-and-set on `state = open`: a claim committed first makes this a no-op.
    locked = OfferRound.objects.filter(pk=offer_round.pk, state=RoundState.OPEN).update(
        state=RoundState.LOCKED, closed_at=now, lock_due_at=None, updated_at=now
    )
    if locked != 1:
        return
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("channel")
        .get(pk=offer_round.lead_id)
    )
    if lead.state != LeadState.OFFERED:
        return
    offers = list(offer_round.offers.select_related("rep__rep_profile").order_by("rank"))
    counts = capped_active_counts(
        [o.rep_id for o in offers],
        max(
            (o.rep.rep_profile.capacity for o in offers if hasattr(o.rep, "rep_profile")), default=0
        ),
    )
    skipped = []
    winner = None
    for offer in offers:
        profile = getattr(offer.rep, "rep_profile", None)
        if profile is None or not offer.rep.is_active or profile.paused:
            skipped.append({**_who(offer.rep), "excluded": "paused"})
            continue
        if counts.get(offer.rep_id, 0) >= profile.capacity:
            skipped.append({**_who(offer.rep), "excluded": "at_capacity"})
            continue
        winner = offer
        break
    policy = offer_round.policy
    data: dict[str, Any] = {
        "policy": _policy_json(policy),
        "offered_to": [{**_who(o.rep), "rank": o.rank, "score": round(o.score, 4)} for o in offers],
        "skipped": skipped,
        "minutes": int((now - offer_round.offered_at).total_seconds() // 60),
    }
    if winner is None:
        _close_offers(offer_round.pk, winner_id=None)
        managers = _to_queue(lead=lead, policy=policy, reason="nobody_claimed", now=now)
        data.update(outcome="unassigned", notified=[_who(m) for m in managers])
        record_event(
            subject=lead,
            verb="lead.locked",
            data=data,
            now=now,
            before={"state": LeadState.OFFERED},
            after={"state": lead.state},
        )
        return
    OfferRound.objects.filter(pk=offer_round.pk).update(winner_id=winner.rep_id)
    _assign(lead=lead, rep=winner.rep, policy=policy, method=AssignMethod.OFFER_LOCKED, now=now)
    _close_offers(offer_round.pk, winner_id=winner.rep_id)
    data.update(
        outcome="assigned",
        winner={**_who(winner.rep), "rank": winner.rank, "score": round(winner.score, 4)},
    )
    record_event(
        subject=lead,
        verb="lead.locked",
        data=data,
        now=now,
        before={"state": LeadState.OFFERED, "owner": None},
        after={
            "state": lead.state,
            "owner": winner.rep_id,
            "response_due_at": lead.response_due_at,
        },
    )
    _notify_assigned(lead, now, body=_("抢单超时无人认领,已按分值锁定给你"))


# --- contact and the golden response window -----------------------------------------------


def mark_contacted(
    *,
    lead: Lead,
    rep: User,
    method: str = ContactMethod.PHONE,
    now: datetime.datetime | None = None,
) -> Lead:
    """The owner has reached the lead (已电话联系 / 已微信联系): stops the response window.

    Repeating it on a lead already contacted changes nothing (a double tap is harmless).
    """
    now = now or timezone.now()
    if method not in ContactMethod.values:
        raise ValidationError({"method": _("未知的联系方式")}, code="bad_method")
    with transaction.atomic():
        # The row lock orders this against the sweeper: if the window expired and the lead was
        # reassigned first, we see the new owner below and refuse; if we commit first, the
        # sweeper's compare-and-set on response_due_at finds it cleared and does nothing.
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        if current.owner_id != rep.pk:
            raise ValidationError(_("这条线索已不归你负责"), code="not_owner")
        if current.state != LeadState.ASSIGNED:
            if current.state in ACTIVE_LEAD_STATES:
                return current
            raise ValidationError(_("这条线索当前状态不能标记为已联系"), code="bad_state")
        Lead.objects.filter(pk=lead.pk).update(
            state=LeadState.CONTACTED,
            contacted_at=current.contacted_at or now,
            response_due_at=None,
            updated_at=now,
        )
        assignment = Assignment.objects.filter(lead=lead, ended_at__isnull=True).first()
        if assignment is not None and assignment.contacted_at is None:
            assignment.contacted_at, assignment.contact_method = now, method
            assignment.save(update_fields=["contacted_at", "contact_method", "updated_at"])
        response = int((now - current.assigned_at).total_seconds()) if current.assigned_at else None
        record_event(
            subject=lead,
            verb="lead.contacted",
            actor=rep,
            before={"state": current.state, "response_due_at": current.response_due_at},
            after={"state": LeadState.CONTACTED, "response_due_at": None},
            data={
                "method": method,
                "response_seconds": response,
                "within_window": current.response_due_at is None or now <= current.response_due_at,
            },
            now=now,
        )
        current.refresh_from_db()
    for name in ("state", "contacted_at", "response_due_at", "updated_at"):
        setattr(lead, name, getattr(current, name))
    return current


def expire_response_window(lead: Lead, now: datetime.datetime) -> None:
    """Deadline `routing_response_window`: an assigned lead was not contacted in time.

    The sweeper has already claimed the deadline (cleared response_due_at by compare-and-set in
    this transaction, so it holds the lead's row). Reassign to the next eligible rep under the
    lead's policy, never one who already had it, and notify the manager; after
    `max_reassignments` automatic reassignments, or with nobody eligible, the lead goes to the
    manager's unassigned queue.
    """
    if lead.state != LeadState.ASSIGNED or lead.owner_id is None:
        return
    lead = Lead.objects.select_related("channel", "owner__department").get(pk=lead.pk)
    routing = LeadRouting.objects.filter(lead=lead).select_related("policy").first()
    policy = routing.policy if routing and routing.policy else select_policy(lead)[0]
    previous_owner = lead.owner
    limit = policy.max_reassignments if policy else 2
    before = {"state": lead.state, "owner": previous_owner.pk}
    base: dict[str, Any] = {
        "reason": "window_expired",
        "policy": _policy_json(policy),
        "from": _who(previous_owner),
        "reassign_count": lead.reassign_count,
        "max_reassignments": limit,
        "assigned_at": lead.assigned_at,
    }
    _end_assignment(lead, EndReason.WINDOW_EXPIRED, now)
    # the three people told of a reassignment are told in one go (one INSERT, one settings
    # query), at the end
    taken_back = Message(
        recipients=[previous_owner],
        kind="routing.window_expired",
        title=_("线索超时未联系,已收回:%(lead)s") % {"lead": lead},
        url=reverse("routing:my_leads"),
        dedupe_key=f"routing.window_expired:{lead.pk}:{now.isoformat()}",
    )
    if policy is None or lead.reassign_count >= limit:
        notify_many([taken_back], now=now)
        _escalate(lead, policy, "max_reassignments" if policy else "no_policy", before, base, now)
        return
    previous = set(Assignment.objects.filter(lead=lead).values_list("rep_id", flat=True))
    pool = load_pool(policy=policy, lead=lead, now=now)
    candidates = pool.candidates
    seen = None
    if policy.kind == PolicyKind.ROUND_ROBIN:
        # the sweeper's act is short: it locks the pointer before deciding
        seen = _read_pointer(policy, lock=True)
    choice = _decide(policy, candidates, previous=previous, reassigning=True, last_rep_id=seen)
    base.update(
        candidates=[s.as_json() for s in choice.scored],
        decision=choice.reason,
        params=choice.params,
    )
    if not choice.chosen:
        notify_many([taken_back], now=now)
        _escalate(lead, policy, "no_eligible", before, base, now)
        return
    winner = choice.chosen[0]
    _assign(
        lead=lead,
        rep=pool.users([winner.rep_id])[0],
        policy=policy,
        method=AssignMethod.WINDOW_REASSIGNED,
        now=now,
        reassigned=True,
    )
    _advance_pointer(policy, winner.rep_id, now, seen=seen)
    record_event(
        subject=lead,
        verb="lead.reassigned",
        before=before,
        after={
            "state": lead.state,
            "owner": winner.rep_id,
            "response_due_at": lead.response_due_at,
        },
        data={
            **base,
            "to": _person(winner.rep_id, candidates),
            "reassign_count": lead.reassign_count,
        },
        now=now,
    )
    managers = nearest_managers(
        previous_owner.department_id,
        exclude=previous_owner.pk,
        path=previous_owner.department.path if previous_owner.department else None,
    )
    notify_many(
        [
            taken_back,
            _assigned_message(lead, now, body=_("前一位销售超时未联系,改派给你")),
            Message(
                recipients=managers,
                kind="routing.window_reassigned",
                title=_("超时改派:%(lead)s 从 %(old)s 改派给 %(new)s")
                % {"lead": lead, "old": previous_owner, "new": lead.owner},
                url=lead_url(lead),
                dedupe_key=f"routing.window_reassigned:{lead.pk}:{now.isoformat()}",
            ),
        ],
        now=now,
    )


def _escalate(
    lead: Lead,
    policy: RoutingPolicy | None,
    reason: str,
    before: dict[str, Any],
    data: dict[str, Any],
    now: datetime.datetime,
) -> None:
    managers = _to_queue(lead=lead, policy=policy, reason=reason, now=now)
    record_event(
        subject=lead,
        verb="lead.escalated",
        before=before,
        after={"state": LeadState.UNASSIGNED, "owner": None},
        data={**data, "escalation": reason, "notified": [_who(m) for m in managers]},
        now=now,
    )


# --- manual reassignment ------------------------------------------------------------------


def can_reassign(actor: User) -> bool:
    return actor.is_active and (
        actor.is_superuser or actor.role in (Role.MANAGER, Role.DIRECTOR, Role.ADMIN)
    )


def assignable_reps(actor: User) -> models.QuerySet[User]:
    """Who a manager may hand a lead to: selling people in their department subtree."""
    users = User.objects.filter(is_active=True, rep_profile__isnull=False).select_related(
        "department", "rep_profile"
    )
    if actor.sees_everything:
        return users
    if actor.role != Role.MANAGER:
        return users.none()
    return users.filter(department_id__in=subtree_department_ids(actor))


def reassign_lead(
    *, lead: Lead, to: User, reason: str, actor: User, now: datetime.datetime | None = None
) -> Lead:
    """A manager hands a lead to a rep, with a reason (required). Overrides the load cap (the
    manager decides) but the timeline records that the rep was at capacity."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写改派原因")}, code="reason_required")
    if not can_reassign(actor) or not can_see(actor, lead):
        raise ValidationError(_("你没有权限改派这条线索"), code="forbidden")
    if not assignable_reps(actor).filter(pk=to.pk).exists():
        raise ValidationError({"to": _("只能改派给你团队里的销售")}, code="bad_target")
    with transaction.atomic():
        # lock order: an open offer round before the lead (the order claim_offer uses)
        open_round = (
            OfferRound.objects.select_for_update().filter(lead=lead, state=RoundState.OPEN).first()
        )
        current = (
            Lead.objects.select_for_update(of=("self",))
            .select_related("channel", "owner")
            .get(pk=lead.pk)
        )
        if current.state not in REASSIGNABLE_STATES:
            raise ValidationError(
                _("“%(state)s”状态的线索不能改派") % {"state": current.get_state_display()},
                code="bad_state",
            )
        if current.owner_id == to.pk:
            raise ValidationError({"to": _("线索已经由此人负责")}, code="same_owner")
        if open_round is not None:
            OfferRound.objects.filter(pk=open_round.pk).update(
                state=RoundState.CANCELLED, closed_at=now, lock_due_at=None, updated_at=now
            )
            _close_offers(open_round.pk, winner_id=None)
        previous_owner = current.owner
        previous_owner_id = current.owner_id
        before = {"state": current.state, "owner": previous_owner_id}
        _end_assignment(current, EndReason.MANUAL_REASSIGN, now)
        keep_state = current.state in (LeadState.CONTACTED, LeadState.QUALIFIED, LeadState.NURTURE)
        routing = LeadRouting.objects.filter(lead=current).select_related("policy").first()
        policy = routing.policy if routing else None
        profile = getattr(to, "rep_profile", None)
        load = active_lead_counts([to.pk]).get(to.pk, 0)
        _assign(
            lead=current,
            rep=to,
            policy=policy,
            method=AssignMethod.MANUAL,
            now=now,
            keep_state=keep_state,
        )
        if routing is not None and routing.escalated_at:
            routing.escalated_at, routing.escalation_reason = None, ""
            routing.save(update_fields=["escalated_at", "escalation_reason", "updated_at"])
        record_event(
            subject=current,
            verb="lead.reassigned",
            actor=actor,
            before=before,
            after={
                "state": current.state,
                "owner": to.pk,
                "response_due_at": current.response_due_at,
            },
            data={
                "reason": "manual",
                "note": reason,
                "from": _who(previous_owner) if previous_owner else None,
                "to": _who(to),
                "by": _who(actor),
                "to_load": load,
                "to_capacity": profile.capacity if profile else None,
                "over_capacity": bool(profile and load >= profile.capacity),
                "cancelled_offers": open_round is not None,
            },
            now=now,
        )
        _notify_assigned(
            current, now, body=_("%(by)s 指派:%(reason)s") % {"by": actor, "reason": reason}
        )
        if previous_owner is not None:
            notify(
                recipients=[previous_owner],
                kind="routing.reassigned_away",
                title=_("线索已改派给 %(to)s:%(lead)s") % {"to": to, "lead": current},
                body=reason,
                url=reverse("routing:my_leads"),
                dedupe_key=f"routing.reassigned_away:{current.pk}:{now.isoformat()}",
                now=now,
            )
    return current
