"""The intake use-case: a channel's payload → a lead, in one transaction.

    alias map → normalise → validate → duplicate check → score → tag → route → events

`intake_lead` is what the intake endpoint, the hosted forms and the rejected-inbox replay call.
It is lenient by design (nothing a channel sent is lost): the raw payload is always stored with
the lead; a value that cannot be cleaned is left out and listed in `field_errors`; a lead missing
a required field goes to the incomplete pool 待补全池 (state `incomplete`, `missing_fields`),
where marketing completes it (`complete_lead`) and it is routed. Only a payload with no contact
information at all is refused (IntakeRejected) — the caller keeps it in the rejected inbox.

This is why intake writes the Lead row itself instead of through core.records.create_record,
which raises on the first invalid value: the same Event ("lead.created", after = the values set)
is written here, in the same transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.customfields.models import FieldDefinition
from jiepai.customfields.services import clean_custom_values, definitions_for, sync_unique_values
from jiepai.dedup.keys import Keys, keys_for
from jiepai.dedup.models import Policy
from jiepai.dedup.services import record_created
from jiepai.events.models import Event
from jiepai.events.prepared import prepared_cursor
from jiepai.events.services import new_event, record_event, record_events, snapshot
from jiepai.intake import aliases, scoring
from jiepai.intake.behaviour import attach_visitor_events, lock_visitor
from jiepai.intake.conditions import condition_holds
from jiepai.intake.config import IntakeSettings, intake_settings, last_intake_settings
from jiepai.intake.handoff import hand_to_routing
from jiepai.intake.housekeeping import schedule_housekeeping
from jiepai.intake.models import (
    BehaviourEvent,
    BehaviourKind,
    Channel,
    IdempotencyKey,
    IntentConfig,
    Lead,
    LeadState,
    RejectedReason,
    TagRule,
)
from jiepai.intake.normalise import clean_values
from jiepai.tagging.services import apply_tags

#: any one of these makes a payload worth keeping as a lead (otherwise: rejected inbox)
CONTACT_FIELDS = ("name", "company", "mobile", "email", "wechat")
MAX_IDEMPOTENCY_KEY = 255


class IntakeRejected(Exception):
    """The payload cannot become a lead; `reason` is a RejectedReason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before for a different payload."""


@dataclass(frozen=True)
class IntakeAnswer:
    status: int
    body: dict[str, Any]
    replayed: bool = False

    @property
    def lead_id(self) -> int | None:
        return self.body.get("id")


@dataclass
class PreparedLead:
    """A payload sorted and cleaned, before anything is written."""

    values: dict[str, Any] = field(default_factory=dict)  # Lead columns
    source_detail: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    visitor_id: str = ""
    external_id: str = ""


@dataclass(frozen=True)
class DuplicateMatch:
    entity: str  # "lead" or "contact"
    id: int
    score: float
    on: tuple[str, ...]  # the shared keys: "mobile", "email", "pinyin_company" ...

    def as_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "id": self.id, "score": self.score, "on": list(self.on)}


# --- preparing ----------------------------------------------------------------------------------


def prepare(
    *,
    channel: Channel,
    payload: object,
    source: Mapping[str, Any] | None = None,
    definitions: list[FieldDefinition] | None = None,
) -> PreparedLead:
    """Map aliases, normalise, validate and find what is missing. Writes nothing."""
    definitions = definitions if definitions is not None else definitions_for("lead")
    mapped = aliases.map_fields(
        payload, channel_aliases=channel.alias_map, custom_keys=[d.key for d in definitions]
    )
    cleaned = clean_values(mapped.values)
    prepared = PreparedLead(errors=dict(cleaned.errors), unmapped=mapped.unmapped)
    for name, value in cleaned.values.items():
        if name in aliases.LEAD_VALUE_FIELDS:
            prepared.values[name] = value
        elif name == "visitor_id":
            prepared.visitor_id = value
        elif name == "external_id":
            prepared.external_id = value
        else:
            prepared.source_detail[name] = value
    for name, value in (source or {}).items():
        if value not in ("", None):
            prepared.source_detail.setdefault(name, value)
    if mapped.custom:
        custom, custom_errors = clean_custom_values(
            "lead", mapped.custom, partial=True, definitions=definitions
        )
        prepared.custom = custom
        for key, message in custom_errors.items():
            prepared.errors[aliases.CUSTOM_PREFIX + key] = message
    prepared.missing = missing_fields(
        required=channel.required_fields,
        values=prepared.values,
        custom=prepared.custom,
        definitions=definitions,
    )
    if not any(prepared.values.get(name) for name in CONTACT_FIELDS):
        raise IntakeRejected(
            RejectedReason.NO_CONTACT,
            _("没有任何联系信息(姓名、公司、电话、邮箱或微信至少一项);未识别的字段:%(f)s")
            % {"f": ", ".join(mapped.unmapped[:20]) or "—"},
        )
    return prepared


def missing_fields(
    *,
    required: list[str],
    values: Mapping[str, Any],
    custom: Mapping[str, Any],
    definitions: list[FieldDefinition],
) -> list[str]:
    """The channel's required fields plus required custom fields that have no value."""
    missing = []
    for name in required:
        if name.startswith(aliases.CUSTOM_PREFIX):
            present = custom.get(name[len(aliases.CUSTOM_PREFIX) :]) not in (None, "", [])
        else:
            present = values.get(name) not in (None, "")
        if not present:
            missing.append(name)
    for definition in definitions:
        key = aliases.CUSTOM_PREFIX + definition.key
        empty = custom.get(definition.key) in (None, "", [])
        if definition.required and empty and key not in missing:
            missing.append(key)
    return missing


