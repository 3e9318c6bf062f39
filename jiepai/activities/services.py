"""Use-cases that write follow-ups and their next actions (tasks, reminders, closure checks).

`log_follow_up` is the one way a structured follow-up is saved (form, minimal mode, quick fill,
voice memo, visit end, API): it checks the configured required parts and names the missing field,
then writes the Activity, the Task for the next action, a closure check when the action's kind
has a rule, the pain-point tags and the Event in one transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.activities.models import (
    Activity,
    ActivityKind,
    ActivitySettings,
    ClosureCheck,
    ClosureResult,
    ClosureRule,
    ConclusionChoice,
    FollowUpRequirement,
    NextActionKind,
    Task,
    TranscriptStatus,
)
from jiepai.activities.selectors import user_zone
from jiepai.customers.models import Account, Contact, ContactRole
from jiepai.customers.services import create_contact, update_contact
from jiepai.events.services import record_event
from jiepai.files.models import Attachment, DocumentKind
from jiepai.intake.models import Lead, LeadState
from jiepai.notify.services import notify
from jiepai.org.models import User
from jiepai.org.visibility import can_see
from jiepai.pipeline.models import Opportunity
from jiepai.pipeline.stalls import managers_of, touch_opportunity
from jiepai.tagging.services import apply_tag, get_or_create_tag

AUDIO_EXTENSIONS = {
    ".m4a",
    ".mp3",
    ".amr",
    ".wav",
    ".aac",
    ".ogg",
    ".oga",
    ".opus",
    ".webm",
    ".3gp",
    ".3gpp",
    ".flac",
    ".caf",
}
PAIN_POINT_TAG_CATEGORY = "痛点"


@dataclass(frozen=True)
class Requirements:
    contact: bool = False
    contact_role: bool = False
    conclusion: bool = False
    next_action: bool = True
    next_action_due: bool = True


def requirements_for(method: str) -> Requirements:
    """The method's own row if there is one, else the global row, else "next action + time"."""
    rows = {row.method: row for row in FollowUpRequirement.objects.filter(method__in=[method, ""])}
    row = rows.get(method) or rows.get("")
    if row is None:
        return Requirements()
    return Requirements(
        contact=row.requires_contact,
        contact_role=row.requires_contact_role,
        conclusion=row.requires_conclusion,
        next_action=row.requires_next_action,
        next_action_due=row.requires_next_action_due,
    )


def check_audio(audio: UploadedFile, settings_row: ActivitySettings) -> str:
    """'' when the upload is an acceptable voice memo, else the reason (for the audio field)."""
    name = audio.name or ""
    extension = PurePath(name).suffix.lower()
    content_type = (getattr(audio, "content_type", "") or "").lower()
    if extension not in AUDIO_EXTENSIONS and not content_type.startswith("audio/"):
        return _("只能上传录音文件(m4a、mp3、amr、wav 等)")
    if content_type and not content_type.startswith(
        ("audio/", "video/webm", "video/3gpp", "application/octet-stream")
    ):
        return _("只能上传录音文件(m4a、mp3、amr、wav 等)")
    limit = settings_row.audio_max_mb * 1024 * 1024
    if audio.size is None or audio.size > limit:
        return _("录音不能超过 %(mb)s MB") % {"mb": settings_row.audio_max_mb}
    if audio.size == 0:
        return _("录音文件是空的")
    return ""


def due_moments(
    due: datetime.datetime | datetime.date,
    *,
    zone: datetime.tzinfo,
    settings_row: ActivitySettings,
) -> tuple[datetime.datetime, bool, datetime.datetime]:
    """(due_at, due_has_time, remind_at) for a due time or a bare day in the user's zone.

    A bare day is due at the end of the working day and reminded at its start."""
    if isinstance(due, datetime.datetime):
        aware = due if due.tzinfo else due.replace(tzinfo=zone)
        return aware, True, aware
    due_at = datetime.datetime.combine(due, settings_row.date_only_due_time, zone)
    remind_at = datetime.datetime.combine(due, settings_row.date_only_remind_time, zone)
    return due_at, False, min(remind_at, due_at)


