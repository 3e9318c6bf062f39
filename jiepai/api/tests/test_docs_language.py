"""The API's title, description, operation summaries and field descriptions follow the
reader's language (the language cookie), like the pages."""

from __future__ import annotations

from django.test import Client


def schema(language: str | None = None) -> dict:
    client = Client()
    if language:
        client.cookies["django_language"] = language
    return client.get("/api/v1/openapi.json").json()


def test_openapi_schema_is_chinese_by_default(db):
    chinese = schema()
    assert chinese["info"]["title"] == "节拍 CRM API"
    assert chinese["info"]["description"].startswith("节拍 CRM 的 JSON 接口")
    assert chinese["paths"]["/api/v1/leads"]["get"]["summary"] == "线索列表"


def test_openapi_schema_is_english_with_the_language_cookie(db):
    english = schema("en")
    assert english["info"]["title"] == "Jiepai CRM API"
    assert english["info"]["description"].startswith("The JSON API of Jiepai CRM")
    assert english["paths"]["/api/v1/leads"]["get"]["summary"] == "List leads"
    assert english["paths"]["/api/v1/opportunities"]["get"]["summary"] == "List opportunities"
    fields = english["components"]["schemas"]["LeadCreate"]["properties"]
    assert fields["channel"]["description"] == "Channel id"
    assert schema()["info"]["title"] == "节拍 CRM API"  # the next reader is not affected


def test_docs_page_title_follows_the_language(db):
    client = Client()
    client.cookies["django_language"] = "en"
    assert "Jiepai CRM API" in client.get("/api/v1/docs").content.decode()


def test_unknown_record_error_names_the_record_in_english(people, api_as):
    api = api_as(people.rep)
    api.client.cookies["django_language"] = "en"
    answer = api.post("/opportunities", {"name": "x", "account": 424242})
    assert answer.status_code == 400
    assert answer.json()["errors"]["account"] == [
        "Account with ID 424242 does not exist or access denied"
    ]
    api.client.cookies["django_language"] = "zh-hans"
    answer = api.post("/opportunities", {"name": "x", "account": 424242})
    assert answer.json()["errors"]["account"] == ["编号 424242 的客户不存在或无权访问"]


def test_list_parameters_are_described_in_english(db):
    leads = schema("en")["paths"]["/api/v1/leads"]["get"]["parameters"]
    described = {p["name"]: p.get("description") for p in leads}
    assert described["limit"] == "Rows per page"