def fingerprint(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- duplicates ---------------------------------------------------------------------------------


#: the fields of a lead its duplicate-matching keys are computed from (dedup.keys.values_of)
KEY_FIELDS = ("name", "title", "mobile", "phone", "email", "wechat", "company")


def lead_keys(values: Mapping[str, Any]) -> Keys:
    """The keys the lead will have once saved with these values (computed before the
    transaction: normalising the phone and the name's pinyin is most of the cost)."""
    return keys_for("lead", {f: values.get(f) or "" for f in KEY_FIELDS})


def check_duplicates(
    *,
    lead: Lead,
    actor: Any,
    now: datetime.datetime,
    keys: Keys | None = None,
    settings: IntakeSettings | None = None,
    events: list[Event] | None = None,
) -> tuple[list[DuplicateMatch], str]:
    """Index the new lead for duplicate matching and find what it duplicates (jiepai.dedup), in
    one pass (`dedup.services.record_created`): two statements when nothing matches.

    Leads: the lead policy decides (default "allow and flag": a DuplicateFlag for review); a
    channel's lead is never refused, so a "block" policy flags here instead. Contacts: the same
    person already on file as a contact (seed 002) — the best match at the act threshold links
    the lead to that contact and its account. Returns (matches, a unique-rule clash message).
    """
    settings = settings or intake_settings()
    policy = settings.policies["lead"]
    door = record_created(
        lead,
        actor=actor,
        keys=keys,
        related=("contact",),
        related_limit=3,
        on_duplicate=Policy.ALLOW_AND_FLAG if policy.policy == Policy.BLOCK else None,
        source="intake",
        now=now,
        policies=settings.policies,
        enforced=settings.lead_unique_kinds,
        # An admin-made unique rule (e.g. one lead per mobile): keep the lead, say why.
        keep_on_clash=True,
        events=events,
    )
    matches = [
        DuplicateMatch(c.entity, c.object_id, round(c.score, 3), tuple(c.shared_keys))
        for c in [*door.candidates, *door.related]
    ]
    best = next((c for c in door.related if c.score >= policy.act_threshold), None)
    if best is not None and best.record is not None:
        lead.contact_id = best.object_id
        lead.account_id = getattr(best.record, "account_id", None)
        Lead.objects.filter(pk=lead.pk).update(
            contact_id=lead.contact_id, account_id=lead.account_id
        )
    return matches, door.clash


# --- tags ---------------------------------------------------------------------------------------


def condition_names(
    *, channel: Channel, values: Mapping[str, Any], source_detail: Mapping[str, Any]
) -> dict[str, Any]:
    names: dict[str, Any] = {
        "channel": channel.slug,
        "channel_name": channel.name,
        "kind": channel.kind,
    }
    for name in aliases.SOURCE_FIELDS:
        names[name] = str(source_detail.get(name, ""))
    for name in ("name", "title", "company", "industry", "province", "city", "message"):
        names[name] = str(values.get(name, ""))
    budget = values.get("budget")
    names["budget"] = float(budget) if budget is not None else 0.0
    names["has_mobile"] = bool(values.get("mobile"))
    names["has_email"] = bool(values.get("email"))
    return names


def rule_tags(*, rules: list[TagRule], names: Mapping[str, Any]) -> list[str]:
    """Tags from the rules (this channel's and all channels', in rule order) that hold."""
    tags: list[str] = []
    for rule in rules:
        if rule.tag_name not in tags and condition_holds(rule.condition, names):
            tags.append(rule.tag_name)
    return tags


# --- the use-case -------------------------------------------------------------------------------


def _summary_of_visitor(visitor_id: str, config: IntentConfig) -> scoring.BehaviourSummary:
    """The anonymous visitor's events, before they attach to the new lead."""
    if not visitor_id:
        return scoring.BehaviourSummary()
    quote = connection.ops.quote_name
    wechat = stay = downloads = videos = 0
    kinds = config.counted_download_kinds
    with prepared_cursor() as cursor:
        # the table name comes from the model; the partial index on anonymous visitors serves it
        cursor.execute(
            f"SELECT kind, seconds, asset_kind FROM {quote(BehaviourEvent._meta.db_table)} "  # noqa: S608
            "WHERE visitor_id = %s AND lead_id IS NULL",
            [visitor_id],
        )
        rows = cursor.fetchall()
    for kind, seconds, asset_kind in rows:
        if kind == BehaviourKind.WECHAT_MESSAGE:
            wechat += 1
        elif kind == BehaviourKind.PAGE_VIEW:
            stay += seconds
        elif kind == BehaviourKind.DOWNLOAD and asset_kind in kinds:
            downloads += 1
        elif kind == BehaviourKind.VIDEO_VIEW:
            videos += 1
    return scoring.BehaviourSummary(wechat, stay, downloads, videos)


def _insert_lead(lead: Lead) -> None:
    """`lead.save(force_insert=True)` as one plain INSERT ... RETURNING id, each field prepared
    as the ORM would (auto_now stamps through `pre_save`, then `get_db_prep_save`): compiling the
    ORM's INSERT of ~30 columns cost more CPU than the rest of the intake's writes, and a
    prepared statement is parsed and planned once per connection (PostgreSQL). Lead has no
    save() override and no signal receivers; adding either means going back to `save()`."""
    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    params = [f.get_db_prep_save(f.pre_save(lead, True), connection) for f in fields]
    with prepared_cursor() as cursor:
        # table and column names come from the model, never from input
        cursor.execute(
            f"INSERT INTO {quote(Lead._meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(Lead._meta.pk.column)}",
            params,
        )
        lead.pk = cursor.fetchone()[0]
    lead._state.adding = False
    lead._state.db = connection.alias


def _claim_key(
    *, channel: Channel, key: str, print_: str, now: datetime.datetime
) -> tuple[IdempotencyKey | None, IdempotencyKey | None]:
    """(our claim, None) or (None, the earlier answer).

    The unique constraint on (channel, key) decides who goes first: one INSERT ... ON CONFLICT
    DO NOTHING (no savepoint needed). On PostgreSQL a second INSERT of the same key waits for
    the first transaction; once it commits the second inserts nothing, and the earlier answer it
    then reads is complete; if the first transaction rolls back, the second INSERT succeeds and
    that request does the intake. SQLite runs one writer at a time.
    """
    if channel.housekeeping_due_at is None:
        schedule_housekeeping(channel=channel, now=now)
    meta = IdempotencyKey._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column)
        for name in ("channel", "key", "fingerprint", "created_at", "status_code", "response")
    )
    with prepared_cursor() as cursor:
        # table and column names come from the model, never from input
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, 201, '{}') "
            f"ON CONFLICT ({quote('channel_id')}, {quote('key')}) DO NOTHING RETURNING id",
            [channel.pk, key, print_, connection.ops.adapt_datetimefield_value(now)],
        )
        row = cursor.fetchone()
    if row is None:
        return None, IdempotencyKey.objects.get(channel=channel, key=key)
    claim = IdempotencyKey(
        pk=row[0], channel=channel, key=key, fingerprint=print_, created_at=now, response={}
    )
    return claim, None


