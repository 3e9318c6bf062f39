from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from jiepai.intake.models import Channel
from jiepai.intake.services import create_channel, install_default_channels

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "weight", "window"),
    [
        ("web_form", "1.00", 15),
        ("mini_program", "1.00", 15),
        ("phone", "0.90", 240),
        ("trade_show", "0.80", 240),
        ("api", "1.00", 240),
    ],
)
def test_channel_kind_sets_seed_weight_and_response_window(kind, weight, window):
    channel = create_channel(name=kind, slug=kind.replace("_", "-"), kind=kind)
    assert (channel.weight, channel.response_window_minutes) == (Decimal(weight), window)


def test_new_channel_requires_company_title_and_phone_by_default():
    channel = create_channel(name="官网", slug="web", kind="web_form")
    assert channel.required_fields == ["company", "title", "mobile"]


def test_explicit_values_win_over_kind_defaults():
    channel = create_channel(name="官网", slug="web", kind="web_form", weight=Decimal("0.5"))
    assert channel.weight == Decimal("0.5")


def test_each_channel_has_its_own_intake_key():
    a = create_channel(name="a", slug="a", kind="api")
    b = create_channel(name="b", slug="b", kind="api")
    assert a.intake_key != b.intake_key and len(a.intake_key) >= 32


def test_channel_with_unknown_required_field_is_invalid():
    with pytest.raises(ValidationError) as caught:
        create_channel(name="x", slug="x", kind="api", required_fields=["shoe_size"])
    assert "required_fields" in caught.value.message_dict


def test_channel_with_bad_alias_map_is_invalid():
    with pytest.raises(ValidationError) as caught:
        create_channel(name="x", slug="x", kind="api", alias_map={"手机号": "cellphone"})
    assert "alias_map" in caught.value.message_dict


def test_default_channels_are_installed_once():
    created = install_default_channels()
    assert {c.slug for c in created} >= {"web", "trade-show", "phone", "douyin"}
    assert install_default_channels() == []
    assert Channel.objects.get(slug="trade-show").weight == Decimal("0.80")


def test_defaultchannels_command_prints_keys():
    out = StringIO()
    call_command("defaultchannels", stdout=out)
    web = Channel.objects.get(slug="web")
    assert web.intake_key in out.getvalue()
