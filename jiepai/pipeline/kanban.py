"""Reading a pipeline as a board: one column per stage, with counts, amounts and weighted amounts
(amount × the stage's probability). Everything goes through the viewer's visibility."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiepai.org.models import Department, Team, User
from jiepai.org.visibility import subtree_department_ids, visible_to
from jiepai.pipeline.models import GateRequirement, Opportunity, Pipeline, Stage

#: cards shown per column (the totals count every deal)
CARDS_PER_COLUMN = 50
#: closed columns (won/lost) show the deals closed within this many days
CLOSED_WINDOW_DAYS = 30


@dataclass
class BoardFilters:
    owner: int | None = None
    team: int | None = None
    department: int | None = None

    @classmethod
    def from_params(cls, params: Any) -> BoardFilters:
        def number(name: str) -> int | None:
            value = str(params.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 12 else None

        return cls(owner=number("owner"), team=number("team"), department=number("department"))

    def apply(self, deals: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        if self.owner:
            deals = deals.filter(owner_id=self.owner)
        if self.team:
            shared = Opportunity.teams.through.objects.filter(
                opportunity_id=OuterRef("pk"), team_id=self.team
            )
            deals = deals.filter(Q(owner__teams=self.team) | Q(Exists(shared))).distinct()
        if self.department:
            path = Department.objects.filter(pk=self.department).values_list("path", flat=True)
            deals = deals.filter(owner__department__path__startswith=path.first() or "-")
        return deals


@dataclass
class Card:
    deal: Opportunity
    stalled: bool
    days_in_stage: int


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal(0)
    cards: list[Card] = field(default_factory=list)
    gate: list[str] = field(default_factory=list)  # what entering this stage requires

    @property
    def weighted(self) -> Decimal:
        return (self.amount * self.stage.probability / 100).quantize(Decimal("0.01"))

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()


def is_stalled(deal: Opportunity, now: datetime.datetime) -> bool:
    stage = deal.stage
    if stage.is_closed or not stage.stall_hours or deal.touched_at is None:
        return False
    return deal.touched_at + datetime.timedelta(hours=stage.stall_hours) <= now


def board_deals(viewer: User, pipeline: Pipeline, filters: BoardFilters) -> QuerySet[Opportunity]:
    deals = visible_to(viewer, Opportunity.objects.filter(stage__pipeline=pipeline))
    return filters.apply(deals)


def board_columns(
    *,
    viewer: User,
    pipeline: Pipeline,
    filters: BoardFilters,
    now: datetime.datetime | None = None,
) -> list[Column]:
    now = now or timezone.now()
    since = now - datetime.timedelta(days=CLOSED_WINDOW_DAYS)
    deals = board_deals(viewer, pipeline, filters).filter(
        Q(stage__is_won=False, stage__is_lost=False) | Q(closed_at__gte=since)
    )
    columns = {s.pk: Column(stage=s) for s in pipeline.stages.order_by("position", "id")}
    for stage_id, label in (
        GateRequirement.objects.filter(stage__pipeline=pipeline, active=True)
        .order_by("stage_id", "position", "id")
        .values_list("stage_id", "label")
    ):
        gate = columns[stage_id].gate
        if label not in gate:
            gate.append(label)
    totals = deals.order_by().values("stage_id").annotate(n=Count("id"), total=Sum("amount"))
    for row in totals:
        column = columns.get(row["stage_id"])
        if column:
            column.count, column.amount = row["n"], row["total"] or Decimal(0)
    for column in columns.values():
        if not column.count:
            continue
        cards = (
            deals.filter(stage=column.stage)
            .select_related("account", "owner", "stage")
            .order_by("stage_entered_at", "id")[:CARDS_PER_COLUMN]
        )
        column.cards = [
            Card(
                deal=deal,
                stalled=is_stalled(deal, now),
                days_in_stage=(now - (deal.stage_entered_at or now)).days,
            )
            for deal in cards
        ]
    return list(columns.values())


def board_totals(columns: list[Column]) -> dict[str, Decimal | int]:
    open_columns = [c for c in columns if not c.stage.is_closed]
    return {
        "count": sum(c.count for c in open_columns),
        "amount": sum((c.amount for c in open_columns), Decimal(0)),
        "weighted": sum((c.weighted for c in open_columns), Decimal(0)),
    }


def team_choices(viewer: User) -> list[tuple[str, str]]:
    teams = Team.objects.all() if viewer.sees_everything else viewer.teams.all()
    return [(str(t.pk), t.name) for t in teams.order_by("name")]


def department_choices(viewer: User) -> list[tuple[str, str]]:
    if viewer.sees_everything:
        departments = Department.objects.all()
    elif viewer.role == "manager":
        departments = Department.objects.filter(pk__in=subtree_department_ids(viewer))
    else:
        return []
    return [(str(d.pk), d.name) for d in departments.order_by("path")]


FILTER_LABELS = {"owner": _("负责人"), "team": _("项目组"), "department": _("部门")}