def _primary(
    opportunity: Opportunity | None, account: Account | None, lead: Lead | None
) -> Opportunity | Account | Lead:
    return opportunity or account or lead  # type: ignore[return-value]


def log_follow_up(
    *,
    actor: User,
    method: str,
    account: Account | None = None,
    lead: Lead | None = None,
    opportunity: Opportunity | None = None,
    contact: Contact | None = None,
    contact_name: str = "",
    contact_role: str = "",
    save_contact: bool = False,
    conclusion: str = "",
    conclusion_note: str = "",
    summary: str = "",
    next_action: str = "",
    next_action_kind: str = "",
    next_action_due: datetime.datetime | datetime.date | None = None,
    keywords: Sequence[str] = (),
    audio: UploadedFile | None = None,
    source: str = "form",
    parsed: dict[str, Any] | None = None,
    requirements: Requirements | None = None,
    now: datetime.datetime | None = None,
) -> Activity:
    """Save a follow-up, its next action as a Task, closure check, tags and Event, atomically.

    Raises ValidationError with messages per field ("customer", "method", "contact",
    "contact_role", "conclusion", "next_action", "next_action_due", "audio", ...) and
    PermissionDenied when the actor cannot see the record."""
    now = now or timezone.now()
    settings_row = ActivitySettings.current()
    zone = user_zone(actor)
    contact_name, contact_role = contact_name.strip(), contact_role.strip()
    conclusion, next_action = conclusion.strip(), next_action.strip()
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if opportunity is not None:
        if account is not None and account.pk != opportunity.account_id:
            error("opportunity", _("这个商机不属于所选客户"))
        account = account or opportunity.account
    if account is None and lead is None:
        error("customer", _("请选择客户或线索"))
    for record in (opportunity, account, lead):
        if record is not None and not can_see(actor, record):
            raise PermissionDenied
    if method not in ActivityKind.values:
        error("method", _("请选择跟进方式"))
    if contact is not None and (account is None or contact.account_id != account.pk):
        error("contact", _("这个联系人不属于所选客户"))
    if contact_role and contact_role not in ContactRole.values:
        error("contact_role", _("请选择有效的角色"))
    if conclusion and not ConclusionChoice.objects.filter(label=conclusion, active=True).exists():
        error("conclusion", _("请从列表中选择关键结论"))
    if next_action_kind and not NextActionKind.objects.filter(code=next_action_kind).exists():
        error("next_action_kind", _("未知的下一步类型"))
    for field, value, limit in (
        ("contact_name", contact_name, 50),
        ("next_action", next_action, 200),
    ):
        if len(value) > limit:
            error(field, _("最多 %(n)s 个字") % {"n": limit})

    required = requirements or requirements_for(method)
    if required.contact and contact is None and not contact_name:
        error("contact", _("请填写本次沟通的联系人"))
    if required.contact_role and not contact_role and not (contact and contact.role):
        error("contact_role", _("请选择联系人的角色"))
    if required.conclusion and not conclusion:
        error("conclusion", _("请选择关键结论"))
    if required.next_action and not next_action:
        error("next_action", _("请填写下一步做什么"))
    if required.next_action_due and next_action and next_action_due is None:
        error("next_action_due", _("请填写下一步的时间"))

    due_at = remind_at = None
    due_has_time = True
    if next_action_due is not None:
        due_at, due_has_time, remind_at = due_moments(
            next_action_due, zone=zone, settings_row=settings_row
        )
        local_today = now.astimezone(zone).date()
        past = due_at < now if due_has_time else next_action_due < local_today  # type: ignore[operator]
        if past:
            error("next_action_due", _("下一步的时间已经过去,请选择将来的时间"))
        remind_at = max(remind_at, now)
    if audio is not None:
        reason = check_audio(audio, settings_row)
        if reason:
            error("audio", reason)
    if errors:
        raise ValidationError(errors)

    primary = _primary(opportunity, account, lead)
    with transaction.atomic():
        if contact is None and save_contact and contact_name and account is not None:
            contact = create_contact(
                actor=actor,
                values={"account": account, "name": contact_name, "role": contact_role},
                now=now,
            )
        elif contact is not None and contact_role and contact.role != contact_role:
            # the decision chain learns the role from the follow-up (stage gates read it)
            update_contact(actor=actor, contact=contact, values={"role": contact_role}, now=now)
        attachment = None
        if audio is not None:
            attachment = Attachment.objects.create(
                entity=_entity_name(primary),
                object_id=primary.pk,
                kind=DocumentKind.AUDIO,
                file=audio,
                original_name=(audio.name or "audio")[:255],
                size=audio.size or 0,
                uploaded_by=actor,
            )
        activity = Activity.objects.create(
            kind=method,
            owner=actor,
            occurred_at=now,
            lead=lead,
            account=account,
            opportunity=opportunity,
            contact=contact,
            contact_name=contact_name if contact is None else contact.name,
            contact_role=contact_role or (contact.role if contact else ""),
            conclusion=conclusion,
            conclusion_note=conclusion_note.strip(),
            summary=summary.strip(),
            next_action=next_action,
            next_action_kind=next_action_kind,
            next_action_due=due_at,
            source=source,
            audio=attachment,
            transcript_status=(
                (
                    TranscriptStatus.PENDING
                    if transcriber_configured()
                    else TranscriptStatus.UNAVAILABLE
                )
                if attachment
                else ""
            ),
            parsed=parsed or {},
        )
        task = None
        if next_action:
            task = _create_task(
                actor=actor,
                title=next_action,
                kind=next_action_kind,
                due_at=due_at,
                due_has_time=due_has_time,
                remind_at=remind_at,
                lead=lead,
                account=account,
                opportunity=opportunity,
                activity=activity,
                source=source,
                settings_row=settings_row,
                zone=zone,
            )
        for keyword in dict.fromkeys(k.strip() for k in keywords if k and k.strip()):
            tag = get_or_create_tag(keyword, category=PAIN_POINT_TAG_CATEGORY)
            apply_tag(
                entity="account" if account else "lead",
                object_id=(account or lead).pk,  # type: ignore[union-attr]
                tag=tag,
                source="note",
                actor=actor,
                now=now,
            )
        record_event(
            subject=primary,
            verb="activity.logged",
            actor=actor,
            after={
                "activity": activity.pk,
                "kind": method,
                "conclusion": conclusion,
                "next_action": next_action,
                "next_action_due": due_at,
            },
            data={"task": task.pk if task else None, "keywords": list(keywords), "source": source},
            now=now,
        )
        if opportunity is not None:
            touch_opportunity(opportunity=opportunity, now=now)
        if lead is not None:
            _mark_lead_contacted(lead=lead, actor=actor, method=method, now=now)
        if attachment is not None and transcriber_configured():
            activity_pk = activity.pk
            transaction.on_commit(lambda: enqueue_transcription(activity_pk))
    return activity


