"""Routing facts for the demo company (`jiepai demo`): policies per channel, the assignment
history the routing health report reads, open offers, and live response windows.

- web form and mini-program leads go to the weighted pool (offer to the best three, 30-minute
  lock), the other channels round-robin; the shipped high-value rule stays (budget > 50万 →
  capability match). The demo's policies are company-wide.
- every owned demo lead gets its Assignment (assigned → first contact), about one in twelve
  with an earlier stint by a regional colleague that ended because the window ran out;
- leads in state `offered` get an open offer round to three reps of their region, closing
  within the next half hour (so the workbench shows 抢单 and the worker locks them later);
- of the leads still waiting for first contact, two per rep keep a live window (countdowns on
  the workbench); one per region is just overdue (the worker reassigns it on its first pass);
  the rest have no pending window, so loading the demo does not flood the inbox;
- unassigned demo leads sit in their region's unassigned queue.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import TYPE_CHECKING

from jiepai.events.models import Event
from jiepai.intake.models import Channel, Lead, LeadState
from jiepai.routing.models import (
    Assignment,
    AssignMethod,
    EndReason,
    LeadOffer,
    LeadRouting,
    OfferRound,
    RoutingPolicy,
)

if TYPE_CHECKING:
    from jiepai.demo.generate import Demo

CHANNEL_POLICIES = {"web-form": "weighted_pool", "mini-program": "weighted_pool"}
REASSIGNED_SHARE = 1 / 12
LIVE_WINDOWS_PER_REP = 2


def make_routing(demo: Demo) -> None:
    from jiepai.demo.generate import _event, _mark_done, _step_done

    if _step_done("routing"):
        return
    rng = demo.rng("routing")
    for slug, key in CHANNEL_POLICIES.items():
        Channel.objects.filter(slug=slug, routing_policy="round_robin").update(routing_policy=key)
    policies = {p.key: p for p in RoutingPolicy.objects.all()}
    channel_policy = {
        c.pk: policies.get(CHANNEL_POLICIES.get(c.slug, "round_robin")) for c in demo.channels
    }
    region_of_rep = {rep.pk: region for region, reps in demo.reps.items() for rep in reps}
    assignments, routings, events = [], [], []
    waiting: dict[int, list[Lead]] = defaultdict(list)
    for lead in demo.leads:
        policy = channel_policy.get(lead.channel_id)
        region = demo.region_of(lead.province) if lead.province else None
        queue = demo.regions.get(region) if region else None
        routings.append(LeadRouting(lead=lead, policy=policy, queue_department=queue))
        if lead.state == LeadState.UNASSIGNED:
            routings[-1].escalated_at = lead.created_at
            routings[-1].escalation_reason = "no_eligible"
        if not lead.owner_id or not lead.assigned_at:
            continue
        colleagues = [
            r
            for r in demo.reps.get(region_of_rep.get(lead.owner_id, ""), [])
            if r.pk != lead.owner_id
        ]
        window = datetime.timedelta(minutes=lead.channel.response_window_minutes)
        current_start = lead.assigned_at
        if colleagues and rng.random() < REASSIGNED_SHARE:
            earlier = rng.choice(colleagues)
            first_start = lead.assigned_at - window
            assignments.append(
                Assignment(
                    lead=lead,
                    rep=earlier,
                    policy=policy,
                    method=AssignMethod.ROUND_ROBIN,
                    assigned_at=first_start,
                    response_due_at=lead.assigned_at,
                    ended_at=lead.assigned_at,
                    end_reason=EndReason.WINDOW_EXPIRED,
                )
            )
            events.append(
                _event(
                    "lead",
                    lead.pk,
                    "lead.reassigned",
                    lead.assigned_at,
                    None,
                    before={"state": "assigned", "owner": earlier.pk},
                    after={"state": "assigned", "owner": lead.owner_id},
                    event_data={
                        "reason": "window_expired",
                        "from": {"id": earlier.pk, "name": str(earlier)},
                        "to": {"id": lead.owner_id, "name": str(lead.owner)},
                        "reassign_count": 1,
                        "max_reassignments": 2,
                    },
                )
            )
        method = (
            AssignMethod.OFFER_CLAIMED
            if policy is not None and policy.key == "weighted_pool"
            else AssignMethod.ROUND_ROBIN
        )
        assignments.append(
            Assignment(
                lead=lead,
                rep_id=lead.owner_id,
                policy=policy,
                method=method,
                assigned_at=current_start,
                response_due_at=current_start + window,
                contacted_at=lead.contacted_at,
                contact_method=rng.choice(["phone", "phone", "wechat"])
                if lead.contacted_at
                else "",
            )
        )
        if lead.state == LeadState.ASSIGNED:
            waiting[lead.owner_id].append(lead)
    LeadRouting.objects.bulk_create(routings, batch_size=1000, ignore_conflicts=True)
    Assignment.objects.bulk_create(assignments, batch_size=1000)
    Event.objects.bulk_create(events, batch_size=1000)
    _refresh_windows(demo, waiting, rng)
    offers = _open_offers(demo, channel_policy, rng)
    _mark_done(demo, "routing", len(assignments) + offers)


def _refresh_windows(demo: Demo, waiting: dict[int, list[Lead]], rng) -> None:
    """Live countdowns for a few waiting leads, one just overdue per region, no flood."""
    overdue_regions: set[str] = set()
    region_of_rep = {rep.pk: region for region, reps in demo.reps.items() for rep in reps}
    for rep_id, leads in waiting.items():
        leads.sort(key=lambda lead: lead.assigned_at, reverse=True)
        for index, lead in enumerate(leads):
            window = datetime.timedelta(minutes=lead.channel.response_window_minutes)
            region = region_of_rep.get(rep_id, "")
            if index < LIVE_WINDOWS_PER_REP:
                assigned = demo.now - window * rng.uniform(0.1, 0.7)
                due = assigned + window
            elif region not in overdue_regions:
                overdue_regions.add(region)
                assigned = demo.now - window - datetime.timedelta(minutes=1)
                due = assigned + window
            else:
                assigned, due = lead.assigned_at, None
            Lead.objects.filter(pk=lead.pk).update(assigned_at=assigned, response_due_at=due)
            Assignment.objects.filter(lead=lead, ended_at__isnull=True).update(
                assigned_at=assigned, response_due_at=due
            )


def _open_offers(demo: Demo, channel_policy: dict, rng) -> int:
    offered = [lead for lead in demo.leads if lead.state == LeadState.OFFERED]
    count = 0
    for lead in offered:
        region = demo.region_of(lead.province) if lead.province else None
        reps = list(demo.reps.get(region, [])) if region else []
        if len(reps) < 1:
            continue
        policy = (
            channel_policy.get(lead.channel_id)
            or RoutingPolicy.objects.filter(key="weighted_pool").first()
        )
        offered_at = demo.now - datetime.timedelta(minutes=rng.uniform(1, 25))
        closes = offered_at + datetime.timedelta(minutes=policy.claim_minutes if policy else 30)
        offer_round = OfferRound.objects.create(
            lead=lead, policy=policy, offered_at=offered_at, closes_at=closes, lock_due_at=closes
        )
        chosen = rng.sample(reps, min(3, len(reps)))
        LeadOffer.objects.bulk_create(
            [
                LeadOffer(
                    round=offer_round,
                    lead=lead,
                    rep=rep,
                    rank=rank,
                    score=round(0.9 - 0.1 * rank + rng.uniform(-0.05, 0.05), 3),
                )
                for rank, rep in enumerate(chosen, start=1)
            ]
        )
        count += 1
    return count
