"""Routing use-cases: route a lead, claim an offer, mark contacted, reassign.

This module is the routing app's front door: callers import from here. The code lives by
use-case in jiepai.routing.decisions (route_lead), .batch (route_leads), .offers (claim_offer,
lock_offer_round), .windows (mark_contacted, expire_response_window), .reassign (reassign_lead)
and .assigning (what they share).

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

from jiepai.routing.assigning import ESCALATION_TEXT as ESCALATION_TEXT
from jiepai.routing.assigning import lead_url as lead_url
from jiepai.routing.batch import route_leads as route_leads
from jiepai.routing.decisions import ROUTABLE_STATES as ROUTABLE_STATES
from jiepai.routing.decisions import RoutingDecision as RoutingDecision
from jiepai.routing.decisions import route_lead as route_lead
from jiepai.routing.offers import claim_offer as claim_offer
from jiepai.routing.offers import lock_offer_round as lock_offer_round
from jiepai.routing.policies import select_policy as select_policy
from jiepai.routing.reassign import REASSIGNABLE_STATES as REASSIGNABLE_STATES
from jiepai.routing.reassign import assignable_reps as assignable_reps
from jiepai.routing.reassign import can_reassign as can_reassign
from jiepai.routing.reassign import reassign_lead as reassign_lead
from jiepai.routing.windows import expire_response_window as expire_response_window
from jiepai.routing.windows import mark_contacted as mark_contacted
