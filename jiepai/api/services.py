"""Creating, using and revoking API tokens."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.api.models import ApiToken
from jiepai.events.services import record_event
from jiepai.org.models import User

TOKEN_PREFIX = "jp_"
#: how many leading characters of a token are kept in clear, to tell tokens apart
SHOWN_CHARS = 10
#: last_used_at is written at most this often per token (no write on every API call)
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    # A token has 256 bits of randomness, so a fast hash is enough (no password stretching).
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(
    *, user: User, name: str, now: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns (row, raw token). The raw token is never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请填写令牌名称")})
    if len(name) > 100:
        raise ValidationError({"name": _("名称不能超过 100 个字符")})
    now = now or timezone.now()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[:SHOWN_CHARS],
            token_hash=hash_token(raw),
            created_at=now,
        )
        record_event(
            subject_type="user",
            subject_id=user.pk,
            verb="api_token.created",
            actor=user,
            data={"token_id": token.pk, "name": name, "prefix": token.prefix},
            now=now,
        )
    return token, raw


def revoke_api_token(
    *, token: ApiToken, actor: User, now: datetime.datetime | None = None
) -> ApiToken:
    """Revoke once; revoking a revoked token changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        # Compare-and-set: two revocations at once write one event.
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if updated:
            record_event(
                subject_type="user",
                subject_id=token.user_id,
                verb="api_token.revoked",
                actor=actor,
                data={"token_id": token.pk, "name": token.name, "prefix": token.prefix},
                now=now,
            )
    token.refresh_from_db()
    return token


def user_for_token(*, raw: str, now: datetime.datetime | None = None) -> User | None:
    """The active user a live token belongs to, or None (unknown, revoked, user deactivated)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
