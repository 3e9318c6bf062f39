"""Stage gates in the configuration YAML (`jiepai config export/import`), section "stage_gates".

An item names its stage by pipeline and stage name (the "pipelines" section, imported before
this one, creates them) and is found again by (pipeline, stage, label, kind): alternatives of one
"any of" group share a label but differ in kind. Validation is the admin's (GateRequirement.clean:
known field, numeric range, a condition that parses, a configured conclusion).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from jiepai.core.config import Item, ItemError, apply_item, check_keys, plain_fields, save_item
from jiepai.pipeline.models import GateRequirement, Stage


def _fields() -> list:
    return plain_fields(GateRequirement)


def export_gates() -> list[Item]:
    fields = _fields()
    rows = GateRequirement.objects.select_related("stage__pipeline").order_by(
        "stage__pipeline__name", "stage__position", "position", "id"
    )
    return [
        {
            "pipeline": row.stage.pipeline.name,
            "stage": row.stage.name,
            **{
                f.name: f.value_from_object(row)
                for f in fields
                if f.name not in ("min_value", "max_value")
            },
            "min_value": _number(row.min_value),
            "max_value": _number(row.max_value),
        }
        for row in rows
    ]


def _number(value: object) -> int | float | None:
    if value is None:
        return None
    as_float = float(value)  # type: ignore[arg-type]
    return int(as_float) if as_float.is_integer() else as_float


def import_gate(item: Item) -> str:
    fields = _fields()
    check_keys(
        item,
        ["pipeline", "stage", *(f.name for f in fields)],
        ("pipeline", "stage", "label", "kind"),
    )
    stage = Stage.objects.filter(
        pipeline__name=str(item["pipeline"]), name=str(item["stage"])
    ).first()
    if stage is None:
        raise ItemError(
            _("销售流程“%(p)s”中没有阶段“%(s)s”") % {"p": item["pipeline"], "s": item["stage"]}
        )
    requirement = GateRequirement.objects.filter(
        stage=stage, label=str(item["label"]), kind=str(item["kind"])
    ).first() or GateRequirement(stage=stage)
    values = {k: v for k, v in item.items() if k not in ("pipeline", "stage")}
    return save_item(requirement, apply_item(requirement, values, fields))
