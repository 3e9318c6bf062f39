"""Default gates from the seed articles (阶段门槛):

- 方案演示: 报价单已发送 (a 报价单 file OR a follow-up concluding "已发送报价") + 复盘时间已约 (a next
  step booked: an open task or a follow-up's next action due in the future);
- 商务谈判: 合同草案 (file) + 预算范围 (custom field, created here) + 决策链角色 (a 决策人 contact);
- 输单: 输单原因.

Existing deals get their stall clock started from their last update.
"""

import datetime

from django.db import migrations

BUDGET_OPTIONS = [
    {"value": "lt_10w", "label": "10万以下", "synonyms": ["10万内", "<10万"]},
    {"value": "10w_50w", "label": "10–50万", "synonyms": ["10-50万", "10~50万"]},
    {"value": "50w_100w", "label": "50–100万", "synonyms": ["50-100万", "50~100万"]},
    {"value": "100w_500w", "label": "100–500万", "synonyms": ["100-500万", "100~500万"]},
    {"value": "gt_500w", "label": "500万以上", "synonyms": [">500万"]},
]

# stage name -> [(label, kind, any_of, params, help_text)]
GATES = {
    "方案演示": [
        ("报价单已发送", "attachment", "quote_sent", {"attachment_kind": "quote"}, ""),
        (
            "报价单已发送",
            "activity",
            "quote_sent",
            {"activity_conclusion": "已发送报价"},
            "或记录一条关键结论为“已发送报价”的跟进",
        ),
        ("复盘时间已约", "next_action", "", {}, "约好方案复盘的时间(待办,或跟进记录里的下一步)"),
    ],
    "商务谈判": [
        ("合同草案", "attachment", "", {"attachment_kind": "contract_draft"}, ""),
        ("预算范围", "field", "", {"field_name": "custom.budget_range"}, ""),
        ("决策链角色", "contact_role", "", {"contact_role": "decision_maker"}, ""),
    ],
    "输单": [
        ("输单原因", "field", "", {"field_name": "loss_reason"}, ""),
    ],
}

DESCRIPTIONS = {
    "需求确认": "确认客户需求、预算意向和决策人",
    "方案演示": "已发送报价单,并约好复盘时间",
    "报价反馈": "客户已对报价给出反馈",
    "商务谈判": "合同草案已发出,预算范围和决策链已明确",
    "赢单": "已签约",
    "输单": "已丢单,须填写原因",
}


def create(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    GateRequirement = apps.get_model("pipeline", "GateRequirement")
    Opportunity = apps.get_model("pipeline", "Opportunity")
    FieldDefinition = apps.get_model("customfields", "FieldDefinition")
    FieldDefinition.objects.get_or_create(
        entity="opportunity",
        key="budget_range",
        defaults={
            "label": "预算范围",
            "label_en": "Budget range",
            "field_type": "select",
            "options": BUDGET_OPTIONS,
            "help_text": "客户自己说的预算区间",
            "position": 10,
        },
    )
    pipeline = Pipeline.objects.filter(name="标准销售流程").first()
    if pipeline is None:
        return
    for stage in Stage.objects.filter(pipeline=pipeline):
        if not stage.description and stage.name in DESCRIPTIONS:
            stage.description = DESCRIPTIONS[stage.name]
            stage.save(update_fields=["description"])
        if GateRequirement.objects.filter(stage=stage).exists():
            continue
        for position, (label, kind, any_of, params, help_text) in enumerate(
            GATES.get(stage.name, []), start=1
        ):
            GateRequirement.objects.create(
                stage=stage,
                label=label,
                kind=kind,
                any_of=any_of,
                help_text=help_text,
                position=position * 10,
                **params,
            )
    for deal in Opportunity.objects.filter(touched_at__isnull=True).select_related("stage"):
        deal.touched_at = deal.updated_at
        stage = deal.stage
        if not (stage.is_won or stage.is_lost) and stage.stall_hours:
            deal.stall_due_at = deal.updated_at + datetime.timedelta(hours=stage.stall_hours)
        deal.save(update_fields=["touched_at", "stall_due_at"])


def remove(apps, schema_editor):
    GateRequirement = apps.get_model("pipeline", "GateRequirement")
    GateRequirement.objects.filter(stage__pipeline__name="标准销售流程").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0003_gates"),
        ("customfields", "0001_initial"),
    ]
    operations = [migrations.RunPython(create, remove)]
