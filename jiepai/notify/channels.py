"""Sending one Delivery over its channel. Never raises: every outcome is a `SendResult`."""

from __future__ import annotations

import logging
import smtplib
import socket
import time
import urllib.error
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils.translation import gettext as _

from jiepai.notify import robots
from jiepai.notify.models import Delivery, DeliveryChannel, Platform

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    response_code: int | None = None
    error: str = ""
    permanent: bool = False  # retrying cannot help (endpoint removed or switched off)


def send(delivery: Delivery) -> SendResult:
    try:
        if delivery.channel == DeliveryChannel.EMAIL:
            return send_email(delivery)
        return send_to_robot(delivery)
    except Exception as exc:  # a channel bug must not kill the worker loop; it is logged
        logger.exception("delivery %s failed unexpectedly", delivery.pk)
        return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:1000])


def absolute_url(url: str) -> str:
    if url.startswith("/"):
        return settings.SITE_URL + url
    return url


def send_email(delivery: Delivery) -> SendResult:
    lines = [delivery.body] if delivery.body else []
    if delivery.url:
        lines.append(_("查看详情:%(url)s") % {"url": delivery.url})
    lines.append("")
    lines.append(
        _("—— 节拍 CRM 自动发送。修改通知设置:%(url)s")
        % {"url": absolute_url(reverse("notify:preferences"))}
    )
    brand = _("节拍")
    message = EmailMessage(
        subject=f"[{brand}] {delivery.title}",
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers={"Auto-Submitted": "auto-generated"},
        connection=get_connection(fail_silently=False),
    )
    try:
        message.send()
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return SendResult(False, response_code=exc.smtp_code, error=f"SMTP {exc.smtp_code}: {text}")
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (None, b""))
        reason = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return SendResult(False, response_code=code, error=f"SMTP {code}: {reason}")
    except (smtplib.SMTPException, OSError) as exc:
        return SendResult(False, error=_connection_error(exc))
    return SendResult(True)


def send_to_robot(delivery: Delivery) -> SendResult:
    endpoint = delivery.endpoint
    if endpoint is None:
        return SendResult(False, error=_("群机器人已被删除"), permanent=True)
    if not endpoint.active:
        return SendResult(False, error=_("群机器人已停用"), permanent=True)
    message = robots.RobotMessage(
        title=delivery.title,
        body=delivery.body,
        url=delivery.url,
        link_label=_("查看详情"),
        mentions=tuple(delivery.mentions or ()),
    )
    rich = endpoint.message_format == "rich"
    now = time.time()
    if endpoint.platform == Platform.DINGTALK:
        request = robots.dingtalk_request(
            url=endpoint.url,
            secret=endpoint.secret,
            rich=rich,
            message=message,
            timestamp_ms=int(now * 1000),
        )
    elif endpoint.platform == Platform.FEISHU:
        request = robots.feishu_request(
            url=endpoint.url,
            secret=endpoint.secret,
            rich=rich,
            message=message,
            timestamp_s=int(now),
        )
    else:
        request = robots.wecom_request(url=endpoint.url, rich=rich, message=message)
    try:
        reply = robots.post_json(request, timeout=endpoint.timeout_seconds)
    except (OSError, ValueError) as exc:
        return SendResult(False, error=_connection_error(exc))
    error = robots.reply_error(endpoint.platform, reply)
    if error:
        return SendResult(False, response_code=reply.status, error=error)
    return SendResult(True, response_code=reply.status)


def _connection_error(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError | socket.timeout):
        return _("连接超时")
    if isinstance(reason, ConnectionRefusedError):
        return _("连接被拒绝")
    return f"{type(reason).__name__}: {reason}"[:1000]
