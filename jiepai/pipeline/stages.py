"""Moving a deal between stages: THE only way `Opportunity.stage` changes.

`move_opportunity` checks that the target is an allowed next stage, lets the user complete what
the gate is missing in the same call (`answers`), checks the gate, and moves the deal, writing an
`opportunity.stage_changed` Event with before → after. The kanban drop, the detail page button
and `POST /api/v1/opportunities/{id}/move` all call it, so no path skips a gate.

Which gates a move must pass (`gate_stages`):
- forward between open stages: the target's gate and, when the pipeline's `gates_cumulative` is
  on (the default), the gates of the open stages skipped over;
- to a lost stage: only that stage's gate (losing never asks for a contract draft);
- backward between open stages: none (nothing is gained that was not gated before);
- out of a closed stage (reopening, or won ↔ lost): only a manager, director or admin may do
  it, and the target's gate plus every open stage before it applies (we do not know how far the
  deal really got).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.activities.models import Activity, ActivityKind
from jiepai.activities.services import Requirements, log_follow_up
from jiepai.core.records import update_record
from jiepai.customers.models import Contact
from jiepai.customers.services import create_contact, update_contact
from jiepai.events.services import record_event
from jiepai.files.models import Attachment
from jiepai.files.services import attach_file
from jiepai.lib.values import parse_date, parse_decimal
from jiepai.org.models import User
from jiepai.pipeline.gates import (
    CUSTOM_PREFIX,
    Missing,
    field_label,
    missing_for,
    requirements_of,
)
from jiepai.pipeline.models import GateRequirement, Opportunity, RequirementKind, Stage
from jiepai.pipeline.stalls import stall_due_at

REOPEN_ROLES = ("manager", "director", "admin")


class StageMoveError(Exception):
    """The move is not allowed at all (another pipeline, a closed deal, the same stage)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GateBlocked(Exception):
    """The gate is not met. `missing` says exactly what; `errors` are answers that were wrong
    (by input name); `saved` lists the answers that were valid and have been kept."""

    def __init__(
        self, *, missing: list[Missing], errors: dict[str, list[str]], saved: list[str]
    ) -> None:
        super().__init__(_("未满足阶段门槛"))
        self.missing = missing
        self.errors = errors
        self.saved = saved


@dataclass
class ContactAnswer:
    """Mark an existing contact of the account, or add a new one by name, with the role."""

    contact_id: int | None = None
    name: str = ""


@dataclass
class ActivityAnswer:
    summary: str = ""
    kind: str = ""


@dataclass
class NextActionAnswer:
    title: str = ""
    due_at: datetime.datetime | None = None


@dataclass
class GateAnswers:
    """What a user filled in on the spot to complete a gate.

    `values` are keyed by field ("amount", "loss_reason", "custom.budget_range"); the others by
    the GateRequirement id they answer. Errors come back under the same names, the per-requirement
    ones as "requirement.<id>".
    """

    values: dict[str, Any] = field(default_factory=dict)
    files: dict[int, UploadedFile] = field(default_factory=dict)
    contacts: dict[int, ContactAnswer] = field(default_factory=dict)
    activities: dict[int, ActivityAnswer] = field(default_factory=dict)
    next_actions: dict[int, NextActionAnswer] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.values, self.files, self.contacts, self.activities, self.next_actions))


# --- which stages, which gates ----------------------------------------------------------------


def _order(stage: Stage) -> tuple[int, int]:
    return (stage.position, stage.pk)


def can_reopen(actor: User | None) -> bool:
    return actor is not None and (actor.is_superuser or actor.role in REOPEN_ROLES)


def gate_stages(current: Stage, target: Stage) -> list[Stage]:
    """The stages whose gates a move from `current` to `target` must pass (see module doc)."""
    if target.is_lost:
        return [target]
    stages = list(Stage.objects.filter(pipeline_id=target.pipeline_id))
    cumulative = target.pipeline.gates_cumulative
    if current.is_closed:
        lower = (-1, -1)
    elif _order(target) < _order(current):
        return []
    else:
        lower = _order(current)
    skipped = [
        stage
        for stage in stages
        if cumulative
        and not stage.is_closed
        and lower < _order(stage) < _order(target)
        and stage.pk != current.pk
    ]
    return [*sorted(skipped, key=_order), target]


