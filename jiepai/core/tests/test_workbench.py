from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from jiepai.activities.models import Task
from jiepai.conftest import PASSWORD
from jiepai.core.workbench import workbench
from jiepai.intake.models import Lead
from jiepai.intake.services import create_lead


def test_rep_workbench_puts_the_most_urgent_first(people):
    now = timezone.now()
    lead = create_lead(actor=people.rep, values={"name": "李总", "company": "华东机械"})
    Lead.objects.filter(pk=lead.pk).update(response_due_at=now + datetime.timedelta(minutes=10))
    Task.objects.create(
        title="给张主任回电", owner=people.rep, due_at=now + datetime.timedelta(hours=1)
    )
    Task.objects.create(title="明天的事", owner=people.rep, due_at=now + datetime.timedelta(days=2))
    bench = workbench(people.rep, now=now)
    assert [m.title for m in bench.must_dos][:2] == ["联系线索:李总", "给张主任回电"]
    assert bench.waiting_leads == 1


def test_outsider_workbench_shows_nothing_of_others(people):
    create_lead(actor=people.rep, values={"name": "李总"})
    bench = workbench(people.outsider, now=timezone.now())
    assert bench.must_dos == [] and bench.waiting_leads == 0


def test_home_page_renders_for_every_role(client, people):
    for user in (
        people.rep,
        people.manager,
        people.director,
        people.marketing,
        people.service,
        people.admin,
    ):
        client.login(username=user.username, password=PASSWORD)
        assert client.get(reverse("home")).status_code == 200