def _entity_name(record: Opportunity | Account | Lead) -> str:
    return {Opportunity: "opportunity", Account: "account", Lead: "lead"}[type(record)]


def _mark_lead_contacted(*, lead: Lead, actor: User, method: str, now: datetime.datetime) -> None:
    """A follow-up by the owner on an assigned lead is its first contact (stops the window)."""
    if lead.state != LeadState.ASSIGNED or lead.owner_id != actor.pk:
        return
    if method not in (
        ActivityKind.CALL,
        ActivityKind.WECHAT,
        ActivityKind.VISIT,
        ActivityKind.EMAIL,
        ActivityKind.MEETING,
    ):
        return
    from jiepai.routing.services import mark_contacted  # routing is optional to activities

    contact_method = {"call": "phone", "meeting": "visit"}.get(method, method)
    mark_contacted(lead=lead, rep=actor, method=contact_method, now=now)


def _create_task(
    *,
    actor: User,
    title: str,
    kind: str,
    due_at: datetime.datetime | None,
    due_has_time: bool,
    remind_at: datetime.datetime | None,
    lead: Lead | None,
    account: Account | None,
    opportunity: Opportunity | None,
    activity: Activity | None,
    source: str,
    settings_row: ActivitySettings,
    zone: datetime.tzinfo,
) -> Task:
    task = Task.objects.create(
        title=title[:200],
        kind=kind,
        owner=actor,
        due_at=due_at,
        due_has_time=due_has_time,
        remind_at=remind_at,
        lead=lead,
        account=account,
        opportunity=opportunity,
        activity=activity,
        source=source,
    )
    rule = ClosureRule.objects.filter(action_kind=kind, active=True).first() if kind else None
    if rule is not None and due_at is not None:
        check_day = due_at.astimezone(zone).date() + datetime.timedelta(days=rule.grace_days)
        ClosureCheck.objects.create(
            task=task,
            owner=actor,
            opportunity=opportunity,
            account=account,
            action_kind=kind,
            evidence_kinds=list(rule.evidence_kinds),
            check_at=datetime.datetime.combine(check_day, settings_row.closure_check_time, zone),
        )
    return task


