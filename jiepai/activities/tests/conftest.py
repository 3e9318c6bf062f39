from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jiepai.customers.models import Account, Contact
from jiepai.customers.services import create_account, create_contact
from jiepai.pipeline.models import Opportunity
from jiepai.pipeline.services import create_opportunity

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 瑞金医院, 上海黄浦区
RUIJIN = (31.2120, 121.4670)


@pytest.fixture
def now() -> datetime.datetime:
    """Monday 2 March 2026, 10:00 in Shanghai."""
    return datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@dataclass
class Customer:
    account: Account
    opportunity: Opportunity
    contact: Contact


@pytest.fixture
def customer(people, now) -> Customer:
    account = create_account(
        actor=people.rep,
        values={"name": "上海瑞金医院", "latitude": RUIJIN[0], "longitude": RUIJIN[1]},
        now=now,
    )
    opportunity = create_opportunity(
        actor=people.rep,
        values={"name": "影像设备采购", "account": account, "amount": Decimal("300000")},
        now=now,
    )
    contact = create_contact(
        actor=people.rep, values={"account": account, "name": "李总", "title": "总经理"}, now=now
    )
    return Customer(account=account, opportunity=opportunity, contact=contact)


def audio_upload(
    name: str = "memo.m4a",
    content: bytes = b"\x00\x00\x00\x18ftypM4A fake",
    content_type="audio/mp4",
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
