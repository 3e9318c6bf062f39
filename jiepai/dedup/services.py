"""Use-cases of duplicate handling: the save hook, policies, unique rules, flags, access requests.

The entity services (customers.services, intake.services) call `record_saved` inside the
transaction that created or updated a record. Merging lives in jiepai.dedup.merge.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.core.entities import ENTITY_LABELS, entity_of, model_for
from jiepai.dedup.index import lock_keys, reindex, write_keys
from jiepai.dedup.keys import KINDS, Keys, keys_for, kind_label, values_of
from jiepai.dedup.matcher import (
    Candidate,
    Search,
    attach_records,
    find_duplicates,
    search_candidates,
)
from jiepai.dedup.models import (
    DEDUP_ENTITIES,
    AccessRequest,
    DedupPolicy,
    DismissedPair,
    DuplicateFlag,
    FlagStatus,
    MatchKey,
    Policy,
    UniqueRule,
)
from jiepai.dedup.reasons import reasons_json
from jiepai.dedup.selectors import enforced_kinds, policy_for
from jiepai.events.models import Event
from jiepai.events.services import new_event, record_event
from jiepai.notify.services import notify
from jiepai.org.models import User
from jiepai.org.visibility import can_see


def describe(candidate: Candidate, viewer: User | None) -> str:
    """ "张主任(瑞金医院),负责人:王磊" — or, for a record the viewer may not see, only its owner."""
    record = candidate.record
    owner = str(record.owner) if record is not None and record.owner else _("无负责人")
    label = ENTITY_LABELS.get(candidate.entity, candidate.entity)
    if record is None or (viewer is not None and not candidate.visible):
        return _("%(label)s(负责人:%(owner)s,你无权查看)") % {"label": label, "owner": owner}
    company = company_of(candidate.entity, record)
    name = f"{record}({company})" if company else str(record)
    return _("%(label)s“%(name)s”(负责人:%(owner)s,相似度 %(percent)d%%)") % {
        "label": label,
        "name": name,
        "owner": owner,
        "percent": candidate.percent,
    }


def company_of(entity: str, record: Model) -> str:
    if entity == "contact":
        return record.account.name if record.account_id else ""
    if entity == "lead":
        return record.company
    return ""


def record_saved(
    instance: Model,
    *,
    actor: User | None,
    created: bool,
    on_duplicate: str | None = None,
    source: str = "",
    now: datetime.datetime | None = None,
) -> list[Candidate]:
    """Index a saved account/contact/lead and apply the duplicate policy. Call it inside the
    transaction that saved the record, right after the save (create_record/update_record):

        with transaction.atomic():
            contact = create_record(Contact, ...)
            record_saved(contact, actor=actor, created=True, now=now)

    On creation the entity's policy (or `on_duplicate`: "block" | "warn" | "allow_and_flag",
    e.g. an import's choice) decides: block raises ValidationError naming the candidates (the
    caller's transaction rolls back, nothing is kept half-written); allow_and_flag records a
    DuplicateFlag per candidate for review; warn lets it in (the form showed the candidates).
    Unique rules are enforced on create and update. Returns the candidates found.
    """
    entity = entity_of(instance)
    if entity not in DEDUP_ENTITIES:
        return []
    now = now or timezone.now()
    keys = keys_for(entity, values_of(entity, instance))
    policy = policy_for(entity)
    mode = on_duplicate or policy.policy
    candidates: list[Candidate] = []
    if created and mode in (Policy.BLOCK, Policy.ALLOW_AND_FLAG):
        lock_keys(entity, keys)
        candidates = find_duplicates(
            entity,
            keys=keys,
            viewer=actor,
            exclude=[instance.pk],
            threshold=policy.act_threshold,
        )
        candidates = _without_dismissed(entity, instance.pk, candidates)
    if candidates and mode == Policy.BLOCK:
        names = ";".join(describe(c, actor) for c in candidates)
        raise ValidationError(
            {
                "__all__": _("疑似重复,已拦截:%(names)s。请打开已有记录,或申请查看。")
                % {"names": names}
            }
        )
    before_full = (
        MatchKey.objects.filter(
            entity="account", object_id=instance.pk, kind="company_full"
        ).first()
        if entity == "account" and not created
        else None
    )
    write_keys(entity, instance.pk, keys, actor=actor)
    if before_full is not None and before_full.value not in keys.get("company_full", []):
        # the account was renamed: its contacts' "name + company" keys follow
        reindex("contact", instance.contacts.values_list("pk", flat=True))
    if candidates and mode == Policy.ALLOW_AND_FLAG:
        _flag(entity, instance, candidates, actor=actor, source=source, now=now)
    return candidates


@dataclass
class DoorResult:
    """What `record_created` found (and flagged)."""

    #: records of the same entity at the policy's act threshold (flagged under allow_and_flag)
    candidates: list[Candidate] = field(default_factory=list)
    #: records of the related entities (a lead's contacts) at their own show threshold
    related: list[Candidate] = field(default_factory=list)
    #: with keep_on_clash: why a unique rule refused the record's keys (then none were written)
    clash: str = ""


def record_created(
    instance: Model,
    *,
    actor: User | None,
    keys: Keys | None = None,
    related: Sequence[str] = (),
    related_limit: int = 3,
    on_duplicate: str | None = None,
    source: str = "",
    now: datetime.datetime | None = None,
    policies: Mapping[str, DedupPolicy] | None = None,
    enforced: set[str] | None = None,
    keep_on_clash: bool = False,
    events: list[Event] | None = None,
) -> DoorResult:
    """The door check of a record just created, in one pass: what `record_saved(created=True)`
    does (index its keys, apply the policy: block / flag), plus finding the same person among
    `related` entities (a new lead among the contacts) — in two statements when nothing matches
    (the key lookups for every entity at once, the key INSERT), instead of a dozen.

    - `keys`: the record's keys when the caller computed them (e.g. before its transaction);
    - `policies` (entity → DedupPolicy) and `enforced` (the entity's unique kinds): when the
      caller has read them (a cached configuration), else they are read here;
    - `related` candidates score at least their entity's show threshold, at most
      `related_limit` per entity, attached without a visibility check (for linking, not for
      showing);
    - a unique-rule clash raises ValidationError like record_saved, or with `keep_on_clash`
      is returned in `clash` (nothing written: no keys, no flags) — the caller keeps the record;
    - `events`: a caller collecting events gets the `<entity>.duplicate_flagged` event appended.
    """
    entity = entity_of(instance)
    if entity not in DEDUP_ENTITIES:
        return DoorResult()
    now = now or timezone.now()
    keys = keys if keys is not None else keys_for(entity, values_of(entity, instance))

    def policy_of(name: str) -> DedupPolicy:
        found = policies.get(name) if policies is not None else None
        return found if found is not None else policy_for(name)

    policy = policy_of(entity)
    mode = on_duplicate or policy.policy
    own = mode in (Policy.BLOCK, Policy.ALLOW_AND_FLAG)
    searches = []
    if own:
        lock_keys(entity, keys)
        searches.append(Search(entity, policy.generic_key_count, frozenset([instance.pk])))
    others = {name: policy_of(name) for name in related if name != entity}
    searches += [Search(name, p.generic_key_count) for name, p in others.items()]
    found = search_candidates(keys, searches) if searches else {}
    candidates = [c for c in found.get(entity, []) if c.score >= policy.act_threshold][:5]
    linked = [
        c
        for name, p in others.items()
        for c in [c for c in found.get(name, []) if c.score >= p.show_threshold][:related_limit]
    ]
    attach_records(candidates, actor)
    attach_records(linked, None)
    result = DoorResult(
        candidates=[c for c in candidates if c.record is not None],
        related=[c for c in linked if c.record is not None],
    )
    # No DismissedPair can name a record created in this transaction (ids are never reused:
    # AUTOINCREMENT on SQLite, sequences on PostgreSQL), so there is nothing to leave out.
    if result.candidates and mode == Policy.BLOCK:
        names = ";".join(describe(c, actor) for c in result.candidates)
        raise ValidationError(
            {
                "__all__": _("疑似重复,已拦截:%(names)s。请打开已有记录,或申请查看。")
                % {"names": names}
            }
        )
    enforced = enforced_kinds(entity) if enforced is None else enforced
    if keep_on_clash and enforced:
        try:
            with transaction.atomic():
                write_keys(entity, instance.pk, keys, actor=actor, created=True, enforced=enforced)
        except ValidationError as exc:
            result.candidates, result.clash = [], "; ".join(exc.messages)
            return result
    else:
        write_keys(entity, instance.pk, keys, actor=actor, created=True, enforced=enforced)
    if result.candidates and mode == Policy.ALLOW_AND_FLAG:
        _flag(
            entity, instance, result.candidates, actor=actor, source=source, now=now, events=events
        )
    return result


def _without_dismissed(entity: str, object_id: int, candidates: list[Candidate]) -> list[Candidate]:
    if not candidates:
        return candidates
    pairs = set(
        DismissedPair.objects.filter(entity=entity)
        .filter(low_id__in=[object_id, *[c.object_id for c in candidates]])
        .values_list("low_id", "high_id")
    )
    return [
        c
        for c in candidates
        if c.entity != entity
        or (min(object_id, c.object_id), max(object_id, c.object_id)) not in pairs
    ]


def _flag(
    entity: str,
    instance: Model,
    candidates: list[Candidate],
    *,
    actor: User | None,
    source: str,
    now: datetime.datetime,
    events: list[Event] | None = None,
) -> None:
    same_entity = [c for c in candidates if c.entity == entity]
    # one INSERT; a pair flagged before keeps its flag as it is (the unique constraint)
    DuplicateFlag.objects.bulk_create(
        [
            DuplicateFlag(
                entity=entity,
                object_id=instance.pk,
                candidate_id=candidate.object_id,
                confidence=round(candidate.score, 4),
                reasons=reasons_json(candidate.reasons),
                source=source[:50],
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            for candidate in same_entity
        ],
        ignore_conflicts=True,
    )
    if same_entity:
        event = new_event(
            subject=instance,
            verb=f"{entity}.duplicate_flagged",
            actor=actor,
            data={
                "candidates": [
                    {"id": c.object_id, "confidence": round(c.score, 4)} for c in same_entity
                ]
            },
            now=now,
        )
        if events is None:
            event.save(force_insert=True)
        else:
            events.append(event)


def resolve_flags(
    *, entity: str, object_ids: list[int], status: str, actor: User | None, now: datetime.datetime
) -> int:
    from django.db.models import Q

    return DuplicateFlag.objects.filter(
        Q(object_id__in=object_ids) | Q(candidate_id__in=object_ids),
        entity=entity,
        status=FlagStatus.OPEN,
    ).update(status=status, resolved_by=actor, resolved_at=now)


# --- "these are not duplicates" ---------------------------------------------------------------


def dismiss_pair(
    *, entity: str, ids: list[int], actor: User, now: datetime.datetime | None = None
) -> int:
    """Record that the given records are not duplicates of each other (all pairs)."""
    now = now or timezone.now()
    model = model_for(entity)
    records = list(model._default_manager.filter(pk__in=ids))
    if len(records) != len(set(ids)) or not all(can_see(actor, r) for r in records):
        raise PermissionDenied
    created = 0
    ordered = sorted(set(ids))
    with transaction.atomic():
        for i, low in enumerate(ordered):
            for high in ordered[i + 1 :]:
                _, new = DismissedPair.objects.get_or_create(
                    entity=entity,
                    low_id=low,
                    high_id=high,
                    defaults={"dismissed_by": actor, "created_at": now},
                )
                created += new
        resolve_flags(
            entity=entity, object_ids=ordered, status=FlagStatus.DISMISSED, actor=actor, now=now
        )
    return created


# --- unique rules -----------------------------------------------------------------------------


def unique_clashes(entity: str, kind: str, *, limit: int = 20) -> list[tuple[str, list[int]]]:
    """Values of `kind` that several live records of `entity` share today."""
    values = list(
        MatchKey.objects.filter(entity=entity, kind=kind)
        .values("value")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", "value")
        .values_list("value", flat=True)[:limit]
    )
    return [
        (
            value,
            sorted(
                MatchKey.objects.filter(entity=entity, kind=kind, value=value).values_list(
                    "object_id", flat=True
                )
            ),
        )
        for value in values
    ]


def set_unique_rule(
    *,
    entity: str,
    kind: str,
    active: bool,
    actor: User | None,
    now: datetime.datetime | None = None,
) -> UniqueRule:
    """Switch a uniqueness rule on or off. Switching on while records already clash is refused
    with the clashing values listed (merge them first): the database index could not be built."""
    now = now or timezone.now()
    spec = KINDS.get(kind)
    if entity not in DEDUP_ENTITIES or spec is None or not spec.unique_capable:
        raise ValidationError({"kind": _("“%(kind)s”不能设为唯一") % {"kind": kind}})
    with transaction.atomic():
        rule, _created = UniqueRule.objects.select_for_update().get_or_create(
            entity=entity, kind=kind
        )
        if active:
            clashes = unique_clashes(entity, kind)
            if clashes:
                listed = ";".join(
                    _("%(value)s(%(n)d 条)") % {"value": value, "n": len(ids)}
                    for value, ids in clashes[:5]
                )
                raise ValidationError(
                    {
                        "kind": _("已有 %(n)d 组记录的%(label)s重复,请先合并:%(listed)s")
                        % {"n": len(clashes), "label": kind_label(kind), "listed": listed}
                    }
                )
        try:
            MatchKey.objects.filter(entity=entity, kind=kind).update(enforced=active)
        except IntegrityError as exc:  # a clash committed since we looked
            raise ValidationError({"kind": _("有记录正在写入重复值,请稍后重试")}) from exc
        rule.active = active
        rule.save(update_fields=["active", "updated_at"])
        record_event(
            subject_type="dedup_rule",
            subject_id=rule.pk,
            verb="dedup.unique_rule_changed",
            actor=actor,
            after={"entity": entity, "kind": kind, "active": active},
            now=now,
        )
    return rule


# --- request access ---------------------------------------------------------------------------


def request_access(
    *, entity: str, object_id: int, requester: User, now: datetime.datetime | None = None
) -> AccessRequest:
    """Ask the owner of a record the requester found at the door but may not see to share it."""
    now = now or timezone.now()
    if entity not in DEDUP_ENTITIES:
        raise ValidationError(_("不支持的对象"))
    record = model_for(entity)._default_manager.select_related("owner").filter(pk=object_id).first()
    if record is None or getattr(record, "merged_into_id", None):
        raise ValidationError(_("记录不存在"))
    if can_see(requester, record):
        raise ValidationError(_("你已经可以查看这条记录"))
    with transaction.atomic():
        request, created = AccessRequest.objects.get_or_create(
            entity=entity,
            object_id=object_id,
            requester=requester,
            granted=None,
            defaults={"owner": record.owner},
        )
        if created:
            approvers = [record.owner] if record.owner else []
            if record.owner and record.owner.department_id and record.owner.department.manager_id:
                approvers.append(record.owner.department.manager)
            notify(
                recipients=approvers,
                kind="dedup.access_requested",
                title=_("%(who)s 申请查看%(label)s“%(name)s”")
                % {"who": requester, "label": ENTITY_LABELS.get(entity, entity), "name": record},
                body=_("%(who)s 录入时发现这条记录已存在,申请共享查看。") % {"who": requester},
                url=reverse("dedup:access_request", args=[request.pk]),
                dedupe_key=f"dedup.access:{request.pk}",
            )
            record_event(
                subject=record,
                verb=f"{entity}.access_requested",
                actor=requester,
                data={"request": request.pk},
                now=now,
            )
    return request


def decide_access(
    *, request: AccessRequest, actor: User, grant: bool, now: datetime.datetime | None = None
) -> AccessRequest:
    """The owner (or anyone who sees the record and manages it) shares it, or declines."""
    now = now or timezone.now()
    model = model_for(request.entity)
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().get(pk=request.pk)
        record = model._default_manager.get(pk=request.object_id)
        if request.granted is not None:
            return request
        allowed = (
            actor.pk == getattr(record, "owner_id", None)
            or (actor.role in ("manager", "director", "admin") and can_see(actor, record))
            or actor.is_superuser
        )
        if not allowed:
            raise PermissionDenied
        request.granted = grant
        request.decided_at = now
        request.save(update_fields=["granted", "decided_at", "updated_at"])
        if grant:
            record.shared_with.add(request.requester)
            record_event(
                subject=record,
                verb=f"{request.entity}.shared",
                actor=actor,
                after={"shared_with": request.requester.pk},
                now=now,
            )
        notify(
            recipients=[request.requester],
            kind="dedup.access_decided",
            title=(_("已同意你查看“%(name)s”") if grant else _("未同意你查看“%(name)s”"))
            % {"name": record},
            url=record.get_absolute_url() if grant else "",
            dedupe_key=f"dedup.access_decided:{request.pk}",
        )
    return request
