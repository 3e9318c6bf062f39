"""Loading what a routing decision needs: the policy's pool of reps and their figures.

A handful of aggregate queries per decision (pool, active leads, and per policy kind the
opportunity / conversion figures), then `jiepai.routing.scoring` decides in pure Python.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from jiepai.intake.models import ACTIVE_LEAD_STATES, Lead, LeadState
from jiepai.org.models import Department, RepProfile, Role, User
from jiepai.org.services import is_online
from jiepai.pipeline.models import Opportunity
from jiepai.routing import scoring
from jiepai.routing.models import PolicyKind, RoutingPolicy


def _pool_filter(policy: RoutingPolicy) -> tuple[Q | None, list[int]]:
    """(the filter on users, the policy's department ids by path) for a policy's pool."""
    # one query for both relations (a small cross product: departments × named reps)
    departments: dict[int, str] = {}
    rep_ids: set[int] = set()
    for department_id, path, rep_id in RoutingPolicy.objects.filter(pk=policy.pk).values_list(
        "departments__id", "departments__path", "reps__id"
    ):
        if department_id is not None:
            departments[department_id] = path
        if rep_id is not None:
            rep_ids.add(rep_id)
    if not departments and not rep_ids:
        return None, []
    rule = Q(pk__in=sorted(rep_ids))
    for path in departments.values():
        rule |= Q(role=Role.REP, department__path__startswith=path)
    return rule, sorted(departments, key=departments.__getitem__)


def pool_users(policy: RoutingPolicy) -> QuerySet[User]:
    """Reps a policy routes to: its named reps, plus the reps of its departments (subtrees);
    every active rep when it names neither."""
    users = User.objects.filter(is_active=True, rep_profile__isnull=False)
    rule, _departments = _pool_filter(policy)
    return users.filter(role=Role.REP) if rule is None else users.filter(rule)


def active_lead_counts(rep_ids: list[int]) -> dict[int, int]:
    rows = (
        Lead.objects.filter(owner_id__in=rep_ids, state__in=ACTIVE_LEAD_STATES)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["owner_id"]: row["n"] for row in rows}


def capped_active_counts(rep_ids: list[int], limit: int) -> dict[int, int]:
    """Active leads per rep, each counted only up to `limit` (the largest capacity in play).

    That is all the load cap needs ("is this rep at capacity?"), and it keeps a decision cheap
    however many leads reps hold: each rep's count stops after `limit` rows found through the
    owner index, instead of counting every active lead in the table (with 100,000 active
    leads the full GROUP BY cost ~150 ms per decision). Pages that show loads count in full
    (`active_lead_counts`).
    """
    if not rep_ids:
        return {}
    quote = connection.ops.quote_name
    lead_table, user_table = quote(Lead._meta.db_table), quote(User._meta.db_table)
    owner, state = quote(Lead._meta.get_field("owner").column), quote("state")
    states = ", ".join(["%s"] * len(ACTIVE_LEAD_STATES))
    users = ", ".join(["%s"] * len(rep_ids))
    sql = (
        f"SELECT u.id, (SELECT COUNT(*) FROM (SELECT 1 FROM {lead_table} l"  # noqa: S608
        f" WHERE l.{owner} = u.id AND l.{state} IN ({states}) LIMIT %s) AS capped)"
        f" FROM {user_table} u WHERE u.id IN ({users})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ACTIVE_LEAD_STATES, max(0, limit), *rep_ids])
        return {pk: count for pk, count in cursor.fetchall() if count}


def _band_filter(band: str, prefix: str = "") -> Q:
    amount = f"{prefix}amount"
    if band == "small":
        return Q(**{f"{amount}__lt": scoring.BAND_SMALL_BELOW})
    if band == "large":
        return Q(**{f"{amount}__gt": scoring.BAND_LARGE_ABOVE})
    return Q(**{f"{amount}__gte": scoring.BAND_SMALL_BELOW}) & Q(
        **{f"{amount}__lte": scoring.BAND_LARGE_ABOVE}
    )


@dataclass
class Pool:
    """A policy's candidates for one lead and the department whose unassigned queue the lead
    falls into when nobody can take it (None: company-wide)."""

    candidates: list[scoring.Candidate]
    queue_department_id: int | None

    def users(self, rep_ids: list[int]) -> list[User]:
        """The chosen reps as users (loaded only for them), in the given order."""
        by_id = User.objects.in_bulk(rep_ids)
        return [by_id[pk] for pk in rep_ids]


#: the columns a candidate is made of: plain values, not model instances (50 users and their
#: profiles as objects cost more than the whole decision)
CANDIDATE_COLUMNS = (
    "id",
    "username",
    "display_name",
    "first_name",
    "last_name",
    "rep_profile__capacity",
    "rep_profile__paused",
    "rep_profile__online_status",
    "rep_profile__last_seen_at",
    "rep_profile__industries",
    "rep_profile__deal_size_bands",
)


def _display_name(display_name: str, first: str, last: str, username: str) -> str:
    """str(User) without a User (display name, else full name, else username)."""
    return display_name or f"{first} {last}".strip() or username


def load_candidates(
    *, policy: RoutingPolicy, lead: Lead, now: datetime.datetime
) -> list[scoring.Candidate]:
    return load_pool(policy=policy, lead=lead, now=now).candidates


def load_pool(*, policy: RoutingPolicy, lead: Lead, now: datetime.datetime) -> Pool:
    rule, department_ids = _pool_filter(policy)
    users_qs = User.objects.filter(is_active=True, rep_profile__isnull=False)
    users_qs = users_qs.filter(role=Role.REP) if rule is None else users_qs.filter(rule)
    rows = list(users_qs.order_by("id").values_list(*CANDIDATE_COLUMNS))
    ids = [row[0] for row in rows]
    active = capped_active_counts(ids, max((row[5] for row in rows), default=0))
    open_opps: dict[int, int] = {}
    won_revenue: dict[int, float] = {}
    conversion: dict[int, float] = {}
    capability: dict[int, dict[str, int]] = {}
    industry = lead.industry or ""
    band = scoring.deal_size_band(lead.budget)

    if policy.kind == PolicyKind.WEIGHTED_POOL:
        for row in (
            Opportunity.objects.filter(owner_id__in=ids, stage__is_won=False, stage__is_lost=False)
            .values("owner_id")
            .annotate(n=Count("id"))
            .order_by()
        ):
            open_opps[row["owner_id"]] = row["n"]
        since = now - datetime.timedelta(days=policy.won_revenue_days)
        for row in (
            Opportunity.objects.filter(owner_id__in=ids, stage__is_won=True)
            .filter(
                Q(closed_at__gte=since) | Q(closed_at__isnull=True, stage_entered_at__gte=since)
            )
            .values("owner_id")
            .annotate(total=Sum("amount"))
            .order_by()
        ):
            won_revenue[row["owner_id"]] = float(row["total"] or Decimal(0))
        if industry:
            # conversion = converted ÷ every lead of that industry the rep was ever given
            for row in (
                Lead.objects.filter(owner_id__in=ids, industry=industry)
                .exclude(state__in=(LeadState.INCOMPLETE, LeadState.UNASSIGNED, LeadState.OFFERED))
                .values("owner_id")
                .annotate(
                    total=Count("id"), converted=Count("id", filter=Q(state=LeadState.CONVERTED))
                )
                .order_by()
            ):
                conversion[row["owner_id"]] = row["converted"] / row["total"]

    if policy.kind == PolicyKind.CAPABILITY_MATCH:
        in_industry = (
            Q(account__industry=industry) | Q(lead__industry=industry) if industry else Q(pk=None)
        )
        in_band = _band_filter(band) if band else Q(pk=None)
        for row in (
            Opportunity.objects.filter(owner_id__in=ids, stage__is_won=True)
            .values("owner_id")
            .annotate(
                both=Count("id", filter=in_industry & in_band, distinct=True),
                industry=Count("id", filter=in_industry, distinct=True),
                band=Count("id", filter=in_band, distinct=True),
            )
            .order_by()
        ):
            capability[row["owner_id"]] = row

    candidates = []
    for pk, username, display, first, last, capacity, paused, status, seen, skills, bands in rows:
        won = capability.get(pk, {})
        candidates.append(
            scoring.Candidate(
                rep_id=pk,
                name=_display_name(display, first, last, username),
                capacity=capacity,
                active_leads=active.get(pk, 0),
                paused=paused,
                online=is_online(RepProfile(online_status=status, last_seen_at=seen), now),
                open_opportunities=open_opps.get(pk, 0),
                won_revenue=won_revenue.get(pk, 0.0),
                industry_conversion=conversion.get(pk, 0.0),
                won_in_industry_band=won.get("both", 0),
                won_in_industry=won.get("industry", 0),
                won_in_band=won.get("band", 0),
                declares_industry=bool(industry) and industry in (skills or []),
                declares_band=bool(band) and band in (bands or []),
            )
        )
    return Pool(candidates, department_ids[0] if department_ids else None)


def nearest_managers(
    department_id: int | None, *, exclude: int | None = None, path: str | None = None
) -> list[User]:
    """The manager of the department or, failing that, of its nearest ancestor that has one;
    directors when nobody up the tree manages it (a company-wide queue). Pass the department's
    `path` when you have it (saves a query)."""
    if path is None and department_id:
        path = Department.objects.filter(pk=department_id).values_list("path", flat=True).first()
    if path:
        ids = [int(part) for part in path.strip("/").split("/") if part]
        for node in (
            Department.objects.filter(pk__in=ids, manager__isnull=False, manager__is_active=True)
            .exclude(manager_id=exclude)
            .select_related("manager")
            .order_by("-path")
        ):
            return [node.manager]
    return list(User.objects.filter(is_active=True, role=Role.DIRECTOR).exclude(pk=exclude))
