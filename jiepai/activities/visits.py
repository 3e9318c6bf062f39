"""Visits (拜访): check in on a phone, check out with three structured fields, and the anomaly
flags a manager reviews (seed 002: screenshots edited into visit logs).

A visit records the server's time, the phone's clock and position (browser geolocation) and its
user agent. Nothing here punishes: a flag is a question for a manager ("is the process wrong?"),
and a visit is always recorded, also without a position or with a wrong phone clock.

Flags, each configurable in ActivitySettings:
- far_from_account: check-in farther than `far_from_account_m` from the account's coordinates;
- impossible_speed: from the rep's previous check-in (same day) faster than `max_speed_kmh`;
- no_geolocation / clock_skew: position refused or unavailable; phone clock off by more than
  `clock_skew_minutes`;
- empty_visits (per rep and week): at least `empty_visits_threshold` visits in the last
  `review_window_days` left without content (never ended, or ended with 无/已沟通);
- visit_ratio (per rep and week): visits > `visits_per_communication` × effective communications
  (follow-ups with a conclusion, a next action or a real summary) over the same window.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.activities.models import (
    Activity,
    ActivityKind,
    ActivitySettings,
    FlagKind,
    FlagStatus,
    GeoStatus,
    Visit,
    VisitFlag,
)
from jiepai.activities.selectors import local_now, user_zone, visible_flags
from jiepai.activities.services import Requirements, log_follow_up
from jiepai.customers.models import Account
from jiepai.events.services import record_event
from jiepai.intake.models import Lead
from jiepai.org.models import User
from jiepai.org.visibility import can_see
from jiepai.pipeline.models import Opportunity

EARTH_RADIUS_M = 6_371_000
# what reps write when there was nothing to write (seed 000: 已沟通 / 再联系 / 客户考虑中)
EMPTY_CONTENT = {
    "",
    "无",
    "没有",
    "暂无",
    "已沟通",
    "沟通",
    "再联系",
    "客户考虑中",
    "考虑中",
    "跟进中",
    "正常",
    "同上",
    "好",
    "ok",
    "-",
    "—",
    "/",
    "。",
    ".",
}


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Position:
    status: str
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None

    @classmethod
    def parse(
        cls, *, status: str, latitude: Any = None, longitude: Any = None, accuracy: Any = None
    ) -> Position:
        """From what a browser sent; a position that is missing or out of range is 'unavailable'
        (the visit is still recorded)."""
        status = status if status in GeoStatus.values else GeoStatus.UNAVAILABLE
        if status != GeoStatus.OK:
            return cls(status)
        try:
            lat, lng = float(latitude), float(longitude)
            acc = float(accuracy) if accuracy not in (None, "") else None
        except (TypeError, ValueError):
            return cls(GeoStatus.UNAVAILABLE)
        if not (-90 <= lat <= 90 and -180 <= lng <= 180) or math.isnan(lat) or math.isnan(lng):
            return cls(GeoStatus.UNAVAILABLE)
        if acc is not None and (math.isnan(acc) or acc < 0):
            acc = None
        return cls(GeoStatus.OK, lat, lng, acc)


def parse_client_time(value: Any) -> datetime.datetime | None:
    """The phone's clock as sent (ISO-8601 or epoch milliseconds); None when unreadable."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float) or str(value).strip().isdigit():
            return datetime.datetime.fromtimestamp(int(value) / 1000, tz=datetime.UTC)
        parsed = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else None


def _add_flag(
    *,
    rep: User,
    kind: str,
    detail: dict[str, Any],
    visit: Visit | None = None,
    period: str = "",
) -> VisitFlag | None:
    """Create the flag unless it exists (unique per visit+kind or rep+kind+period); `detail`
    holds the figures its message is worded from when shown (models.flag_message). Two requests
    racing to create the same period flag: the unique constraint lets one win, the other's
    savepoint rolls back and it returns None."""
    lookup: dict[str, Any] = {"rep": rep, "kind": kind, "visit": visit, "period": period}
    if VisitFlag.objects.filter(**lookup).exists():
        return None
    try:
        with transaction.atomic():
            return VisitFlag.objects.create(**lookup, detail=detail)
    except IntegrityError:
        return None


