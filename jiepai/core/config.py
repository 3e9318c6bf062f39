"""Configuration as one YAML file: `jiepai config export FILE.yaml` / `jiepai config import FILE.yaml`.

The file has one top-level key per *section* (channels, pipelines, custom_fields, ...), each a
list of items. An app adds its own section from its AppConfig.ready():

    from jiepai.core.config import register_config_section
    register_config_section("routing_policies", export_policies, import_policies)

`export_fn()` returns a list of plain dicts (YAML-safe: str, int, float, bool, None, list, dict);
`import_fn(item)` creates or updates the row an item describes, found by its natural key (slug,
name, entity+key), and returns "created", "updated" or "unchanged"; it raises `ItemError` for a
bad item (the message is prefixed with the section and the item). Sections are imported in
registration order (register after the sections you refer to). `plain_fields`, `check_keys`,
`apply_item` and `save_item` below do most of the work for a table of plain columns.

Import is all-or-nothing (one transaction), idempotent (importing the same file twice changes
nothing the second time), and additive: rows missing from the file are left alone. Secrets
(a channel's intake key) are never exported.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT_VERSION = 1
VERSION_KEY = "jiepai_config"

Item = dict[str, Any]


class ConfigError(Exception):
    """A file that cannot be imported; the message names the section and the item."""


class ItemError(Exception):
    """Raised by an import function for one bad item (the caller adds section and position)."""


#: what an import function returns for an item
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class SectionReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __str__(self) -> str:
        return _("新增 %(c)d,更新 %(u)d,未变 %(n)d") % {
            "c": self.created,
            "u": self.updated,
            "n": self.unchanged,
        }


@dataclass(frozen=True)
class ConfigSection:
    name: str
    export: Callable[[], list[Item]]
    import_item: Callable[[Item], str]


@dataclass
class ImportResult:
    sections: dict[str, SectionReport] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(r.created or r.updated for r in self.sections.values())


_sections: dict[str, ConfigSection] = {}


def register_config_section(
    name: str,
    export_fn: Callable[[], list[Item]],
    import_fn: Callable[[Item], str],
) -> None:
    """Add (or replace, when an app registers again on reload) a section of the config file."""
    _sections[name] = ConfigSection(name, export_fn, import_fn)


def sections() -> list[str]:
    return list(_sections)


# --- the file --------------------------------------------------------------------------------


def export_config() -> dict[str, Any]:
    return {VERSION_KEY: FORMAT_VERSION, **{s.name: s.export() for s in _sections.values()}}


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def load_yaml(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_("不是有效的 YAML:%(error)s") % {"error": exc}) from exc
    if not isinstance(data, dict):
        raise ConfigError(_("配置文件的顶层应为“名称: 列表”的映射"))
    return data


def import_config(
    data: dict[str, Any],
    *,
    actor: Any = None,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
) -> ImportResult:
    """Validate and apply a config file's contents, all-or-nothing; raises ConfigError."""
    version = data.get(VERSION_KEY, FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ConfigError(
            _("不支持的配置格式版本 %(v)s(应为 %(ok)s)") % {"v": version, "ok": FORMAT_VERSION}
        )
    unknown = [key for key in data if key != VERSION_KEY and key not in _sections]
    if unknown:
        raise ConfigError(
            _("未知的配置段:%(names)s(可用:%(known)s)")
            % {"names": ", ".join(map(str, unknown)), "known": ", ".join(_sections)}
        )
    result = ImportResult()
    with transaction.atomic():
        for section in _sections.values():
            if section.name not in data:
                continue
            items = data[section.name] or []
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise ConfigError(_("%(section)s:应为条目列表") % {"section": section.name})
            report = result.sections[section.name] = SectionReport()
            _import_section(section, items, report)
        if dry_run:
            transaction.set_rollback(True)
        elif result.changed:
            from jiepai.events.services import record_event

            record_event(
                subject_type="config",
                subject_id=0,
                verb="config.imported",
                actor=actor,
                data={name: vars(report) for name, report in result.sections.items()},
                now=now or timezone.now(),
            )
    return result


def _import_section(section: ConfigSection, items: list[Item], report: SectionReport) -> None:
    for number, item in enumerate(items, start=1):
        try:
            report.count(section.import_item(item))
        except ItemError as exc:
            raise ConfigError(
                _("%(section)s 第 %(n)d 项(%(item)s):%(error)s")
                % {"section": section.name, "n": number, "item": _describe(item), "error": exc}
            ) from exc


def _describe(item: Item) -> str:
    for key in ("slug", "key", "name", "path"):
        if key in item:
            value = item[key]
            return "/".join(map(str, value)) if isinstance(value, list) else str(value)
    return "?"


# --- helpers for sections of plain rows ------------------------------------------------------

#: never in the file: database ids, bookkeeping, secrets
SKIPPED = {"id", "created_at", "updated_at", "intake_key"}


def plain_fields(model: type[models.Model], *, exclude: Iterable[str] = ()) -> list[models.Field]:
    """The columns of `model` that are configuration: not keys, relations or bookkeeping."""
    skipped = SKIPPED | set(exclude)
    return [
        f
        for f in model._meta.concrete_fields
        if not f.is_relation and f.name not in skipped and f.editable
    ]


def to_yaml_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def row_to_item(instance: models.Model, fields: list[models.Field]) -> Item:
    return {f.name: to_yaml_value(f.value_from_object(instance)) for f in fields}


def check_keys(item: Item, allowed: Iterable[str], required: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ItemError(_("未知字段:%(names)s") % {"names": ", ".join(unknown)})
    missing = [name for name in required if item.get(name) in (None, "")]
    if missing:
        raise ItemError(_("缺少字段:%(names)s") % {"names": ", ".join(missing)})


def apply_item(
    instance: models.Model,
    item: Item,
    fields: list[models.Field],
    *,
    exclude_from_clean: Iterable[str] = (),
) -> bool:
    """Set `fields` present in `item` on `instance` and validate; True when something changed.

    Does not save. Raises ItemError with the field-level messages.
    """
    changed = instance._state.adding
    for f in fields:
        if f.name not in item:
            continue
        raw = item[f.name]
        if isinstance(f, models.DecimalField) and isinstance(raw, float):
            raw = str(raw)  # YAML 0.8 is a float; as a Decimal it must stay 0.8, not 0.8000…04
        try:
            value = f.to_python(raw)
        except ValidationError as exc:
            raise ItemError(f"{f.name}: {'; '.join(exc.messages)}") from exc
        if value is None and not f.null:
            raise ItemError(f"{f.name}: {_('不能为空')}")
        if f.value_from_object(instance) != value:
            setattr(instance, f.attname, value)
            changed = True
    try:
        instance.full_clean(exclude=list(exclude_from_clean))
    except ValidationError as exc:
        raise ItemError(
            "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
            )
        ) from exc
    return changed


def save_item(instance: models.Model, changed: bool) -> str:
    if instance._state.adding:
        instance.save()
        return CREATED
    if changed:
        instance.save()
        return UPDATED
    return UNCHANGED


# --- the sections Jiepai ships ----------------------------------------------------------------


def export_departments() -> list[Item]:
    from jiepai.org.models import Department

    by_id = {d.pk: d for d in Department.objects.select_related("manager")}
    items = []
    for department in sorted(by_id.values(), key=lambda d: d.path):
        ids = [int(part) for part in department.path.strip("/").split("/") if part]
        items.append(
            {
                "path": [by_id[i].name for i in ids if i in by_id] or [department.name],
                "manager": department.manager.username if department.manager else None,
            }
        )
    return items


def import_department(item: Item) -> str:
    """A department is named by its path of names from the root: [节拍科技, 华东大区]; its
    parent must exist already (list parents first, as export does)."""
    from jiepai.org.models import Department, User
    from jiepai.org.services import create_department

    check_keys(item, ("path", "manager"), ("path",))
    path = item["path"]
    if not isinstance(path, list) or not all(isinstance(p, str) and p.strip() for p in path):
        raise ItemError(_("path 应为部门名称列表,如 [节拍科技, 华东大区]"))
    if any(len(name.strip()) > 100 for name in path):
        raise ItemError(_("部门名称不能超过 100 个字符"))
    manager = None
    if item.get("manager"):
        manager = User.objects.filter(username=item["manager"]).first()
        if manager is None:
            raise ItemError(_("没有用户名为“%(u)s”的用户") % {"u": item["manager"]})
    parent = None
    for name in path[:-1]:
        parent = Department.objects.filter(parent=parent, name=name.strip()).first()
        if parent is None:
            raise ItemError(_("上级部门“%(name)s”不存在,请先列出上级部门") % {"name": name})
    department = Department.objects.filter(parent=parent, name=path[-1].strip()).first()
    if department is None:
        create_department(name=path[-1].strip(), parent=parent, manager=manager)
        return CREATED
    if "manager" in item and department.manager_id != (manager.pk if manager else None):
        department.manager = manager
        department.save(update_fields=["manager", "updated_at"])
        return UPDATED
    return UNCHANGED


def export_channels() -> list[Item]:
    from jiepai.intake.models import Channel

    fields = plain_fields(Channel)
    return [row_to_item(c, fields) for c in Channel.objects.order_by("slug")]


def import_channel(item: Item) -> str:
    from jiepai.intake.models import Channel

    fields = plain_fields(Channel)
    check_keys(item, [f.name for f in fields], ("slug", "name", "kind"))
    channel = Channel.objects.filter(slug=str(item["slug"])).first() or Channel()
    return save_item(channel, apply_item(channel, item, fields))


def export_pipelines() -> list[Item]:
    from jiepai.pipeline.models import Pipeline, Stage

    stage_fields = plain_fields(Stage)
    pipeline_fields = plain_fields(Pipeline)
    return [
        {
            **row_to_item(pipeline, pipeline_fields),
            "stages": [row_to_item(s, stage_fields) for s in pipeline.stages.order_by("position")],
        }
        for pipeline in Pipeline.objects.prefetch_related("stages").order_by("name")
    ]


def import_pipeline(item: Item) -> str:
    """A pipeline by its name, its stages by (pipeline, name). The pipeline counts as updated
    when any of its stages changed; stages missing from the file are kept."""
    from jiepai.pipeline.models import Pipeline, Stage

    pipeline_fields = plain_fields(Pipeline)
    stage_fields = plain_fields(Stage)
    check_keys(item, [*(f.name for f in pipeline_fields), "stages"], ("name",))
    stages = item.get("stages") or []
    if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
        raise ItemError(_("stages 应为阶段列表"))
    pipeline = Pipeline.objects.filter(name=str(item["name"])).first() or Pipeline()
    created = pipeline._state.adding
    changed = apply_item(pipeline, item, pipeline_fields)
    if changed:
        pipeline.save()
    for number, stage_item in enumerate(stages, start=1):
        try:
            check_keys(stage_item, [f.name for f in stage_fields], ("name",))
            stage = Stage.objects.filter(
                pipeline=pipeline, name=str(stage_item["name"])
            ).first() or Stage(pipeline=pipeline)
            if apply_item(stage, stage_item, stage_fields):
                stage.save()
                changed = True
        except ItemError as exc:
            raise ItemError(
                _("阶段 %(n)d(%(name)s):%(error)s")
                % {"n": number, "name": stage_item.get("name", "?"), "error": exc}
            ) from exc
    return CREATED if created else UPDATED if changed else UNCHANGED


def export_custom_fields() -> list[Item]:
    from jiepai.customfields.models import FieldDefinition

    fields = plain_fields(FieldDefinition)
    return [
        row_to_item(d, fields)
        for d in FieldDefinition.objects.order_by("entity", "position", "key")
    ]


def import_custom_field(item: Item) -> str:
    """By (entity, key). A change that would invalidate stored values is refused, with why."""
    from jiepai.core.entities import ENTITY_MODELS, model_for
    from jiepai.customfields.models import FieldDefinition
    from jiepai.customfields.services import check_definition_change

    fields = plain_fields(FieldDefinition)
    check_keys(item, [f.name for f in fields], ("entity", "key", "label", "field_type"))
    if item["entity"] not in ENTITY_MODELS:
        raise ItemError(_("entity 可选:%(v)s") % {"v": ", ".join(ENTITY_MODELS)})
    definition = (
        FieldDefinition.objects.filter(entity=item["entity"], key=str(item["key"])).first()
        or FieldDefinition()
    )
    changed = apply_item(definition, item, fields)
    if changed and not definition._state.adding and definition.active:
        stored = model_for(definition.entity)._default_manager.values_list("custom", flat=True)
        problems = check_definition_change(definition, list(stored))
        if problems:
            raise ItemError("; ".join(problems))
    return save_item(definition, changed)


def export_tags() -> list[Item]:
    from jiepai.tagging.models import Tag

    fields = plain_fields(Tag)
    return [row_to_item(t, fields) for t in Tag.objects.order_by("category", "name")]


def import_tag(item: Item) -> str:
    from jiepai.tagging.models import Tag

    fields = plain_fields(Tag)
    check_keys(item, [f.name for f in fields], ("name",))
    tag = Tag.objects.filter(name=str(item["name"])).first() or Tag()
    return save_item(tag, apply_item(tag, item, fields))


register_config_section("departments", export_departments, import_department)
register_config_section("channels", export_channels, import_channel)
register_config_section("pipelines", export_pipelines, import_pipeline)
register_config_section("custom_fields", export_custom_fields, import_custom_field)
register_config_section("tags", export_tags, import_tag)
