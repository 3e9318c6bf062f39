"""The exact bodies and signatures each group-robot platform documents."""

from __future__ import annotations

import urllib.parse

from jiepai.notify import robots

MESSAGE = robots.RobotMessage(
    title="线索响应超时:上海华东医疗",
    body="王磊 15 分钟内未联系,已改派给李娜",
    url="https://crm.example.cn/leads/42/",
    link_label="查看详情",
    mentions=("13800138000",),
)


def test_dingtalk_sign_matches_published_vector():
    # An independent implementation's test vector (timestamp 1700000000000, secret "secret").
    sign = robots.dingtalk_sign(secret="secret", timestamp_ms=1700000000000)
    assert urllib.parse.quote_plus(sign) == "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"


def test_dingtalk_signed_url_keeps_access_token_and_adds_timestamp_and_sign():
    request = robots.dingtalk_request(
        url="https://oapi.dingtalk.com/robot/send?access_token=abc",
        secret="secret",
        rich=False,
        message=MESSAGE,
        timestamp_ms=1700000000000,
    )
    assert request.url == (
        "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000"
        "&sign=OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"
    )


def test_dingtalk_text_body_mentions_by_mobile():
    request = robots.dingtalk_request(
        url="https://oapi.dingtalk.com/robot/send?access_token=abc",
        secret="",
        rich=False,
        message=MESSAGE,
        timestamp_ms=1,
    )
    assert request.url == "https://oapi.dingtalk.com/robot/send?access_token=abc"
    assert request.payload == {
        "msgtype": "text",
        "text": {
            "content": "线索响应超时:上海华东医疗\n王磊 15 分钟内未联系,已改派给李娜\n"
            "查看详情: https://crm.example.cn/leads/42/\n@13800138000"
        },
        "at": {"atMobiles": ["13800138000"], "isAtAll": False},
    }


def test_dingtalk_markdown_body():
    request = robots.dingtalk_request(
        url="https://oapi.dingtalk.com/robot/send?access_token=abc",
        secret="",
        rich=True,
        message=MESSAGE,
        timestamp_ms=1,
    )
    assert request.payload == {
        "msgtype": "markdown",
        "markdown": {
            "title": "线索响应超时:上海华东医疗",
            "text": "#### 线索响应超时:上海华东医疗\n\n王磊 15 分钟内未联系,已改派给李娜\n\n"
            "[查看详情](https://crm.example.cn/leads/42/)\n\n@13800138000",
        },
        "at": {"atMobiles": ["13800138000"], "isAtAll": False},
    }


def test_wecom_text_body_mentions_by_mobile():
    request = robots.wecom_request(
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", rich=False, message=MESSAGE
    )
    assert request.url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    assert request.payload == {
        "msgtype": "text",
        "text": {
            "content": "线索响应超时:上海华东医疗\n王磊 15 分钟内未联系,已改派给李娜\n"
            "查看详情: https://crm.example.cn/leads/42/",
            "mentioned_mobile_list": ["13800138000"],
        },
    }


def test_wecom_markdown_body():
    request = robots.wecom_request(url="https://x/send?key=k", rich=True, message=MESSAGE)
    assert request.payload == {
        "msgtype": "markdown",
        "markdown": {
            "content": "### 线索响应超时:上海华东医疗\n\n王磊 15 分钟内未联系,已改派给李娜\n\n"
            "[查看详情](https://crm.example.cn/leads/42/)"
        },
    }


def test_feishu_sign_is_hmac_of_empty_message_keyed_by_timestamp_and_secret():
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(
        hmac.new(b"1599360473\nsecret", b"", hashlib.sha256).digest()
    ).decode()
    assert robots.feishu_sign(secret="secret", timestamp_s=1599360473) == expected


def test_feishu_signed_text_body():
    request = robots.feishu_request(
        url="https://open.feishu.cn/open-apis/bot/v2/hook/h",
        secret="secret",
        rich=False,
        message=MESSAGE,
        timestamp_s=1599360473,
    )
    assert request.payload == {
        "timestamp": "1599360473",
        "sign": robots.feishu_sign(secret="secret", timestamp_s=1599360473),
        "msg_type": "text",
        "content": {
            "text": "线索响应超时:上海华东医疗\n王磊 15 分钟内未联系,已改派给李娜\n"
            "查看详情: https://crm.example.cn/leads/42/"
        },
    }


def test_feishu_interactive_card_body():
    request = robots.feishu_request(
        url="https://open.feishu.cn/open-apis/bot/v2/hook/h",
        secret="",
        rich=True,
        message=MESSAGE,
        timestamp_s=1,
    )
    assert request.payload == {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": "线索响应超时:上海华东医疗"},
                "template": "blue",
            },
            "elements": [
                {
                    "tag": "div",
                    "text": {"tag": "lark_md", "content": "王磊 15 分钟内未联系,已改派给李娜"},
                },
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": "查看详情"},
                            "type": "primary",
                            "url": "https://crm.example.cn/leads/42/",
                        }
                    ],
                },
            ],
        },
    }


def test_long_text_is_cut_to_the_platform_byte_limit_without_splitting_characters():
    long = robots.RobotMessage(title="长", body="汉" * 5000)
    request = robots.wecom_request(url="https://x/send?key=k", rich=False, message=long)
    content = request.payload["text"]["content"]
    assert len(content.encode("utf-8")) <= robots.WECOM_TEXT_LIMIT
    assert content.endswith("…")


def test_platform_refusal_in_a_200_reply_is_an_error():
    ok = robots.HttpReply(200, b'{"errcode":0,"errmsg":"ok"}')
    refused = robots.HttpReply(200, b'{"errcode":310000,"errmsg":"sign not match"}')
    feishu_ok = robots.HttpReply(200, b'{"code":0,"msg":"success","data":{}}')
    feishu_refused = robots.HttpReply(200, b'{"code":19021,"msg":"sign match fail"}')
    assert robots.reply_error("dingtalk", ok) is None
    assert robots.reply_error("dingtalk", refused) == "310000: sign not match"
    assert robots.reply_error("feishu", feishu_ok) is None
    assert robots.reply_error("feishu", feishu_refused) == "19021: sign match fail"
    assert robots.reply_error("wecom", robots.HttpReply(502, b"bad gateway")) == (
        "HTTP 502: bad gateway"
    )
    assert robots.reply_error("wecom", robots.HttpReply(200, b"<html>")) == "HTTP 200: <html>"
