from __future__ import annotations

import pytest
from django.urls import reverse

from jiepai.conftest import PASSWORD
from jiepai.customers.services import create_account, create_contact
from jiepai.customfields.models import FieldDefinition
from jiepai.events.models import Event
from jiepai.intake.models import Lead
from jiepai.intake.services import create_lead
from jiepai.pipeline.services import create_opportunity


@pytest.fixture
def records(people):
    account = create_account(actor=people.rep, values={"name": "上海瑞金医院", "industry": "医疗"})
    contact = create_contact(actor=people.rep, values={"name": "张主任", "account": account})
    lead = create_lead(
        actor=people.rep, values={"name": "李总", "company": "华东机械", "mobile": "13800138000"}
    )
    opportunity = create_opportunity(
        actor=people.rep, values={"name": "超声设备采购", "account": account, "amount": 500000}
    )
    return {"account": account, "contact": contact, "lead": lead, "opportunity": opportunity}


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


LISTS = [
    "intake:lead_list",
    "customers:account_list",
    "customers:contact_list",
    "pipeline:opportunity_list",
]


@pytest.mark.parametrize("name", LISTS)
def test_list_pages_render_for_the_owner(client, people, records, name):
    response = _login(client, people.rep).get(reverse(name))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1


@pytest.mark.parametrize("name", LISTS)
def test_outsider_sees_empty_lists(client, people, records, name):
    response = _login(client, people.outsider).get(reverse(name))
    assert response.context["page"].paginator.count == 0


@pytest.mark.parametrize("kind", ["lead", "account", "contact", "opportunity"])
def test_outsider_gets_404_on_guessed_detail_url(client, people, records, kind):
    record = records[kind]
    _login(client, people.outsider)
    assert client.get(record.get_absolute_url()).status_code == 404
    assert client.get(record.get_absolute_url() + "edit/").status_code == 404


@pytest.mark.parametrize("kind", ["lead", "account", "contact", "opportunity"])
def test_detail_page_shows_timeline(client, people, records, kind):
    response = _login(client, people.rep).get(records[kind].get_absolute_url())
    assert response.status_code == 200
    assert response.context["entries"], "the creation event is on the timeline"


def test_manager_sees_department_records(client, people, records):
    response = _login(client, people.manager).get(records["lead"].get_absolute_url())
    assert response.status_code == 200


def test_list_search_filter_sort_and_bad_params(client, people, records):
    _login(client, people.rep)
    create_lead(actor=people.rep, values={"name": "王经理", "company": "杭州医疗"})
    assert (
        client.get(reverse("intake:lead_list"), {"q": "杭州"}).context["page"].paginator.count == 1
    )
    assert (
        client.get(reverse("intake:lead_list"), {"state": "assigned"})
        .context["page"]
        .paginator.count
        == 2
    )
    response = client.get(
        reverse("intake:lead_list"),
        {"state": "nonsense", "page": "x", "sort": "evil", "owner": "abc", "q": "x" * 5000},
    )
    assert response.status_code == 200


def test_create_form_shows_field_errors_and_keeps_input(client, people):
    _login(client, people.rep)
    response = client.post(reverse("customers:account_create"), {"name": "", "city": "上海"})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert response.context["form"]["city"].value() == "上海"


def test_create_form_rejects_overlong_text(client, people):
    _login(client, people.rep)
    response = client.post(reverse("intake:lead_create"), {"name": "张" * 500})
    assert response.status_code == 400
    assert Lead.objects.count() == 0


def test_custom_field_errors_land_on_their_field(client, people):
    FieldDefinition.objects.create(
        entity="account", key="beds", label="床位数", field_type="number", required=True
    )
    _login(client, people.rep)
    response = client.post(
        reverse("customers:account_create"), {"name": "瑞金医院", "custom__beds": "很多"}
    )
    assert response.status_code == 400
    assert "custom__beds" in response.context["form"].errors
    response = client.post(
        reverse("customers:account_create"), {"name": "瑞金医院", "custom__beds": "1200"}
    )
    assert response.status_code == 302


def test_edit_writes_before_and_after_to_trace(client, people, records):
    _login(client, people.rep)
    account = records["account"]
    response = client.post(
        account.get_absolute_url() + "edit/",
        {"name": "上海交通大学医学院附属瑞金医院", "industry": "医疗"},
    )
    assert response.status_code == 302
    event = Event.objects.get(subject_type="account", subject_id=account.pk, verb="account.updated")
    assert event.before["name"] == "上海瑞金医院"
    assert event.after["name"] == "上海交通大学医学院附属瑞金医院"


def test_rep_cannot_pick_someone_elses_account_for_a_contact(client, people, records):
    _login(client, people.outsider)
    response = client.post(
        reverse("customers:contact_create"),
        {"name": "张三", "account": records["account"].pk, "decision_weight": 0},
    )
    assert response.status_code == 400
    assert "account" in response.context["form"].errors


def test_anonymous_user_is_sent_to_login(client, records):
    response = client.get(reverse("intake:lead_list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_chinese_is_the_default_whatever_the_browser_says(client, people):
    _login(client, people.rep)
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"


def test_language_switch_sets_english(client, people):
    _login(client, people.rep)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert client.get(reverse("home"))["Content-Language"] == "en"


def test_a_follow_up_appears_once_on_the_timeline(people, records):
    import datetime

    from django.utils import timezone

    from jiepai.activities.services import log_follow_up
    from jiepai.core.timeline import timeline

    now = timezone.now()
    log_follow_up(
        actor=people.rep,
        method="call",
        account=records["account"],
        contact=records["contact"],
        contact_role="decision_maker",
        conclusion="确认POC时间",
        summary="电话沟通",
        next_action="样机演示",
        next_action_due=now + datetime.timedelta(days=2),
        now=now,
    )
    entries = timeline("account", records["account"].pk)
    assert [e.kind for e in entries].count("activity") == 1
    assert not [e for e in entries if e.kind == "event" and e.item.verb == "activity.logged"]


def test_required_custom_file_field_is_uploaded_with_the_form(client, people, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jiepai.customers.models import Account
    from jiepai.files.models import Attachment

    settings.MEDIA_ROOT = tmp_path
    FieldDefinition.objects.create(entity="account", key="license", label="经营许可证", field_type="file", required=True)
    _login(client, people.rep)
    response = client.post(reverse("customers:account_create"), {"name": "瑞金医院"})
    assert response.status_code == 400 and "custom__license" in response.context["form"].errors
    upload = SimpleUploadedFile("许可证.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(reverse("customers:account_create"), {"name": "瑞金医院", "custom__license": upload})
    assert response.status_code == 302
    account = Account.objects.get(name="瑞金医院")
    attachment = Attachment.objects.get(pk=account.custom["license"])
    assert (attachment.entity, attachment.object_id, attachment.original_name) == ("account", account.pk, "许可证.pdf")
    assert "许可证.pdf" in client.get(account.get_absolute_url()).content.decode()
