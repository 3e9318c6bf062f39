"""The navigation each role sees. Apps add their entries here, in the order a user works."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    roles: tuple[str, ...] = ()  # empty: everyone


ALL = ()
MANAGERS = ("manager", "director", "admin")

NAV_ITEMS: list[NavItem] = [
    NavItem(_("工作台"), "home"),
    NavItem(_("线索"), "intake:lead_list"),
    NavItem(_("待补全池"), "intake:incomplete_list", ("marketing", *MANAGERS)),
    NavItem(_("拒收箱"), "intake:rejected_list", ("marketing", "admin")),
    NavItem(_("渠道"), "intake:channel_list", ("marketing", "director", "admin")),
    NavItem(_("我的线索"), "routing:my_leads", ("rep", "manager")),
    NavItem(_("负载看板"), "routing:board", MANAGERS),
    NavItem(_("分配健康度"), "routing:health", MANAGERS),
    NavItem(_("客户"), "customers:account_list"),
    NavItem(_("联系人"), "customers:contact_list"),
    NavItem(_("查重合并"), "dedup:review", MANAGERS),
    NavItem(_("查重设置"), "dedup:settings", ("admin",)),
    NavItem(_("商机"), "pipeline:opportunity_list"),
    NavItem(_("商机看板"), "pipeline:board", ("rep", *MANAGERS)),
    NavItem(_("阶段热力图"), "pipeline:dwell_report", MANAGERS),
    NavItem(_("阶段健康度"), "pipeline:health_report", MANAGERS),
    NavItem(_("待办跟进"), "activities:task_list", ("rep", *MANAGERS)),
    NavItem(_("拜访"), "activities:visit_home", ("rep", "manager")),
    NavItem(_("拜访复核"), "activities:review_queue", MANAGERS),
    NavItem(_("过程质量"), "activities:quality", ("rep", *MANAGERS)),
    NavItem(_("导入导出"), "imports:list"),
    NavItem(_("API 令牌"), "api:tokens"),
    NavItem(_("通知"), "notify:inbox"),
    NavItem(_("投递日志"), "notify:deliveries", ("admin",)),
]


def nav_for(user: object) -> list[dict[str, str]]:
    role = getattr(user, "role", "")
    superuser = getattr(user, "is_superuser", False)
    items = []
    for item in NAV_ITEMS:
        if item.roles and role not in item.roles and not superuser:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": str(item.label), "url": url})
    return items