def check_transition(*, opportunity: Opportunity, to_stage: Stage, actor: User | None) -> None:
    current = opportunity.stage
    if to_stage.pipeline_id != current.pipeline_id:
        raise StageMoveError(_("只能移动到同一销售流程中的阶段"))
    if to_stage.pk == current.pk:
        raise StageMoveError(_("商机已经在“%(stage)s”阶段") % {"stage": to_stage.name})
    if current.is_closed and not can_reopen(actor):
        raise StageMoveError(_("已关闭的商机只能由主管重新打开"))


def allowed_targets(opportunity: Opportunity, actor: User | None) -> list[Stage]:
    """Stages the deal may be moved to by `actor` (gates not yet considered)."""
    current = opportunity.stage
    if current.is_closed and not can_reopen(actor):
        return []
    return [s for s in current.pipeline.stages.all() if s.pk != current.pk]


def preview_move(
    *, opportunity: Opportunity, to_stage: Stage, now: datetime.datetime | None = None
) -> list[Missing]:
    """What the gate would miss if the deal moved now (read only; for the move dialog)."""
    return missing_for(opportunity, gate_stages(opportunity.stage, to_stage), now=now)


# --- completing a gate on the spot ------------------------------------------------------------


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in messages] for key, messages in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _parse_builtin(opportunity: Opportunity, name: str, raw: Any) -> Any:
    """A submitted built-in value → the model value, or ValueError with the user's message."""
    text = "" if raw is None else str(raw).strip()
    if name == "amount":
        if not text:
            raise ValueError(_("请填写金额"))
        try:
            number = parse_decimal(raw)
        except ValueError as exc:
            raise ValueError(_("“%(value)s”不是有效金额") % {"value": raw}) from exc
        if number < 0:
            raise ValueError(_("金额不能为负数"))
        return number
    if name == "expected_close_date":
        if not text:
            return None
        try:
            return parse_date(raw)
        except ValueError as exc:
            raise ValueError(_("“%(value)s”不是有效日期") % {"value": raw}) from exc
    if name == "contact":
        if not text:
            return None
        try:
            return Contact.objects.get(
                pk=int(text), account_id=opportunity.account_id, merged_into__isnull=True
            )
        except (Contact.DoesNotExist, ValueError) as exc:
            raise ValueError(_("请选择本客户的联系人")) from exc
    return text


def _apply_values(
    opportunity: Opportunity,
    values: dict[str, Any],
    gated_fields: set[str],
    *,
    actor: User | None,
    now: datetime.datetime,
) -> tuple[dict[str, list[str]], list[str]]:
    errors: dict[str, list[str]] = {}
    builtin: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in gated_fields:
            errors[name] = [_("该字段不属于本次阶段门槛,请在编辑页修改")]
            continue
        if name.startswith(CUSTOM_PREFIX):
            custom[name[len(CUSTOM_PREFIX) :]] = raw
            continue
        try:
            builtin[name] = _parse_builtin(opportunity, name, raw)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors or not (builtin or custom):
        return errors, []
    try:
        with transaction.atomic():
            update_record(opportunity, actor=actor, values=builtin, custom=custom or None, now=now)
    except ValidationError as exc:
        opportunity.refresh_from_db()
        return _messages(exc), []
    return {}, [field_label(name) for name in values]


def _attach(
    opportunity: Opportunity,
    requirement: GateRequirement,
    upload: UploadedFile,
    *,
    actor: User | None,
    now: datetime.datetime,
) -> Attachment:
    return attach_file(
        record=opportunity, upload=upload, kind=requirement.attachment_kind, actor=actor, now=now
    )


