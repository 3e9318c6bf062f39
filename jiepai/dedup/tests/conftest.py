from __future__ import annotations

import datetime

import pytest

from jiepai.customers.services import create_account, create_contact

NOW = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def ruijin(people):
    return create_account(
        actor=people.rep, values={"name": "上海交通大学医学院附属瑞金医院", "city": "上海"}
    )


@pytest.fixture
def zhang(people, ruijin):
    return create_contact(
        actor=people.rep,
        values={
            "name": "张伟",
            "title": "采购科主任",
            "account": ruijin,
            "mobile": "138 0013 8000",
        },
    )
