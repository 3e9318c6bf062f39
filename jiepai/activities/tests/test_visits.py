"""Visits: check-in evidence, check-out's three fields, anomaly flags for review, visibility."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiepai.activities.models import (
    Activity,
    FlagKind,
    FlagStatus,
    GeoStatus,
    Visit,
    VisitFlag,
)
from jiepai.activities.selectors import visible_flags, visible_visits
from jiepai.activities.visits import (
    Position,
    distance_m,
    end_visit,
    parse_client_time,
    review_flag,
    start_visit,
    trajectory,
    trajectory_chart,
)
from jiepai.customers.services import create_account

from .conftest import RUIJIN, SHANGHAI

pytestmark = pytest.mark.django_db

AT_RUIJIN = Position(GeoStatus.OK, RUIJIN[0] + 0.001, RUIJIN[1], 15.0)  # ~110 m away
HANGZHOU = Position(GeoStatus.OK, 30.2741, 120.1551, 20.0)  # ~165 km from 瑞金医院


def flags(visit: Visit) -> set[str]:
    return set(visit.flags.values_list("kind", flat=True))


def start(people, customer, now, position=AT_RUIJIN, **kwargs) -> Visit:
    return start_visit(
        actor=people.rep,
        account=customer.account,
        position=position,
        client_time=kwargs.pop("client_time", now),
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)",
        now=now,
        **kwargs,
    )


def finish(people, visit, now, **fields) -> Visit:
    values = {
        "core_need": "希望缩短交付周期",
        "objection": "交期太长",
        "next_action": "下周二看样机",
    }
    values.update(fields)
    return end_visit(
        actor=people.rep, visit=visit, position=AT_RUIJIN, client_time=now, now=now, **values
    )


def test_check_in_at_the_account_records_evidence_without_flags(people, customer, now) -> None:
    visit = start(people, customer, now)
    assert (visit.started_at, visit.start_geo_status, visit.client_started_at) == (now, "ok", now)
    assert visit.user_agent.startswith("Mozilla/5.0 (iPhone")
    assert flags(visit) == set()


def test_check_in_far_from_the_account_is_flagged(people, customer, now) -> None:
    visit = start(people, customer, now, position=HANGZHOU)
    flag = visit.flags.get()
    assert flag.kind == FlagKind.FAR_FROM_ACCOUNT and flag.status == FlagStatus.OPEN
    assert 150_000 < flag.detail["distance_m"] < 180_000


def test_denied_geolocation_still_records_the_visit_with_a_flag(people, customer, now) -> None:
    visit = start(people, customer, now, position=Position.parse(status="denied"))
    assert Visit.objects.filter(pk=visit.pk).exists()
    assert visit.start_latitude is None
    assert flags(visit) == {FlagKind.NO_GEOLOCATION}


def test_garbage_coordinates_count_as_unavailable(people, customer, now) -> None:
    position = Position.parse(status="ok", latitude="91", longitude="abc")
    assert position.status == GeoStatus.UNAVAILABLE
    visit = start(people, customer, now, position=position)
    assert flags(visit) == {FlagKind.NO_GEOLOCATION}


def test_phone_clock_off_by_an_hour_is_flagged(people, customer, now) -> None:
    visit = start(people, customer, now, client_time=now - datetime.timedelta(hours=1))
    flag = visit.flags.get()
    assert flag.kind == FlagKind.CLOCK_SKEW and flag.detail["skew_seconds"] == -3600


def test_client_time_parsing_accepts_iso_and_epoch_and_rejects_junk() -> None:
    assert parse_client_time("2026-03-02T02:00:00.000Z") == datetime.datetime(
        2026, 3, 2, 2, tzinfo=datetime.UTC
    )
    assert parse_client_time("1772416800000") == datetime.datetime(
        2026, 3, 2, 2, tzinfo=datetime.UTC
    )
    assert parse_client_time("yesterday") is None
    assert parse_client_time("2026-03-02T10:00") is None  # no zone: unusable as evidence


def test_impossible_speed_between_check_ins_is_flagged(people, customer, now) -> None:
    first = start(people, customer, now)
    finish(people, first, now + datetime.timedelta(minutes=30))
    other = create_account(
        actor=people.rep,
        values={"name": "杭州邵逸夫医院", "latitude": 30.2741, "longitude": 120.1551},
        now=now,
    )
    second = start_visit(
        actor=people.rep,
        account=other,
        position=HANGZHOU,
        client_time=now + datetime.timedelta(hours=1),
        now=now + datetime.timedelta(hours=1),
    )
    flag = second.flags.get()
    assert flag.kind == FlagKind.IMPOSSIBLE_SPEED
    assert flag.detail["speed_kmh"] > 150


def test_reasonable_travel_is_not_flagged(people, customer, now) -> None:
    first = start(people, customer, now)
    finish(people, first, now + datetime.timedelta(minutes=30))
    other = create_account(
        actor=people.rep,
        values={"name": "杭州邵逸夫医院", "latitude": 30.2741, "longitude": 120.1551},
        now=now,
    )
    later = now + datetime.timedelta(hours=3)
    second = start_visit(
        actor=people.rep, account=other, position=HANGZHOU, client_time=later, now=later
    )
    assert flags(second) == set()


def test_second_check_in_while_a_visit_is_open_is_refused(people, customer, now) -> None:
    start(people, customer, now)
    with pytest.raises(ValidationError) as excinfo:
        start(people, customer, now + datetime.timedelta(minutes=5))
    assert "visit" in excinfo.value.message_dict


def test_check_out_requires_the_three_fields_by_name(people, customer, now) -> None:
    visit = start(people, customer, now)
    with pytest.raises(ValidationError) as excinfo:
        finish(people, visit, now, core_need="", objection=" ", next_action="")
    assert set(excinfo.value.message_dict) == {"core_need", "objection", "next_action"}
    visit.refresh_from_db()
    assert visit.ended_at is None


def test_check_out_writes_the_follow_up_with_parsed_task_and_tags(people, customer, now) -> None:
    visit = start(people, customer, now)
    visit = finish(people, visit, now + datetime.timedelta(minutes=40))
    activity = Activity.objects.get(pk=visit.activity_id)
    assert (activity.kind, activity.source) == ("visit", "visit")
    assert "希望缩短交付周期" in activity.summary
    task = activity.tasks.get()
    assert (task.title, task.kind) == ("下周二看样机", "sample_demo")
    assert task.due_at.astimezone(SHANGHAI).date() == datetime.date(2026, 3, 10)
    from jiepai.tagging.services import tags_of

    assert [t.tag.name for t in tags_of("account", customer.account.pk)] == ["交付周期太长"]


def test_checking_out_twice_is_refused(people, customer, now) -> None:
    visit = start(people, customer, now)
    finish(people, visit, now)
    with pytest.raises(ValidationError):
        finish(people, Visit.objects.get(pk=visit.pk), now)
    assert Activity.objects.count() == 1


def test_many_empty_visits_are_flagged_for_the_period(people, customer, now) -> None:
    for day in range(3):
        moment = now + datetime.timedelta(days=day)
        visit = start(people, customer, moment)
        finish(people, visit, moment, core_need="无", objection="无", next_action="再联系")
    flag = VisitFlag.objects.get(kind=FlagKind.EMPTY_VISITS)
    assert flag.rep == people.rep and flag.visit is None and flag.period == "2026-W10"
    assert len(flag.detail["visits"]) == 3


def test_visits_over_three_times_effective_communications_are_flagged(
    people, customer, now
) -> None:
    # seed 002: 28 visits a week against a handful of real conversations
    for hour in range(4):
        moment = now + datetime.timedelta(days=hour)
        Visit.objects.create(
            owner=people.rep,
            account=customer.account,
            started_at=moment,
            start_geo_status="ok",
            start_latitude=RUIJIN[0],
            start_longitude=RUIJIN[1],
            ended_at=moment + datetime.timedelta(minutes=5),
            core_need="无",
            objection="无",
            next_action="无",
        )
    visit = start(people, customer, now + datetime.timedelta(days=5))
    flag = VisitFlag.objects.get(kind=FlagKind.VISIT_RATIO)
    assert flag.detail == {"days": 14, "visits": 5, "communications": 0, "ratio": 3}
    assert visit.pk


def test_visits_with_real_follow_ups_are_not_flagged_for_ratio(people, customer, now) -> None:
    for day in range(5):
        moment = now + datetime.timedelta(days=day)
        finish(people, start(people, customer, moment), moment + datetime.timedelta(minutes=30))
    assert not VisitFlag.objects.filter(kind=FlagKind.VISIT_RATIO).exists()


def test_manager_reviews_a_flag_and_the_rep_cannot(people, customer, now) -> None:
    visit = start(people, customer, now, position=HANGZHOU)
    flag = visit.flags.get()
    with pytest.raises(PermissionDenied):
        review_flag(actor=people.rep, flag=flag, status=FlagStatus.DISMISSED, now=now)
    with pytest.raises(PermissionDenied):
        review_flag(actor=people.outsider, flag=flag, status=FlagStatus.DISMISSED, now=now)
    review_flag(
        actor=people.manager, flag=flag, status=FlagStatus.DISMISSED, note="在分院", now=now
    )
    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by, flag.review_note) == (
        "dismissed",
        people.manager,
        "在分院",
    )


def test_outsider_sees_no_visits_or_flags_of_the_rep(people, customer, now) -> None:
    start(people, customer, now, position=HANGZHOU)
    assert not visible_visits(people.outsider).exists()
    assert not visible_flags(people.outsider).exists()
    assert visible_visits(people.manager).count() == 1
    assert visible_flags(people.director).count() == 1
    assert not visible_visits(people.teammate).exists()


def test_outsider_cannot_check_in_at_the_reps_account(people, customer, now) -> None:
    with pytest.raises(PermissionDenied):
        start_visit(actor=people.outsider, account=customer.account, position=AT_RUIJIN, now=now)


def test_trajectory_orders_check_ins_and_charts_longitude_by_latitude(
    people, customer, now
) -> None:
    first = start(people, customer, now)
    finish(people, first, now + datetime.timedelta(minutes=20))
    second = start(
        people,
        customer,
        now + datetime.timedelta(hours=2),
        position=Position.parse(status="denied"),
    )
    day = trajectory(rep=people.rep, day=datetime.date(2026, 3, 2))
    assert [v.pk for v in day] == [first.pk, second.pk]
    chart = trajectory_chart(day, SHANGHAI)
    points = chart["series"][0]["data"]
    assert points == [
        {"value": [AT_RUIJIN.longitude, AT_RUIJIN.latitude], "name": "10:00 上海瑞金医院"}
    ]


def test_distance_between_shanghai_and_hangzhou_is_about_165_km() -> None:
    assert 160_000 < distance_m(31.2304, 121.4737, 30.2741, 120.1551) < 170_000
