"""The door check (htmx fragment) and asking for access to a record you cannot see."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from jiepai.conftest import PASSWORD
from jiepai.dedup.models import AccessRequest
from jiepai.dedup.services import decide_access, request_access
from jiepai.notify.models import Notification

SEED = {"name": "张主任", "company": "瑞金医院", "mobile": "13800138000"}


def _client(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_check_shows_the_existing_contact_to_its_owner(client, people, zhang):
    response = _client(client, people.rep).get(reverse("dedup:check", args=["contact"]), SEED)
    body = response.content.decode()
    assert response.status_code == 200
    assert "已存在联系人:张伟" in body
    assert "上海交通大学医学院附属瑞金医院" in body
    assert "最近跟进人:王磊" in body
    assert zhang.get_absolute_url() in body


def test_check_shows_an_outsider_only_owner_and_last_update(client, people, zhang):
    body = (
        _client(client, people.outsider)
        .get(reverse("dedup:check", args=["contact"]), SEED)
        .content.decode()
    )
    assert "王磊" in body and "申请查看" in body
    assert "张伟" not in body
    assert "上海交通大学" not in body
    assert zhang.get_absolute_url() not in body
    assert "+8613800138000" not in body


def test_check_reads_the_account_field_of_the_contact_form(client, people, ruijin, zhang):
    response = _client(client, people.rep).get(
        reverse("dedup:check", args=["contact"]), {"name": "张伟", "account": ruijin.pk}
    )
    assert "张伟" in response.content.decode()


def test_check_of_a_lead_finds_the_contact(client, people, zhang):
    body = (
        _client(client, people.rep)
        .get(reverse("dedup:check", args=["lead"]), SEED)
        .content.decode()
    )
    assert "已存在联系人" in body


def test_check_with_nothing_typed_is_empty(client, people, zhang):
    response = _client(client, people.rep).get(
        reverse("dedup:check", args=["contact"]), {"name": "张"}
    )
    assert response.status_code == 200
    assert "已存在" not in response.content.decode()


def test_check_of_an_unknown_entity_is_404(client, people):
    assert (
        _client(client, people.rep).get(reverse("dedup:check", args=["ticket"])).status_code == 404
    )


def test_check_needs_a_login(client, zhang):
    assert client.get(reverse("dedup:check", args=["contact"]), SEED).status_code == 302


def test_edit_form_excludes_the_record_itself(client, people, zhang):
    response = _client(client, people.rep).get(
        reverse("dedup:check", args=["contact"]), {**SEED, "exclude": zhang.pk}
    )
    assert "已存在" not in response.content.decode()


def test_request_access_notifies_the_owner(client, people, zhang):
    response = _client(client, people.outsider).post(
        reverse("dedup:request_access", args=["contact", zhang.pk])
    )
    assert response.status_code == 200
    note = Notification.objects.get(recipient=people.rep, kind="dedup.access_requested")
    assert "孙强" in note.title
    assert (
        AccessRequest.objects.filter(requester=people.outsider, granted__isnull=True).count() == 1
    )


def test_second_request_notifies_once(people, zhang):
    request_access(entity="contact", object_id=zhang.pk, requester=people.outsider)
    request_access(entity="contact", object_id=zhang.pk, requester=people.outsider)
    assert (
        Notification.objects.filter(recipient=people.rep, kind="dedup.access_requested").count()
        == 1
    )


def test_owner_grants_access_by_sharing(people, zhang):
    access = request_access(entity="contact", object_id=zhang.pk, requester=people.outsider)
    decide_access(request=access, actor=people.rep, grant=True)
    assert zhang.shared_with.filter(pk=people.outsider.pk).exists()
    assert Notification.objects.filter(
        recipient=people.outsider, kind="dedup.access_decided"
    ).exists()


def test_someone_else_cannot_grant_access(people, zhang):
    access = request_access(entity="contact", object_id=zhang.pk, requester=people.outsider)
    with pytest.raises(PermissionDenied):
        decide_access(request=access, actor=people.teammate, grant=True)


def test_access_request_page_is_404_for_the_requester(client, people, zhang):
    access = request_access(entity="contact", object_id=zhang.pk, requester=people.outsider)
    response = _client(client, people.outsider).get(
        reverse("dedup:access_request", args=[access.pk])
    )
    assert response.status_code == 404


def test_owner_decides_on_the_access_page(client, people, zhang):
    access = request_access(entity="contact", object_id=zhang.pk, requester=people.outsider)
    response = _client(client, people.rep).post(
        reverse("dedup:access_request", args=[access.pk]), {"grant": "1"}
    )
    assert response.status_code == 302
    access.refresh_from_db()
    assert access.granted is True
