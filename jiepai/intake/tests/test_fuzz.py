"""Whatever a channel sends, the intake endpoint answers 201 or a 4xx — never a 500 — and keeps
every payload it refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiepai.intake.aliases import TARGET_FIELDS
from jiepai.intake.models import Lead, RejectedIntake

pytestmark = pytest.mark.django_db

names = st.one_of(st.sampled_from(["姓名", "手机号", "公司", "职位", "邮箱", "预算", "visitor_id", *TARGET_FIELDS]), st.text(max_size=20))  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=12,
)
payloads = st.dictionaries(names, values, max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=payloads)
def test_any_json_object_gets_201_or_400(web_api, payload):
    before = RejectedIntake.objects.count()
    response = web_api.intake(payload)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        assert Lead.objects.filter(pk=response.json()["id"]).exists()
    else:
        assert RejectedIntake.objects.count() == before + 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "",
     "application/json; charset=gbk", "multipart/form-data; boundary=x"]))  # fmt: skip
def test_any_bytes_get_an_answer_not_a_crash(web_api, body, content_type):
    response = web_api.intake(body, content_type=content_type)
    assert response.status_code in (201, 400, 415), response.content
    json.loads(response.content)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=st.one_of(values, st.lists(st.dictionaries(names, values, max_size=6), max_size=3)))
def test_any_events_payload_gets_202_or_400(web_api, payload):
    response = web_api.events(payload)
    assert response.status_code in (202, 400), response.content


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=st.dictionaries(
    st.sampled_from(["name", "company", "title", "mobile", "email", "budget", "message", "booth",
                     "submission", "website", "utm_source", "x"]),
    st.text(max_size=120), max_size=10))  # fmt: skip
def test_any_hosted_form_post_gets_an_answer(web, form):
    from django.test import Client

    response = Client().post(f"/f/{web.slug}/", form)
    assert response.status_code in (302, 400, 429), response.status_code