def complete_task(*, actor: User, task: Task, now: datetime.datetime | None = None) -> Task:
    """Mark a task done (its reminder is dropped; a closure check still runs on its day)."""
    now = now or timezone.now()
    if not can_edit_task(actor, task):
        raise PermissionDenied
    if task.done_at is not None:
        return task
    with transaction.atomic():
        # the compare-and-set keeps a double tap from writing two events
        updated = Task.objects.filter(pk=task.pk, done_at__isnull=True).update(
            done_at=now, remind_at=None, updated_at=now
        )
        if updated:
            subject = task.opportunity or task.account or task.lead
            if subject is not None:
                record_event(
                    subject=subject,
                    verb="task.done",
                    actor=actor,
                    after={"task": task.pk, "title": task.title},
                    now=now,
                )
    task.refresh_from_db()
    return task


def can_edit_task(user: User, task: Task) -> bool:
    """The owner, or a manager/director/admin who can see the task, may close it."""
    from jiepai.activities.selectors import visible_tasks

    if task.owner_id == user.pk:
        return True
    if user.role not in ("manager", "director", "admin") and not user.is_superuser:
        return False
    return visible_tasks(user).filter(pk=task.pk).exists()


def task_url(task: Task) -> str:
    return reverse("activities:task_list") + f"#task-{task.pk}"


def remind_task(task: Task, now: datetime.datetime) -> None:
    """Deadline "activities.task_reminder": tell the owner the next action is due, once.

    The sweeper has already cleared `remind_at` with a compare-and-set, so only one worker
    gets here; the dedupe key is a second guard against a replayed reminder."""
    if task.done_at is not None or task.owner is None:
        return
    when = timezone.localtime(task.due_at, user_zone(task.owner)) if task.due_at else None
    notify(
        recipients=[task.owner],
        kind="task.due",
        title=_("待办到期:%(title)s") % {"title": task.title},
        body=(when.strftime("%Y-%m-%d %H:%M" if task.due_has_time else "%Y-%m-%d") if when else ""),
        url=task_url(task),
        dedupe_key=f"task-due:{task.pk}",
        now=now,
    )
    Task.objects.filter(pk=task.pk).update(reminded_at=now)


