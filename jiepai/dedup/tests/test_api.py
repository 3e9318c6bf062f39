"""/api/v1/dedup: the door check, merge and undo for API clients."""

from __future__ import annotations

import json

from django.test import Client

from jiepai.api.services import create_api_token
from jiepai.customers.models import Contact
from jiepai.customers.services import create_contact

SEED = {"name": "张主任", "company": "瑞金医院", "mobile": "13800138000"}


def _api(user):
    _, token = create_api_token(user=user, name="tests")
    client = Client(headers={"Authorization": f"Bearer {token}"})

    def post(path, body):
        return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")

    return post


def test_check_returns_the_candidate_with_reasons(people, zhang):
    response = _api(people.rep)("/dedup/check/contact", {"values": SEED})
    assert response.status_code == 200
    [candidate] = response.json()
    assert candidate["id"] == zhang.pk and candidate["name"] == "张伟"
    assert "同一手机号" in candidate["reasons"]


def test_check_hides_the_name_from_the_outsider(people, zhang):
    [candidate] = _api(people.outsider)("/dedup/check/contact", {"values": SEED}).json()
    assert candidate["visible"] is False
    assert candidate["name"] is None and candidate["owner_name"] == "王磊"


def test_check_with_an_unknown_field_is_a_field_error(people):
    response = _api(people.rep)("/dedup/check/contact", {"values": {"salary": "1"}})
    assert response.status_code == 400
    assert "salary" in response.json()["errors"]


def test_merge_and_undo_through_the_api(people, ruijin, zhang):
    other = create_contact(
        actor=people.rep, values={"name": "张主任", "account": ruijin, "mobile": "13800138000"}
    )
    post = _api(people.rep)
    response = post("/dedup/merge/contact", {"ids": [zhang.pk, other.pk]})
    assert response.status_code == 201
    merge = response.json()
    assert merge["survivor"] == zhang.pk and merge["merged"] == [other.pk]
    assert post(f"/dedup/merges/{merge['id']}/undo", {}).status_code == 200
    assert Contact.objects.get(pk=other.pk).merged_into_id is None


def test_outsider_cannot_merge_through_the_api(people, ruijin, zhang):
    other = create_contact(actor=people.rep, values={"name": "张主任", "account": ruijin})
    response = _api(people.outsider)("/dedup/merge/contact", {"ids": [zhang.pk, other.pk]})
    assert response.status_code == 404


def test_merging_one_record_is_a_400(people, zhang):
    response = _api(people.rep)("/dedup/merge/contact", {"ids": [zhang.pk]})
    assert response.status_code == 400
