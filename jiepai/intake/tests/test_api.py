"""The channel-facing HTTP endpoint: POST /api/v1/intake/{channel}, and its bad input."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from jiepai.intake.models import Lead, RateWindow, RejectedIntake
from jiepai.intake.payloads import MAX_BODY_BYTES
from jiepai.intake.tests.conftest import FORM, ChannelClient

pytestmark = pytest.mark.django_db


def test_json_post_creates_a_lead_and_answers_its_id_and_state(web_api):
    response = web_api.intake(FORM)
    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert body["state"] == lead.state == "unassigned"
    assert lead.raw_payload == FORM


def test_form_encoded_post_creates_a_lead(web):
    client = Client()
    response = client.post(f"/api/v1/intake/{web.slug}?key={web.intake_key}", FORM)
    assert response.status_code == 201, response.content
    assert Lead.objects.get().mobile == "+8613800138000"


def test_urlencoded_body_is_parsed(web_api):
    from urllib.parse import urlencode

    response = web_api.intake(urlencode(FORM), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201
    assert Lead.objects.get().company == "宁波恒锐智能装备有限公司"


def test_gbk_form_without_charset_is_understood(web_api):
    from urllib.parse import urlencode

    body = urlencode(FORM, encoding="gbk")
    response = web_api.intake(body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201
    assert Lead.objects.get().name == "王磊"


def test_key_in_query_string_is_accepted(web):
    response = Client().post(
        f"/api/v1/intake/{web.slug}?key={web.intake_key}",
        json.dumps(FORM),
        content_type="application/json",
    )
    assert response.status_code == 201


def test_query_parameters_fill_source_details(web):
    response = Client().post(
        f"/api/v1/intake/{web.slug}?key={web.intake_key}&utm_source=baidu",
        json.dumps(FORM),
        content_type="application/json",
    )
    assert Lead.objects.get(pk=response.json()["id"]).source_detail["utm_source"] == "baidu"


def test_wrong_key_and_unknown_channel_answer_the_same_401(web):
    wrong = Client(headers={"X-Jiepai-Key": "nope"}).post(
        f"/api/v1/intake/{web.slug}", json.dumps(FORM), content_type="application/json"
    )
    unknown = Client(headers={"X-Jiepai-Key": web.intake_key}).post(
        "/api/v1/intake/no-such-channel", json.dumps(FORM), content_type="application/json"
    )
    missing = Client().post(
        f"/api/v1/intake/{web.slug}", json.dumps(FORM), content_type="application/json"
    )
    assert wrong.status_code == unknown.status_code == missing.status_code == 401
    assert wrong.content == unknown.content == missing.content
    assert not Lead.objects.exists() and not RejectedIntake.objects.exists()


def test_key_of_another_channel_is_refused(web, expo):
    response = Client(headers={"X-Jiepai-Key": expo.intake_key}).post(
        f"/api/v1/intake/{web.slug}", json.dumps(FORM), content_type="application/json"
    )
    assert response.status_code == 401


def test_inactive_channel_is_refused(web, web_api):
    web.active = False
    web.save()
    assert web_api.intake(FORM).status_code == 401


def test_malformed_json_is_400_with_the_reason_and_kept(web_api):
    response = web_api.intake('{"姓名": "王磊", ')
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    kept = RejectedIntake.objects.get()
    assert kept.reason == "bad_json" and kept.body_text == '{"姓名": "王磊", '
    assert response.json()["rejected_id"] == kept.pk


def test_json_that_is_not_an_object_is_400(web_api):
    response = web_api.intake("42")
    assert response.status_code == 400
    assert RejectedIntake.objects.get().reason == "not_an_object"


def test_json_nan_is_400_not_a_crash(web_api):
    response = web_api.intake('{"姓名": NaN}')
    assert response.status_code == 400


def test_nul_characters_are_dropped_not_a_crash(web_api):
    response = web_api.intake({**FORM, "留言": "a\u0000b"})
    assert response.status_code == 201
    assert Lead.objects.get().message == "ab"


def test_lone_surrogate_is_replaced_not_a_crash(web_api):
    body = json.dumps(FORM)[:-1] + ', "留言": "x\\ud800y"}'
    response = web_api.intake(body)
    assert response.status_code == 201


def test_deeply_nested_json_is_400(web_api):
    response = web_api.intake("[" * 20_000 + "]" * 20_000)
    assert response.status_code == 400


def test_payload_without_contact_is_400_and_kept(web_api):
    response = web_api.intake({"foo": "bar"})
    assert response.status_code == 400
    assert RejectedIntake.objects.get().reason == "no_contact"


def test_unsupported_content_type_is_415_and_kept(web_api):
    response = web_api.intake("<xml/>", content_type="application/xml")
    assert response.status_code == 415
    assert RejectedIntake.objects.get().reason == "unsupported"


def test_body_over_64_kb_is_413_and_the_first_64_kb_are_kept(web_api):
    big = {**FORM, "留言": "长" * (MAX_BODY_BYTES // 2)}
    response = web_api.intake(big)
    assert response.status_code == 413
    kept = RejectedIntake.objects.get()
    assert kept.reason == "too_large" and kept.truncated
    assert len(bytes(kept.body_bytes)) == MAX_BODY_BYTES
    assert not Lead.objects.exists()


def test_repeated_idempotency_key_answers_the_first_answer(web_api):
    first = web_api.intake(FORM, **{"Idempotency-Key": "abc"})
    second = web_api.intake(FORM, **{"Idempotency-Key": "abc"})
    assert second.status_code == first.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1


def test_idempotency_key_with_different_payload_is_422(web_api):
    web_api.intake(FORM, **{"Idempotency-Key": "abc"})
    response = web_api.intake({**FORM, "姓名": "李娜"}, **{"Idempotency-Key": "abc"})
    assert response.status_code == 422
    assert Lead.objects.count() == 1


def test_rate_limit_answers_429_with_retry_after(web, web_api):
    web.rate_limit_per_minute = 2
    web.save()
    codes = [web_api.intake({**FORM, "姓名": f"客户{i}"}).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    limited = web_api.intake(FORM)
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert Lead.objects.count() == 2


def test_rate_limit_zero_means_unlimited(web, web_api):
    web.rate_limit_per_minute = 0
    web.save()
    assert all(web_api.intake(FORM).status_code == 201 for _ in range(3))
    assert not RateWindow.objects.exists()


def test_rate_limit_counts_per_channel(web, expo):
    web.rate_limit_per_minute = 1
    web.save()
    assert ChannelClient(web).intake(FORM).status_code == 201
    assert ChannelClient(expo).intake(FORM).status_code == 201
    assert ChannelClient(web).intake(FORM).status_code == 429


def test_multipart_form_is_parsed(web):
    response = Client().post(f"/api/v1/intake/{web.slug}?key={web.intake_key}", FORM)
    assert response.status_code == 201


def test_incomplete_payload_answers_201_with_missing_fields(web_api):
    response = web_api.intake({"姓名": "王磊", "电话": "13800138000"})
    assert response.status_code == 201
    assert response.json()["state"] == "incomplete"
    assert response.json()["missing_fields"] == ["company", "title"]


def test_unexpected_error_keeps_the_payload(web_api, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("jiepai.intake.api.intake_lead", broken)
    response = web_api.intake(FORM)
    assert response.status_code == 500
    kept = RejectedIntake.objects.get()
    assert kept.reason == "error" and json.loads(kept.body_text) == FORM


def test_endpoint_is_in_the_openapi_schema(db):
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/intake/{channel}" in schema["paths"]
    assert "/api/v1/events" in schema["paths"]


# --- behaviour events ---------------------------------------------------------------------------


def test_events_endpoint_accepts_a_batch_and_answers_202(web_api):
    lead_id = web_api.intake({**FORM, "visitor_id": "v-1"}).json()["id"]
    response = web_api.events(
        {
            "events": [
                {"type": "page_view", "visitor_id": "v-1", "url": "/product/plc", "seconds": 200},
                {"type": "download", "lead_id": lead_id, "asset": "白皮书"},
            ]
        }
    )
    assert response.status_code == 202
    assert response.json()["accepted"] == 2
    assert response.json()["leads"] == [{"id": lead_id, "state": "unassigned", "intent_score": 1.7}]


def test_events_endpoint_needs_a_channel_key(web):
    response = Client().post("/api/v1/events", "{}", content_type="application/json")
    assert response.status_code == 401


def test_invalid_events_are_400_by_field_and_kept(web_api):
    response = web_api.events({"events": [{"type": "dance", "visitor_id": "v"}]})
    assert response.status_code == 400
    assert "events.0.type" in response.json()["errors"]
    assert RejectedIntake.objects.get().endpoint == "events"


def test_event_for_unknown_lead_is_400(web_api):
    response = web_api.events({"type": "page_view", "lead_id": 424242})
    assert response.status_code == 400 and "lead_id" in response.json()["errors"]
