"""Dwell heat map and stage health, rebuilt from the event trace, through visibility."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from jiepai.conftest import PASSWORD
from jiepai.customers.services import create_account
from jiepai.deadlines.sweeper import sweep_once
from jiepai.pipeline.models import GateRequirement
from jiepai.pipeline.reports import Period, dwell_heatmap, stage_health
from jiepai.pipeline.services import create_opportunity
from jiepai.pipeline.stages import move_opportunity

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def history(people, stages, now):
    """rep: two deals leave 需求确认 after 10 h and 40 h; teammate: one after 20 h;
    one of rep's deals stays and stalls; the outsider's deal leaves after 5 h."""
    GateRequirement.objects.update(active=False)
    pipeline = stages["需求确认"].pipeline

    def deal(owner, name, hours=None):
        account = create_account(actor=owner, values={"name": f"{name}客户"}, now=now)
        opportunity = create_opportunity(
            actor=owner, values={"name": name, "account": account}, now=now
        )
        if hours is not None:
            move_opportunity(
                opportunity=opportunity,
                to_stage=stages["方案演示"],
                actor=owner,
                now=now + hours * HOUR,
            )
        return opportunity

    deal(people.rep, "甲", 10)
    deal(people.rep, "乙", 40)
    deal(people.teammate, "丙", 20)
    deal(people.outsider, "丁", 5)
    stalled = deal(people.rep, "戊")
    return {"pipeline": pipeline, "stalled": stalled}


def _period(now, days=10):
    return Period(start=now - HOUR, end=now + days * 24 * HOUR)


def _cells(heatmap, stage):
    return {
        label: row["cells"][0]["median"]
        for label, row in zip([label for _k, label in heatmap.rows], heatmap.table(), strict=True)
        if heatmap.stages[0] == stage
    }


def test_dwell_median_per_rep_and_stage(history, people, stages, now):
    heatmap = dwell_heatmap(
        viewer=people.director, pipeline=history["pipeline"], period=_period(now)
    )
    cells = _cells(heatmap, stages["需求确认"])
    assert cells["王磊"] == 25  # median of 10 h and 40 h
    assert cells["李娜"] == 20
    assert cells["孙强"] == 5


def test_dwell_by_department(history, people, stages, now):
    heatmap = dwell_heatmap(
        viewer=people.director, pipeline=history["pipeline"], period=_period(now), by="department"
    )
    cells = _cells(heatmap, stages["需求确认"])
    assert cells["上海组"] == 20  # 10, 20, 40
    assert cells["华北大区"] == 5


def test_dwell_counts_only_stays_that_ended_in_the_period(history, people, stages, now):
    period = Period(start=now + 15 * HOUR, end=now + 50 * HOUR)
    heatmap = dwell_heatmap(viewer=people.director, pipeline=history["pipeline"], period=period)
    cells = _cells(heatmap, stages["需求确认"])
    assert cells == {"王磊": 40, "李娜": 20}


def test_manager_heatmap_leaves_out_other_departments(history, people, stages, now):
    heatmap = dwell_heatmap(
        viewer=people.manager, pipeline=history["pipeline"], period=_period(now)
    )
    assert "孙强" not in [label for _k, label in heatmap.rows]


def test_rep_heatmap_shows_only_their_own_deals(history, people, now):
    heatmap = dwell_heatmap(viewer=people.rep, pipeline=history["pipeline"], period=_period(now))
    assert [label for _k, label in heatmap.rows] == ["王磊"]


def test_heatmap_echarts_option_has_one_point_per_cell(history, people, now):
    option = dwell_heatmap(
        viewer=people.director, pipeline=history["pipeline"], period=_period(now)
    ).echarts()
    assert option["series"][0]["type"] == "heatmap"
    assert len(option["series"][0]["data"]) == 3
    assert option["xAxis"]["data"][0] == "需求确认"


def test_stage_health_counts_stalled_over_total_per_rep(history, people, stages, now):
    sweep_once(now=now + 73 * HOUR)  # 戊 is still in 需求确认 and stalls; the others moved
    report = stage_health(viewer=people.director, pipeline=history["pipeline"], period=_period(now))
    rows = {row.label: row for row in report.rows}
    first, demo = stages["需求确认"].pk, stages["方案演示"].pk
    assert rows["王磊"].cells[first] == (1, 3)
    assert rows["王磊"].cells[demo][1] == 2
    assert rows["李娜"].cells[first] == (0, 1)
    assert report.rows[0].label == "王磊"  # the highest stall ratio first


def test_stage_health_period_before_the_stall_has_none(history, people, stages, now):
    sweep_once(now=now + 73 * HOUR)
    period = Period(start=now - HOUR, end=now + 48 * HOUR)
    report = stage_health(viewer=people.director, pipeline=history["pipeline"], period=period)
    assert all(row.stalled == 0 for row in report.rows)


def test_stage_health_through_visibility(history, people, now):
    report = stage_health(viewer=people.outsider, pipeline=history["pipeline"], period=_period(now))
    assert [row.label for row in report.rows] == ["孙强"]


def test_period_from_params_defaults_and_bad_input(now):
    period, errors = Period.from_params({"from": "2026-13-01", "to": ""}, now=now)
    assert errors and period.last_day == datetime.date(2026, 3, 2)
    assert (period.last_day - period.first_day).days == 29
    swapped, errors = Period.from_params({"from": "2026-03-01", "to": "2026-02-01"}, now=now)
    assert errors and swapped.first_day == datetime.date(2026, 2, 1)


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_dwell_page_renders_chart_and_table(client, people, history):
    response = _login(client, people.manager).get(
        reverse("pipeline:dwell_report"), {"from": "2020-01-01", "to": "2030-12-31"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-chart="dwell-chart"' in body and "王磊" in body and "孙强" not in body


def test_health_page_renders_for_a_rep(client, people, history):
    response = _login(client, people.rep).get(
        reverse("pipeline:health_report"), {"from": "2020-01-01", "to": "2030-12-31", "by": "x"}
    )
    assert response.status_code == 200
    assert "王磊" in response.content.decode()


def test_report_page_with_garbage_dates_is_not_a_500(client, people, history):
    response = _login(client, people.director).get(
        reverse("pipeline:dwell_report"), {"from": "昨天", "to": "x" * 500, "pipeline": "abc"}
    )
    assert response.status_code == 200
