"""Background work for follow-ups (django-tasks; inline in tests)."""

from __future__ import annotations

from django_tasks import task

from jiepai.activities.transcription import transcribe_activity


@task()
def transcribe_follow_up_audio(activity_pk: int) -> None:
    transcribe_activity(activity_pk)
