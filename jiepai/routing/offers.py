"""Weighted-pool offers: opening a round, the first claim wins, the timed lock."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.events.services import record_event
from jiepai.intake.models import Lead, LeadState
from jiepai.notify.services import notify
from jiepai.org.models import RepProfile, User
from jiepai.routing import scoring
from jiepai.routing.assigning import (
    assign,
    notify_assigned,
    policy_json,
    to_queue,
    who,
)
from jiepai.routing.candidates import (
    capped_active_counts,
)
from jiepai.routing.models import (
    AssignMethod,
    LeadOffer,
    OfferRound,
    OfferState,
    RoundState,
    RoutingPolicy,
)


def open_offers(
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
        assign(lead=lead, rep=rep, policy=policy, method=AssignMethod.OFFER_CLAIMED, now=now)
        close_offers(offer.round_id, winner_id=rep.pk)
        record_event(
            subject=lead,
            verb="lead.claimed",
            actor=rep,
            before={"state": LeadState.OFFERED, "owner": None},
            after={"state": lead.state, "owner": rep.pk, "response_due_at": lead.response_due_at},
            data={
                "policy": policy_json(policy),
                "winner": who(rep),
                "rank": offer.rank,
                "score": round(offer.score, 4),
                "seconds_to_claim": int((now - offer.round.offered_at).total_seconds()),
            },
            now=now,
        )
    return lead


def close_offers(round_id: int, *, winner_id: int | None) -> None:
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
            skipped.append({**who(offer.rep), "excluded": "paused"})
            continue
        if counts.get(offer.rep_id, 0) >= profile.capacity:
            skipped.append({**who(offer.rep), "excluded": "at_capacity"})
            continue
        winner = offer
        break
    policy = offer_round.policy
    data: dict[str, Any] = {
        "policy": policy_json(policy),
        "offered_to": [{**who(o.rep), "rank": o.rank, "score": round(o.score, 4)} for o in offers],
        "skipped": skipped,
        "minutes": int((now - offer_round.offered_at).total_seconds() // 60),
    }
    if winner is None:
        close_offers(offer_round.pk, winner_id=None)
        managers = to_queue(lead=lead, policy=policy, reason="nobody_claimed", now=now)
        data.update(outcome="unassigned", notified=[who(m) for m in managers])
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
    assign(lead=lead, rep=winner.rep, policy=policy, method=AssignMethod.OFFER_LOCKED, now=now)
    close_offers(offer_round.pk, winner_id=winner.rep_id)
    data.update(
        outcome="assigned",
        winner={**who(winner.rep), "rank": winner.rank, "score": round(winner.score, 4)},
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
    notify_assigned(lead, now, body=_("抢单超时无人认领,已按分值锁定给你"))
