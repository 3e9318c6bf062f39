"""The seed defaults as configuration rows: one policy of each kind (round-robin is the default,
and the key every channel starts with) and the high-value rule (seed 000: 预算 > 50万 → 能力匹配)."""

from django.db import migrations

WEIGHTS = {
    "open_opportunities": {"weight": 0.30, "direction": "lower"},
    "won_revenue": {"weight": 0.25, "direction": "lower"},
    "industry_conversion": {"weight": 0.25, "direction": "higher"},
    "online": {"weight": 0.20, "direction": "higher"},
}

POLICIES = [
    {"key": "round_robin", "name": "轮询", "kind": "round_robin", "is_default": True,
     "skip_offline": True},
    {"key": "weighted_pool", "name": "权重池抢单", "kind": "weighted_pool", "is_default": False,
     "skip_offline": False},
    {"key": "capability_match", "name": "能力匹配(高净值)", "kind": "capability_match",
     "is_default": False, "skip_offline": False},
]


def create(apps, schema_editor):
    RoutingPolicy = apps.get_model("routing", "RoutingPolicy")
    RoutingRule = apps.get_model("routing", "RoutingRule")
    policies = {}
    for values in POLICIES:
        policies[values["key"]], _ = RoutingPolicy.objects.get_or_create(
            key=values["key"], defaults={**values, "weights": WEIGHTS}
        )
    RoutingRule.objects.get_or_create(
        name="高净值线索",
        defaults={
            "condition": "budget > 500000",
            "policy": policies["capability_match"],
            "priority": 10,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("routing", "RoutingRule").objects.filter(name="高净值线索").delete()
    apps.get_model("routing", "RoutingPolicy").objects.filter(
        key__in=[p["key"] for p in POLICIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
