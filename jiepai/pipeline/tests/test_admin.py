"""Gates are configuration an admin edits; a broken condition is refused when saved."""

from __future__ import annotations

from django.urls import reverse

from jiepai.conftest import PASSWORD
from jiepai.pipeline.models import GateRequirement


def _admin(client, people):
    assert client.login(username=people.admin.username, password=PASSWORD)
    return client


def _post(client, stage, **fields):
    data = {
        "stage": stage.pk,
        "label": "大单审批",
        "kind": "condition",
        "any_of": "",
        "field_name": "",
        "attachment_kind": "",
        "contact_role": "",
        "activity_kind": "",
        "activity_conclusion": "",
        "expression": "",
        "help_text": "",
        "position": 0,
        "active": "on",
        **fields,
    }
    return client.post(reverse("admin:pipeline_gaterequirement_add"), data)


def test_admin_lists_stages_with_their_gates(client, people):
    response = _admin(client, people).get(reverse("admin:pipeline_stage_changelist"))
    assert response.status_code == 200
    assert "合同草案" in response.content.decode()


def test_admin_refuses_a_condition_that_does_not_parse(client, people, stages):
    response = _post(_admin(client, people), stages["商务谈判"], expression="amount >")
    assert response.status_code == 200
    assert "条件" in response.content.decode()
    assert not GateRequirement.objects.filter(label="大单审批").exists()


def test_admin_saves_a_valid_condition(client, people, stages):
    response = _post(
        _admin(client, people), stages["商务谈判"], expression="amount >= 100000 or tier == 'A'"
    )
    assert response.status_code == 302
    assert GateRequirement.objects.get(label="大单审批").stage == stages["商务谈判"]


def test_admin_refuses_an_attachment_gate_without_a_file_kind(client, people, stages):
    _post(_admin(client, people), stages["商务谈判"], kind="attachment")
    assert not GateRequirement.objects.filter(label="大单审批").exists()
