"""Each role through the API: the same scope as the pages; an invisible id is 404."""

from __future__ import annotations

import pytest

from jiepai.customers.services import create_account, create_contact
from jiepai.intake.services import create_lead
from jiepai.pipeline.services import create_opportunity


@pytest.fixture
def records(people):
    account = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    return {
        "leads": create_lead(actor=people.rep, values={"name": "张伟", "company": "瑞金医院"}),
        "accounts": account,
        "contacts": create_contact(actor=people.rep, values={"name": "李主任", "account": account}),
        "opportunities": create_opportunity(
            actor=people.rep, values={"name": "超声采购", "account": account}
        ),
    }


ENDPOINTS = ("leads", "accounts", "contacts", "opportunities")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ["rep", "manager", "director", "admin"])
def test_roles_in_scope_list_and_read_the_record(people, records, api_as, endpoint, role):
    client = api_as(getattr(people, role))
    record = records[endpoint]
    listed = client.get(f"/{endpoint}").json()
    assert [item["id"] for item in listed["items"]] == [record.pk]
    assert client.get(f"/{endpoint}/{record.pk}").json()["id"] == record.pk


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ["outsider", "teammate", "service"])
def test_roles_out_of_scope_get_404_and_an_empty_list(people, records, api_as, endpoint, role):
    client = api_as(getattr(people, role))
    record = records[endpoint]
    assert client.get(f"/{endpoint}").json()["count"] == 0
    response = client.get(f"/{endpoint}/{record.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "不存在或无权访问"}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_outsider_cannot_patch_a_record_they_cannot_see(people, records, api_as, endpoint):
    record = records[endpoint]
    response = api_as(people.outsider).patch(f"/{endpoint}/{record.pk}", {"name": "改了"})
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.name != "改了"


def test_unknown_id_is_404_like_an_invisible_one(people, api_as):
    assert api_as(people.rep).get("/leads/999999").status_code == 404


def test_outsider_cannot_attach_a_contact_to_an_invisible_account(people, records, api_as):
    response = api_as(people.outsider).post(
        "/contacts", {"name": "王五", "account": records["accounts"].pk}
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["account"]


def test_share_makes_the_record_visible_through_the_api(people, records, api_as):
    records["leads"].shared_with.add(people.outsider)
    client = api_as(people.outsider)
    assert client.get(f"/leads/{records['leads'].pk}").status_code == 200


def test_owner_filter_me_narrows_to_own_records(people, records, api_as):
    create_account(actor=people.teammate, values={"name": "华山医院"})
    client = api_as(people.manager)
    assert client.get("/accounts").json()["count"] == 2
    assert client.get("/accounts", owner=people.teammate.pk).json()["count"] == 1
    assert client.get("/accounts", owner="me").json()["count"] == 0