def run_closure_check(check: ClosureCheck, now: datetime.datetime) -> None:
    """Deadline "activities.closure_check" (seed 000 动作闭环校验): on D + grace, is there a file
    of the required kind on the deal (or on the account when the task has no deal)? If not, the
    rep and their manager are reminded and the check counts against the rep."""
    if check.result != ClosureResult.PENDING:
        return
    if check.opportunity_id:
        entity, object_id = "opportunity", check.opportunity_id
    elif check.account_id:
        entity, object_id = "account", check.account_id
    else:
        entity, object_id = "", 0
    found = (
        bool(entity)
        and Attachment.objects.filter(
            entity=entity, object_id=object_id, kind__in=check.evidence_kinds, created_at__lte=now
        ).exists()
    )
    check.result = ClosureResult.PASSED if found else ClosureResult.FAILED
    check.checked_at = now
    check.save(update_fields=["result", "checked_at", "updated_at"])
    subject = check.opportunity or check.account
    if subject is not None:
        record_event(
            subject=subject,
            verb="closure_check.passed" if found else "closure_check.failed",
            after={
                "task": check.task_id,
                "action_kind": check.action_kind,
                "evidence_kinds": check.evidence_kinds,
            },
            now=now,
        )
    if found:
        return
    rep = check.owner
    kinds = "、".join(
        str(DocumentKind(k).label) if k in DocumentKind.values else k for k in check.evidence_kinds
    )
    notify(
        recipients=[p for p in [rep, *managers_of(rep)] if p is not None],
        kind="closure.failed",
        title=_("闭环校验未通过:%(title)s") % {"title": check.task.title},
        body=_("约定的动作已到期,但%(subject)s还没有上传%(kinds)s。")
        % {"subject": subject or "", "kinds": kinds},
        url=subject.get_absolute_url() if subject is not None else "",
        dedupe_key=f"closure-failed:{check.pk}",
        now=now,
    )


# --- transcription hook (see jiepai.activities.transcription) ---------------------------------


def apply_transcript(
    *, activity: Activity, text: str, now: datetime.datetime | None = None
) -> Activity:
    """Keep a voice memo's text on its follow-up and read it like a typed note: pain points
    become tags; without a next action yet, a parsed action with a usable time becomes a task."""
    from jiepai.activities.vocabulary import quick_fill

    now = now or timezone.now()
    owner = activity.owner
    # "下周二" in a memo is relative to when it was recorded, not to when the worker got to it
    said_at = activity.occurred_at
    fill = (
        quick_fill(actor=owner, text=text, now=said_at, account=activity.account) if owner else None
    )
    activity.transcript = text
    activity.transcript_status = TranscriptStatus.DONE
    if not activity.summary:
        activity.summary = text
    if fill is not None:
        activity.parsed = {**fill.parsed.as_json(), "from": "transcript"}
    activity.save(
        update_fields=["transcript", "transcript_status", "summary", "parsed", "updated_at"]
    )
    if fill is None:
        return activity
    customer = activity.account or activity.lead
    for keyword in fill.parsed.keywords:
        apply_tag(
            entity="account" if activity.account else "lead",
            object_id=customer.pk,  # type: ignore[union-attr]
            tag=get_or_create_tag(keyword, category=PAIN_POINT_TAG_CATEGORY),
            source="voice",
            actor=owner,
            now=now,
        )
    parsed = fill.parsed
    if (
        not activity.next_action
        and not activity.tasks.exists()
        and parsed.action is not None
        and parsed.due is not None
        and not parsed.problem_times
    ):
        settings_row = ActivitySettings.current()
        zone = user_zone(owner)
        due = parsed.due if parsed.due_has_time else parsed.due.date()
        due_at, has_time, remind_at = due_moments(due, zone=zone, settings_row=settings_row)
        activity.next_action, activity.next_action_kind = parsed.action.label, parsed.action.kind
        activity.next_action_due = due_at
        activity.save(
            update_fields=["next_action", "next_action_kind", "next_action_due", "updated_at"]
        )
        _create_task(
            actor=owner,  # type: ignore[arg-type]
            title=parsed.action.label,
            kind=parsed.action.kind,
            due_at=due_at,
            due_has_time=has_time,
            remind_at=max(remind_at, now),  # a late transcription reminds now, not in the past
            lead=activity.lead,
            account=activity.account,
            opportunity=activity.opportunity,
            activity=activity,
            source="voice",
            settings_row=settings_row,
            zone=zone,
        )
    return activity


def transcriber_configured() -> bool:
    from jiepai.activities.transcription import transcriber_path

    return bool(transcriber_path())


def enqueue_transcription(activity_pk: int) -> None:
    from jiepai.activities.tasks import transcribe_follow_up_audio

    transcribe_follow_up_audio.enqueue(activity_pk)
