"""Routing facts for the demo company (`jiepai demo`): policies per channel, the assignment
history the routing health report reads, and open offers.

- web form and mini-program leads go to the weighted pool (offer to the best three, 30-minute
  lock), the other channels round-robin; the shipped high-value rule stays (budget > 50万 →
  capability match). The demo's policies are company-wide.
- every owned demo lead gets its Assignment (assigned → first contact); of the leads first
  contacted after their response window, about one in six had an earlier stint with a
  regional colleague that ended because the window ran out (the current stint starts then);
- leads in state `offered` (they came in minutes ago, see jiepai.demo.generate.LeadMix) get an
  open offer round to up to three reps of their region, online ones first;
- leads still waiting for first contact keep the live window the lead step gave them, and
  unassigned demo leads sit in their region's unassigned queue. Nothing is overdue, so the
  worker's first pass after loading has nothing to reassign.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from jiepai.events.models import Event
from jiepai.intake.models import Channel, Lead, LeadState
from jiepai.org.models import OnlineStatus, RepProfile
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
#: of the leads contacted after their window, the share that was reassigned first
REASSIGNED_SHARE = 1 / 6


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
    reassigned: list[tuple[int, datetime.datetime]] = []
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
        late = lead.contacted_at is not None and lead.contacted_at > current_start + window
        if colleagues and late and rng.random() < REASSIGNED_SHARE:
            earlier = rng.choice(colleagues)
            current_start = lead.assigned_at + window
            reassigned.append((lead.pk, current_start))
            assignments.append(
                Assignment(
                    lead=lead,
                    rep=earlier,
                    policy=policy,
                    method=AssignMethod.ROUND_ROBIN,
                    assigned_at=lead.assigned_at,
                    response_due_at=current_start,
                    ended_at=current_start,
                    end_reason=EndReason.WINDOW_EXPIRED,
                )
            )
            events.append(
                _event(
                    "lead",
                    lead.pk,
                    "lead.reassigned",
                    current_start,
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
    LeadRouting.objects.bulk_create(routings, batch_size=1000, ignore_conflicts=True)
    Assignment.objects.bulk_create(assignments, batch_size=1000)
    Event.objects.bulk_create(events, batch_size=1000)
    for pk, current_start in reassigned:
        Lead.objects.filter(pk=pk).update(assigned_at=current_start, reassign_count=1)
    offers = _open_offers(demo, channel_policy, rng)
    _mark_done(demo, "routing", len(assignments) + offers)


def _open_offers(demo: Demo, channel_policy: dict, rng) -> int:
    offered = [lead for lead in demo.leads if lead.state == LeadState.OFFERED]
    online = set(
        RepProfile.objects.filter(online_status=OnlineStatus.ONLINE).values_list(
            "user_id", flat=True
        )
    )
    count = 0
    for lead in offered:
        region = demo.region_of(lead.province) if lead.province else None
        reps = list(demo.reps.get(region, [])) if region else []
        if not reps:
            continue
        policy = (
            channel_policy.get(lead.channel_id)
            or RoutingPolicy.objects.filter(key="weighted_pool").first()
        )
        offered_at = lead.created_at + datetime.timedelta(seconds=rng.randint(2, 20))
        closes = offered_at + datetime.timedelta(minutes=policy.claim_minutes if policy else 30)
        offer_round = OfferRound.objects.create(
            lead=lead, policy=policy, offered_at=offered_at, closes_at=closes, lock_due_at=closes
        )
        rng.shuffle(reps)
        reps.sort(key=lambda rep: rep.pk not in online)  # online reps first, as routing does
        chosen = reps[:3]
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
