"""Visibility grants routing adds to jiepai.org.visibility for leads.

- a rep sees a lead currently offered to them (so the claim page and the lead page open);
- a manager sees the unowned leads waiting in the unassigned queue of their department subtree,
  and those in the company-wide queue (a policy that names no department).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from jiepai.org.models import Role, User
from jiepai.org.visibility import subtree_department_ids
from jiepai.routing.models import LeadOffer, LeadRouting, OfferState


def offered_to_me(user: User) -> Q | None:
    # A short list of ids rather than a correlated EXISTS, so a rep's list is answered from
    # indexes (see jiepai.org.visibility.visibility_filter); a rep holds a handful of offers.
    offered = LeadOffer.objects.filter(rep_id=user.pk, state=OfferState.OFFERED)
    return Q(pk__in=list(offered.values_list("lead_id", flat=True)))


def my_unassigned_queue(user: User) -> Q | None:
    if user.role != Role.MANAGER:
        return None
    departments = subtree_department_ids(user)
    in_queue = LeadRouting.objects.filter(lead=OuterRef("pk")).filter(
        Q(queue_department__isnull=True) | Q(queue_department_id__in=departments)
    )
    return Q(owner__isnull=True) & Q(Exists(in_queue))