def _record_answer(claim: IdempotencyKey, *, lead: Lead, body: dict[str, Any]) -> None:
    """Store the answer with the claimed key (a repeat of the key gets it): one UPDATE."""
    meta = IdempotencyKey._meta
    quote = connection.ops.quote_name
    response = meta.get_field("response").get_db_prep_save(body, connection)
    with prepared_cursor() as cursor:
        # table and column names come from the model, never from input
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {quote('lead_id')} = %s, "  # noqa: S608
            f"{quote('status_code')} = 201, {quote('response')} = %s WHERE id = %s",
            [lead.pk, response, claim.pk],
        )


def _answer_body(
    lead: Lead, prepared: PreparedLead, duplicates: list[DuplicateMatch], tags: list[str]
) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "state": lead.state,
        "owner": lead.owner_id,
        "missing_fields": prepared.missing,
        "field_errors": prepared.errors,
        "duplicates": [d.as_json() for d in duplicates],
        "tags": tags,
        "score": lead.score,
        "intent_score": lead.intent_score,
        "unmapped": prepared.unmapped,
    }


def intake_lead(
    *,
    channel: Channel,
    payload: Mapping[str, Any] | list[Any],
    idempotency_key: str = "",
    source: Mapping[str, Any] | None = None,
    actor: Any = None,
    now: datetime.datetime | None = None,
) -> IntakeAnswer:
    """Make a lead from a channel's payload and route it; the answer for the caller.

    Raises IntakeRejected (no contact information) and IdempotencyMismatch (the key was used
    for another payload). A repeated key returns the first answer with `replayed=True`.

    The payload is mapped, cleaned and keyed before the transaction (that is CPU work: on SQLite
    the transaction holds the database's one write lock), with the configuration the last intake
    used; inside, one query checks that configuration is still current (else it is prepared
    again)."""
    now = now or timezone.now()
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise IntakeRejected(
            RejectedReason.BAD_HEADER,
            _("Idempotency-Key 不能超过 %(n)d 个字符") % {"n": MAX_IDEMPOTENCY_KEY},
        )
    settings = last_intake_settings()
    try:
        prepared = prepare(
            channel=channel, payload=payload, source=source, definitions=settings.definitions
        )
    except IntakeRejected:
        current = intake_settings()
        if current is settings:
            raise
        settings = current  # the custom fields changed since: judge with the current ones
        prepared = prepare(
            channel=channel, payload=payload, source=source, definitions=settings.definitions
        )
    keys = lead_keys(prepared.values)
    print_ = fingerprint(payload) if idempotency_key else ""
    with transaction.atomic():
        current = intake_settings()
        if current is not settings:
            settings = current
            prepared = prepare(
                channel=channel, payload=payload, source=source, definitions=settings.definitions
            )
            keys = lead_keys(prepared.values)
        claim = None
        if idempotency_key:
            claim, earlier = _claim_key(
                channel=channel, key=idempotency_key, print_=print_, now=now
            )
            if earlier is not None:
                if earlier.fingerprint != print_:
                    raise IdempotencyMismatch(idempotency_key)
                return IntakeAnswer(earlier.status_code, earlier.response, replayed=True)
        lead, duplicates, tags = _create(
            channel=channel,
            payload=payload,
            prepared=prepared,
            settings=settings,
            actor=actor,
            now=now,
            keys=keys,
        )
        body = _answer_body(lead, prepared, duplicates, tags)
        if claim is not None:
            _record_answer(claim, lead=lead, body=body)
    return IntakeAnswer(201, body)


