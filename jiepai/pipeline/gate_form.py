"""The "complete it on the spot" form of a blocked move: one input per missing piece.

`prompts` turns the gate's Missing list into inputs (a field input, a file upload of the right
kind, a contact role picker, a mini follow-up, a next-action time); `answers_from_post` reads
them back into GateAnswers. Input names:

    value.<field>          value of a field ("value.amount", "value.custom.budget_range")
    req.<id>.file          the file for an attachment requirement
    req.<id>.contact       an existing contact to mark with the role  / req.<id>.name: a new one
    req.<id>.kind          req.<id>.summary: the mini follow-up
    req.<id>.title         req.<id>.due: the next action and its time (datetime-local)
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from jiepai.activities.models import ActivityKind
from jiepai.customers.models import Contact
from jiepai.customfields.models import FieldType
from jiepai.lib.values import parse_datetime
from jiepai.pipeline.gates import (
    BUILTIN_FIELDS,
    CUSTOM_PREFIX,
    Missing,
    custom_definition,
    describe,
)
from jiepai.pipeline.models import GateRequirement, Opportunity, RequirementKind
from jiepai.pipeline.stages import (
    ActivityAnswer,
    ContactAnswer,
    GateAnswers,
    NextActionAnswer,
)

_REQ = re.compile(r"^req\.(\d{1,12})\.(file|contact|name|kind|summary|title|due)$")


@dataclass
class Prompt:
    """One input (or small group of inputs) the user fills in to satisfy a requirement."""

    requirement: GateRequirement
    what: str
    widget: str  # text, textarea, number, date, select, file, contact, activity, next_action, none
    name: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = ""
    errors: list[str] = field(default_factory=list)
    activity_kinds: list[tuple[str, str]] = field(default_factory=list)
    fixed_kind: str = ""


@dataclass
class Group:
    """One missing part of the gate: its label, its stage, and the alternatives to fill."""

    missing: Missing
    prompts: list[Prompt]


def _field_prompt(
    requirement: GateRequirement, opportunity: Opportunity, posted: QueryDict | None
) -> Prompt:
    name = f"value.{requirement.field_name}"
    prompt = Prompt(requirement=requirement, what=describe(requirement), widget="text", name=name)
    field_name = requirement.field_name
    if field_name.startswith(CUSTOM_PREFIX):
        definition = custom_definition(field_name)
        kind = definition.field_type if definition else FieldType.TEXT
        if kind in (FieldType.NUMBER, FieldType.MONEY):
            prompt.widget = "number"
        elif kind == FieldType.DATE:
            prompt.widget = "date"
        elif kind in (FieldType.SELECT, FieldType.MULTISELECT) and definition:
            prompt.widget = "select"
            prompt.choices = [
                (str(o["value"]), str(o.get("label") or o["value"])) for o in definition.options
            ]
        current = (opportunity.custom or {}).get(field_name[len(CUSTOM_PREFIX) :], "")
    elif field_name == "contact":
        prompt.widget = "select"
        prompt.choices = [
            (str(c.pk), c.name)
            for c in Contact.objects.filter(
                account_id=opportunity.account_id, merged_into__isnull=True
            )
        ]
        current = opportunity.contact_id or ""
    else:
        prompt.widget = {
            "amount": "number",
            "expected_close_date": "date",
            "description": "textarea",
        }.get(field_name, "text")
        current = getattr(opportunity, field_name, "") if field_name in BUILTIN_FIELDS else ""
        if field_name == "amount" and not current:
            current = ""
    prompt.value = posted.get(name, "") if posted is not None else (current or "")
    return prompt


def _prompt(
    requirement: GateRequirement, opportunity: Opportunity, posted: QueryDict | None
) -> Prompt:
    kind = requirement.kind
    what = describe(requirement)
    base = f"req.{requirement.pk}"
    posted = posted if posted is not None else QueryDict()
    if kind in (RequirementKind.FIELD, RequirementKind.RANGE):
        return _field_prompt(requirement, opportunity, posted or None)
    if kind == RequirementKind.ATTACHMENT:
        return Prompt(requirement=requirement, what=what, widget="file", name=f"{base}.file")
    if kind == RequirementKind.CONTACT_ROLE:
        contacts = Contact.objects.filter(
            account_id=opportunity.account_id, merged_into__isnull=True
        ).order_by("name")
        return Prompt(
            requirement=requirement,
            what=what,
            widget="contact",
            name=base,
            choices=[
                (str(c.pk), f"{c.name}{' · ' + c.title if c.title else ''}") for c in contacts
            ],
            value={
                "contact": posted.get(f"{base}.contact", ""),
                "name": posted.get(f"{base}.name", ""),
            },
        )
    if kind == RequirementKind.ACTIVITY:
        return Prompt(
            requirement=requirement,
            what=what,
            widget="activity",
            name=base,
            activity_kinds=[(k.value, str(k.label)) for k in ActivityKind],
            fixed_kind=requirement.activity_kind,
            value={
                "kind": posted.get(f"{base}.kind", ""),
                "summary": posted.get(f"{base}.summary", ""),
            },
        )
    if kind == RequirementKind.NEXT_ACTION:
        return Prompt(
            requirement=requirement,
            what=what,
            widget="next_action",
            name=base,
            value={
                "title": posted.get(f"{base}.title", ""),
                "due": posted.get(f"{base}.due", ""),
            },
        )
    return Prompt(requirement=requirement, what=what, widget="none")


def prompts(
    missing: list[Missing],
    opportunity: Opportunity,
    *,
    posted: QueryDict | None = None,
    errors: dict[str, list[str]] | None = None,
) -> list[Group]:
    """The inputs for each missing part; a field asked by two requirements is asked once."""
    errors = errors or {}
    seen_fields: set[str] = set()
    groups = []
    for part in missing:
        items = []
        for requirement in part.options:
            prompt = _prompt(requirement, opportunity, posted)
            if prompt.widget not in ("file", "contact", "activity", "next_action", "none"):
                if requirement.field_name in seen_fields:
                    continue
                seen_fields.add(requirement.field_name)
                prompt.errors = errors.get(requirement.field_name, [])
            else:
                prompt.errors = errors.get(f"requirement.{requirement.pk}", [])
            items.append(prompt)
        groups.append(Group(missing=part, prompts=items))
    return groups


def _due(text: str) -> datetime.datetime | None:
    moment = parse_datetime(text.replace("T", " "))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def answers_from_post(
    post: QueryDict, files: MultiValueDict
) -> tuple[GateAnswers, dict[str, list[str]]]:
    """Read the form back: (answers, errors found before the service sees them)."""
    answers = GateAnswers()
    errors: dict[str, list[str]] = {}
    parts: dict[int, dict[str, str]] = {}
    for key in post:
        if key.startswith("value."):
            value = post.get(key, "").strip()
            if value:
                answers.values[key[len("value.") :]] = value
            continue
        match = _REQ.match(key)
        if match:
            parts.setdefault(int(match.group(1)), {})[match.group(2)] = post.get(key, "").strip()
    for key in files:
        match = _REQ.match(key)
        if match and match.group(2) == "file":
            answers.files[int(match.group(1))] = files[key]
    for pk, given in parts.items():
        if given.get("contact") or given.get("name"):
            contact = given.get("contact", "")
            answers.contacts[pk] = ContactAnswer(
                contact_id=int(contact) if contact.isdigit() else None,
                name=given.get("name", ""),
            )
        if given.get("summary"):
            answers.activities[pk] = ActivityAnswer(
                summary=given["summary"], kind=given.get("kind", "")
            )
        if given.get("due"):
            try:
                due = _due(given["due"])
            except ValueError:
                errors[f"requirement.{pk}"] = [
                    _("“%(value)s”不是有效的时间") % {"value": given["due"]}
                ]
                continue
            answers.next_actions[pk] = NextActionAnswer(title=given.get("title", ""), due_at=due)
    return answers, errors
