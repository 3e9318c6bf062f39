"""Attaching files to records: the one way an upload becomes an Attachment, with its Event."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.core.entities import entity_of
from jiepai.events.services import record_event
from jiepai.files.models import Attachment

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def attach_file(
    *,
    record: models.Model,
    upload: UploadedFile,
    kind: str = "other",
    actor: object = None,
    field: str = "file",
    now: datetime.datetime | None = None,
) -> Attachment:
    """Store `upload` on `record`; an empty or oversized file is refused naming `field`."""
    if not upload.size:
        raise ValidationError({field: _("文件是空的")})
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({field: _("文件不能超过 20 MB")})
    attachment = Attachment(
        entity=entity_of(record),
        object_id=record.pk,
        kind=kind,
        original_name=(upload.name or "file")[:255],
        size=upload.size,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    attachment.file.save(upload.name or "file", upload, save=False)
    attachment.save()
    record_event(
        subject=record,
        verb="attachment.added",
        actor=actor,
        after={"attachment": attachment.pk, "kind": kind, "name": attachment.original_name},
        now=now or timezone.now(),
    )
    return attachment
