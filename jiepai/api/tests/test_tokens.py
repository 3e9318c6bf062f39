from __future__ import annotations

import datetime

from django.test import Client
from django.utils import timezone

from jiepai.api.models import ApiToken
from jiepai.api.services import create_api_token, hash_token, revoke_api_token, user_for_token
from jiepai.conftest import PASSWORD
from jiepai.events.models import Event


def test_token_is_stored_only_as_its_hash(people):
    token, raw = create_api_token(user=people.rep, name="ERP 同步")
    assert raw.startswith("jp_") and len(raw) > 40
    assert token.token_hash == hash_token(raw)
    assert raw not in {token.token_hash, token.prefix}
    assert raw.startswith(token.prefix)


def test_token_creation_and_revocation_are_traced(people):
    token, _ = create_api_token(user=people.rep, name="ERP")
    revoke_api_token(token=token, actor=people.rep)
    revoke_api_token(token=token, actor=people.rep)  # twice: one event
    verbs = list(Event.objects.filter(subject_type="user").values_list("verb", flat=True))
    assert sorted(verbs) == ["api_token.created", "api_token.revoked"]


def test_bearer_token_authenticates_as_its_user(people, api_as):
    response = api_as(people.rep).get("/leads")
    assert response.status_code == 200


def test_revoked_token_is_rejected_with_401(people):
    token, raw = create_api_token(user=people.rep, name="old")
    revoke_api_token(token=token, actor=people.rep)
    response = Client().get("/api/v1/leads", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_unknown_token_is_rejected_with_401(people):
    response = Client().get("/api/v1/leads", headers={"Authorization": "Bearer jp_nope"})
    assert response.status_code == 401


def test_no_credentials_is_401_json(db):
    response = Client().get("/api/v1/leads")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_token_of_deactivated_user_is_rejected(people):
    _, raw = create_api_token(user=people.rep, name="t")
    people.rep.is_active = False
    people.rep.save()
    assert user_for_token(raw=raw) is None


def test_wrong_token_does_not_fall_back_to_the_session(people):
    client = Client()
    client.login(username="rep", password=PASSWORD)
    response = client.get("/api/v1/leads", headers={"Authorization": "Bearer jp_wrong"})
    assert response.status_code == 401


def test_browser_session_authenticates(people):
    client = Client()
    client.login(username="rep", password=PASSWORD)
    assert client.get("/api/v1/leads").status_code == 200


def test_session_write_without_csrf_token_is_refused(people):
    client = Client(enforce_csrf_checks=True)
    client.login(username="rep", password=PASSWORD)
    response = client.post("/api/v1/accounts", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403


def test_last_used_is_recorded_at_most_once_a_minute(people):
    token, raw = create_api_token(user=people.rep, name="t")
    now = timezone.now()
    user_for_token(raw=raw, now=now)
    user_for_token(raw=raw, now=now + datetime.timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == now


def test_tokens_page_shows_a_new_token_once(people):
    client = Client()
    client.login(username="rep", password=PASSWORD)
    response = client.post("/settings/api-tokens/", {"name": "ERP"})
    raw = response.context["new_token"]
    assert raw in response.content.decode()
    assert raw not in client.get("/settings/api-tokens/").content.decode()
    assert user_for_token(raw=raw) == people.rep


def test_tokens_page_requires_a_name(people):
    client = Client()
    client.login(username="rep", password=PASSWORD)
    response = client.post("/settings/api-tokens/", {"name": "  "})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert response.context["errors"]


def test_user_can_revoke_own_token_from_the_page(people):
    token, raw = create_api_token(user=people.rep, name="t")
    client = Client()
    client.login(username="rep", password=PASSWORD)
    response = client.post(f"/settings/api-tokens/{token.pk}/revoke")
    assert response.status_code == 302
    assert user_for_token(raw=raw) is None


def test_outsider_cannot_revoke_or_see_someone_elses_token(people):
    token, raw = create_api_token(user=people.rep, name="rep 的令牌")
    client = Client()
    client.login(username="outsider", password=PASSWORD)
    assert "rep 的令牌" not in client.get("/settings/api-tokens/").content.decode()
    assert client.post(f"/settings/api-tokens/{token.pk}/revoke").status_code == 404
    assert user_for_token(raw=raw) == people.rep


def test_openapi_schema_and_docs_are_served(db):
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "节拍 CRM API"
    assert "/api/v1/leads" in schema["paths"]
    docs = Client().get("/api/v1/docs")
    assert docs.status_code == 200
    # No network at run time: the Swagger UI comes from our static files, not a CDN.
    assert "swagger-ui-bundle.js" in docs.content.decode()
    assert "https://" not in docs.content.decode()