def _mark_contact(
    opportunity: Opportunity,
    requirement: GateRequirement,
    answer: ContactAnswer,
    *,
    actor: User | None,
    now: datetime.datetime,
) -> Contact:
    role = requirement.contact_role
    if answer.contact_id:
        try:
            contact = Contact.objects.get(
                pk=answer.contact_id, account_id=opportunity.account_id, merged_into__isnull=True
            )
        except Contact.DoesNotExist as exc:
            raise ValueError(_("请选择本客户的联系人")) from exc
        return update_contact(actor=actor, contact=contact, values={"role": role}, now=now)
    name = answer.name.strip()
    if not name:
        raise ValueError(_("请选择联系人,或填写新联系人的姓名"))
    return create_contact(
        actor=actor,
        values={"account": opportunity.account, "name": name, "role": role},
        now=now,
    )


def _log_activity(
    opportunity: Opportunity,
    requirement: GateRequirement,
    answer: ActivityAnswer,
    *,
    actor: User | None,
    now: datetime.datetime,
) -> Activity:
    """A follow-up logged from the gate dialog, through the follow-ups service. It asks only what
    the gate needs (method, the gate's conclusion, a sentence); the full follow-up form, with its
    configured required fields, is one link away in the dialog."""
    kind = requirement.activity_kind or answer.kind or ActivityKind.NOTE
    if kind not in ActivityKind.values:
        raise ValueError(_("请选择跟进方式"))
    summary = answer.summary.strip()
    if not summary:
        raise ValueError(_("请写一句跟进内容"))
    return log_follow_up(
        actor=actor,
        method=kind,
        opportunity=opportunity,
        contact=opportunity.contact,
        conclusion=requirement.activity_conclusion,
        summary=summary,
        source="gate",
        requirements=Requirements(next_action=False, next_action_due=False),
        now=now,
    )


def _book_next_action(
    opportunity: Opportunity,
    answer: NextActionAnswer,
    *,
    actor: User | None,
    now: datetime.datetime,
) -> Activity:
    """The next step as a follow-up note whose next action becomes a task with its reminder
    (the follow-ups service refuses a time in the past)."""
    title = answer.title.strip()
    if not title:
        raise ValueError(_("请填写下一步做什么"))
    if answer.due_at is None:
        raise ValueError(_("请填写下一步的时间"))
    return log_follow_up(
        actor=actor,
        method=ActivityKind.NOTE,
        opportunity=opportunity,
        summary=_("约定下一步:%(title)s") % {"title": title},
        next_action=title,
        next_action_due=answer.due_at,
        source="gate",
        requirements=Requirements(),
        now=now,
    )


def _apply_answers(
    opportunity: Opportunity,
    answers: GateAnswers,
    requirements: list[GateRequirement],
    *,
    actor: User | None,
    now: datetime.datetime,
) -> tuple[dict[str, list[str]], list[str]]:
    """Save each valid answer (each in its own savepoint); return (errors, what was saved)."""
    by_pk = {r.pk: r for r in requirements}
    gated_fields = {
        r.field_name
        for r in requirements
        if r.kind in (RequirementKind.FIELD, RequirementKind.RANGE)
    }
    errors, saved = _apply_values(opportunity, answers.values, gated_fields, actor=actor, now=now)
    pieces: list[tuple[int, str, Any]] = [
        *((pk, RequirementKind.ATTACHMENT, a) for pk, a in answers.files.items()),
        *((pk, RequirementKind.CONTACT_ROLE, a) for pk, a in answers.contacts.items()),
        *((pk, RequirementKind.ACTIVITY, a) for pk, a in answers.activities.items()),
        *((pk, RequirementKind.NEXT_ACTION, a) for pk, a in answers.next_actions.items()),
    ]
    for pk, kind, answer in pieces:
        name = f"requirement.{pk}"
        requirement = by_pk.get(pk)
        if requirement is None or requirement.kind != kind:
            errors[name] = [_("该项不属于本次阶段门槛")]
            continue
        try:
            with transaction.atomic():
                if kind == RequirementKind.ATTACHMENT:
                    _attach(opportunity, requirement, answer, actor=actor, now=now)
                elif kind == RequirementKind.CONTACT_ROLE:
                    _mark_contact(opportunity, requirement, answer, actor=actor, now=now)
                elif kind == RequirementKind.ACTIVITY:
                    _log_activity(opportunity, requirement, answer, actor=actor, now=now)
                else:
                    _book_next_action(opportunity, answer, actor=actor, now=now)
        except ValueError as exc:
            errors[name] = [str(exc)]
        except ValidationError as exc:
            errors[name] = [m for messages in _messages(exc).values() for m in messages]
        else:
            saved.append(requirement.label)
    return errors, saved


