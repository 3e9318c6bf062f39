"""Deliveries over real wires: SMTP to a sink, group robots to an HTTP server on 127.0.0.1."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from jiepai.conftest import on_postgresql
from jiepai.deadlines.registry import deadline_kinds
from jiepai.deadlines.sweeper import claim_and_act, sweep_once
from jiepai.events.models import Event
from jiepai.events.services import record_event
from jiepai.notify.models import (
    Delivery,
    DeliveryPolicy,
    DeliveryStatus,
    Notification,
    RobotEndpoint,
)
from jiepai.notify.services import attempt_delivery, ensure_kind, notify
from jiepai.notify.tests.servers import Reply, WebhookServer, closed_port_url

OK_FEISHU = Reply(200, {"code": 0, "msg": "success", "data": {}})


def sweep_deliveries(*, now):
    """The sweeper's pass restricted to deliveries (other apps' deadlines are not under test
    here); test_retries_with_exponential_backoff_then_succeeds goes through sweep_once itself."""
    kind = next(k for k in deadline_kinds() if k.name == "notify.delivery_retry")
    due = Delivery.objects.filter(next_attempt_at__lte=now).values_list("pk", "next_attempt_at")
    return sum(claim_and_act(kind, pk, when, now) for pk, when in due)


def _robot(url: str, platform: str = "wecom", *, kinds=("routing.unassigned",), **fields):
    endpoint = RobotEndpoint.objects.create(name="华东销售群", platform=platform, url=url, **fields)
    # ensure_kind, not a lookup: transactional tests flush the seeded kinds.
    endpoint.kinds.set([ensure_kind(key) for key in kinds])
    return endpoint


def _unassigned(recipients, **extra):
    return notify(
        recipients=recipients,
        kind="routing.unassigned",
        title="线索无人可分配:上海华东医疗",
        body="所有销售都已满负荷",
        url="/leads/42/",
        **extra,
    )


def _business_change(actor):
    """Stands for any business write: it records its Event in the same transaction."""
    return record_event(subject_type="lead", subject_id=42, verb="routing.unassigned", actor=actor)


def _with_contact(user, *, email="", mobile=""):
    user.email = email
    user.mobile = mobile
    user.save(update_fields=["email", "mobile"])
    return user


# --- e-mail ---------------------------------------------------------------------------------


def test_urgent_kind_is_emailed_through_real_smtp(people, smtp, django_capture_on_commit_callbacks):
    rep = _with_contact(people.rep, email="wanglei@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[rep],
            kind="routing.window_expired",
            title="线索响应超时:上海华东医疗",
            body="15 分钟内未联系,已改派",
            url="/leads/42/",
        )
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail.sender == "crm@jiepai.test"
    assert mail.recipients == ["wanglei@example.cn"]
    message = mail.message
    # Django folds the encoded subject onto a continuation line; the parser keeps its space.
    assert message["Subject"].strip() == "[节拍] 线索响应超时:上海华东医疗"
    assert message["To"] == "wanglei@example.cn"
    text = message.get_content()
    assert "15 分钟内未联系,已改派" in text
    assert "http://127.0.0.1:8000/leads/42/" in text
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("sent", 1, None)


def test_ordinary_kind_stays_in_app(people, smtp, django_capture_on_commit_callbacks):
    rep = _with_contact(people.rep, email="wanglei@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[rep], kind="routing.assigned", title="新线索:上海华东医疗")
    assert Notification.objects.filter(recipient=rep).count() == 1
    assert not Delivery.objects.exists()
    assert smtp.messages == []


def test_recipient_without_email_gets_no_email_delivery(
    people, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[people.rep], kind="routing.window_expired", title="超时")
    assert not Delivery.objects.exists()


def test_smtp_temporary_failure_is_retried_then_sent(
    people, smtp, django_capture_on_commit_callbacks
):
    smtp.fail_data = 1
    rep = _with_contact(people.rep, email="wanglei@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[rep], kind="routing.window_expired", title="超时")
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.response_code == 451
    assert delivery.last_error.startswith("SMTP 451")
    with django_capture_on_commit_callbacks(execute=True):
        sweep_deliveries(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(smtp.messages) == 1


# --- group robots ---------------------------------------------------------------------------


def test_wecom_broadcast_posts_one_text_message_per_event(
    people, webhook, django_capture_on_commit_callbacks
):
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1", "wecom", message_format="text")
    manager = _with_contact(people.manager, mobile="13800138001")
    director = _with_contact(people.director, mobile="13800138002")
    with django_capture_on_commit_callbacks(execute=True):
        _unassigned([manager, director])
    assert len(webhook.requests) == 1
    request = webhook.requests[0]
    assert request.path == "/cgi-bin/webhook/send"
    assert request.query == {"key": "k1"}
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json == {
        "msgtype": "text",
        "text": {
            "content": "线索无人可分配:上海华东医疗\n所有销售都已满负荷\n"
            "查看详情: http://127.0.0.1:8000/leads/42/",
            "mentioned_mobile_list": ["13800138001", "13800138002"],
        },
    }
    assert Delivery.objects.get().status == "sent"


def test_wecom_markdown_message(people, webhook, django_capture_on_commit_callbacks):
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1", "wecom", message_format="rich")
    with django_capture_on_commit_callbacks(execute=True):
        _unassigned([people.manager])
    assert webhook.requests[0].json == {
        "msgtype": "markdown",
        "markdown": {
            "content": "### 线索无人可分配:上海华东医疗\n\n所有销售都已满负荷\n\n"
            "[查看详情](http://127.0.0.1:8000/leads/42/)"
        },
    }


def test_dingtalk_signed_message_passes_server_side_signature_check(
    people, django_capture_on_commit_callbacks
):
    manager = _with_contact(people.manager, mobile="13800138001")
    with WebhookServer(dingtalk_secret="SEC0123456789abcdef") as server:
        _robot(
            f"{server.url}/robot/send?access_token=tok",
            "dingtalk",
            secret="SEC0123456789abcdef",
        )
        with django_capture_on_commit_callbacks(execute=True):
            _unassigned([manager])
    request = server.requests[0]
    assert request.query["access_token"] == "tok"
    assert set(request.query) == {"access_token", "timestamp", "sign"}
    assert request.json == {
        "msgtype": "markdown",
        "markdown": {
            "title": "线索无人可分配:上海华东医疗",
            "text": "#### 线索无人可分配:上海华东医疗\n\n所有销售都已满负荷\n\n"
            "[查看详情](http://127.0.0.1:8000/leads/42/)\n\n@13800138001",
        },
        "at": {"atMobiles": ["13800138001"], "isAtAll": False},
    }
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.last_error) == ("sent", 200, "")


def test_dingtalk_wrong_secret_is_a_logged_refusal_and_retried(
    people, django_capture_on_commit_callbacks
):
    with WebhookServer(dingtalk_secret="SECright") as server:
        _robot(f"{server.url}/robot/send?access_token=tok", "dingtalk", secret="SECwrong")
        with django_capture_on_commit_callbacks(execute=True):
            _unassigned([people.manager])
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.last_error == "310000: sign not match"
    assert delivery.response_code == 200
    assert delivery.next_attempt_at is not None


def test_feishu_signed_card_passes_server_side_signature_check(
    people, django_capture_on_commit_callbacks
):
    with WebhookServer(feishu_secret="fs-secret", default=OK_FEISHU) as server:
        _robot(f"{server.url}/open-apis/bot/v2/hook/h1", "feishu", secret="fs-secret")
        with django_capture_on_commit_callbacks(execute=True):
            _unassigned([people.manager])
    body = server.requests[0].json
    assert set(body) == {"timestamp", "sign", "msg_type", "card"}
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["title"]["content"] == "线索无人可分配:上海华东医疗"
    assert body["card"]["elements"][1]["actions"][0]["url"] == "http://127.0.0.1:8000/leads/42/"
    assert Delivery.objects.get().status == "sent"


def test_feishu_text_message_without_secret(people, django_capture_on_commit_callbacks):
    with WebhookServer(default=OK_FEISHU) as server:
        _robot(f"{server.url}/open-apis/bot/v2/hook/h1", "feishu", message_format="text")
        with django_capture_on_commit_callbacks(execute=True):
            _unassigned([people.manager])
    assert server.requests[0].json == {
        "msg_type": "text",
        "content": {
            "text": "线索无人可分配:上海华东医疗\n所有销售都已满负荷\n"
            "查看详情: http://127.0.0.1:8000/leads/42/"
        },
    }


# --- retries --------------------------------------------------------------------------------


def test_retries_with_exponential_backoff_then_succeeds(people, django_capture_on_commit_callbacks):
    failures = [Reply(500, "upstream down"), Reply(500, "upstream down")]
    with WebhookServer(failures) as server:
        _robot(f"{server.url}/cgi-bin/webhook/send?key=k1")
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            _unassigned([people.manager])
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
        assert delivery.last_error == "HTTP 500: upstream down"
        first_wait = delivery.next_attempt_at - before
        assert datetime.timedelta(seconds=30) <= first_wait < datetime.timedelta(seconds=40)

        # Not yet due: the sweeper leaves it alone.
        with django_capture_on_commit_callbacks(execute=True):
            sweep_once(now=delivery.next_attempt_at - datetime.timedelta(seconds=1))
        assert len(server.requests) == 1

        with django_capture_on_commit_callbacks(execute=True):
            sweep_once(now=delivery.next_attempt_at)
        second_try = timezone.now()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 2)
        second_wait = delivery.next_attempt_at - second_try
        assert datetime.timedelta(seconds=55) <= second_wait <= datetime.timedelta(seconds=60)

        with django_capture_on_commit_callbacks(execute=True):
            sweep_once(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert delivery.next_attempt_at is None
    assert len(server.requests) == 3
    assert server.requests[0].body == server.requests[2].body


def test_delivery_is_given_up_after_max_attempts(people, django_capture_on_commit_callbacks):
    DeliveryPolicy.objects.filter(pk=1).update(max_attempts=2)
    with WebhookServer(default=Reply(503, "busy")) as server:
        _robot(f"{server.url}/cgi-bin/webhook/send?key=k1")
        with django_capture_on_commit_callbacks(execute=True):
            _unassigned([people.manager])
        delivery = Delivery.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            sweep_deliveries(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
        with django_capture_on_commit_callbacks(execute=True):
            sweep_deliveries(now=timezone.now() + datetime.timedelta(days=1))
    assert len(server.requests) == 2


def test_lost_task_is_sent_by_the_sweeper_when_its_fallback_time_comes(
    people, webhook, django_capture_on_commit_callbacks
):
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    with django_capture_on_commit_callbacks(execute=False):  # the enqueue never happens
        _unassigned([people.manager])
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_deliveries(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert len(webhook.requests) == 1


def test_attempt_of_a_worker_that_died_is_retried_after_its_lease(
    people, webhook, django_capture_on_commit_callbacks
):
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    with django_capture_on_commit_callbacks(execute=False):
        _unassigned([people.manager])
    now = timezone.now()
    # A worker claimed attempt 1 and died before sending.
    Delivery.objects.update(attempts=1, next_attempt_at=now + DeliveryPolicy.current().lease)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_deliveries(now=now + datetime.timedelta(seconds=10))
    assert webhook.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        sweep_deliveries(now=now + DeliveryPolicy.current().lease)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_one_attempt_is_made_once_when_two_tasks_carry_it(people, webhook):
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    _unassigned([people.manager])  # on_commit never fires inside the test transaction
    delivery = Delivery.objects.get()
    assert attempt_delivery(delivery_id=delivery.pk, attempt=0) is not None
    assert attempt_delivery(delivery_id=delivery.pk, attempt=0) is None
    assert len(webhook.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_attempt_send_once(people, webhook):
    if not on_postgresql():
        pytest.skip("real row-level concurrency needs PostgreSQL")
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    with transaction.atomic():
        created = [
            Delivery.objects.create(
                channel="wecom",
                endpoint=RobotEndpoint.objects.get(),
                kind="routing.unassigned",
                title=f"线索 {i}",
                next_attempt_at=timezone.now(),
            )
            for i in range(20)
        ]
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            for delivery in created:
                attempt_delivery(delivery_id=delivery.pk, attempt=0)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(webhook.requests) == 20
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_switched_off_endpoint_gives_up_without_retrying(
    people, webhook, django_capture_on_commit_callbacks
):
    endpoint = _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    with django_capture_on_commit_callbacks(execute=False):
        _unassigned([people.manager])
    endpoint.active = False
    endpoint.save()
    delivery = Delivery.objects.get()
    attempt_delivery(delivery_id=delivery.pk, attempt=0)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("failed", "群机器人已停用")
    assert webhook.requests == []


# --- a failing channel never blocks the business action ------------------------------------


@pytest.mark.parametrize("failure", ["http_500", "refused", "timeout"])
def test_failing_robot_never_blocks_the_business_action(
    people, failure, django_capture_on_commit_callbacks
):
    replies = {"http_500": Reply(500, "boom"), "timeout": Reply(hang=True)}
    with WebhookServer(default=replies.get(failure, Reply())) as server:
        url = closed_port_url() if failure == "refused" else f"{server.url}/robot/send?k=1"
        _robot(url, timeout_seconds=1)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            event = _business_change(people.manager)
            _unassigned([people.manager])
    assert Event.objects.filter(pk=event.pk).exists()
    assert Notification.objects.filter(recipient=people.manager).count() == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    expected = {"http_500": "HTTP 500: boom", "refused": "连接被拒绝", "timeout": "连接超时"}
    assert delivery.last_error == expected[failure]


def test_unreachable_smtp_server_never_blocks_the_business_action(
    people, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = int(closed_port_url().split(":")[2].split("/")[0])
    rep = _with_contact(people.rep, email="wanglei@example.cn")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = _business_change(rep)
        notify(recipients=[rep], kind="routing.window_expired", title="超时")
    assert Event.objects.filter(pk=event.pk).exists()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("pending", "连接被拒绝")


@pytest.mark.django_db(transaction=True)
def test_rolled_back_business_change_sends_nothing(people, webhook):
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    with pytest.raises(RuntimeError), transaction.atomic():
        _business_change(people.manager)
        _unassigned([people.manager])
        raise RuntimeError("business rule failed after notifying")
    assert webhook.requests == []
    assert not Delivery.objects.exists()
    assert not Notification.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_committed_business_change_is_delivered_after_commit(people, webhook):
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    with transaction.atomic():
        _business_change(people.manager)
        _unassigned([people.manager])
        assert webhook.requests == []  # nothing leaves before the commit
    assert len(webhook.requests) == 1
    assert Delivery.objects.get().status == "sent"


def test_repeat_under_dedupe_key_sends_nothing_more(
    people, webhook, django_capture_on_commit_callbacks
):
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    with django_capture_on_commit_callbacks(execute=True):
        _unassigned([people.manager], dedupe_key="lead:42:unassigned")
        _unassigned([people.manager], dedupe_key="lead:42:unassigned")
    assert len(webhook.requests) == 1
    assert Delivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_jiepai_worker_sends_a_delivery_queued_in_the_database(people, webhook, settings):
    from jiepai.deadlines.worker import Worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1")
    with transaction.atomic():
        _business_change(people.manager)
        _unassigned([people.manager])
    assert webhook.requests == []  # queued as a task row, not sent by the request
    Worker(interval=0).run_tasks()
    assert len(webhook.requests) == 1
    assert Delivery.objects.get().status == "sent"


def test_admin_test_message_reaches_the_group(people, webhook, django_capture_on_commit_callbacks):
    from jiepai.notify.services import send_test_message

    endpoint = _robot(f"{webhook.url}/cgi-bin/webhook/send?key=k1", message_format="text")
    with django_capture_on_commit_callbacks(execute=True):
        send_test_message(endpoint=endpoint, actor=people.admin)
    assert (
        webhook.requests[0].json["text"]["content"].startswith("节拍 CRM 测试消息\n管理员 在配置")
    )
    assert Delivery.objects.get(kind="notify.test").status == "sent"
