from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from jiepai.notify.models import DeliveryPolicy, NotificationKind
from jiepai.notify.tests.servers import SmtpSink, WebhookServer


@pytest.fixture
def smtp(settings) -> Iterator[SmtpSink]:
    """Django sends real SMTP to a sink on 127.0.0.1 (pytest-django would use locmem)."""
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5
        settings.DEFAULT_FROM_EMAIL = "crm@jiepai.test"
        yield sink


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    with WebhookServer() as server:
        yield server


@pytest.fixture
def urgent_kind(db) -> NotificationKind:
    return NotificationKind.objects.get(key="routing.window_expired")


@pytest.fixture
def policy(db) -> DeliveryPolicy:
    return DeliveryPolicy.current()


@pytest.fixture(autouse=True)
def _default_language_after_each_test(settings) -> Iterator[None]:
    """A request with the English cookie leaves English active in this thread (LocaleMiddleware
    activates, nothing deactivates); put the default back so the next test is not affected."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
