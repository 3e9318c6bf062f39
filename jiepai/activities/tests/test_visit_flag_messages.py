"""Visit flags store figures and are worded when shown, in the reader's language; flags written
before (a Chinese sentence in a `message` column) keep reading after the migration."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import translation

from jiepai.activities.models import FlagKind, GeoStatus, VisitFlag, flag_message
from jiepai.activities.visits import Position, start_visit
from jiepai.conftest import PASSWORD

HANGZHOU = Position(GeoStatus.OK, 30.2741, 120.1551, 20.0)  # ~165 km from 瑞金医院

#: kind → (figures, Chinese, English)
WORDINGS = {
    FlagKind.NO_GEOLOCATION: (
        {"status": "denied"},
        "签到时没有定位(定位被拒绝)",
        "No location at check-in (Location denied)",
    ),
    FlagKind.FAR_FROM_ACCOUNT: (
        {"distance_m": 12_345, "limit_m": 1_000},
        "签到位置距客户地址约 12.3 公里",
        "Checked in about 12.3 km from the account address",
    ),
    FlagKind.IMPOSSIBLE_SPEED: (
        {"previous_visit": 1, "distance_m": 80_000, "minutes": 20, "speed_kmh": 240},
        "距上一次签到 80.0 公里、20 分钟,约 240 km/h",
        "80.0 km and 20 minutes from the previous check-in, about 240 km/h",
    ),
    FlagKind.CLOCK_SKEW: (
        {"skew_seconds": -3600},
        "设备时间与服务器相差 60 分钟",
        "Device clock is 60 minutes off the server",
    ),
    FlagKind.EMPTY_VISITS: (
        {"days": 14, "visits": [1, 2, 3]},
        "近 14 天有 3 次拜访没有跟进内容",
        "3 visits without follow-up content in the last 14 days",
    ),
    FlagKind.VISIT_RATIO: (
        {"days": 14, "visits": 28, "communications": 4, "ratio": 3},
        "近 14 天拜访 28 次,有效沟通 4 次(超过 3 倍)",
        "28 visits and 4 meaningful contacts in the last 14 days",
    ),
}


@pytest.mark.parametrize("kind", list(WORDINGS))
def test_every_flag_kind_is_worded_in_chinese_and_english(kind) -> None:
    figures, chinese, english = WORDINGS[kind]
    with translation.override("zh-hans"):
        assert flag_message(kind, figures) == chinese
    with translation.override("en"):
        assert flag_message(kind, figures).startswith(english)


def test_a_flag_with_missing_figures_shows_its_kind_instead_of_failing() -> None:
    with translation.override("en"):
        assert flag_message(FlagKind.VISIT_RATIO, {"visits": 5}) == str(FlagKind.VISIT_RATIO.label)
        assert flag_message(FlagKind.CLOCK_SKEW, {"skew_seconds": "soon"}) == str(
            FlagKind.CLOCK_SKEW.label
        )


def test_a_stored_flag_reads_in_the_language_of_whoever_looks(people, customer, now) -> None:
    visit = start_visit(
        actor=people.rep, account=customer.account, position=HANGZHOU, client_time=now, now=now
    )
    flag = VisitFlag.objects.get(visit=visit)
    with translation.override("zh-hans"):
        assert flag.message.startswith("签到位置距客户地址约 1")
    with translation.override("en"):
        assert flag.message.startswith("Checked in about 1")
        assert flag.message.endswith("km from the account address")


def test_review_queue_shows_flags_in_english_with_the_language_cookie(
    people, customer, now
) -> None:
    start_visit(
        actor=people.rep, account=customer.account, position=HANGZHOU, client_time=now, now=now
    )
    client = Client()
    client.login(username=people.manager.username, password=PASSWORD)
    client.cookies["django_language"] = "en"
    english = client.get(reverse("activities:review_queue")).content.decode()
    assert "km from the account address" in english and "签到位置" not in english
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("activities:review_queue")).content.decode()
    assert "签到位置距客户地址约" in chinese


@pytest.mark.django_db(transaction=True)
def test_flags_worded_before_the_migration_read_in_english_after_it(people) -> None:
    before = ("activities", "0006_default_configuration")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps.get_model("activities", "VisitFlag")
    stamp = datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC)
    common = {"rep_id": people.rep.pk, "created_at": stamp, "updated_at": stamp}
    old.objects.create(
        **common,
        kind="visit_ratio",
        period="2026-W10",
        message="近 7 天拜访 9 次,有效沟通 2 次(超过 4 倍)",
        detail={"visits": 9, "communications": 2},
    )
    old.objects.create(
        **common,
        kind="empty_visits",
        period="2026-W10",
        message="近 7 天有 3 次拜访没有跟进内容",
        detail={"visits": [1, 2, 3]},
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the current schema
    with translation.override("en"):
        messages = sorted(flag.message for flag in VisitFlag.objects.all())
    assert messages == [
        "3 visits without follow-up content in the last 7 days",
        "9 visits and 2 meaningful contacts in the last 7 days (more than 4 to 1)",
    ]
