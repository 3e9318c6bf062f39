"""The inbox pages: own notifications only, unread badge, mark read, links, settings, log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jiepai.conftest import PASSWORD
from jiepai.notify.models import Delivery, Notification, NotificationKind, Preference, RobotEndpoint
from jiepai.notify.services import notify


@pytest.fixture
def client_for(client):
    def login(user):
        client.logout()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return login


def _note(user, title="线索待认领:上海华东医疗", url="/leads/42/", **extra):
    return notify(recipients=[user], kind="routing.offer", title=title, url=url, **extra)[0]


def test_top_bar_shows_unread_count_on_every_page(people, client_for):
    _note(people.rep)
    _note(people.rep, title="第二条")
    page = client_for(people.rep).get(reverse("home"))
    html = page.content.decode()
    assert 'data-testid="inbox-badge"' in html
    assert 'data-testid="unread-count">2<' in html


def test_badge_fragment_refreshes_count(people, client_for):
    client = client_for(people.rep)
    assert 'data-testid="unread-count"' not in client.get(reverse("notify:badge")).content.decode()
    _note(people.rep)
    assert 'data-testid="unread-count">1<' in client.get(reverse("notify:badge")).content.decode()


def test_inbox_lists_only_own_notifications(people, client_for):
    _note(people.rep, title="给王磊的通知")
    _note(people.outsider, title="给孙强的通知")
    html = client_for(people.rep).get(reverse("notify:inbox")).content.decode()
    assert "给王磊的通知" in html
    assert "给孙强的通知" not in html


def test_unread_filter_hides_read_notifications(people, client_for):
    read = _note(people.rep, title="已读的")
    _note(people.rep, title="未读的")
    client = client_for(people.rep)
    client.post(reverse("notify:read", args=[read.pk]))
    html = client.get(reverse("notify:inbox") + "?show=unread").content.decode()
    assert "未读的" in html
    assert "已读的" not in html


def test_opening_a_notification_marks_it_read_and_follows_its_link(people, client_for):
    note = _note(people.rep)
    response = client_for(people.rep).get(reverse("notify:open", args=[note.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/leads/42/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_notification_linking_off_site_goes_back_to_the_inbox(people, client_for):
    note = _note(people.rep, url="https://evil.example.com/phish")
    response = client_for(people.rep).get(reverse("notify:open", args=[note.pk]))
    assert response["Location"] == reverse("notify:inbox")


def test_mark_read_with_htmx_returns_the_row_and_signals_the_badge(people, client_for):
    note = _note(people.rep)
    response = client_for(people.rep).post(
        reverse("notify:read", args=[note.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "inboxChanged"
    html = response.content.decode()
    assert f'id="note-{note.pk}"' in html
    assert "data-unread" not in html
    assert "<html" not in html


def test_mark_all_read(people, client_for):
    _note(people.rep)
    _note(people.rep, title="第二条")
    _note(people.teammate)
    client_for(people.rep).post(reverse("notify:read_all"))
    assert not Notification.objects.filter(recipient=people.rep, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=people.teammate, read_at__isnull=True).exists()


def test_outsider_cannot_open_or_mark_another_users_notification(people, client_for):
    note = _note(people.rep)
    client = client_for(people.outsider)
    assert client.get(reverse("notify:open", args=[note.pk])).status_code == 404
    assert client.post(reverse("notify:read", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_director_who_sees_all_records_still_cannot_read_a_reps_inbox(people, client_for):
    note = _note(people.rep)
    client = client_for(people.director)
    assert client.get(reverse("notify:open", args=[note.pk])).status_code == 404


def test_inbox_requires_login(client):
    response = client.get(reverse("notify:inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_mark_read_rejects_get(people, client_for):
    note = _note(people.rep)
    assert client_for(people.rep).get(reverse("notify:read", args=[note.pk])).status_code == 405


# --- settings page --------------------------------------------------------------------------


def test_settings_page_shows_defaults_urgent_kinds_emailed(people, client_for):
    html = client_for(people.rep).get(reverse("notify:preferences")).content.decode()
    urgent = NotificationKind.objects.get(key="routing.window_expired")
    ordinary = NotificationKind.objects.get(key="routing.offer")
    assert f'name="email_{urgent.pk}" checked' in html
    assert f'name="email_{ordinary.pk}" checked' not in html


def test_settings_page_saves_email_and_robot_choices(people, client_for):
    robot = RobotEndpoint.objects.create(
        name="我的钉钉群", platform="dingtalk", url="http://127.0.0.1:9/x", user_selectable=True
    )
    hidden = RobotEndpoint.objects.create(
        name="管理层群", platform="wecom", url="http://127.0.0.1:9/y", user_selectable=False
    )
    offered = NotificationKind.objects.get(key="routing.offer")
    urgent = NotificationKind.objects.get(key="routing.window_expired")
    response = client_for(people.rep).post(
        reverse("notify:preferences"),
        {
            "kind": [offered.pk, urgent.pk, "junk"],
            f"email_{offered.pk}": "on",
            f"robot_{offered.pk}_{robot.pk}": "on",
            f"robot_{offered.pk}_{hidden.pk}": "on",
            "robot_x_y": "on",
        },
    )
    assert response.status_code == 302
    offered_pref = Preference.objects.get(user=people.rep, kind=offered)
    assert offered_pref.email is True
    assert list(offered_pref.robots.all()) == [robot]
    assert Preference.objects.get(user=people.rep, kind=urgent).email is False
    html = client_for(people.rep).get(reverse("notify:preferences")).content.decode()
    assert f'name="robot_{offered.pk}_{robot.pk}" checked' in html
    assert "管理层群" not in html


# --- delivery log ---------------------------------------------------------------------------


def test_delivery_log_is_for_admins_only(people, client_for):
    assert client_for(people.outsider).get(reverse("notify:deliveries")).status_code == 404
    assert client_for(people.director).get(reverse("notify:deliveries")).status_code == 404
    assert client_for(people.admin).get(reverse("notify:deliveries")).status_code == 200


def test_delivery_log_shows_status_attempts_error_and_code(people, client_for):
    Delivery.objects.create(
        channel="dingtalk",
        kind="routing.unassigned",
        title="线索无人可分配",
        attempts=3,
        response_code=200,
        last_error="310000: sign not match",
        next_attempt_at="2030-01-01T00:00:00Z",
    )
    html = client_for(people.admin).get(reverse("notify:deliveries")).content.decode()
    assert "线索无人可分配" in html
    assert "310000: sign not match" in html
    assert ">3<" in html
    assert ">200<" in html


def test_delivery_log_filter_ignores_unknown_values(people, client_for):
    response = client_for(people.admin).get(reverse("notify:deliveries") + "?status=bogus&page=x")
    assert response.status_code == 200


def test_admin_resends_a_given_up_delivery(people, client_for, django_capture_on_commit_callbacks):
    delivery = Delivery.objects.create(
        channel="wecom", kind="routing.unassigned", title="t", status="failed", attempts=8
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(people.admin).post(reverse("notify:resend", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.next_attempt_at is not None
    assert len(callbacks) == 1


def test_non_admin_cannot_resend(people, client_for):
    delivery = Delivery.objects.create(channel="wecom", kind="k", title="t", status="failed")
    assert (
        client_for(people.rep).post(reverse("notify:resend", args=[delivery.pk])).status_code == 404
    )


def test_inbox_speaks_english_when_asked(people, client_for, settings):
    _note(people.rep)
    client = client_for(people.rep)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("notify:inbox")).content.decode()
    assert "Mark all read" in html
    assert "Notification settings" in html


def test_admin_pages_for_notification_config_render(people, client_for):
    RobotEndpoint.objects.create(name="群", platform="wecom", url="http://127.0.0.1:9/x")
    Delivery.objects.create(channel="wecom", kind="k", title="t")
    client = client_for(people.admin)
    for name in ("robotendpoint", "notificationkind", "delivery", "preference", "deliverypolicy"):
        assert client.get(reverse(f"admin:notify_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:notify_robotendpoint_add")).status_code == 200


def test_admin_test_action_queues_a_test_delivery(people, client_for):
    robot = RobotEndpoint.objects.create(name="群", platform="wecom", url="http://127.0.0.1:9/x")
    response = client_for(people.admin).post(
        reverse("admin:notify_robotendpoint_changelist"),
        {"action": "send_test", "_selected_action": [robot.pk]},
    )
    assert response.status_code == 302
    assert Delivery.objects.get().kind == "notify.test"


def test_absurd_ids_and_pages_are_404_or_a_page_never_an_error(people, client_for):
    client = client_for(people.admin)
    huge = 10**30
    assert client.get(reverse("notify:open", args=[huge])).status_code == 404
    assert client.post(reverse("notify:read", args=[huge])).status_code == 404
    assert client.post(reverse("notify:resend", args=[huge])).status_code == 404
    assert client.get(reverse("notify:inbox") + "?page=999999&show=%00").status_code == 200