def _create(
    *,
    channel: Channel,
    payload: Mapping[str, Any] | list[Any],
    prepared: PreparedLead,
    settings: IntakeSettings,
    actor: Any,
    now: datetime.datetime,
    keys: Keys | None = None,
) -> tuple[Lead, list[DuplicateMatch], list[str]]:
    """Write the lead and everything that comes with it. In the caller's transaction.

    The events of the intake (lead.created, duplicate_flagged, contact_matched, visitor_merged,
    tag.added) are collected and written in one INSERT, in that order, before routing writes
    its own."""
    config, definitions = settings.intent, settings.definitions
    lock_visitor(prepared.visitor_id)
    summary = _summary_of_visitor(prepared.visitor_id, config)
    intent = scoring.intent_score(summary, config)
    if prepared.missing:
        state = LeadState.INCOMPLETE
    elif channel.nurture_low_intent and scoring.intent_class(intent, config) == scoring.NURTURE:
        state = LeadState.NURTURE
    else:
        state = LeadState.UNASSIGNED
    lead = Lead(
        **prepared.values,
        channel=channel,
        state=state,
        source_detail=prepared.source_detail,
        visitor_id=prepared.visitor_id,
        external_id=prepared.external_id,
        raw_payload=payload,
        missing_fields=prepared.missing,
        field_errors=prepared.errors,
        custom=prepared.custom,
        intent_score=intent,
        score=scoring.lead_score(
            channel_weight=channel.weight,
            filled_fields=prepared.values,
            intent=intent,
            weights=config,
        ),
    )
    _insert_lead(lead)
    if prepared.custom and any(d.unique for d in definitions):
        try:
            with transaction.atomic():
                sync_unique_values("lead", lead.pk, prepared.custom)
        except ValidationError as exc:
            # A unique custom value already in use: keep the lead, drop the value, say so.
            for key, messages in exc.message_dict.items():
                prepared.errors[aliases.CUSTOM_PREFIX + key] = "; ".join(messages)
                prepared.custom.pop(key, None)
            Lead.objects.filter(pk=lead.pk).update(
                custom=prepared.custom, field_errors=prepared.errors
            )
    fields = [*prepared.values, "channel", "state", "missing_fields", "visitor_id", "external_id"]
    events = [
        new_event(
            subject=lead,
            verb="lead.created",
            actor=actor,
            after={
                **snapshot(
                    lead, [f for f in fields if getattr(lead, f, None) not in ("", None, [])]
                ),
                **({"custom": prepared.custom} if prepared.custom else {}),
            },
            data={
                "via": prepared.source_detail.get("via", "intake"),
                "source_detail": prepared.source_detail,
                "field_errors": prepared.errors,
                "unmapped": prepared.unmapped,
            },
            now=now,
        )
    ]
    duplicates, clash = check_duplicates(
        lead=lead, actor=actor, now=now, keys=keys, settings=settings, events=events
    )
    if clash:
        prepared.errors["duplicate"] = clash
        Lead.objects.filter(pk=lead.pk).update(field_errors=prepared.errors)
    if any(d.entity == "contact" for d in duplicates):
        events.append(
            new_event(
                subject=lead,
                verb="lead.contact_matched",
                actor=actor,
                data={"matches": [d.as_json() for d in duplicates if d.entity == "contact"]},
                now=now,
            )
        )
    if prepared.visitor_id:
        attach_visitor_events(lead=lead, now=now, events=events)
    tags = [channel.effective_source_tag]
    names = condition_names(
        channel=channel, values=prepared.values, source_detail=prepared.source_detail
    )
    tags += [
        t for t in rule_tags(rules=settings.rules_for(channel.pk), names=names) if t not in tags
    ]
    if scoring.is_high_intent(summary, config) and config.high_intent_tag not in tags:
        tags.append(config.high_intent_tag)
    apply_tags(
        entity="lead",
        object_id=lead.pk,
        tags=tags,
        source="intake",
        actor=actor,
        now=now,
        known=settings.tags,
        events=events,
        fresh=True,
    )
    record_events(events)
    if state == LeadState.UNASSIGNED:
        decision = hand_to_routing(lead=lead, now=now, actor=actor)
        lead.state, lead.owner_id = routed_state(lead, decision)
    return lead, duplicates, tags


