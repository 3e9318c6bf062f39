"""The intent-score configuration row (seed 004 defaults) and seed 001's page rule
(a web-form lead whose page URL contains /product/plc → PLC高意向).

Default channels are not created here (tests and existing installs own their channel slugs):
`jiepai defaultchannels` installs them (jiepai.intake.services.install_default_channels)."""

from django.db import migrations


def create_defaults(apps, schema_editor):
    IntentConfig = apps.get_model("intake", "IntentConfig")
    TagRule = apps.get_model("intake", "TagRule")
    if not IntentConfig.objects.exists():
        IntentConfig.objects.create(download_kinds=["whitepaper"])
    if not TagRule.objects.filter(tag_name="PLC高意向").exists():
        TagRule.objects.create(
            name="官网 PLC 产品页咨询",
            condition='kind == "web_form" and "/product/plc" in page_url',
            tag_name="PLC高意向",
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("intake", "TagRule").objects.filter(tag_name="PLC高意向").delete()
    apps.get_model("intake", "IntentConfig").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0003_intake_pipeline")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
