"""Voice memos: kept with the follow-up, transcribed by a pluggable backend, parsed like text."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jiepai.activities.models import ActivitySettings, TranscriptStatus
from jiepai.activities.services import Requirements, log_follow_up
from jiepai.files.models import Attachment
from jiepai.tagging.services import tags_of

from .conftest import audio_upload

pytestmark = pytest.mark.django_db

TRANSCRIPT = "王主任说下周二看样机, 交付周期太长是主要顾虑"


class FakeTranscriber:
    """The documented interface: transcribe(path, *, language="zh") -> str."""

    calls: list[tuple[str, str]] = []

    def transcribe(self, path: str, *, language: str = "zh") -> str:
        with open(path, "rb") as handle:
            assert handle.read(4) == b"\x00\x00\x00\x18"
        self.calls.append((path, language))
        return TRANSCRIPT


class BrokenTranscriber:
    def transcribe(self, path: str, *, language: str = "zh") -> str:
        raise RuntimeError("speech server down")


@pytest.fixture
def fake_backend(settings):
    settings.JIEPAI_TRANSCRIBER = f"{__name__}.FakeTranscriber"
    FakeTranscriber.calls = []


def test_audio_is_kept_as_an_attachment_of_the_customer(people, customer, now) -> None:
    activity = log_follow_up(
        actor=people.rep,
        account=customer.account,
        method="call",
        audio=audio_upload(),
        requirements=Requirements(next_action=False),
        now=now,
    )
    attachment = Attachment.objects.get(pk=activity.audio_id)
    assert (attachment.entity, attachment.object_id, attachment.kind) == (
        "account",
        customer.account.pk,
        "audio",
    )
    assert activity.transcript_status == TranscriptStatus.UNAVAILABLE  # no backend by default


def test_transcript_goes_through_the_parser_into_tags_and_a_task(
    people, customer, now, fake_backend, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        activity = log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="call",
            audio=audio_upload(),
            requirements=Requirements(next_action=False),
            now=now,
        )
    activity.refresh_from_db()
    assert FakeTranscriber.calls and FakeTranscriber.calls[0][1] == "zh"
    assert activity.transcript == TRANSCRIPT
    assert activity.transcript_status == TranscriptStatus.DONE
    assert activity.summary == TRANSCRIPT
    task = activity.tasks.get()
    assert (task.title, task.kind, task.source) == ("样机演示", "sample_demo", "voice")
    assert task.due_at.date().isoformat() == "2026-03-10"
    assert [t.tag.name for t in tags_of("account", customer.account.pk)] == ["交付周期太长"]


def test_failing_backend_keeps_the_follow_up_and_says_failed(
    people, customer, now, settings, django_capture_on_commit_callbacks
) -> None:
    settings.JIEPAI_TRANSCRIBER = f"{__name__}.BrokenTranscriber"
    with django_capture_on_commit_callbacks(execute=True):
        activity = log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="call",
            audio=audio_upload(),
            requirements=Requirements(next_action=False),
            now=now,
        )
    activity.refresh_from_db()
    assert activity.transcript_status == TranscriptStatus.FAILED
    assert activity.audio is not None


def test_non_audio_upload_is_refused_on_the_audio_field(people, customer, now) -> None:
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="call",
            audio=audio_upload("合同.pdf", b"%PDF-1.4", "application/pdf"),
            requirements=Requirements(next_action=False),
            now=now,
        )
    assert list(excinfo.value.message_dict) == ["audio"]


def test_oversized_audio_is_refused_with_the_limit(people, customer, now) -> None:
    ActivitySettings.objects.filter(pk=1).update(audio_max_mb=1)
    with pytest.raises(ValidationError) as excinfo:
        log_follow_up(
            actor=people.rep,
            account=customer.account,
            method="call",
            audio=audio_upload(content=b"\x00" * (1024 * 1024 + 1)),
            requirements=Requirements(next_action=False),
            now=now,
        )
    assert "1 MB" in excinfo.value.message_dict["audio"][0]


def test_quick_fill_from_a_voice_memo_fills_the_form_and_keeps_nothing_yet(
    client, people, customer, fake_backend
) -> None:
    import time_machine

    from jiepai.activities.models import Activity
    from jiepai.conftest import PASSWORD

    client.login(username=people.rep.username, password=PASSWORD)
    with time_machine.travel(customer.opportunity.created_at, tick=False):
        page = client.post(
            "/activities/new/",
            {
                "account": customer.account.pk,
                "method": "call",
                "action": "fill",
                "audio": audio_upload(),
            },
            HTTP_HX_REQUEST="true",
        )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="样机演示"' in html and 'value="交付周期太长"' in html
    assert not Activity.objects.exists() and not Attachment.objects.exists()


def test_quick_fill_from_audio_without_a_backend_says_to_use_keyboard_voice_input(
    client, people, customer
) -> None:
    from jiepai.conftest import PASSWORD

    client.login(username=people.rep.username, password=PASSWORD)
    page = client.post(
        "/activities/new/",
        {
            "account": customer.account.pk,
            "method": "call",
            "action": "fill",
            "audio": audio_upload(),
        },
        HTTP_HX_REQUEST="true",
    )
    assert "没有配置录音转写" in page.content.decode()
