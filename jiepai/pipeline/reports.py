"""Stage reports built from the event trace, for any period, through the viewer's visibility.

- Dwell heat map (阶段停留热力图): for each stage × rep (or × department), the median hours a deal
  stayed in the stage, over the stays that ENDED within the period (a move out of the stage,
  `opportunity.stage_changed`, whose `before` holds when the stage was entered). Deals still
  sitting in a stage are not in it: their stay has no length yet (the board shows them).
- Stage health (阶段健康度): for each rep × stage, how many deal-stage stays overlapped the
  period (total) and how many of those got a stall alert within it (`opportunity.stalled`).
  A stay runs from entering a stage (`opportunity.created` or a move in) to the next move.

Stays are attributed to the deal's owner recorded on the event (the owner at the move, or at
the stall); a department is the owner's current one.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from jiepai.events.models import Event
from jiepai.org.models import Department, User
from jiepai.org.visibility import visible_to
from jiepai.pipeline.models import Opportunity, Pipeline, Stage

CREATED, MOVED, STALLED = "opportunity.created", "opportunity.stage_changed", "opportunity.stalled"
NOBODY = 0
#: the event time as text, parsed with datetime.fromisoformat: Django's per-row datetime
#: converter was the largest cost of reading a big trace on SQLite
_AT = Cast("created_at", output_field=TextField())


@dataclass(frozen=True)
class Period:
    start: datetime.datetime
    end: datetime.datetime  # exclusive

    @classmethod
    def from_params(
        cls, params: Any, *, now: datetime.datetime | None = None, default_days: int = 30
    ) -> tuple[Period, list[str]]:
        """`from` and `to` (inclusive) as YYYY-MM-DD in the viewer's time zone; bad or missing
        values fall back to the last `default_days` days, with a message."""
        now = now or timezone.now()
        today = timezone.localtime(now).date()
        errors: list[str] = []

        def day(name: str, default: datetime.date) -> datetime.date:
            raw = str(params.get(name) or "").strip()
            if not raw:
                return default
            try:
                return datetime.date.fromisoformat(raw[:10])
            except ValueError:
                errors.append(_("“%(value)s”不是有效日期,已改用默认区间") % {"value": raw[:20]})
                return default

        first = day("from", today - datetime.timedelta(days=default_days - 1))
        last = day("to", today)
        if last < first:
            errors.append(_("结束日期早于开始日期,已对调"))
            first, last = last, first
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(first, datetime.time(), tzinfo=zone)
        end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), zone)
        return cls(start=start, end=end), errors

    @property
    def first_day(self) -> datetime.date:
        return timezone.localtime(self.start).date()

    @property
    def last_day(self) -> datetime.date:
        return timezone.localtime(self.end - datetime.timedelta(seconds=1)).date()


def _visible_deal_ids(viewer: User, pipeline: Pipeline) -> Any:
    deals = visible_to(viewer, Opportunity.objects.filter(stage__pipeline=pipeline))
    return deals.order_by().values("pk")


def _when(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        moment = parse_datetime(str(value))
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return moment


def _int(value: Any) -> int | None:
    """A JSON number extracted as text by the database ("12", "12.0") → 12."""
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _open_stages(pipeline: Pipeline) -> list[Stage]:
    return [s for s in pipeline.stages.order_by("position", "id") if not s.is_closed]


def _labels(by: str, keys: Iterable[int]) -> dict[int, str]:
    keys = [k for k in keys if k != NOBODY]
    if by == "department":
        labels = {d.pk: d.name for d in Department.objects.filter(pk__in=keys)}
    else:
        labels = {u.pk: str(u) for u in User.objects.filter(pk__in=keys)}
    labels[NOBODY] = _("(无负责人)") if by != "department" else _("(无部门)")
    return labels


def _departments_of(owner_ids: Iterable[int]) -> dict[int, int]:
    return {
        pk: department or NOBODY
        for pk, department in User.objects.filter(pk__in=list(owner_ids)).values_list(
            "pk", "department_id"
        )
    }


# --- dwell heat map ---------------------------------------------------------------------------


@dataclass
class HeatMap:
    stages: list[Stage]
    rows: list[tuple[int, str]]  # (key, label)
    medians: dict[tuple[int, int], float]  # (row key, stage id) → median hours
    counts: dict[tuple[int, int], int]

    def table(self) -> list[dict[str, Any]]:
        return [
            {
                "label": label,
                "cells": [
                    {
                        "median": self.medians.get((key, stage.pk)),
                        "count": self.counts.get((key, stage.pk), 0),
                    }
                    for stage in self.stages
                ],
            }
            for key, label in self.rows
        ]

    def echarts(self) -> dict[str, Any]:
        stage_index = {s.pk: i for i, s in enumerate(self.stages)}
        row_index = {key: i for i, (key, _label) in enumerate(self.rows)}
        data = [
            [stage_index[stage_id], row_index[key], round(hours, 1)]
            for (key, stage_id), hours in self.medians.items()
        ]
        top = max((d[2] for d in data), default=1) or 1
        return {
            "tooltip": {"position": "top"},
            "grid": {"left": 110, "right": 20, "top": 20, "bottom": 70},
            "xAxis": {"type": "category", "data": [s.name for s in self.stages]},
            # listed top-down in the same order as the table under the chart
            "yAxis": {
                "type": "category",
                "inverse": True,
                "data": [label for _key, label in self.rows],
            },
            "visualMap": {
                "min": 0,
                "max": top,
                "calculable": True,
                "orient": "horizontal",
                "left": "center",
                "bottom": 0,
                "text": [_("小时(中位数)"), ""],
                "inRange": {"color": ["#dafbe1", "#fff8c5", "#ffb77c", "#cf222e"]},
            },
            "series": [
                {
                    "name": _("停留时长中位数(小时)"),
                    "type": "heatmap",
                    "data": data,
                    "label": {"show": True},
                }
            ],
        }


def dwell_heatmap(*, viewer: User, pipeline: Pipeline, period: Period, by: str = "rep") -> HeatMap:
    stages = _open_stages(pipeline)
    stage_ids = {s.pk for s in stages}
    exits = Event.objects.filter(
        subject_type="opportunity",
        verb=MOVED,
        created_at__gte=period.start,
        created_at__lt=period.end,
        subject_id__in=_visible_deal_ids(viewer, pipeline),
    ).values_list(
        # only the three JSON keys, extracted by the database: decoding whole event bodies in
        # Python was most of the time on a large trace
        KT("before__stage"),
        KT("before__stage_entered_at"),
        KT("data__owner"),
        _AT,
    )
    hours: dict[tuple[int, int], list[float]] = defaultdict(list)
    owners: set[int] = set()
    rows: list[tuple[int, int, float]] = []
    for stage, entered_text, owner_text, moved_text in exits.iterator(chunk_size=5000):
        stage_id = _int(stage)
        entered, moved_at = _when(entered_text), _when(moved_text)
        if stage_id not in stage_ids or entered is None or moved_at is None:
            continue
        owner = _int(owner_text) or NOBODY
        owners.add(owner)
        rows.append((owner, stage_id, (moved_at - entered).total_seconds() / 3600))
    department = _departments_of(owners) if by == "department" else {}
    for owner, stage_id, stay in rows:
        key = department.get(owner, NOBODY) if by == "department" else owner
        hours[(key, stage_id)].append(stay)
    labels = _labels(by, {key for key, _stage in hours})
    ordered = sorted({key for key, _stage in hours}, key=lambda k: (k == NOBODY, labels[k]))
    return HeatMap(
        stages=stages,
        rows=[(key, labels[key]) for key in ordered],
        medians={cell: statistics.median(values) for cell, values in hours.items()},
        counts={cell: len(values) for cell, values in hours.items()},
    )


# --- stage health -----------------------------------------------------------------------------


@dataclass
class Stay:
    stage_id: int
    owner: int
    start: datetime.datetime
    end: datetime.datetime | None = None
    stalls: list[datetime.datetime] = field(default_factory=list)


@dataclass
class HealthRow:
    owner: int
    label: str
    cells: dict[int, tuple[int, int]]  # stage id → (stalled, total)

    @property
    def stalled(self) -> int:
        return sum(s for s, _t in self.cells.values())

    @property
    def total(self) -> int:
        return sum(t for _s, t in self.cells.values())

    @property
    def ratio(self) -> float:
        return self.stalled / self.total if self.total else 0.0


@dataclass
class Health:
    stages: list[Stage]
    rows: list[HealthRow]

    def table(self) -> list[dict[str, Any]]:
        return [
            {
                "label": row.label,
                "cells": [row.cells.get(s.pk, (0, 0)) for s in self.stages],
                "stalled": row.stalled,
                "total": row.total,
                "ratio": row.ratio,
            }
            for row in self.rows
        ]


Row = tuple[int, str, Any, Any, Any, Any, Any]


def _stays(events: Iterable[Row]) -> list[Stay]:
    """Rebuild each deal's stays from its created / moved / stalled events (ordered by deal,
    then time). A row is (deal, verb, after.stage, after.owner, data.stage, data.owner, time)."""
    stays: list[Stay] = []
    current: dict[int, Stay] = {}
    for deal, verb, after_stage, after_owner, data_stage, data_owner, at_text in events:
        at = _when(at_text)
        if verb == STALLED:
            stay = current.get(deal)
            if stay is not None and stay.stage_id == _int(data_stage):
                stay.stalls.append(at)
                stay.owner = _int(data_owner) or stay.owner
            continue
        stage_id = _int(after_stage) or 0
        owner = _int(after_owner if verb == CREATED else data_owner) or NOBODY
        previous = current.get(deal)
        if previous is not None:
            previous.end = at
        stay = Stay(stage_id=stage_id, owner=owner, start=at)
        current[deal] = stay
        stays.append(stay)
    return stays


def stage_health(*, viewer: User, pipeline: Pipeline, period: Period) -> Health:
    stages = _open_stages(pipeline)
    stage_ids = {s.pk for s in stages}
    deals = visible_to(viewer, Opportunity.objects.filter(stage__pipeline=pipeline)).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=period.start)
    )
    events = (
        Event.objects.filter(
            subject_type="opportunity",
            verb__in=[CREATED, MOVED, STALLED],
            created_at__lt=period.end,
            subject_id__in=deals.order_by().values("pk"),
        )
        .order_by("subject_id", "created_at", "id")
        .values_list(
            "subject_id",
            "verb",
            KT("after__stage"),
            KT("after__owner"),
            KT("data__stage"),
            KT("data__owner"),
            _AT,
        )
    )
    cells: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for stay in _stays(events.iterator(chunk_size=5000)):
        if stay.stage_id not in stage_ids:
            continue
        if stay.start >= period.end or (stay.end is not None and stay.end <= period.start):
            continue
        cell = cells[stay.owner][stay.stage_id]
        cell[1] += 1
        if any(period.start <= at < period.end for at in stay.stalls):
            cell[0] += 1
    labels = _labels("rep", cells)
    rows = [
        HealthRow(
            owner=owner,
            label=labels[owner],
            cells={stage: (c[0], c[1]) for stage, c in by_stage.items()},
        )
        for owner, by_stage in cells.items()
    ]
    rows.sort(key=lambda r: (-r.ratio, -r.total, r.label))
    return Health(stages=stages, rows=rows)
