"""Read side of routing: the rep's workbench, the manager's load board and queue, and the
routing health report. Every query is narrowed by jiepai.org.visibility."""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from jiepai.intake.models import ACTIVE_LEAD_STATES, Lead, LeadState
from jiepai.org.models import User
from jiepai.org.services import is_online
from jiepai.org.visibility import visible_to
from jiepai.routing import scoring
from jiepai.routing.models import Assignment, EndReason, LeadOffer, OfferState, RoundState
from jiepai.routing.services import assignable_reps

#: a lead not touched for this long counts as "stale" on the load board (seed 000: 超48小时未更新)
STALE_AFTER = datetime.timedelta(hours=48)


# --- the rep's workbench ------------------------------------------------------------------


def open_offers(user: User) -> QuerySet[LeadOffer]:
    return (
        LeadOffer.objects.filter(rep=user, state=OfferState.OFFERED, round__state=RoundState.OPEN)
        .select_related("lead", "lead__channel", "round")
        .order_by("round__closes_at")
    )


def my_leads(user: User) -> dict[str, list[Lead]]:
    """Leads waiting for first contact (with their countdown) and those being worked."""
    mine = visible_to(user, Lead.objects.filter(owner=user)).select_related("channel")
    return {
        "waiting": list(mine.filter(state=LeadState.ASSIGNED).order_by("response_due_at", "id")),
        "working": list(
            mine.filter(state__in=(LeadState.CONTACTED, LeadState.QUALIFIED)).order_by(
                "-updated_at"
            )[:50]
        ),
    }


# --- the manager's load board -------------------------------------------------------------


@dataclass
class RepLoad:
    rep: User
    active: int = 0
    waiting: int = 0
    overdue: int = 0
    stale: int = 0
    converted_this_week: int = 0
    open_offers: int = 0
    capacity: int = 0
    paused: bool = False
    online: bool = False

    @property
    def load_percent(self) -> int:
        return min(100, round(100 * self.active / self.capacity)) if self.capacity else 100

    @property
    def at_capacity(self) -> bool:
        return self.active >= self.capacity


