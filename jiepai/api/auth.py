"""How an API caller proves who they are: `Authorization: Bearer <token>`, or the browser session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from jiepai.api.services import user_for_token
from jiepai.org.models import User


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = user_for_token(raw=token.strip())
        if user is None:
            # A token was sent but is wrong or revoked: answer 401 now rather than falling
            # back to the session, so a script never silently acts as the browser's user.
            raise AuthenticationError(401, _("API 令牌无效或已撤销"))
        return user


class BrowserSession(SessionAuth):
    """The logged-in browser user (CSRF is checked on writes, as for any form)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None


def actor(request: HttpRequest) -> User:
    """The user an authenticated API request acts as."""
    return request.auth  # type: ignore[attr-defined,no-any-return]