def _position_flags(
    visit: Visit, position: Position, settings_row: ActivitySettings, now: datetime.datetime
) -> None:
    rep = visit.owner
    if position.status != GeoStatus.OK:
        _add_flag(
            rep=rep,
            visit=visit,
            kind=FlagKind.NO_GEOLOCATION,
            detail={"status": position.status},
        )
        return
    account = visit.account
    if account is not None and account.latitude is not None and account.longitude is not None:
        far = distance_m(position.latitude, position.longitude, account.latitude, account.longitude)  # type: ignore[arg-type]
        if far > settings_row.far_from_account_m:
            _add_flag(
                rep=rep,
                visit=visit,
                kind=FlagKind.FAR_FROM_ACCOUNT,
                detail={"distance_m": round(far), "limit_m": settings_row.far_from_account_m},
            )
    zone = user_zone(rep)
    day_start = datetime.datetime.combine(now.astimezone(zone).date(), datetime.time(), zone)
    previous = (
        Visit.objects.filter(
            owner=rep,
            started_at__gte=day_start,
            started_at__lte=visit.started_at,
            start_latitude__isnull=False,
        )
        .exclude(pk=visit.pk)
        .order_by("-started_at", "-id")
        .first()
    )
    if previous is None:
        return
    metres = distance_m(
        previous.start_latitude,
        previous.start_longitude,
        position.latitude,
        position.longitude,  # type: ignore[arg-type]
    )
    hours = max((visit.started_at - previous.started_at).total_seconds() / 3600, 1 / 60)
    speed = metres / 1000 / hours
    # a few hundred metres of GPS jitter between two close check-ins is not travel
    if metres > 2_000 and speed > settings_row.max_speed_kmh:
        _add_flag(
            rep=rep,
            visit=visit,
            kind=FlagKind.IMPOSSIBLE_SPEED,
            detail={
                "previous_visit": previous.pk,
                "distance_m": round(metres),
                "minutes": round(hours * 60),
                "speed_kmh": round(speed),
            },
        )


def _clock_flag(
    visit: Visit,
    client_time: datetime.datetime | None,
    server_time: datetime.datetime,
    settings_row: ActivitySettings,
) -> None:
    if client_time is None:
        return
    skew = (client_time - server_time).total_seconds()
    if abs(skew) > settings_row.clock_skew_minutes * 60:
        _add_flag(
            rep=visit.owner,
            visit=visit,
            kind=FlagKind.CLOCK_SKEW,
            detail={"skew_seconds": round(skew)},
        )


def start_visit(
    *,
    actor: User,
    account: Account | None = None,
    lead: Lead | None = None,
    opportunity: Opportunity | None = None,
    position: Position,
    client_time: datetime.datetime | None = None,
    user_agent: str = "",
    now: datetime.datetime | None = None,
) -> Visit:
    """Check in. The server's time is the visit's time; the phone's clock and position are
    evidence, checked against the account and the rep's previous check-in."""
    now = now or timezone.now()
    if opportunity is not None:
        account = account or opportunity.account
    if account is None and lead is None:
        raise ValidationError({"customer": [_("请选择要拜访的客户")]})
    for record in (account, lead, opportunity):
        if record is not None and not can_see(actor, record):
            raise PermissionDenied
    settings_row = ActivitySettings.current()
    with transaction.atomic():
        # one open visit per rep: lock the rep's row so a double tap cannot start two
        User.objects.select_for_update().filter(pk=actor.pk).first()
        recent = now - datetime.timedelta(hours=settings_row.visit_abandon_hours)
        if Visit.objects.filter(
            owner=actor, ended_at__isnull=True, started_at__gte=recent
        ).exists():
            raise ValidationError({"visit": [_("你还有一个拜访没有签退,请先结束它")]})
        visit = Visit.objects.create(
            owner=actor,
            account=account,
            lead=lead,
            opportunity=opportunity,
            started_at=now,
            client_started_at=client_time,
            start_latitude=position.latitude,
            start_longitude=position.longitude,
            start_accuracy_m=position.accuracy_m,
            start_geo_status=position.status,
            user_agent=user_agent[:300],
        )
        _position_flags(visit, position, settings_row, now)
        _clock_flag(visit, client_time, now, settings_row)
        record_event(
            subject=account or lead,
            verb="visit.started",
            actor=actor,
            after={"visit": visit.pk, "geo": position.status},
            now=now,
        )
        evaluate_rep_window(rep=actor, now=now)
    return visit


