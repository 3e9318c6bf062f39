"""The pages: workbench, claim, quick contact links, board, queue, reassign, health report."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from jiepai.conftest import PASSWORD
from jiepai.intake.models import LeadState
from jiepai.org.models import RepProfile
from jiepai.routing.models import LeadOffer, PolicyKind, RoutingPolicy, RoutingRule
from jiepai.routing.services import mark_contacted, route_lead
from jiepai.routing.tests.conftest import channel, lead, policy


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def live_now():
    return timezone.now()


@pytest.fixture
def waiting(east_round_robin, team, live_now):
    """A lead assigned to rep just now, waiting for first contact."""
    routed = lead(channel=channel(window=15))
    route_lead(lead=routed, now=live_now)
    routed.refresh_from_db()
    return routed


@pytest.fixture
def offered(team, live_now):
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east], is_default=True)
    routed = lead(name="钱多多")
    route_lead(lead=routed, now=live_now)
    return routed


def test_workbench_shows_the_countdown_of_a_waiting_lead(client, waiting, team):
    page = login(client, team.rep).get("/routing/my/").content.decode()
    assert "data-countdown=" in page
    assert timezone.localtime(waiting.response_due_at).isoformat()[:16] in page
    assert "已电话联系" in page


def test_workbench_lists_offers_with_claim_buttons(client, offered, team):
    page = login(client, team.teammate).get("/routing/my/").content.decode()
    assert "钱多多" in page and f'data-testid="claim-{offered.pk}"' in page


def test_claim_through_the_page(client, offered, team):
    offer = LeadOffer.objects.get(lead=offered, rep=team.teammate)
    response = login(client, team.teammate).post(f"/routing/offers/{offer.pk}/claim/")
    assert response.status_code == 302
    offered.refresh_from_db()
    assert offered.owner == team.teammate


def test_losing_claim_shows_a_message_not_an_error(client, offered, team):
    first = LeadOffer.objects.get(lead=offered, rep=team.teammate)
    login(client, team.teammate).post(f"/routing/offers/{first.pk}/claim/")
    second = LeadOffer.objects.get(lead=offered, rep=team.rep)
    response = login(client, team.rep).post(f"/routing/offers/{second.pk}/claim/", follow=True)
    assert response.status_code == 200
    assert "来晚了" in response.content.decode()


def test_nobody_else_can_open_or_claim_an_offer(client, offered, team):
    offer = LeadOffer.objects.get(lead=offered, rep=team.teammate)
    login(client, team.outsider)
    assert client.get(f"/routing/offers/{offer.pk}/").status_code == 404
    assert client.post(f"/routing/offers/{offer.pk}/claim/").status_code == 404


def test_offer_page_opens_for_the_offered_rep(client, offered, team):
    offer = LeadOffer.objects.get(lead=offered, rep=team.teammate)
    page = login(client, team.teammate).get(f"/routing/offers/{offer.pk}/").content.decode()
    assert "钱多多" in page and 'data-testid="claim"' in page


def test_quick_contacted_link_answers_htmx_with_the_panel_without_countdown(client, waiting, team):
    response = login(client, team.rep).post(
        f"/routing/leads/{waiting.pk}/contacted/", {"method": "wechat"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "data-countdown" not in body and "已联系" in body
    waiting.refresh_from_db()
    assert waiting.state == LeadState.CONTACTED


def test_contacted_link_without_htmx_redirects_back(client, waiting, team):
    response = login(client, team.rep).post(
        f"/routing/leads/{waiting.pk}/contacted/", {"method": "phone", "next": "/routing/my/"}
    )
    assert response.status_code == 302 and response["Location"] == "/routing/my/"


def test_bad_contact_method_is_a_message_not_a_500(client, waiting, team):
    response = login(client, team.rep).post(
        f"/routing/leads/{waiting.pk}/contacted/", {"method": "🐦"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "未知的联系方式" in response.content.decode()


def test_outsider_cannot_mark_someone_elses_lead_contacted(client, waiting, team):
    response = login(client, team.outsider).post(
        f"/routing/leads/{waiting.pk}/contacted/", {"method": "phone"}
    )
    assert response.status_code == 404


def test_teammate_who_can_see_the_lead_still_cannot_mark_it(client, waiting, team):
    waiting.shared_with.add(team.teammate)
    response = login(client, team.teammate).post(
        f"/routing/leads/{waiting.pk}/contacted/", {"method": "phone"}, HTTP_HX_REQUEST="true"
    )
    assert "不归你负责" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == LeadState.ASSIGNED


def test_rep_pauses_and_resumes_receiving_leads(client, team):
    login(client, team.rep)
    client.post("/routing/me/presence/", {"paused": "1"})
    assert RepProfile.objects.get(user=team.rep).paused
    response = client.post("/routing/me/presence/", {"paused": "0"}, HTTP_HX_REQUEST="true")
    assert not RepProfile.objects.get(user=team.rep).paused
    assert 'id="presence"' in response.content.decode()


def test_rep_sets_online_status(client, team):
    login(client, team.rep).post("/routing/me/presence/", {"online_status": "busy"})
    assert RepProfile.objects.get(user=team.rep).online_status == "busy"


def test_load_board_shows_the_managers_subtree_only(client, waiting, team):
    page = login(client, team.manager).get("/routing/board/").content.decode()
    assert 'data-testid="board-rep"' in page and 'data-testid="board-teammate"' in page
    assert "board-outsider" not in page


def test_manager_pages_are_closed_to_reps(client, waiting, team):
    login(client, team.rep)
    for url in ("/routing/board/", "/routing/queue/", "/routing/health/", "/routing/health.xlsx"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/routing/leads/{waiting.pk}/reassign/").status_code == 403


def test_reassign_page_requires_a_reason(client, waiting, team):
    login(client, team.manager)
    response = client.post(
        f"/routing/leads/{waiting.pk}/reassign/", {"to": team.teammate.pk, "reason": ""}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.owner == team.rep


def test_reassign_page_hands_the_lead_over(client, waiting, team):
    login(client, team.manager)
    response = client.post(
        f"/routing/leads/{waiting.pk}/reassign/", {"to": team.teammate.pk, "reason": "客户要求"}
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.owner == team.teammate


def test_reassign_page_does_not_offer_other_regions(client, waiting, team):
    login(client, team.manager)
    page = client.get(f"/routing/leads/{waiting.pk}/reassign/").content.decode()
    assert "孙强" not in page
    response = client.post(
        f"/routing/leads/{waiting.pk}/reassign/", {"to": team.outsider.pk, "reason": "x"}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def test_manager_of_another_region_cannot_reach_the_lead(client, waiting, team):
    from jiepai.org.services import create_user

    north_manager = create_user(
        username="north_mgr", password=PASSWORD, role="manager", department=team.north
    )
    team.north.manager = north_manager
    team.north.save()
    response = login(client, north_manager).get(f"/routing/leads/{waiting.pk}/reassign/")
    assert response.status_code == 404


def test_queue_lists_leads_nobody_could_take(client, east_round_robin, team, live_now):
    RepProfile.objects.filter(user__in=[team.rep, team.teammate]).update(paused=True)
    stuck = lead(name="没人接")
    route_lead(lead=stuck, now=live_now)
    page = login(client, team.manager).get("/routing/queue/").content.decode()
    assert f'data-testid="queue-{stuck.pk}"' in page and "没有可分配的销售" in page
    assert "待补全池" in page


def test_route_again_from_the_queue(client, east_round_robin, team, live_now):
    RepProfile.objects.filter(user__in=[team.rep, team.teammate]).update(paused=True)
    stuck = lead()
    route_lead(lead=stuck, now=live_now)
    RepProfile.objects.filter(user=team.rep).update(paused=False)
    login(client, team.manager).post(f"/routing/leads/{stuck.pk}/route/")
    stuck.refresh_from_db()
    assert stuck.owner == team.rep


def test_health_report_renders_with_charts(client, waiting, team):
    mark_contacted(
        lead=waiting,
        rep=team.rep,
        method="phone",
        now=waiting.assigned_at + datetime.timedelta(minutes=6),
    )
    page = login(client, team.manager).get("/routing/health/").content.decode()
    assert 'data-chart="balance-chart"' in page and 'id="balance-chart"' in page
    assert "echarts.min.js" in page
    assert "6.0" in page  # rep's median first response, minutes


def test_health_report_bad_period_shows_field_errors(client, team):
    page = login(client, team.manager).get("/routing/health/?start=2026-03-10&end=2026-03-01")
    assert page.status_code == 200 and "结束日期不能早于开始日期" in page.content.decode()
    page = login(client, team.manager).get("/routing/health/?start=garbage&end=")
    assert page.status_code == 200


def test_health_report_exports_excel(client, waiting, team):
    response = login(client, team.manager).get("/routing/health.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    names = [r[0] for r in rows]
    assert "王磊" in names and "孙强" not in names
    rep_row = rows[names.index("王磊")]
    assert rep_row[3] == 1  # assigned


def test_navigation_shows_routing_pages_by_role(client, team):
    page = login(client, team.rep).get("/routing/my/").content.decode()
    assert "/routing/my/" in page and "/routing/board/" not in page
    page = login(client, team.manager).get("/routing/my/").content.decode()
    assert "/routing/board/" in page and "/routing/health/" in page


def test_lead_page_shows_the_routing_panel_and_the_explained_decision(client, waiting, team):
    page = login(client, team.rep).get(f"/leads/{waiting.pk}/").content.decode()
    assert 'data-testid="routing-actions"' in page and "已电话联系" in page
    assert 'data-testid="routing-event"' in page and "轮到此人" in page


def test_lead_page_offers_the_claim_button_to_an_offered_rep(client, offered, team):
    page = login(client, team.teammate).get(f"/leads/{offered.pk}/").content.decode()
    assert 'data-testid="claim"' in page


def test_lead_page_shows_reassign_to_the_manager(client, waiting, team):
    page = login(client, team.manager).get(f"/leads/{waiting.pk}/").content.decode()
    assert f"/routing/leads/{waiting.pk}/reassign/" in page


def test_claim_link_of_the_notification_opens_the_offer(client, offered, team):
    from jiepai.notify.models import Notification

    note = Notification.objects.get(recipient=team.teammate, kind="routing.offer")
    page = login(client, team.teammate).get(note.url).content.decode()
    assert "钱多多" in page and 'data-testid="claim"' in page
    assert login(client, team.outsider).get(note.url).status_code == 404
