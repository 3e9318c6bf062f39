"""Voice memos → text, through a pluggable backend. None is configured by default.

No speech-recognition model ships inside a Python wheel (see shared research notes), and Jiepai
downloads nothing at run time, so transcription is an adapter you provide:

    JIEPAI_TRANSCRIBER=mycompany.speech.WhisperServer   (environment / settings)

The dotted path names a class that can be built without arguments and has

    def transcribe(self, path: str, *, language: str = "zh") -> str

`path` is a local file (the uploaded audio as stored); return the plain transcript text, or
raise any exception on failure (the follow-up keeps its audio and shows "转写失败"). The text
goes through the same note parser as typed text (jiepai.lib.notes): pain points become tags on
the account, and when the follow-up has no next action yet, a parsed action with a time becomes
a task. Backends may call a local server (whisper.cpp, FunASR, SenseVoice behind HTTP) or a cloud
API; keep secrets in their own settings.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.module_loading import import_string

from jiepai.activities.models import Activity, TranscriptStatus

logger = logging.getLogger(__name__)


class Transcriber(Protocol):
    def transcribe(self, path: str, *, language: str = "zh") -> str: ...


def transcriber_path() -> str:
    return str(getattr(settings, "JIEPAI_TRANSCRIBER", "") or "")


def get_transcriber() -> Transcriber | None:
    path = transcriber_path()
    if not path:
        return None
    return import_string(path)()  # type: ignore[no-any-return]


def transcribe_upload(audio: UploadedFile, *, language: str = "zh") -> str:
    """Transcribe an upload before it is saved (quick fill from a voice memo). '' without a
    backend; raises what the backend raises."""
    transcriber = get_transcriber()
    if transcriber is None:
        return ""
    suffix = Path(audio.name or "").suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in audio.chunks():
            handle.write(chunk)
        handle.flush()
        audio.seek(0)
        return transcriber.transcribe(handle.name, language=language).strip()


def transcribe_activity(activity_pk: int, *, now: datetime.datetime | None = None) -> None:
    """Transcribe a saved follow-up's audio and apply the text (the background task's body)."""
    from jiepai.activities.services import apply_transcript

    activity = Activity.objects.select_related("audio").get(pk=activity_pk)
    transcriber = get_transcriber()
    if activity.audio is None or transcriber is None:
        return
    try:
        text = transcriber.transcribe(activity.audio.file.path, language="zh").strip()
    except Exception:
        logger.exception("transcription of activity %s failed", activity_pk)
        Activity.objects.filter(pk=activity_pk).update(transcript_status=TranscriptStatus.FAILED)
        return
    with transaction.atomic():
        apply_transcript(activity=activity, text=text, now=now)
