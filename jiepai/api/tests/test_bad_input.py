"""Bad input: JSON errors with a message per field, never a 500."""

from __future__ import annotations

import pytest

from jiepai.customers.models import Account
from jiepai.customers.services import create_account
from jiepai.customfields.models import FieldDefinition


def _errors(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"]
    return body["errors"]


def test_missing_required_field_is_named(people, api_as):
    assert _errors(api_as(people.rep).post("/accounts", {"city": "上海"})) == {"name": ["必填项"]}


def test_wrong_type_is_named(people, api_as):
    errors = _errors(api_as(people.rep).post("/contacts", {"name": "李", "decision_weight": "高"}))
    assert errors == {"decision_weight": ["应为整数"]}


def test_out_of_range_number_is_named(people, api_as):
    errors = _errors(api_as(people.rep).post("/contacts", {"name": "李", "decision_weight": 101}))
    assert errors == {"decision_weight": ["不能大于 100"]}


def test_over_long_text_is_named(people, api_as):
    errors = _errors(api_as(people.rep).post("/accounts", {"name": "医" * 201}))
    assert errors == {"name": ["不能超过 200 个字符"]}


def test_blank_required_text_is_refused_by_the_model(people, api_as):
    errors = _errors(api_as(people.rep).post("/accounts", {"name": "   "}))
    assert list(errors) == ["name"]
    assert not Account.objects.exists()


def test_invalid_email_is_named(people, api_as):
    errors = _errors(api_as(people.rep).post("/leads", {"name": "甲", "email": "不是邮箱"}))
    assert list(errors) == ["email"]


def test_unknown_field_is_refused_not_dropped(people, api_as):
    errors = _errors(api_as(people.rep).post("/leads", {"name": "甲", "state": "converted"}))
    assert errors == {"state": ["不支持的字段"]}


def test_unknown_foreign_id_is_a_field_error(people, api_as):
    errors = _errors(api_as(people.rep).post("/opportunities", {"name": "x", "account": 424242}))
    assert list(errors) == ["account"]


def test_several_bad_ids_are_reported_together(people, api_as):
    errors = _errors(api_as(people.rep).post("/leads", {"channel": 77, "owner": 88}))
    assert set(errors) == {"channel", "owner"}


def test_huge_id_is_a_field_error_not_an_overflow(people, api_as):
    errors = _errors(api_as(people.rep).post("/opportunities", {"name": "x", "account": 10**30}))
    assert list(errors) == ["account"]


def test_huge_id_in_the_path_is_not_a_500(people, api_as):
    assert api_as(people.rep).get(f"/leads/{10**30}").status_code == 400


def test_non_numeric_id_in_the_path_is_not_a_500(people, api_as):
    response = api_as(people.rep).get("/leads/abc")
    assert response.status_code == 400
    assert "lead_id" in response.json()["errors"]


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "null"])
def test_body_that_is_not_a_json_object_is_400(people, api_as, body):
    response = api_as(people.rep).post("/accounts", body)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_bad_money_is_named(people, api_as):
    errors = _errors(api_as(people.rep).post("/leads", {"budget": "一百万"}))
    assert errors == {"budget": ["应为数字"]}


def test_too_many_digits_is_named(people, api_as):
    errors = _errors(api_as(people.rep).post("/leads", {"budget": "1" * 20}))
    assert list(errors) == ["budget"]


def test_bad_date_is_named(people, api_as):
    account = create_account(actor=people.rep, values={"name": "瑞金医院"})
    errors = _errors(
        api_as(people.rep).post(
            "/opportunities",
            {"name": "x", "account": account.pk, "expected_close_date": "下个月"},
        )
    )
    assert list(errors) == ["expected_close_date"]


def test_custom_field_errors_are_named_custom_key(people, api_as):
    FieldDefinition.objects.create(
        entity="account", key="beds", label="床位数", field_type="number", required=True
    )
    errors = _errors(
        api_as(people.rep).post("/accounts", {"name": "瑞金", "custom": {"beds": "很多", "x": 1}})
    )
    assert set(errors) == {"custom.beds", "custom.x"}


def test_missing_required_custom_field_is_named(people, api_as):
    FieldDefinition.objects.create(
        entity="account", key="beds", label="床位数", field_type="number", required=True
    )
    errors = _errors(api_as(people.rep).post("/accounts", {"name": "瑞金"}))
    assert set(errors) == {"custom.beds"}


def test_unknown_sort_field_is_named(people, api_as):
    errors = _errors(api_as(people.rep).get("/accounts", sort="password"))
    assert list(errors) == ["sort"]


def test_bad_list_parameters_are_named(people, api_as):
    errors = _errors(api_as(people.rep).get("/leads", limit=100000, state="won", owner="x"))
    assert set(errors) >= {"limit", "state"}


def test_bad_owner_filter_is_named(people, api_as):
    assert list(_errors(api_as(people.rep).get("/leads", owner="somebody"))) == ["owner"]


def test_null_for_a_text_field_is_named(people, api_as):
    account = create_account(actor=people.rep, values={"name": "瑞金"})
    errors = _errors(api_as(people.rep).patch(f"/accounts/{account.pk}", {"city": None}))
    assert errors == {"city": ["应为文本"]}


def test_removing_a_deals_account_is_refused(people, api_as):
    account = create_account(actor=people.rep, values={"name": "瑞金"})
    client = api_as(people.rep)
    deal = client.post("/opportunities", {"name": "x", "account": account.pk}).json()
    errors = _errors(client.patch(f"/opportunities/{deal['id']}", {"account": None}))
    assert list(errors) == ["account"]
