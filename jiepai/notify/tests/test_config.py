"""Notification kinds, group robots and the retry policy in the configuration YAML."""

from __future__ import annotations

import pytest

from jiepai.core.config import ConfigError, dump_yaml, export_config, import_config, load_yaml
from jiepai.notify.models import DeliveryPolicy, NotificationKind, RobotEndpoint
from jiepai.notify.services import ensure_kind


@pytest.fixture
def robot(db):
    endpoint = RobotEndpoint.objects.create(
        name="华东销售群",
        platform="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=SECRET-TOKEN",
        secret="SEC-signing-secret",
        user_selectable=True,
    )
    endpoint.kinds.set([ensure_kind("routing.unassigned"), ensure_kind("opportunity.stalled")])
    return endpoint


def test_export_names_kinds_and_robots_without_credentials(robot):
    data = export_config()
    unassigned = next(k for k in data["notification_kinds"] if k["key"] == "routing.unassigned")
    assert unassigned == {
        "key": "routing.unassigned",
        "label": "线索无人可分配",
        "email_by_default": True,
    }
    [exported] = data["group_robots"]
    assert exported["name"] == "华东销售群"
    assert exported["kinds"] == ["opportunity.stalled", "routing.unassigned"]
    assert "url" not in exported and "secret" not in exported
    assert "SECRET-TOKEN" not in dump_yaml(data)
    assert data["delivery_policy"] == [
        {
            "max_attempts": 8,
            "first_retry_seconds": 30,
            "max_retry_seconds": 3600,
            "lease_seconds": 120,
        }
    ]


def test_importing_its_own_export_changes_nothing(robot):
    result = import_config(load_yaml(dump_yaml(export_config())))
    for name in ("notification_kinds", "group_robots", "delivery_policy"):
        report = result.sections[name]
        assert report.created == report.updated == 0


def test_import_updates_a_robot_and_keeps_its_url_and_secret(robot):
    import_config(
        {
            "group_robots": [
                {
                    "name": "华东销售群",
                    "platform": "dingtalk",
                    "message_format": "text",
                    "kinds": ["routing.unassigned"],
                }
            ]
        }
    )
    robot.refresh_from_db()
    assert robot.message_format == "text"
    assert robot.url.endswith("access_token=SECRET-TOKEN")
    assert robot.secret == "SEC-signing-secret"
    assert [k.key for k in robot.kinds.all()] == ["routing.unassigned"]


def test_new_robot_without_url_is_refused_with_the_reason(db):
    with pytest.raises(ConfigError) as error:
        import_config({"group_robots": [{"name": "新群", "platform": "wecom"}]})
    assert "url" in str(error.value)
    assert not RobotEndpoint.objects.exists()


def test_robot_naming_an_unknown_kind_is_refused(db):
    with pytest.raises(ConfigError) as error:
        import_config(
            {
                "group_robots": [
                    {
                        "name": "新群",
                        "platform": "wecom",
                        "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                        "kinds": ["no.such.kind"],
                    }
                ]
            }
        )
    assert "no.such.kind" in str(error.value)


def test_import_creates_kind_then_robot_using_it(db):
    import_config(
        {
            "notification_kinds": [{"key": "contract.signed", "label": "合同已签署"}],
            "group_robots": [
                {
                    "name": "合同群",
                    "platform": "feishu",
                    "url": "https://open.feishu.cn/open-apis/bot/v2/hook/abc",
                    "kinds": ["contract.signed"],
                }
            ],
            "delivery_policy": [{"max_attempts": 5}],
        }
    )
    assert NotificationKind.objects.get(key="contract.signed").label == "合同已签署"
    assert RobotEndpoint.objects.get(name="合同群").kinds.get().key == "contract.signed"
    assert DeliveryPolicy.current().max_attempts == 5


def test_bad_policy_value_is_refused(db):
    with pytest.raises(ConfigError):
        import_config({"delivery_policy": [{"lease_seconds": 5}]})
    assert DeliveryPolicy.current().lease_seconds == 120
