"""Human words for the codes routing writes into its events (kept as codes so the timeline
reads in the viewer's language)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

VERB_LABELS = {
    "lead.routed": _("自动分配"),
    "lead.claimed": _("抢单成功"),
    "lead.locked": _("抢单超时,自动锁定"),
    "lead.contacted": _("已联系"),
    "lead.reassigned": _("改派"),
    "lead.escalated": _("转入主管待分配队列"),
}

FACTOR_LABELS = {
    "open_opportunities": _("在跟商机"),
    "won_revenue": _("近期成交额"),
    "industry_conversion": _("同行业转化率"),
    "online": _("在线"),
    "won_in_industry_band": _("同行业同客单价成交"),
    "won_in_industry": _("同行业成交"),
    "won_in_band": _("同客单价成交"),
    "declared_skills": _("档案擅长项"),
    "active_leads": _("在跟线索更少"),
    "rep_id": _("顺序"),
    "only_candidate": _("唯一候选人"),
}

REASON_LABELS = {
    # why a candidate was not eligible
    "previous_owner": _("已跟过此线索"),
    "paused": _("已暂停接收"),
    "at_capacity": _("在跟线索已满"),
    "offline": _("离线"),
    "no_skill": _("不擅长该行业"),
    # why the decision came out as it did
    "round_robin_next": _("轮到此人(轮询)"),
    "highest_score": _("分值最高"),
    "best_capability": _("同类成交经验最多"),
    "no_eligible": _("没有可分配的销售"),
    "no_policy": _("没有可用的分配策略"),
    "max_reassignments": _("已达改派上限"),
    "nobody_claimed": _("无人抢单且无人可锁定"),
    "window_expired": _("超时未联系"),
    "manual": _("主管指派"),
    # where the policy came from
    "rule": _("分配规则"),
    "channel": _("渠道设置"),
    "default": _("默认策略"),
    # contact methods
    "phone": _("电话"),
    "call": _("电话"),
    "wechat": _("微信"),
    "visit": _("拜访"),
    "email": _("邮件"),
    "other": _("其他"),
}
