"""Creating, reading, listing and editing records through the API."""

from __future__ import annotations

from jiepai.customers.services import create_account
from jiepai.customfields.models import FieldDefinition
from jiepai.events.models import Event
from jiepai.intake.models import Channel, Lead
from jiepai.intake.services import create_lead
from jiepai.pipeline.models import Opportunity


def test_rep_creates_a_lead_they_own(people, api_as):
    channel = Channel.objects.create(name="官网表单", slug="web", kind="web_form")
    response = api_as(people.rep).post(
        "/leads",
        {
            "name": "张伟",
            "company": "瑞金医院",
            "mobile": "13800138000",
            "channel": channel.pk,
            "budget": "120000.50",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == people.rep.pk and body["state"] == "assigned"
    assert body["channel_name"] == "官网表单" and body["budget"] == "120000.50"
    assert Event.objects.filter(subject_type="lead", verb="lead.created").count() == 1


def test_patch_changes_only_the_fields_sent_and_writes_the_trace(people, api_as):
    lead = create_lead(actor=people.rep, values={"name": "张伟", "company": "瑞金医院"})
    response = api_as(people.rep).patch(f"/leads/{lead.pk}", {"company": "瑞金医院总院"})
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.name, lead.company) == ("张伟", "瑞金医院总院")
    event = Event.objects.get(verb="lead.updated")
    assert event.before == {"company": "瑞金医院"} and event.actor == people.rep


def test_custom_fields_are_read_and_written_as_an_object(people, api_as):
    FieldDefinition.objects.create(
        entity="account",
        key="level",
        label="医院等级",
        field_type="select",
        options=[{"value": "3A", "label": "三甲", "synonyms": ["三级甲等"]}],
    )
    client = api_as(people.rep)
    created = client.post("/accounts", {"name": "瑞金医院", "custom": {"level": "三级甲等"}})
    assert created.status_code == 201
    assert created.json()["custom"] == {"level": "3A"}


def test_list_searches_sorts_and_pages(people, api_as):
    for name in ("瑞金医院", "华山医院", "中山医院", "上海电气"):
        create_account(actor=people.rep, values={"name": name})
    client = api_as(people.rep)
    found = client.get("/accounts", q="医院", sort="name", limit=2, offset=0).json()
    assert found["count"] == 3 and len(found["items"]) == 2
    names = [a["name"] for a in found["items"]]
    assert names == sorted(names)
    rest = client.get("/accounts", q="医院", sort="name", limit=2, offset=2).json()
    assert len(rest["items"]) == 1 and rest["items"][0]["name"] not in names


def test_lead_list_filters_by_state(people, api_as):
    create_lead(actor=people.rep, values={"name": "甲"})
    create_lead(actor=people.director, values={"name": "乙"})  # unassigned
    client = api_as(people.director)
    assert client.get("/leads", state="unassigned").json()["count"] == 1


def test_opportunity_starts_in_the_first_stage_and_filters_by_stage(people, api_as):
    account = create_account(actor=people.rep, values={"name": "瑞金医院"})
    client = api_as(people.rep)
    created = client.post(
        "/opportunities", {"name": "超声采购", "account": account.pk, "amount": 800000}
    ).json()
    assert created["stage_name"] == "需求确认"
    assert client.get("/opportunities", stage=created["stage"]).json()["count"] == 1
    assert Opportunity.objects.get().amount == 800000


def test_contact_must_belong_to_the_deals_account(people, api_as):
    account = create_account(actor=people.rep, values={"name": "瑞金医院"})
    other = create_account(actor=people.rep, values={"name": "华山医院"})
    client = api_as(people.rep)
    contact = client.post("/contacts", {"name": "李主任", "account": other.pk}).json()
    response = client.post(
        "/opportunities", {"name": "超声", "account": account.pk, "contact": contact["id"]}
    )
    assert response.status_code == 400
    assert "contact" in response.json()["errors"]


def test_rep_cannot_hand_a_record_to_someone_else(people, api_as):
    response = api_as(people.rep).post(
        "/accounts", {"name": "瑞金医院", "owner": people.teammate.pk}
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["owner"]


def test_manager_can_assign_within_their_department(people, api_as):
    client = api_as(people.manager)
    assert client.post("/leads", {"name": "甲", "owner": people.rep.pk}).status_code == 201
    response = client.post("/leads", {"name": "乙", "owner": people.outsider.pk})
    assert response.status_code == 400
    assert Lead.objects.count() == 1


def test_list_leaves_out_merged_leads_but_get_shows_where_they_went(people, api_as):
    kept = create_lead(actor=people.rep, values={"name": "张伟"})
    merged = create_lead(actor=people.rep, values={"name": "张伟(重复)"})
    Lead.objects.filter(pk=merged.pk).update(merged_into=kept)
    client = api_as(people.rep)
    assert [item["id"] for item in client.get("/leads").json()["items"]] == [kept.pk]
    assert client.get(f"/leads/{merged.pk}").json()["merged_into"] == kept.pk


def test_list_sorts_by_the_same_keys_as_the_list_page(people, api_as):
    create_account(actor=people.rep, values={"name": "乙医院", "city": "北京"})
    create_account(actor=people.rep, values={"name": "甲医院", "city": "上海"})
    items = api_as(people.rep).get("/accounts", sort="-city").json()["items"]
    assert [a["city"] for a in items] == sorted([a["city"] for a in items], reverse=True)
