from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.test import Client

from jiepai.intake.models import Channel
from jiepai.intake.services import create_channel

NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)

#: a complete web-form submission with the field names a Chinese site builder uses
FORM = {
    "姓名": "王磊",
    "手机号": "138 0013 8000",
    "公司名称": "宁波恒锐智能装备有限公司",
    "职位": "采购经理",
    "page_url": "https://example.com/product/plc/s7",
}


@pytest.fixture
def now() -> datetime.datetime:
    return NOW


@pytest.fixture
def web(db: None) -> Channel:
    return create_channel(name="官网表单", slug="web", kind="web_form", public_form_enabled=True)


@pytest.fixture
def expo(db: None) -> Channel:
    return create_channel(name="展会扫码", slug="expo", kind="trade_show", public_form_enabled=True)


class ChannelClient:
    """Posts to the channel-facing API with the channel's key."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.client = Client(headers={"X-Jiepai-Key": channel.intake_key})

    def intake(self, body: Any, *, content_type: str = "application/json", **headers: str) -> Any:
        if isinstance(body, bytes):  # as sent: the test client would re-encode str for a charset
            return self.client.generic(
                "POST",
                f"/api/v1/intake/{self.channel.slug}",
                body,
                content_type=content_type,
                headers=headers,
            )
        data = json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body
        return self.client.post(
            f"/api/v1/intake/{self.channel.slug}",
            data,
            content_type=content_type,
            headers=headers,
        )

    def events(self, body: Any) -> Any:
        return self.client.post(
            "/api/v1/events", json.dumps(body, ensure_ascii=False), content_type="application/json"
        )


@pytest.fixture
def web_api(web: Channel) -> ChannelClient:
    return ChannelClient(web)