# --- the move ---------------------------------------------------------------------------------


def move_opportunity(
    *,
    opportunity: Opportunity,
    to_stage: Stage,
    actor: User | None,
    values: dict[str, Any] | None = None,
    answers: GateAnswers | None = None,
    now: datetime.datetime | None = None,
) -> Opportunity:
    """Move `opportunity` to `to_stage` if the gate holds, after saving the user's answers.

    Raises StageMoveError when the move is not allowed at all, GateBlocked when the gate still
    misses something (valid answers are kept even then: nothing the user typed is lost). On
    success the deal's stage, stage_entered_at, closed_at and stall deadline change and one
    `opportunity.stage_changed` Event records before → after.

    Takes a row lock on the deal for the whole check-and-move, so two people dropping the same
    card at once are serialised: the second sees the first one's result (and usually gets "already
    in that stage"). On SQLite the IMMEDIATE transaction mode serialises writers the same way.
    """
    now = now or timezone.now()
    answers = answers or GateAnswers()
    if values:
        answers.values = {**answers.values, **values}
    moved = False
    with transaction.atomic():
        # Lock the deal row alone: with joined tables in a FOR UPDATE, PostgreSQL re-checks the
        # join against the old stage row after waiting for the first mover, and the second
        # caller would find no row at all instead of the moved deal.
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        to_stage = Stage.objects.select_related("pipeline").get(pk=to_stage.pk)
        check_transition(opportunity=locked, to_stage=to_stage, actor=actor)
        stages = gate_stages(locked.stage, to_stage)
        errors: dict[str, list[str]] = {}
        saved: list[str] = []
        if answers:
            errors, saved = _apply_answers(
                locked, answers, requirements_of(stages), actor=actor, now=now
            )
        missing = missing_for(locked, stages, now=now)
        if not missing and not errors:
            _change_stage(locked, to_stage, actor=actor, now=now, completed=saved)
            moved = True
    opportunity.refresh_from_db()
    if not moved:
        raise GateBlocked(missing=missing, errors=errors, saved=saved)
    return opportunity


def _change_stage(
    opportunity: Opportunity,
    to_stage: Stage,
    *,
    actor: User | None,
    now: datetime.datetime,
    completed: Iterable[str],
) -> None:
    old = opportunity.stage
    entered = opportunity.stage_entered_at
    before = {"stage": old.pk, "stage_entered_at": entered, "closed_at": opportunity.closed_at}
    opportunity.stage = to_stage
    opportunity.stage_entered_at = now
    opportunity.closed_at = now if to_stage.is_closed else None
    opportunity.touched_at = now
    opportunity.stall_due_at = stall_due_at(to_stage, now)
    opportunity.save(
        update_fields=[
            "stage",
            "stage_entered_at",
            "closed_at",
            "touched_at",
            "stall_due_at",
            "updated_at",
        ]
    )
    dwell = (now - entered).total_seconds() / 3600 if entered else None
    record_event(
        subject=opportunity,
        verb="opportunity.stage_changed",
        actor=actor,
        before=before,
        after={"stage": to_stage.pk, "stage_entered_at": now, "closed_at": opportunity.closed_at},
        data={
            "pipeline": to_stage.pipeline_id,
            "from_stage": old.name,
            "to_stage": to_stage.name,
            "owner": opportunity.owner_id,
            "dwell_hours": round(dwell, 2) if dwell is not None else None,
            "completed": list(completed),
        },
        now=now,
    )
