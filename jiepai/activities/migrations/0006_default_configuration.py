"""Shipped defaults for follow-ups: requirements, conclusions, the action vocabulary, pain points,
the phrase map (seed 000) and the 签约 closure check. Admins edit these rows afterwards."""

from django.db import migrations

from jiepai.lib.notes import DEFAULT_ACTIONS, DEFAULT_PAIN_POINTS, DEFAULT_PHRASES

CONCLUSIONS = [
    "确认POC时间",
    "否决预算",
    "要求案例",
    "确认预算",
    "确认需求",
    "约定演示",
    "要求报价",
    "进入比价",
    "决策人认可",
    "暂无进展",
]


def load(apps, schema_editor):
    FollowUpRequirement = apps.get_model("activities", "FollowUpRequirement")
    ConclusionChoice = apps.get_model("activities", "ConclusionChoice")
    NextActionKind = apps.get_model("activities", "NextActionKind")
    PainPointKeyword = apps.get_model("activities", "PainPointKeyword")
    PhraseMeaning = apps.get_model("activities", "PhraseMeaning")
    ClosureRule = apps.get_model("activities", "ClosureRule")
    ActivitySettings = apps.get_model("activities", "ActivitySettings")

    # seed 001: the minimal mode needs customer, method and next action (with its time);
    # seed 000: a meeting or visit also names who (with their role) and what was concluded
    FollowUpRequirement.objects.get_or_create(method="")
    for method in ("visit", "meeting"):
        FollowUpRequirement.objects.get_or_create(
            method=method,
            defaults={
                "requires_contact": True,
                "requires_contact_role": True,
                "requires_conclusion": True,
            },
        )
    for position, label in enumerate(CONCLUSIONS):
        ConclusionChoice.objects.get_or_create(label=label, defaults={"position": position})
    for position, action in enumerate(DEFAULT_ACTIONS):
        NextActionKind.objects.get_or_create(
            code=action.kind,
            defaults={
                "label": action.label,
                "triggers": list(action.triggers),
                "generic": action.generic,
                "position": position,
            },
        )
    for point in DEFAULT_PAIN_POINTS:
        PainPointKeyword.objects.get_or_create(
            label=point.label, defaults={"triggers": list(point.triggers)}
        )
    for phrase in DEFAULT_PHRASES:
        PhraseMeaning.objects.get_or_create(
            meaning=phrase.meaning,
            defaults={
                "triggers": list(phrase.triggers),
                "task_title": phrase.task,
                "task_kind": phrase.task_kind,
            },
        )
    ClosureRule.objects.get_or_create(
        action_kind="signing", defaults={"evidence_kinds": ["contract", "contract_draft"]}
    )
    ActivitySettings.objects.get_or_create(pk=1)


def unload(apps, schema_editor):
    for name in (
        "FollowUpRequirement",
        "ConclusionChoice",
        "NextActionKind",
        "PainPointKeyword",
        "PhraseMeaning",
        "ClosureRule",
        "ActivitySettings",
    ):
        apps.get_model("activities", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("activities", "0005_followups_visits_config")]

    operations = [migrations.RunPython(load, unload)]
