"""Loading what a routing decision needs: the policy's pool of reps and their figures.

A handful of aggregate queries per decision (pool, active leads, and per policy kind the
opportunity / conversion figures), then `jiepai.routing.scoring` decides in pure Python.
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db import connection
from django.db.models import Count, IntegerField, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jiepai.intake.models import ACTIVE_LEAD_STATES, Lead, LeadState
from jiepai.org.models import Department, RepProfile, Role, User
from jiepai.org.services import is_online
from jiepai.pipeline.models import Opportunity
from jiepai.routing import scoring
from jiepai.routing.models import PolicyKind, RoutingPolicy
from jiepai.routing.policies import RoutingSettings, pool_filter, routing_settings


def pool_users(policy: RoutingPolicy) -> QuerySet[User]:
    """Reps a policy routes to: its named reps, plus the reps of its departments (subtrees);
    every active rep when it names neither."""
    users = User.objects.filter(is_active=True, rep_profile__isnull=False)
    rule = pool_filter(policy, routing_settings())
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
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def users(self, rep_ids: list[int]) -> list[User]:
        """The chosen reps as users, in the given order: built from the pool's rows (the
        columns a notification needs; any other field loads on access), else loaded."""
        by_row = {row[0]: row for row in self.rows}
        if all(pk in by_row for pk in rep_ids):
            return [
                User.from_db(None, USER_COLUMNS, by_row[pk][_USER_START:_USER_END])
                for pk in rep_ids
            ]
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
#: and after them, the user's columns a notification to the rep needs
_USER_WANTED = {
    "id",
    "username",
    "display_name",
    "first_name",
    "last_name",
    "email",
    "mobile",
    "is_active",
    "role",
    "department_id",
}
#: in the model's field order, as Model.from_db expects a partial row
USER_COLUMNS = tuple(f.attname for f in User._meta.concrete_fields if f.attname in _USER_WANTED)


def _display_name(display_name: str, first: str, last: str, username: str) -> str:
    """str(User) without a User (display name, else full name, else username)."""
    return display_name or f"{first} {last}".strip() or username


def load_candidates(
    *, policy: RoutingPolicy, lead: Lead, now: datetime.datetime
) -> list[scoring.Candidate]:
    return load_pool(policy=policy, lead=lead, now=now).candidates


def load_pool(
    *,
    policy: RoutingPolicy,
    lead: Lead,
    now: datetime.datetime,
    settings: RoutingSettings | None = None,
) -> Pool:
    """A policy's candidates for one lead: one query for round-robin (the reps' columns and their
    capped loads), plus the figures the weighted pool or capability match scores."""
    settings = settings or routing_settings()
    rows = pool_rows(policy, settings)
    active = {row[0]: row[_ACTIVE_LEADS] for row in rows if row[_ACTIVE_LEADS]}
    figures = PoolFigures(policy, [row[0] for row in rows], now)
    return Pool(
        figures.candidates(rows, active, industry=lead.industry or "", budget=lead.budget, now=now),
        settings.queue_department_id(policy),
        rows,
    )


def pool_rows(policy: RoutingPolicy, settings: RoutingSettings) -> list[tuple[Any, ...]]:
    """The policy's reps as rows of CANDIDATE_COLUMNS + USER_COLUMNS + their active leads
    (counted up to the largest capacity, as `capped_active_counts`), in rep-id order (one
    query). The SQL is compiled once per policy and configuration snapshot, and the rows are
    read raw: compiling the filter and converting every value through its field cost more than
    running the query (a decision among 50 reps)."""
    key = (connection.alias, connection.vendor, policy.pk, id(settings))
    compiled = _pool_sql.get(key)
    if compiled is None or compiled[0] is not settings:
        users_qs = User.objects.filter(is_active=True, rep_profile__isnull=False)
        rule = pool_filter(policy, settings)
        users_qs = users_qs.filter(role=Role.REP) if rule is None else users_qs.filter(rule)
        users_qs = users_qs.annotate(active_leads=_capped_load())
        query = (
            users_qs.order_by("id")
            .values_list(*CANDIDATE_COLUMNS, *USER_COLUMNS, "active_leads")
            .query
        )
        compiled = (settings, *query.sql_with_params())
        if len(_pool_sql) > 64:
            _pool_sql.clear()
        _pool_sql[key] = compiled
    with connection.cursor() as cursor:
        cursor.execute(compiled[1], compiled[2])
        rows = cursor.fetchall()
    return [_converted(row) for row in rows]


def _capped_load() -> RawSQL:
    """The rep's active leads, counted only up to the largest capacity of any rep (all the load
    cap needs to know; see `capped_active_counts`): a column of the pool query."""
    quote = connection.ops.quote_name
    lead_table, user_table = quote(Lead._meta.db_table), quote(User._meta.db_table)
    profile_table = quote(RepProfile._meta.db_table)
    owner, state = quote(Lead._meta.get_field("owner").column), quote("state")
    states = ", ".join(["%s"] * len(ACTIVE_LEAD_STATES))
    # names come from the models, never from input; the states are parameters
    return RawSQL(  # noqa: S611
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {lead_table} l"  # noqa: S608
        f" WHERE l.{owner} = {user_table}.{quote('id')} AND l.{state} IN ({states})"
        f" LIMIT (SELECT MAX({quote('capacity')}) FROM {profile_table})) AS capped",
        ACTIVE_LEAD_STATES,
        output_field=IntegerField(),
    )


#: compiled pool queries: (settings snapshot they were made from, sql, params)
_pool_sql: dict[tuple[Any, ...], tuple[Any, str, tuple[Any, ...]]] = {}
_SEEN, _SKILLS, _BANDS = 8, 9, 10  # positions in CANDIDATE_COLUMNS
_USER_START = len(CANDIDATE_COLUMNS)
_USER_END = _USER_START + len(USER_COLUMNS)
_ACTIVE = _USER_START + USER_COLUMNS.index("is_active")
_ACTIVE_LEADS = _USER_END  # the capped count of active leads, last


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value or []


def _converted(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The few conversions the ORM would make: a time (SQLite returns text), booleans (SQLite
    returns 0/1). The JSON lists stay text until a capability match reads them (`_as_list`)."""
    values = list(row)
    seen = values[_SEEN]
    if isinstance(seen, str):
        parsed = parse_datetime(seen)
        if parsed is not None and timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=datetime.UTC)  # stored in UTC
        values[_SEEN] = parsed
    values[6] = bool(values[6])  # paused
    values[_ACTIVE] = bool(values[_ACTIVE])
    return tuple(values)


