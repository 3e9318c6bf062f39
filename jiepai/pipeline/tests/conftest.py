from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jiepai.customers.models import Account
from jiepai.customers.services import create_account
from jiepai.pipeline.models import Opportunity, Stage
from jiepai.pipeline.services import create_opportunity

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def now() -> datetime.datetime:
    return datetime.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def stages(db) -> dict[str, Stage]:
    return {s.name: s for s in Stage.objects.filter(pipeline__name="标准销售流程")}


@dataclass
class Deal:
    account: Account
    opportunity: Opportunity


@pytest.fixture
def deal(people, now) -> Deal:
    account = create_account(actor=people.rep, values={"name": "上海瑞金医院"}, now=now)
    opportunity = create_opportunity(
        actor=people.rep,
        values={"name": "影像设备采购", "account": account, "amount": Decimal("300000")},
        now=now,
    )
    return Deal(account=account, opportunity=opportunity)


def upload(name: str = "报价单.pdf", content: bytes = b"%PDF-1.4 quote") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def default_configuration(transactional_db) -> None:
    """Transactional tests run after others have flushed the tables: put back the default
    pipeline, its gates and the 已发送报价 conclusion by running the data migrations' functions
    again (each skips what exists). serialized_rollback cannot be used: it re-inserts content
    types that the flush's post_migrate has already recreated."""
    from importlib import import_module

    from django.apps import apps

    for name in ("0002_default_pipeline", "0004_default_gates", "0005_quote_sent_conclusion"):
        import_module(f"jiepai.pipeline.migrations.{name}").create(apps, None)
