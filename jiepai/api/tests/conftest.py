from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from jiepai.api.services import create_api_token


class ApiClient:
    """A test client that calls the API with a user's Bearer token and sends JSON."""

    def __init__(self, user: Any) -> None:
        _, self.token = create_api_token(user=user, name="tests")
        self.client = Client(headers={"Authorization": f"Bearer {self.token}"})

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(f"/api/v1{path}", _body(body), content_type="application/json")

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(f"/api/v1{path}", _body(body), content_type="application/json")


def _body(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body)


@pytest.fixture
def api_as():
    return ApiClient
