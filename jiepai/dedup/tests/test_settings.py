"""The admin's dedup settings page: policy per entity and uniqueness rules."""

from __future__ import annotations

from django.urls import reverse

from jiepai.conftest import PASSWORD
from jiepai.customers.services import create_contact
from jiepai.dedup.models import UniqueRule
from jiepai.dedup.selectors import policy_for


def _as(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_only_admins_open_the_settings(client, people):
    assert _as(client, people.rep).get(reverse("dedup:settings")).status_code == 403
    assert _as(client, people.admin).get(reverse("dedup:settings")).status_code == 200


def test_admin_sets_the_contact_policy_to_block(client, people):
    response = _as(client, people.admin).post(
        reverse("dedup:settings"),
        {
            "form": "policy",
            "entity": "contact",
            "contact-policy": "block",
            "contact-show_threshold": "0.5",
            "contact-act_threshold": "0.9",
            "contact-scan_threshold": "0.8",
            "contact-generic_key_count": "50",
            "contact-undo_days": "30",
        },
    )
    assert response.status_code == 302
    assert policy_for("contact").policy == "block"


def test_out_of_range_threshold_is_a_field_error(client, people):
    response = _as(client, people.admin).post(
        reverse("dedup:settings"),
        {
            "form": "policy",
            "entity": "contact",
            "contact-policy": "warn",
            "contact-show_threshold": "5",
            "contact-act_threshold": "0.9",
            "contact-scan_threshold": "0.8",
            "contact-generic_key_count": "50",
            "contact-undo_days": "30",
        },
    )
    assert response.status_code == 400
    assert policy_for("contact").show_threshold == 0.5


def test_admin_switches_a_rule_on(client, people):
    _as(client, people.admin).post(
        reverse("dedup:settings"),
        {"form": "rule", "entity": "contact", "kind": "mobile", "active": "1"},
    )
    assert UniqueRule.objects.get(entity="contact", kind="mobile").active


def test_switching_on_a_clashing_rule_shows_the_clash(client, people, zhang):
    create_contact(actor=people.rep, values={"name": "李娜", "mobile": "13800138000"})
    response = _as(client, people.admin).post(
        reverse("dedup:settings"),
        {"form": "rule", "entity": "contact", "kind": "mobile", "active": "1"},
    )
    assert response.status_code == 400
    assert "+8613800138000" in response.content.decode()
