"""The golden response window: marking a lead contacted, and the sweeper's reassignment when
the window expires."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.events.services import record_event
from jiepai.intake.models import ACTIVE_LEAD_STATES, Lead, LeadState
from jiepai.notify.services import Message, notify_many
from jiepai.org.models import User
from jiepai.routing.assigning import (
    advance_pointer,
    assign,
    assigned_message,
    decide,
    end_assignment,
    explained_event,
    lead_url,
    person,
    policy_json,
    read_pointer,
    to_queue,
    who,
)
from jiepai.routing.candidates import (
    load_pool,
    nearest_managers,
)
from jiepai.routing.models import (
    Assignment,
    AssignMethod,
    ContactMethod,
    EndReason,
    LeadRouting,
    PolicyKind,
    RoutingPolicy,
)
from jiepai.routing.policies import select_policy


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
        "policy": policy_json(policy),
        "from": who(previous_owner),
        "reassign_count": lead.reassign_count,
        "max_reassignments": limit,
        "assigned_at": lead.assigned_at,
    }
    end_assignment(lead, EndReason.WINDOW_EXPIRED, now)
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
        seen = read_pointer(policy, lock=True)
    choice = decide(policy, candidates, previous=previous, reassigning=True, last_rep_id=seen)
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
    assign(
        lead=lead,
        rep=pool.users([winner.rep_id])[0],
        policy=policy,
        method=AssignMethod.WINDOW_REASSIGNED,
        now=now,
        reassigned=True,
    )
    advance_pointer(policy, winner.rep_id, now, seen=seen)
    explained_event(
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
            "to": person(winner.rep_id, candidates),
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
            assigned_message(lead, now, body=_("前一位销售超时未联系,改派给你")),
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
    managers = to_queue(lead=lead, policy=policy, reason=reason, now=now)
    explained_event(
        subject=lead,
        verb="lead.escalated",
        before=before,
        after={"state": LeadState.UNASSIGNED, "owner": None},
        data={**data, "escalation": reason, "notified": [who(m) for m in managers]},
        now=now,
    )
