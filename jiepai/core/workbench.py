"""The home page (工作台): what needs doing now, per role — "today's 3 must-dos" (seed 003).

It only reads, through each app's selectors, so it sees exactly what the user may see.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext as _

from jiepai.activities.selectors import open_tasks
from jiepai.intake.models import LeadState
from jiepai.intake.selectors import leads_for
from jiepai.org.models import User
from jiepai.pipeline.selectors import opportunities_for
from jiepai.routing.selectors import my_leads, open_offers

MUST_DO_COUNT = 3
STALE_AFTER = datetime.timedelta(hours=72)


@dataclass(frozen=True)
class MustDo:
    title: str
    detail: str
    url: str
    due: datetime.datetime | None = None


@dataclass
class Workbench:
    must_dos: list[MustDo] = field(default_factory=list)
    waiting_leads: int = 0
    offers: int = 0
    tasks_due: int = 0
    stale_deals: int = 0
    unassigned: int = 0
    incomplete: int = 0


def _end_of_today(now: datetime.datetime) -> datetime.datetime:
    local = now.astimezone()
    return local.replace(hour=23, minute=59, second=59, microsecond=0)


def workbench(user: User, *, now: datetime.datetime) -> Workbench:
    """Counts and the three most urgent actions: response windows, offers, due tasks, stale deals."""
    bench = Workbench()
    candidates: list[MustDo] = []
    if user.role in ("rep", "manager"):
        waiting = my_leads(user)["waiting"]
        bench.waiting_leads = len(waiting)
        candidates += [
            MustDo(
                _("联系线索:%(lead)s") % {"lead": lead},
                lead.company,
                lead.get_absolute_url(),
                lead.response_due_at,
            )
            for lead in waiting[:MUST_DO_COUNT]
        ]
        offers = list(open_offers(user)[:MUST_DO_COUNT])
        bench.offers = open_offers(user).count()
        candidates += [
            MustDo(
                _("抢单:%(lead)s") % {"lead": offer.lead},
                offer.lead.company,
                reverse("routing:offer", args=[offer.pk]),
                offer.round.closes_at,
            )
            for offer in offers
        ]
    tasks = open_tasks(user).filter(due_at__lte=_end_of_today(now))
    bench.tasks_due = tasks.count()
    candidates += [
        MustDo(task.title, _("待办"), reverse("activities:task_list"), task.due_at)
        for task in tasks[:MUST_DO_COUNT]
    ]
    stale = opportunities_for(user).filter(
        owner=user, stage__is_won=False, stage__is_lost=False, updated_at__lt=now - STALE_AFTER
    )
    bench.stale_deals = stale.count()
    candidates += [
        MustDo(
            _("推进商机:%(deal)s") % {"deal": deal.name},
            _("%(stage)s · 超过72小时未更新") % {"stage": deal.stage},
            deal.get_absolute_url(),
            deal.updated_at + STALE_AFTER,
        )
        for deal in stale.order_by("updated_at")[:MUST_DO_COUNT]
    ]
    if user.role in ("manager", "director", "admin", "marketing"):
        visible = leads_for(user)
        bench.unassigned = visible.filter(state=LeadState.UNASSIGNED).count()
        bench.incomplete = visible.filter(state=LeadState.INCOMPLETE).count()
    far_future = now + datetime.timedelta(days=3650)
    candidates.sort(key=lambda item: item.due or far_future)
    bench.must_dos = candidates[:MUST_DO_COUNT]
    return bench
