"""A manager hands a lead to a rep, with a reason."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.events.services import record_event
from jiepai.intake.models import Lead, LeadState
from jiepai.notify.services import notify
from jiepai.org.models import Role, User
from jiepai.org.visibility import can_see, subtree_department_ids
from jiepai.routing.assigning import (
    assign,
    end_assignment,
    notify_assigned,
    who,
)
from jiepai.routing.candidates import (
    active_lead_counts,
)
from jiepai.routing.models import (
    AssignMethod,
    EndReason,
    LeadRouting,
    OfferRound,
    RoundState,
)
from jiepai.routing.offers import close_offers

#: states in which a manager may hand a lead to somebody else
REASSIGNABLE_STATES = (
    LeadState.UNASSIGNED,
    LeadState.OFFERED,
    LeadState.ASSIGNED,
    LeadState.CONTACTED,
    LeadState.QUALIFIED,
    LeadState.NURTURE,
)


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
            close_offers(open_round.pk, winner_id=None)
        previous_owner = current.owner
        previous_owner_id = current.owner_id
        before = {"state": current.state, "owner": previous_owner_id}
        end_assignment(current, EndReason.MANUAL_REASSIGN, now)
        keep_state = current.state in (LeadState.CONTACTED, LeadState.QUALIFIED, LeadState.NURTURE)
        routing = LeadRouting.objects.filter(lead=current).select_related("policy").first()
        policy = routing.policy if routing else None
        profile = getattr(to, "rep_profile", None)
        load = active_lead_counts([to.pk]).get(to.pk, 0)
        assign(
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
                "from": who(previous_owner) if previous_owner else None,
                "to": who(to),
                "by": who(actor),
                "to_load": load,
                "to_capacity": profile.capacity if profile else None,
                "over_capacity": bool(profile and load >= profile.capacity),
                "cancelled_offers": open_round is not None,
            },
            now=now,
        )
        notify_assigned(
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
