"""The pages: hosted forms and QR codes, the incomplete pool, the rejected inbox."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from jiepai.conftest import PASSWORD
from jiepai.intake.models import Lead, LeadState, RejectedIntake
from jiepai.intake.pipeline import intake_lead
from jiepai.intake.rejected import keep_rejected

pytestmark = pytest.mark.django_db


def _login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _submission(html: str) -> str:
    return re.search(r'name="submission" value="([0-9a-f]+)"', html).group(1)


# --- hosted form ---------------------------------------------------------------------------------

FIELDS = {
    "name": "王磊",
    "company": "宁波恒锐智能装备有限公司",
    "title": "采购经理",
    "mobile": "13800138000",
}


def test_hosted_form_is_public_and_mobile_friendly(web):
    response = Client().get(f"/f/{web.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="viewport"' in html and 'name="mobile"' in html and 'inputmode="tel"' in html


def test_hosted_form_submission_creates_a_lead_and_thanks(web):
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/f/{web.slug}/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/f/{web.slug}/",
        {**FIELDS, "submission": _submission(page.content.decode()), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and response.url == f"/f/{web.slug}/thanks/"
    lead = Lead.objects.get()
    assert lead.mobile == "+8613800138000" and lead.source_detail["via"] == "hosted_form"


def test_hosted_form_without_csrf_token_is_refused(web):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/f/{web.slug}/", {**FIELDS, "submission": "a" * 32})
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_hosted_form_double_submit_makes_one_lead(web):
    client = Client()
    data = {**FIELDS, "submission": "b" * 32}
    client.post(f"/f/{web.slug}/", data)
    client.post(f"/f/{web.slug}/", data)
    assert Lead.objects.count() == 1


def test_hosted_form_honeypot_drops_bots_silently(web):
    response = Client().post(
        f"/f/{web.slug}/", {**FIELDS, "submission": "c" * 32, "website": "http://spam"}
    )
    assert response.status_code == 302
    assert not Lead.objects.exists()


def test_hosted_form_shows_field_errors_and_keeps_input(web):
    response = Client().post(
        f"/f/{web.slug}/", {**FIELDS, "mobile": "12345", "submission": "d" * 32}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "不是有效的电话号码" in html and 'value="宁波恒锐智能装备有限公司"' in html
    assert not Lead.objects.exists()


def test_hosted_form_requires_the_channels_required_fields(web):
    data = {k: v for k, v in FIELDS.items() if k != "title"}
    response = Client().post(f"/f/{web.slug}/", {**data, "submission": "e" * 32})
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_booth_in_the_url_becomes_the_leads_source_detail(expo):
    client = Client()
    page = client.get(f"/f/{expo.slug}/?booth=A12")
    assert 'data-testid="booth"' in page.content.decode()
    client.post(
        f"/f/{expo.slug}/?booth=A12",
        {**FIELDS, "booth": "A12", "submission": _submission(page.content.decode())},
    )
    assert Lead.objects.get().source_detail["booth"] == "A12"


def test_channel_without_public_form_has_no_page(web):
    web.public_form_enabled = False
    web.save()
    assert Client().get(f"/f/{web.slug}/").status_code == 404


def test_hosted_form_shares_the_channel_rate_limit(web):
    web.rate_limit_per_minute = 1
    web.save()
    client = Client()
    client.post(f"/f/{web.slug}/", {**FIELDS, "submission": "f" * 32})
    response = client.post(f"/f/{web.slug}/", {**FIELDS, "submission": "0" * 32})
    assert response.status_code == 429
    assert Lead.objects.count() == 1


# --- QR codes -----------------------------------------------------------------------------------


def test_marketing_gets_png_and_svg_qr_codes(expo, people):
    client = _login(people.marketing)
    png = client.get(reverse("intake:channel_qr_image", args=[expo.pk, "png"]) + "?booth=A12")
    svg = client.get(reverse("intake:channel_qr_image", args=[expo.pk, "svg"]) + "?booth=A12")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert svg.status_code == 200 and b"<svg" in svg.content
    assert png["Content-Type"] == "image/png" and svg["Content-Type"] == "image/svg+xml"


def test_qr_code_points_at_the_hosted_form_with_the_booth(expo, people):
    page = _login(people.marketing).get(reverse("intake:channel_qr", args=[expo.pk]) + "?booth=A12")
    html = page.content.decode()
    assert page.status_code == 200
    assert f"/f/{expo.slug}/?booth=A12" in html and "<svg" in html


def test_outsider_cannot_get_qr_codes_or_the_channel_list(expo, people):
    client = _login(people.outsider)
    assert client.get(reverse("intake:channel_qr", args=[expo.pk])).status_code == 404
    assert client.get(reverse("intake:channel_qr_image", args=[expo.pk, "png"])).status_code == 404
    assert client.get(reverse("intake:channel_list")).status_code == 404


def test_channel_list_shows_keys_to_marketing_only(web, people):
    assert web.intake_key in _login(people.marketing).get("/leads/channels/").content.decode()
    assert web.intake_key not in _login(people.director).get("/leads/channels/").content.decode()


# --- incomplete pool ----------------------------------------------------------------------------


@pytest.fixture
def incomplete(web, now) -> Lead:
    answer = intake_lead(channel=web, payload={"姓名": "王磊", "电话": "13800138000"}, now=now)
    return Lead.objects.get(pk=answer.lead_id)


def _badges(html: str) -> list[str]:
    return re.findall(r'<span class="badge[^"]*"[^>]*>([^<]+)</span>', html)


def test_marketing_sees_the_incomplete_pool_with_what_is_missing(incomplete, people):
    html = _login(people.marketing).get(reverse("intake:incomplete_list")).content.decode()
    assert "王磊" in html
    # the fields by their labels, in the reader's language, not as column names
    assert {"公司", "职位"} <= set(_badges(html)) and "company" not in _badges(html)


def test_the_pool_names_missing_and_unreadable_fields_in_english_too(web, now, people):
    answer = intake_lead(channel=web, payload={"姓名": "王磊", "电话": "12345"}, now=now)
    client = _login(people.marketing)
    client.cookies["django_language"] = "en"
    badges = _badges(client.get(reverse("intake:incomplete_list")).content.decode())
    assert {"Company", "Title", "Mobile?"} <= set(badges), badges
    page = client.get(reverse("intake:incomplete_fix", args=[answer.lead_id])).content.decode()
    assert "<dt>Mobile</dt>" in page and "Company" in page


def test_outsider_sees_nothing_in_the_incomplete_pool(incomplete, people):
    client = _login(people.outsider)
    assert "王磊" not in client.get(reverse("intake:incomplete_list")).content.decode()
    assert client.get(reverse("intake:incomplete_fix", args=[incomplete.pk])).status_code == 404
    assert client.get(incomplete.get_absolute_url()).status_code == 404


def test_marketing_sees_every_lead_through_the_grant(incomplete, people):
    assert _login(people.marketing).get(incomplete.get_absolute_url()).status_code == 200


def test_complete_and_route_from_the_page(incomplete, people):
    client = _login(people.marketing)
    url = reverse("intake:incomplete_fix", args=[incomplete.pk])
    response = client.post(
        url,
        {
            "name": "王磊",
            "mobile": "13800138000",
            "company": "恒锐装备",
            "title": "经理",
            "action": "route",
        },
    )
    assert response.status_code == 302
    incomplete.refresh_from_db()
    assert incomplete.state == LeadState.UNASSIGNED and incomplete.company == "恒锐装备"


def test_complete_and_route_with_a_field_still_missing_shows_the_error(incomplete, people):
    response = _login(people.marketing).post(
        reverse("intake:incomplete_fix", args=[incomplete.pk]),
        {"name": "王磊", "mobile": "13800138000", "company": "恒锐装备", "action": "route"},
    )
    assert response.status_code == 400
    assert "请补全此项" in response.content.decode()
    incomplete.refresh_from_db()
    assert incomplete.state == LeadState.INCOMPLETE


# --- rejected inbox -----------------------------------------------------------------------------


@pytest.fixture
def rejected(web) -> RejectedIntake:
    return keep_rejected(
        channel=web,
        reason="bad_json",
        detail="JSON 格式错误",
        body='{"姓名": "王磊", "手机号": "13800138000", '.encode(),
        content_type="application/json",
        idempotency_key="k-9",
    )


def test_admin_sees_the_rejected_inbox(rejected, people):
    html = _login(people.admin).get(reverse("intake:rejected_list")).content.decode()
    assert "JSON 格式错误" in html


@pytest.mark.parametrize("persona", ["outsider", "rep", "manager"])
def test_others_cannot_see_the_rejected_inbox(rejected, people, persona):
    client = _login(getattr(people, persona))
    assert client.get(reverse("intake:rejected_list")).status_code == 404
    assert client.get(reverse("intake:rejected_detail", args=[rejected.pk])).status_code == 404


def test_fixed_payload_is_replayed_into_a_lead(rejected, people):
    response = _login(people.admin).post(
        reverse("intake:rejected_detail", args=[rejected.pk]),
        {"body_text": '{"姓名": "王磊", "手机号": "13800138000"}', "action": "replay"},
    )
    rejected.refresh_from_db()
    assert rejected.status == "replayed" and rejected.lead is not None
    assert response.status_code == 302 and response.url == rejected.lead.get_absolute_url()
    assert rejected.lead.raw_payload == {"姓名": "王磊", "手机号": "13800138000"}


def test_replay_of_still_broken_payload_shows_the_reason(rejected, people):
    response = _login(people.admin).post(
        reverse("intake:rejected_detail", args=[rejected.pk]),
        {"body_text": '{"姓名": ', "action": "replay"},
    )
    assert response.status_code == 400 and "JSON" in response.content.decode()
    rejected.refresh_from_db()
    assert rejected.status == "open" and not Lead.objects.exists()


def test_replay_twice_makes_one_lead(rejected, people):
    client = _login(people.admin)
    url = reverse("intake:rejected_detail", args=[rejected.pk])
    fixed = {"body_text": '{"姓名": "王磊", "手机号": "13800138000"}', "action": "replay"}
    client.post(url, fixed)
    client.post(url, fixed)
    assert Lead.objects.count() == 1


def test_discard_closes_the_row(rejected, people):
    _login(people.marketing).post(
        reverse("intake:rejected_detail", args=[rejected.pk]), {"action": "discard"}
    )
    rejected.refresh_from_db()
    assert rejected.status == "discarded"


def test_rejected_events_batch_is_replayed(web, people):
    row = keep_rejected(
        channel=web,
        endpoint="events",
        reason="bad_events",
        detail="x",
        body=b'{"type": "page_view"}',
        content_type="application/json",
    )
    _login(people.admin).post(
        reverse("intake:rejected_detail", args=[row.pk]),
        {
            "body_text": '{"type": "page_view", "visitor_id": "v-1", "seconds": 30}',
            "action": "replay",
        },
    )
    row.refresh_from_db()
    assert row.status == "replayed"


def test_navigation_shows_the_pool_and_inbox_to_marketing(people, db):
    html = _login(people.marketing).get("/").content.decode()
    assert reverse("intake:incomplete_list") in html and reverse("intake:rejected_list") in html
    html = _login(people.rep).get("/").content.decode()
    assert reverse("intake:rejected_list") not in html


def test_admin_rotates_a_channel_key_and_the_old_one_stops_working(web, people):
    old = web.intake_key
    client = _login(people.admin)
    response = client.post(
        "/admin/intake/channel/", {"action": "rotate_keys", "_selected_action": [web.pk]}
    )
    assert response.status_code == 302
    web.refresh_from_db()
    assert web.intake_key != old
    posted = Client(headers={"X-Jiepai-Key": old}).post(
        f"/api/v1/intake/{web.slug}", "{}", content_type="application/json"
    )
    assert posted.status_code == 401


def test_admin_pages_for_intake_configuration_open(web, people):
    client = _login(people.admin)
    for url in ("/admin/intake/channel/", f"/admin/intake/channel/{web.pk}/change/",
                "/admin/intake/tagrule/add/", "/admin/intake/intentconfig/",
                "/admin/intake/rejectedintake/", "/admin/intake/behaviourevent/"):  # fmt: skip
        assert client.get(url).status_code == 200, url


def test_new_channel_in_admin_gets_its_kinds_defaults(people):
    from jiepai.intake.models import Channel

    client = _login(people.admin)
    add = client.get("/admin/intake/channel/add/").content.decode()
    key = re.search(r'name="intake_key"[^>]*value="([^"]+)"', add) or re.search(
        r'value="([^"]+)"[^>]*name="intake_key"', add
    )
    data = {
        "name": "电话", "slug": "tel", "kind": "phone", "active": "on", "weight": "1",
        "response_window_minutes": "240", "routing_policy": "round_robin",
        "required_fields": '["company", "title", "mobile"]', "intake_key": key.group(1),
        "alias_map": "{}", "rate_limit_per_minute": "600", "source_tag": "",
        "public_form_fields": '["name"]', "public_form_title": "", "public_form_intro": "",
        "tag_rules-TOTAL_FORMS": "0", "tag_rules-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = client.post("/admin/intake/channel/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    channel = Channel.objects.get(slug="tel")
    assert str(channel.weight) == "0.90"


def test_hosted_form_speaks_english_after_the_language_switch(web):
    client = Client()
    client.cookies["django_language"] = "en"
    html = client.get(f"/f/{web.slug}/").content.decode()
    assert "Submit" in html and "Mobile" in html


def test_api_error_is_in_english_with_the_language_cookie(web_api):
    web_api.client.cookies["django_language"] = "en"
    response = web_api.intake('{"x": ')
    assert "Malformed JSON" in response.json()["detail"]


def test_hosted_form_without_submission_id_still_makes_a_lead(web):
    response = Client().post(f"/f/{web.slug}/", FIELDS)
    assert response.status_code == 302 and Lead.objects.count() == 1
