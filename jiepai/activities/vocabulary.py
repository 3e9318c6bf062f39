"""The admin-configured vocabulary (actions, pain points, phrase map) as the parser's input, and
the quick-fill use-case: a rep's sentence → suggested follow-up fields.

The parser itself (jiepai.lib.notes) knows nothing about Django; this module reads the rows,
builds its `Vocabulary`, and maps the result onto the follow-up form.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from jiepai.activities.models import NextActionKind, PainPointKeyword, PhraseMeaning
from jiepai.activities.selectors import local_now
from jiepai.customers.models import Account, Contact
from jiepai.lib import notes
from jiepai.lib.cntime import TimeMatch
from jiepai.org.models import User

# the title a rep writes (李总, 王主任) suggests the role on the decision chain
_ROLE_BY_TITLE = (
    (("董事长", "总经理", "老板", "老总", "院长", "总裁", "书记", "厂长", "总"), "decision_maker"),
    (("采购", "招标"), "procurement"),
    (("工程师", "总工", "工", "技术"), "technical"),
    (("主任", "处长", "科长", "部长", "经理", "主管", "总监"), "influencer"),
)


_cache: dict[str, Any] = {"key": None, "vocabulary": None}


def _configuration_version() -> tuple[Any, ...]:
    """Changes whenever a vocabulary row is added, edited or deleted (one cheap query each)."""
    return tuple(
        tuple(model.objects.aggregate(n=Count("id"), last=Max("updated_at")).values())
        for model in (NextActionKind, PainPointKeyword, PhraseMeaning)
    )


def load_vocabulary() -> notes.Vocabulary:
    """The active configuration rows as a parser vocabulary (falls back to nothing per part that
    has no active rows: an admin who switched every action off gets no action suggestions).

    Built once per process and configuration version: building compiles the trigger regexes,
    which costs more than parsing a note."""
    version = _configuration_version()
    if _cache["key"] != version or _cache["vocabulary"] is None:
        _cache["vocabulary"], _cache["key"] = _build_vocabulary(), version
    return _cache["vocabulary"]  # type: ignore[no-any-return]


def _build_vocabulary() -> notes.Vocabulary:
    actions = tuple(
        notes.ActionKind(row.code, row.label, tuple(row.triggers or ()), row.generic)
        for row in NextActionKind.objects.filter(active=True)
    )
    pain_points = tuple(
        notes.PainPoint(row.label, tuple(row.triggers or ()))
        for row in PainPointKeyword.objects.filter(active=True)
    )
    phrases = tuple(
        notes.PhraseMeaning(tuple(row.triggers or ()), row.meaning, row.task_title, row.task_kind)
        for row in PhraseMeaning.objects.filter(active=True)
    )
    return notes.Vocabulary(actions, pain_points, phrases)


def problem_text(time: TimeMatch) -> str:
    """A parser problem as a translatable sentence for the user."""
    if time.past and time.due is not None:
        return _("“%(text)s”已经过去(%(when)s),请确认时间") % {
            "text": time.text,
            "when": time.due.strftime("%Y-%m-%d %H:%M" if time.has_time else "%Y-%m-%d"),
        }
    if time.problem.startswith("impossible_time"):
        return _("“%(text)s”不是有效的时间,请重新填写时间") % {"text": time.text}
    return _("“%(text)s”不是有效的日期,请重新填写日期") % {"text": time.text}


def role_for_title(name: str) -> str:
    for words, role in _ROLE_BY_TITLE:
        if any(name.endswith(word) or word in name[1:] for word in words):
            return role
    return ""


@dataclass
class QuickFill:
    """What a sentence suggests for the follow-up form, for the rep to confirm."""

    parsed: notes.ParsedNote
    contact: Contact | None = None  # the account's contact the name matched
    contact_role: str = ""
    due_local: datetime.datetime | None = None
    messages: list[str] = field(default_factory=list)

    def initial(self) -> dict[str, Any]:
        """Form fields to fill (only those the sentence gave)."""
        parsed = self.parsed
        values: dict[str, Any] = {}
        if self.contact is not None:
            values["contact"] = self.contact.pk
        if parsed.contact:
            values["contact_name"] = parsed.contact
        if self.contact_role:
            values["contact_role"] = self.contact_role
        if parsed.action is not None:
            values["next_action"] = parsed.action.label
            values["next_action_kind"] = parsed.action.kind
        elif parsed.phrases and parsed.phrases[0].task:
            values["next_action"] = parsed.phrases[0].task
            values["next_action_kind"] = parsed.phrases[0].task_kind
        if self.due_local is not None:
            values["next_action_due"] = self.due_local.strftime(
                "%Y-%m-%dT%H:%M" if parsed.due_has_time else "%Y-%m-%d"
            )
            values["next_action_due_has_time"] = parsed.due_has_time
        if parsed.keywords:
            values["keywords"] = ",".join(parsed.keywords)
        return values


def quick_fill(
    *,
    actor: User,
    text: str,
    now: datetime.datetime,
    account: Account | None = None,
    vocabulary: notes.Vocabulary | None = None,
) -> QuickFill:
    """Parse a sentence in the actor's time zone, matching names against the account's contacts."""
    contacts = list(account.contacts.filter(merged_into__isnull=True)) if account else []
    parsed = notes.parse_note(
        text,
        now=local_now(actor, now),
        vocabulary=vocabulary or load_vocabulary(),
        known_contacts=[c.name for c in contacts],
    )
    fill = QuickFill(parsed=parsed, messages=[problem_text(t) for t in parsed.problem_times])
    if parsed.contact:
        fill.contact = next((c for c in contacts if c.name == parsed.contact), None)
        fill.contact_role = (fill.contact.role if fill.contact else "") or role_for_title(
            parsed.contact
        )
    fill.due_local = parsed.due
    for hit in parsed.phrases:
        fill.messages.append(
            _("“%(phrase)s” → %(meaning)s,建议:%(task)s")
            % {"phrase": hit.phrase, "meaning": hit.meaning, "task": hit.task}
        )
    return fill
