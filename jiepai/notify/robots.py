"""Group-robot wire formats (WeCom 企业微信, DingTalk 钉钉, Feishu 飞书) and the HTTP POST.

Django-free on purpose: each builder takes a `RobotMessage` and returns the exact URL and JSON
body the platform documents; `post_json` sends it; `reply_error` reads the platform's answer
(all three answer HTTP 200 with an error code in the body when they refuse a message).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

# Platform limits on one message, in UTF-8 bytes, with room for the title and link lines.
WECOM_TEXT_LIMIT = 2048
WECOM_MARKDOWN_LIMIT = 4096
DINGTALK_LIMIT = 18000
FEISHU_LIMIT = 18000


@dataclass(frozen=True)
class RobotMessage:
    title: str
    body: str = ""
    url: str = ""  # absolute link to the record, or ""
    link_label: str = "查看详情"
    mentions: tuple[str, ...] = field(default_factory=tuple)  # mobile numbers to @


@dataclass(frozen=True)
class RobotRequest:
    url: str
    payload: dict


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: bytes


def truncate_utf8(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` UTF-8 bytes without splitting a character."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: max(limit - 3, 0)].decode("utf-8", errors="ignore") + "…"


def _plain_text(message: RobotMessage, *, with_mentions: bool) -> str:
    lines = [message.title]
    if message.body:
        lines.append(message.body)
    if message.url:
        lines.append(f"{message.link_label}: {message.url}")
    if with_mentions and message.mentions:
        lines.append(" ".join(f"@{mobile}" for mobile in message.mentions))
    return "\n".join(lines)


def _markdown(message: RobotMessage, *, heading: str, with_mentions: bool) -> str:
    lines = [f"{heading} {message.title}"]
    if message.body:
        lines.append(message.body)
    if message.url:
        lines.append(f"[{message.link_label}]({message.url})")
    if with_mentions and message.mentions:
        lines.append(" ".join(f"@{mobile}" for mobile in message.mentions))
    return "\n\n".join(lines)


# --- WeCom ------------------------------------------------------------------------------------


def wecom_request(*, url: str, rich: bool, message: RobotMessage) -> RobotRequest:
    """WeCom group robot: POST {"msgtype": "text"|"markdown", ...} to the webhook URL (which
    carries its key). Only the text type can @ people by mobile (`mentioned_mobile_list`)."""
    if rich:
        content = truncate_utf8(
            _markdown(message, heading="###", with_mentions=False), WECOM_MARKDOWN_LIMIT
        )
        return RobotRequest(url, {"msgtype": "markdown", "markdown": {"content": content}})
    text: dict = {
        "content": truncate_utf8(_plain_text(message, with_mentions=False), WECOM_TEXT_LIMIT)
    }
    if message.mentions:
        text["mentioned_mobile_list"] = list(message.mentions)
    return RobotRequest(url, {"msgtype": "text", "text": text})


# --- DingTalk ---------------------------------------------------------------------------------


def dingtalk_sign(*, secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: HMAC-SHA256 keyed with the secret over "timestamp\\nsecret", base64.
    (The URL carries it urlencoded as `sign`, next to `timestamp` in milliseconds.)"""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k not in extra] + list(extra.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def dingtalk_request(
    *, url: str, secret: str, rich: bool, message: RobotMessage, timestamp_ms: int
) -> RobotRequest:
    """DingTalk group robot: {"msgtype": "text"|"markdown", ..., "at": {"atMobiles": [...]}}.
    A mention only notifies when "@mobile" also appears in the content, so it is written there."""
    if secret:
        sign = dingtalk_sign(secret=secret, timestamp_ms=timestamp_ms)
        url = _with_query(url, {"timestamp": str(timestamp_ms), "sign": sign})
    at = {"atMobiles": list(message.mentions), "isAtAll": False}
    if rich:
        text = truncate_utf8(_markdown(message, heading="####", with_mentions=True), DINGTALK_LIMIT)
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": truncate_utf8(message.title, 200), "text": text},
            "at": at,
        }
    else:
        content = truncate_utf8(_plain_text(message, with_mentions=True), DINGTALK_LIMIT)
        payload = {"msgtype": "text", "text": {"content": content}, "at": at}
    return RobotRequest(url, payload)


# --- Feishu -----------------------------------------------------------------------------------


def feishu_sign(*, secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message,
    base64; sent in the JSON body with `timestamp` in seconds (as a string)."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def feishu_request(
    *, url: str, secret: str, rich: bool, message: RobotMessage, timestamp_s: int
) -> RobotRequest:
    """Feishu custom bot: {"msg_type": "text", "content": {"text": ...}} or an interactive card
    (title header, lark_md body, a button to the record)."""
    if rich:
        elements: list[dict] = []
        if message.body:
            elements.append(
                {
                    "tag": "div",
                    "text": {
                        "tag": "lark_md",
                        "content": truncate_utf8(message.body, FEISHU_LIMIT),
                    },
                }
            )
        if message.url:
            elements.append(
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": message.link_label},
                            "type": "primary",
                            "url": message.url,
                        }
                    ],
                }
            )
        payload: dict = {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": truncate_utf8(message.title, 200)},
                    "template": "blue",
                },
                "elements": elements,
            },
        }
    else:
        text = truncate_utf8(_plain_text(message, with_mentions=False), FEISHU_LIMIT)
        payload = {"msg_type": "text", "content": {"text": text}}
    if secret:
        payload = {
            "timestamp": str(timestamp_s),
            "sign": feishu_sign(secret=secret, timestamp_s=timestamp_s),
            **payload,
        }
    return RobotRequest(url, payload)


# --- HTTP -------------------------------------------------------------------------------------


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured; following it would drop the POST body."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_RefuseRedirects)


def post_json(request: RobotRequest, *, timeout: float) -> HttpReply:
    """POST the JSON body. Returns the HTTP status and (at most 64 KB of) the body for any HTTP
    answer, including 4xx/5xx; raises OSError (URLError, TimeoutError) when there is none."""
    scheme = urllib.parse.urlsplit(request.url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme!r}")
    data = json.dumps(request.payload, ensure_ascii=False).encode("utf-8")
    http_request = urllib.request.Request(  # noqa: S310 - scheme checked above
        request.url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "jiepai"},
    )
    try:
        with _opener.open(http_request, timeout=timeout) as response:
            return HttpReply(response.status, response.read(65536))
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpReply(exc.code, exc.read(65536))


def reply_error(platform: str, reply: HttpReply) -> str | None:
    """None when the platform accepted the message, otherwise a short reason.

    WeCom and DingTalk answer {"errcode": 0, "errmsg": "ok"}; Feishu {"code": 0, "msg": ...}
    (older bots: {"StatusCode": 0, ...}). A refusal comes with HTTP 200 and a non-zero code."""
    snippet = reply.body[:300].decode("utf-8", errors="replace")
    if not 200 <= reply.status < 300:
        return f"HTTP {reply.status}: {snippet}"
    try:
        answer = json.loads(reply.body or b"null")
    except ValueError:
        return f"HTTP {reply.status}: {snippet}"
    if not isinstance(answer, dict):
        return f"HTTP {reply.status}: {snippet}"
    if platform == "feishu":
        code = answer.get("code", answer.get("StatusCode"))
        reason = answer.get("msg", answer.get("StatusMessage", ""))
    else:
        code = answer.get("errcode")
        reason = answer.get("errmsg", "")
    if code == 0:
        return None
    return f"{code}: {reason}" if code is not None else f"HTTP {reply.status}: {snippet}"