def end_visit(
    *,
    actor: User,
    visit: Visit,
    core_need: str,
    objection: str,
    next_action: str,
    next_action_due: datetime.datetime | datetime.date | None = None,
    next_action_kind: str = "",
    position: Position | None = None,
    client_time: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Visit:
    """Check out with the three structured fields (all required); writes the visit's follow-up
    (and its next action's task) through log_follow_up."""
    from jiepai.activities.vocabulary import quick_fill

    now = now or timezone.now()
    if visit.owner_id != actor.pk:
        raise PermissionDenied
    core_need, objection, next_action = core_need.strip(), objection.strip(), next_action.strip()
    errors: dict[str, list[str]] = {}
    if visit.ended_at is not None:
        errors["visit"] = [_("这次拜访已经签退")]
    for field, value, message in (
        ("core_need", core_need, _("请填写本次核心诉求")),
        ("objection", objection, _("请填写客户异议点(没有就写“无”)")),
        ("next_action", next_action, _("请填写下次行动项")),
    ):
        if not value:
            errors[field] = [message]
    if errors:
        raise ValidationError(errors)
    # the three fields read like a note: 下周二看样机 gives the task's kind and time,
    # 交付周期太长 in the objection becomes a pain-point tag on the account
    fill = quick_fill(
        actor=actor, text=f"{next_action}。{objection}。{core_need}", now=now, account=visit.account
    )
    parsed = fill.parsed
    if not next_action_kind and parsed.action is not None:
        next_action_kind = parsed.action.kind
    if next_action_due is None and parsed.due is not None and not parsed.problem_times:
        next_action_due = parsed.due if parsed.due_has_time else parsed.due.date()
    settings_row = ActivitySettings.current()
    with transaction.atomic():
        claimed = Visit.objects.filter(pk=visit.pk, ended_at__isnull=True).update(ended_at=now)
        if claimed != 1:  # a double submit: the first one ended it
            raise ValidationError({"visit": [_("这次拜访已经签退")]})
        activity = log_follow_up(
            actor=actor,
            method=ActivityKind.VISIT,
            account=visit.account,
            lead=visit.lead,
            opportunity=visit.opportunity,
            summary=_("核心诉求:%(need)s\n客户异议:%(objection)s")
            % {"need": core_need, "objection": objection},
            next_action=next_action,
            next_action_kind=next_action_kind,
            next_action_due=next_action_due,
            keywords=parsed.keywords,
            source="visit",
            parsed=parsed.as_json(),
            requirements=Requirements(next_action=True, next_action_due=False),
            now=now,
        )
        position = position or Position(GeoStatus.UNAVAILABLE)
        visit.ended_at = now
        visit.client_ended_at = client_time
        visit.end_latitude, visit.end_longitude = position.latitude, position.longitude
        visit.end_geo_status = position.status
        visit.core_need, visit.objection, visit.next_action = core_need, objection, next_action
        visit.activity = activity
        visit.save()
        _clock_flag(visit, client_time, now, settings_row)
        record_event(
            subject=visit.account or visit.lead,
            verb="visit.ended",
            actor=actor,
            after={"visit": visit.pk, "activity": activity.pk},
            now=now,
        )
        evaluate_rep_window(rep=actor, now=now)
    return visit


def is_empty_visit(visit: Visit, *, abandon_before: datetime.datetime) -> bool:
    if visit.ended_at is None:
        return visit.started_at < abandon_before
    fields = (visit.core_need, visit.objection, visit.next_action)
    return all(value.strip().lower() in EMPTY_CONTENT for value in fields)


def is_effective_communication(activity: Activity) -> bool:
    """A follow-up that says something: a conclusion, a next action, or a real summary."""
    if activity.conclusion or activity.next_action:
        return True
    summary = activity.summary.strip()
    return len(summary) >= 10 and summary not in EMPTY_CONTENT


def evaluate_rep_window(*, rep: User, now: datetime.datetime) -> list[VisitFlag]:
    """The per-rep period flags over the last `review_window_days` (one per kind per ISO week)."""
    settings_row = ActivitySettings.current()
    since = now - datetime.timedelta(days=settings_row.review_window_days)
    year, week, _day = local_now(rep, now).isocalendar()
    period = f"{year}-W{week:02d}"
    visits = list(Visit.objects.filter(owner=rep, started_at__gte=since, started_at__lte=now))
    abandon_before = now - datetime.timedelta(hours=settings_row.visit_abandon_hours)
    empty = [v for v in visits if is_empty_visit(v, abandon_before=abandon_before)]
    flags = []
    if len(empty) >= settings_row.empty_visits_threshold:
        flag = _add_flag(
            rep=rep,
            kind=FlagKind.EMPTY_VISITS,
            period=period,
            detail={"days": settings_row.review_window_days, "visits": [v.pk for v in empty]},
        )
        flags.append(flag)
    communications = [
        a
        for a in Activity.objects.filter(owner=rep, occurred_at__gte=since, occurred_at__lte=now)
        if is_effective_communication(a)
    ]
    ratio = settings_row.visits_per_communication
    if len(visits) > ratio * len(communications) and len(visits) > ratio:
        flag = _add_flag(
            rep=rep,
            kind=FlagKind.VISIT_RATIO,
            period=period,
            detail={
                "days": settings_row.review_window_days,
                "visits": len(visits),
                "communications": len(communications),
                "ratio": ratio,
            },
        )
        flags.append(flag)
    return [f for f in flags if f is not None]


def review_flag(
    *,
    actor: User,
    flag: VisitFlag,
    status: str,
    note: str = "",
    now: datetime.datetime | None = None,
) -> VisitFlag:
    """A manager closes a flag: confirmed (the process needs a fix) or dismissed (all fine)."""
    now = now or timezone.now()
    if flag.rep_id == actor.pk or not visible_flags(actor).filter(pk=flag.pk).exists():
        raise PermissionDenied
    if actor.role not in ("manager", "director", "admin") and not actor.is_superuser:
        raise PermissionDenied
    if status not in (FlagStatus.CONFIRMED, FlagStatus.DISMISSED):
        raise ValidationError({"status": [_("请选择复核结论")]})
    flag.status, flag.review_note = status, note.strip()
    flag.reviewed_by, flag.reviewed_at = actor, now
    flag.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"])
    return flag


def trajectory(*, rep: User, day: datetime.date) -> list[Visit]:
    """The rep's check-ins on a day (their time zone), in order."""
    zone = user_zone(rep)
    start = datetime.datetime.combine(day, datetime.time(), zone)
    return list(
        Visit.objects.filter(
            owner=rep, started_at__gte=start, started_at__lt=start + datetime.timedelta(days=1)
        )
        .select_related("account", "lead")
        .prefetch_related("flags")
        .order_by("started_at", "id")
    )


def trajectory_chart(visits: list[Visit], zone: datetime.tzinfo) -> dict[str, Any]:
    """An ECharts option: check-ins as points (longitude × latitude) joined in time order,
    labelled with their times. No map tiles: the shape of the day is what matters."""
    points = [
        {
            "value": [v.start_longitude, v.start_latitude],
            "name": f"{timezone.localtime(v.started_at, zone):%H:%M} {v.customer}",
        }
        for v in visits
        if v.start_latitude is not None
    ]
    accounts = [
        {"value": [v.account.longitude, v.account.latitude], "name": str(v.account)}
        for v in visits
        if v.account is not None and v.account.latitude is not None
    ]
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}"},
        "grid": {"left": 60, "right": 20, "top": 30, "bottom": 40},
        "xAxis": {
            "type": "value",
            "scale": True,
            "name": _("经度"),
            "nameLocation": "middle",
            "nameGap": 25,
        },
        "yAxis": {"type": "value", "scale": True, "name": _("纬度")},
        "legend": {"data": [_("签到"), _("客户地址")]},
        "series": [
            {
                "name": _("签到"),
                "type": "line",
                "data": points,
                "symbolSize": 12,
                "label": {"show": True, "formatter": "{b}", "position": "top"},
            },
            {
                "name": _("客户地址"),
                "type": "scatter",
                "data": accounts,
                "symbol": "diamond",
                "symbolSize": 10,
            },
        ],
    }