def max_capacity(rows: list[tuple[Any, ...]]) -> int:
    return max((row[5] for row in rows), default=0)


@dataclass(slots=True)
class _Presence:
    online_status: str
    last_seen_at: datetime.datetime | None


#: How long the weighted pool's three statistics (open opportunities, won revenue over the
#: policy's window, conversion in an industry) and capability match's won history per industry
#: and deal-size band are reused across decisions, in seconds. They are
#: slow-moving aggregates over the whole history and cost more than the rest of a routing
#: together (~3 ms of SQL each time on the benchmark's 3,000 opportunities and 5,000 closed
#: leads), so a burst of intakes computes them once. A won deal or a converted lead shows in
#: the scores at most this late. 0 turns the sharing off.
FIGURES_TTL = 60.0

_shared: dict[tuple[Any, ...], tuple[float, int, Any]] = {}


def _shared_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return (connection.alias, connection.settings_dict["NAME"], *key)


def _shared_get(key: tuple[Any, ...], now: datetime.datetime) -> Any:
    """A figure computed less than FIGURES_TTL ago (real clock) for a `now` in the same
    FIGURES_TTL bucket (a caller on a simulated clock far from it computes afresh)."""
    if FIGURES_TTL <= 0:
        return None
    found = _shared.get(_shared_key(key))
    if found is None:
        return None
    expires, bucket, value = found
    if expires < time.monotonic() or bucket != int(now.timestamp() // FIGURES_TTL):
        return None
    return value


def _shared_put(key: tuple[Any, ...], now: datetime.datetime, value: Any) -> None:
    if FIGURES_TTL <= 0:
        return
    if len(_shared) > 256:
        _shared.clear()
    bucket = int(now.timestamp() // FIGURES_TTL)
    _shared[_shared_key(key)] = (time.monotonic() + FIGURES_TTL, bucket, value)


def forget_shared_figures() -> None:
    """Drop the shared weighted-pool figures (tests; an admin action that must show at once)."""
    _shared.clear()


class PoolFigures:
    """The figures a policy scores its reps on, loaded on first need and kept: the parts that do
    not depend on the lead once, the per-industry (weighted pool) or per industry-and-band
    (capability match) parts once per value. A batch of leads reuses one of these."""

    def __init__(self, policy: RoutingPolicy, rep_ids: list[int], now: datetime.datetime):
        self.policy = policy
        self.ids = rep_ids
        self.now = now
        self._open: dict[int, int] | None = None
        self._won: dict[int, float] | None = None
        self._conversion: dict[str, dict[int, float]] = {}
        self._capability: dict[tuple[str, str], dict[int, dict[str, int]]] = {}
        self._online: dict[tuple[Any, ...], bool] = {}

    def open_opportunities(self) -> dict[int, int]:
        if self._open is None:
            self._open = _shared_get(("open", tuple(self.ids)), self.now)
        if self._open is None:
            self._open = {
                row["owner_id"]: row["n"]
                for row in Opportunity.objects.filter(
                    owner_id__in=self.ids, stage__is_won=False, stage__is_lost=False
                )
                .values("owner_id")
                .annotate(n=Count("id"))
                .order_by()
            }
            _shared_put(("open", tuple(self.ids)), self.now, self._open)
        return self._open

    def won_revenue(self) -> dict[int, float]:
        won_key = ("won", tuple(self.ids), self.policy.won_revenue_days)
        if self._won is None:
            self._won = _shared_get(won_key, self.now)
        if self._won is None:
            since = self.now - datetime.timedelta(days=self.policy.won_revenue_days)
            self._won = {
                row["owner_id"]: float(row["total"] or Decimal(0))
                for row in Opportunity.objects.filter(owner_id__in=self.ids, stage__is_won=True)
                .filter(
                    Q(closed_at__gte=since) | Q(closed_at__isnull=True, stage_entered_at__gte=since)
                )
                .values("owner_id")
                .annotate(total=Sum("amount"))
                .order_by()
            }
            _shared_put(won_key, self.now, self._won)
        return self._won

    def conversion(self, industry: str) -> dict[int, float]:
        """converted ÷ every lead of that industry the rep was ever given"""
        if not industry:
            return {}
        conversion_key = ("conversion", tuple(self.ids), industry)
        if industry not in self._conversion:
            shared = _shared_get(conversion_key, self.now)
            if shared is not None:
                self._conversion[industry] = shared
        if industry not in self._conversion:
            self._conversion[industry] = {
                row["owner_id"]: row["converted"] / row["total"]
                for row in Lead.objects.filter(owner_id__in=self.ids, industry=industry)
                .exclude(state__in=(LeadState.INCOMPLETE, LeadState.UNASSIGNED, LeadState.OFFERED))
                .values("owner_id")
                .annotate(
                    total=Count("id"), converted=Count("id", filter=Q(state=LeadState.CONVERTED))
                )
                .order_by()
            }
            _shared_put(conversion_key, self.now, self._conversion[industry])
        return self._conversion[industry]

    def capability(self, industry: str, band: str) -> dict[int, dict[str, int]]:
        key = (industry, band)
        shared_key = ("capability", tuple(self.ids), industry, band)
        if key not in self._capability:
            shared = _shared_get(shared_key, self.now)
            if shared is not None:
                self._capability[key] = shared
        if key not in self._capability:
            in_industry = (
                Q(account__industry=industry) | Q(lead__industry=industry)
                if industry
                else Q(pk=None)
            )
            in_band = _band_filter(band) if band else Q(pk=None)
            self._capability[key] = {
                row["owner_id"]: row
                for row in Opportunity.objects.filter(owner_id__in=self.ids, stage__is_won=True)
                .values("owner_id")
                .annotate(
                    both=Count("id", filter=in_industry & in_band, distinct=True),
                    industry=Count("id", filter=in_industry, distinct=True),
                    band=Count("id", filter=in_band, distinct=True),
                )
                .order_by()
            }
            _shared_put(shared_key, self.now, self._capability[key])
        return self._capability[key]

    def online(
        self, pk: int, status: str, seen: datetime.datetime | None, now: datetime.datetime
    ) -> bool:
        """Presence at `now` (kept per rep: a batch asks for the same reps many times)."""
        key = (pk, status, seen, now)
        found = self._online.get(key)
        if found is None:
            # is_online reads these two attributes; a model instance per rep costs more
            presence = _Presence(online_status=status, last_seen_at=seen)
            found = self._online[key] = is_online(cast(RepProfile, presence), now)
        return found

    def candidates(
        self,
        rows: list[tuple[Any, ...]],
        active: dict[int, int],
        *,
        industry: str,
        budget: Decimal | float | None,
        now: datetime.datetime,
    ) -> list[scoring.Candidate]:
        band = scoring.deal_size_band(budget)
        kind = self.policy.kind
        weighted = kind == PolicyKind.WEIGHTED_POOL
        open_opps = self.open_opportunities() if weighted else {}
        won_revenue = self.won_revenue() if weighted else {}
        conversion = self.conversion(industry) if weighted else {}
        capability = self.capability(industry, band) if kind == PolicyKind.CAPABILITY_MATCH else {}
        candidates = []
        capable = kind == PolicyKind.CAPABILITY_MATCH  # the only policy reading declared skills
        width = len(CANDIDATE_COLUMNS)
        for row in rows:
            pk, username, display, first, last, capacity, paused, status, seen, skills, bands = row[
                :width
            ]
            won = capability.get(pk, {})
            candidates.append(
                scoring.Candidate(
                    rep_id=pk,
                    name=_display_name(display, first, last, username),
                    capacity=capacity,
                    active_leads=active.get(pk, 0),
                    paused=paused,
                    online=self.online(pk, status, seen, now),
                    open_opportunities=open_opps.get(pk, 0),
                    won_revenue=won_revenue.get(pk, 0.0),
                    industry_conversion=conversion.get(pk, 0.0),
                    won_in_industry_band=won.get("both", 0),
                    won_in_industry=won.get("industry", 0),
                    won_in_band=won.get("band", 0),
                    declares_industry=capable and bool(industry) and industry in _as_list(skills),
                    declares_band=capable and bool(band) and band in _as_list(bands),
                )
            )
        return candidates


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