def week_start(now: datetime.datetime) -> datetime.datetime:
    """Monday 00:00 of this week in the current time zone."""
    local = timezone.localtime(now)
    monday = local - datetime.timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def load_board(viewer: User, now: datetime.datetime) -> list[RepLoad]:
    reps = list(assignable_reps(viewer).order_by("department__path", "username"))
    ids = [r.pk for r in reps]
    leads = visible_to(viewer, Lead.objects.filter(owner_id__in=ids))
    active = Q(state__in=ACTIVE_LEAD_STATES)
    rows = {
        row["owner_id"]: row
        for row in leads.values("owner_id")
        .annotate(
            active=Count("id", filter=active),
            waiting=Count("id", filter=Q(state=LeadState.ASSIGNED)),
            overdue=Count("id", filter=Q(state=LeadState.ASSIGNED, response_due_at__lt=now)),
            stale=Count("id", filter=active & Q(updated_at__lt=now - STALE_AFTER)),
            converted=Count(
                "id", filter=Q(state=LeadState.CONVERTED, converted_at__gte=week_start(now))
            ),
        )
        .order_by()
    }
    offers = dict(
        LeadOffer.objects.filter(
            rep_id__in=ids, state=OfferState.OFFERED, round__state=RoundState.OPEN
        )
        .values("rep_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("rep_id", "n")
    )
    board = []
    for rep in reps:
        row = rows.get(rep.pk, {})
        profile = rep.rep_profile
        board.append(
            RepLoad(
                rep=rep,
                active=row.get("active", 0),
                waiting=row.get("waiting", 0),
                overdue=row.get("overdue", 0),
                stale=row.get("stale", 0),
                converted_this_week=row.get("converted", 0),
                open_offers=offers.get(rep.pk, 0),
                capacity=profile.capacity,
                paused=profile.paused,
                online=is_online(profile, now),
            )
        )
    return board


def unassigned_queue(viewer: User) -> QuerySet[Lead]:
    """Leads with no owner waiting for a person: nobody was eligible, the response window ran
    out too often, or an offer is still open. Escalated ones first."""
    return (
        visible_to(
            viewer,
            Lead.objects.filter(
                owner__isnull=True, state__in=(LeadState.UNASSIGNED, LeadState.OFFERED)
            ),
        )
        .select_related("channel", "routing", "routing__policy")
        .order_by("-routing__escalated_at", "created_at")
    )


# --- routing health report ----------------------------------------------------------------


@dataclass
class RepHealth:
    rep: User
    capacity: int
    assigned: int = 0
    contacted: int = 0
    qualified: int = 0
    converted: int = 0
    reassigned: int = 0
    response_seconds: list[float] = field(default_factory=list)

    @property
    def median_response_minutes(self) -> float | None:
        if not self.response_seconds:
            return None
        return round(statistics.median(self.response_seconds) / 60, 1)

    @property
    def reassigned_share(self) -> float | None:
        return round(self.reassigned / self.assigned, 3) if self.assigned else None

    def rate(self, count: int) -> float | None:
        return round(count / self.assigned, 3) if self.assigned else None


@dataclass
class HealthReport:
    start: datetime.date
    end: datetime.date
    reps: list[RepHealth]
    balance: float | None
    balance_series: list[tuple[datetime.date, float | None]]
    totals: dict[str, Any]


#: reached at least this far in the funnel
QUALIFIED_OR_BEYOND = (LeadState.QUALIFIED, LeadState.CONVERTED)


def _day_bounds(
    start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    finish = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return begin, finish


def health_report(
    viewer: User, *, start: datetime.date, end: datetime.date, window_days: int = 7
) -> HealthReport:
    """Per rep, for assignments made in [start, end] (local days):
    - funnel: assigned → contacted (first contact during that assignment) → qualified →
      converted (the lead reached that state while the rep still owned it);
    - median first-response time (assignment → contacted), minutes;
    - share of reassignments: assignments that ended because the window expired or a manager
      handed the lead on, over all assigned;
    - balance index (1 − Gini of leads per unit of capacity, see jiepai.routing.scoring) over
      the whole period, and per day over a trailing `window_days`-day window.
    Only reps the viewer may manage and leads the viewer may see are counted.
    """
    reps = list(assignable_reps(viewer).order_by("department__path", "username"))
    by_id = {r.pk: RepHealth(rep=r, capacity=r.rep_profile.capacity) for r in reps}
    begin, finish = _day_bounds(start, end)
    series_begin = begin - datetime.timedelta(days=window_days - 1)
    visible_leads = visible_to(viewer, Lead.objects.all()).values("pk")
    rows = (
        Assignment.objects.filter(
            rep_id__in=list(by_id),
            assigned_at__gte=series_begin,
            assigned_at__lt=finish,
            lead_id__in=visible_leads,
        )
        .values_list(
            "rep_id", "assigned_at", "contacted_at", "ended_at", "end_reason", "lead__state"
        )
        .order_by()
    )
    per_day: dict[datetime.date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for rep_id, assigned_at, contacted_at, ended_at, end_reason, state in rows.iterator():
        per_day[timezone.localdate(assigned_at)][rep_id] += 1
        if assigned_at < begin:
            continue
        health = by_id[rep_id]
        health.assigned += 1
        if contacted_at is not None:
            health.contacted += 1
            health.response_seconds.append((contacted_at - assigned_at).total_seconds())
        if ended_at is None and state in QUALIFIED_OR_BEYOND:
            health.qualified += 1
        if ended_at is None and state == LeadState.CONVERTED:
            health.converted += 1
        if end_reason in (EndReason.WINDOW_EXPIRED, EndReason.MANUAL_REASSIGN):
            health.reassigned += 1
    capacities = [h.capacity for h in by_id.values()]
    balance = scoring.balance_index([h.assigned for h in by_id.values()], capacities)
    series = []
    day = start
    while day <= end:
        counts = defaultdict(int)
        for offset in range(window_days):
            for rep_id, n in per_day.get(day - datetime.timedelta(days=offset), {}).items():
                counts[rep_id] += n
        series.append((day, scoring.balance_index([counts[r] for r in by_id], capacities)))
        day += datetime.timedelta(days=1)
    all_response = [s for h in by_id.values() for s in h.response_seconds]
    assigned = sum(h.assigned for h in by_id.values())
    totals = {
        "assigned": assigned,
        "contacted": sum(h.contacted for h in by_id.values()),
        "qualified": sum(h.qualified for h in by_id.values()),
        "converted": sum(h.converted for h in by_id.values()),
        "reassigned": sum(h.reassigned for h in by_id.values()),
        "median_response_minutes": round(statistics.median(all_response) / 60, 1)
        if all_response
        else None,
    }
    totals["reassigned_share"] = round(totals["reassigned"] / assigned, 3) if assigned else None
    return HealthReport(start, end, list(by_id.values()), balance, series, totals)


def health_chart_options(report: HealthReport) -> dict[str, Any]:
    """ECharts options: the balance index over time, and the funnel per rep."""
    from django.utils.translation import gettext as _

    names = [str(h.rep) for h in report.reps]
    return {
        "balance": {
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 40, "right": 16, "top": 30, "bottom": 30},
            "xAxis": {
                "type": "category",
                "data": [d.isoformat() for d, _v in report.balance_series],
            },
            "yAxis": {"type": "value", "min": 0, "max": 1},
            "series": [
                {
                    "name": _("均衡度"),
                    "type": "line",
                    "smooth": True,
                    "data": [None if v is None else round(v, 3) for _d, v in report.balance_series],
                    "markLine": {"data": [{"yAxis": 1.0, "name": _("完全均衡")}]},
                }
            ],
        },
        "funnel": {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 40, "right": 16, "top": 40, "bottom": 60},
            "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30}},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {"name": _("分配"), "type": "bar", "data": [h.assigned for h in report.reps]},
                {"name": _("已联系"), "type": "bar", "data": [h.contacted for h in report.reps]},
                {"name": _("已确认"), "type": "bar", "data": [h.qualified for h in report.reps]},
                {"name": _("已转化"), "type": "bar", "data": [h.converted for h in report.reps]},
            ],
        },
    }
