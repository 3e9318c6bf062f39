"""Kinds of deadline the sweeper acts on. Features register theirs in their AppConfig.ready().

A kind is a model with an indexed, nullable due-time column and a function that acts on one row
whose due time has passed. The sweeper clears the column before calling `act` (in the same
transaction); `act` sets it again when the row has a next deadline.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class DeadlineKind:
    name: str
    model: str  # "intake.Lead"
    due_field: str  # "response_due_at"
    act: Callable[[models.Model, datetime.datetime], None]
    retry_after: datetime.timedelta = datetime.timedelta(minutes=5)


_kinds: dict[str, DeadlineKind] = {}


def register_deadline(kind: DeadlineKind) -> None:
    _kinds[kind.name] = kind


def deadline_kinds() -> list[DeadlineKind]:
    return list(_kinds.values())