def routed_state(lead: Lead, decision: Any) -> tuple[str, int | None]:
    """(state, owner id) after routing, from routing's decision (no re-read when it says)."""
    if decision.outcome == "assigned" and decision.rep is not None:
        return LeadState.ASSIGNED, decision.rep.pk
    if decision.outcome == "offered":
        return LeadState.OFFERED, None
    if decision.outcome == "unassigned":
        return LeadState.UNASSIGNED, None
    state, owner_id = Lead.objects.filter(pk=lead.pk).values_list("state", "owner_id").get()
    return state, owner_id


# --- the incomplete pool ------------------------------------------------------------------------


def normalise_edit(values: Mapping[str, Any]) -> dict[str, Any]:
    """A person's edit of a lead, cleaned like intake cleans (phone to E.164 ...); raises
    ValidationError naming the field."""
    cleaned = dict(values)
    checked = {k: v for k, v in values.items() if k in ("mobile", "email") and v not in ("", None)}
    result = clean_values(checked)
    if result.errors:
        raise ValidationError({k: [v] for k, v in result.errors.items()})
    cleaned.update(result.values)
    return cleaned


def complete_lead(
    *,
    lead: Lead,
    actor: Any,
    values: Mapping[str, Any],
    custom: Mapping[str, Any] | None = None,
    route: bool = True,
    now: datetime.datetime | None = None,
) -> Lead:
    """Fix a lead in the incomplete pool. With `route`, every required field must now be filled:
    the lead leaves the pool (`lead.completed`) and is routed; without, the edit is saved and the
    missing list updated. Raises ValidationError naming what is still missing."""
    from jiepai.intake.services import update_lead

    now = now or timezone.now()
    values = normalise_edit(values)
    with transaction.atomic():
        # The row lock makes "complete and route" happen once when two people press it at once.
        current = (
            Lead.objects.select_for_update(of=("self",)).select_related("channel").get(pk=lead.pk)
        )
        if current.state != LeadState.INCOMPLETE:
            raise ValidationError(_("这条线索已不在待补全池"))
        update_lead(actor=actor, lead=current, values=dict(values), custom=custom, now=now)
        definitions = definitions_for("lead")
        required = current.channel.required_fields if current.channel_id else []
        missing = missing_fields(
            required=required,
            values={f: getattr(current, f) for f in aliases.LEAD_VALUE_FIELDS},
            custom=current.custom,
            definitions=definitions,
        )
        field_errors = {k: v for k, v in current.field_errors.items() if k not in values}
        config = IntentConfig.current()
        score = scoring.lead_score(
            channel_weight=current.channel.weight if current.channel_id else 1,
            filled_fields=[f for f in scoring.PROFILE_FIELDS if getattr(current, f)],
            intent=current.intent_score,
            weights=config,
        )
        if route and missing:
            raise ValidationError(dict.fromkeys(missing, [_("请补全此项")]))
        update = {"missing_fields": missing, "field_errors": field_errors, "score": score}
        if route:
            update["state"] = LeadState.UNASSIGNED
        Lead.objects.filter(pk=current.pk).update(**update, updated_at=now)
        for name, value in update.items():
            setattr(current, name, value)
        if route:
            record_event(
                subject=current,
                verb="lead.completed",
                actor=actor,
                before={"state": LeadState.INCOMPLETE},
                after={"state": LeadState.UNASSIGNED},
                now=now,
            )
            hand_to_routing(lead=current, now=now, actor=actor)
            current.refresh_from_db()
    return current
