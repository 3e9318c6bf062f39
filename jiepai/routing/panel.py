"""What the routing panel on a lead shows to a given person: the response-window countdown,
a claim button for an offer made to them, the one-tap contact links for the owner, reassign for
a manager. Used by the workbench rows, the lead detail page (`{% lead_routing_panel lead %}`)
and the htmx answers of those buttons."""

from __future__ import annotations

import datetime
from typing import Any

from jiepai.intake.models import Lead, LeadState
from jiepai.org.models import User
from jiepai.routing.models import LeadOffer, LeadRouting, OfferRound, OfferState, RoundState
from jiepai.routing.services import REASSIGNABLE_STATES, can_reassign


def lead_actions(user: User, lead: Lead, now: datetime.datetime) -> dict[str, Any]:
    is_owner = lead.owner_id is not None and lead.owner_id == user.pk
    offer = None
    open_round = None
    if lead.state == LeadState.OFFERED:
        open_round = OfferRound.objects.filter(lead=lead, state=RoundState.OPEN).first()
        offer = (
            LeadOffer.objects.filter(
                lead=lead, rep=user, state=OfferState.OFFERED, round=open_round
            ).first()
            if open_round
            else None
        )
    manager = can_reassign(user)
    routing = LeadRouting.objects.filter(lead=lead).first() if manager else None
    return {
        "lead": lead,
        "now": now,
        "is_owner": is_owner,
        "offer": offer,
        "open_round": open_round,
        "waiting_for_contact": lead.state == LeadState.ASSIGNED and lead.response_due_at,
        "can_contact": is_owner and lead.state == LeadState.ASSIGNED,
        "can_reassign": manager and lead.state in REASSIGNABLE_STATES,
        "can_route": manager and lead.state == LeadState.UNASSIGNED and not lead.owner_id,
        "routing": routing,
    }
