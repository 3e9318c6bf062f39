"""Forms for the follow-up page (minimal mode: customer, method, next action and one text box;
everything else folded) and the visit check-out. They only shape input: what is required is
decided by log_follow_up from configuration."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jiepai.activities.models import ActivityKind, ConclusionChoice, NextActionKind
from jiepai.customers.models import Account, ContactRole

METHOD_CHOICES = [
    (ActivityKind.CALL, _("电话")),
    (ActivityKind.WECHAT, _("微信")),
    (ActivityKind.VISIT, _("拜访")),
    (ActivityKind.MEETING, _("会议")),
    (ActivityKind.EMAIL, _("邮件")),
]

# service error keys → the form field that shows them
FIELD_FOR_ERROR = {
    "customer": "customer_q",
    "next_action_due": "next_action_date",
    "method": "method",
}


class FollowUpForm(forms.Form):
    customer_q = forms.CharField(
        label=_("客户"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("搜索客户或线索"), "autocomplete": "off"}
        ),
    )
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)
    method = forms.ChoiceField(
        label=_("方式"), choices=METHOD_CHOICES, widget=forms.RadioSelect, initial="call"
    )
    text = forms.CharField(
        label=_("说一句话"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": _("可用语音输入,如:客户李总约周三下午三点看厂"),
                "enterkeyhint": "done",
            }
        ),
    )
    audio = forms.FileField(
        label=_("录音"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "audio/*", "capture": "user"}),
    )
    next_action = forms.CharField(label=_("下一步"), required=False, max_length=200)
    next_action_date = forms.DateField(
        label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_action_time = forms.TimeField(
        label=_("时间"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    next_action_kind = forms.ChoiceField(label=_("下一步类型"), required=False)
    keywords = forms.CharField(
        label=_("客户痛点"),
        required=False,
        max_length=300,
        help_text=_("逗号分隔,保存后成为客户标签"),
    )
    opportunity = forms.ChoiceField(label=_("商机"), required=False)
    contact = forms.ChoiceField(label=_("联系人"), required=False)
    contact_name = forms.CharField(label=_("联系人(新)"), required=False, max_length=50)
    save_contact = forms.BooleanField(label=_("保存为客户联系人"), required=False, initial=True)
    contact_role = forms.ChoiceField(
        label=_("联系人角色"), required=False, choices=[("", "—"), *ContactRole.choices]
    )
    conclusion = forms.ChoiceField(label=_("关键结论"), required=False)
    conclusion_note = forms.CharField(
        label=_("结论补充"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, account: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_action_kind"].choices = [("", "—")] + [
            (k.code, k.label) for k in NextActionKind.objects.filter(active=True)
        ]
        self.fields["conclusion"].choices = [("", "—")] + [
            (c.label, c.label) for c in ConclusionChoice.objects.filter(active=True)
        ]
        contacts = account.contacts.filter(merged_into__isnull=True) if account else []
        self.fields["contact"].choices = [("", "—")] + [
            (str(c.pk), f"{c.name} {c.title}".strip()) for c in contacts
        ]
        deals = (
            account.opportunities.filter(closed_at__isnull=True).select_related("stage")
            if account
            else []
        )
        self.fields["opportunity"].choices = [("", "—")] + [
            (str(o.pk), f"{o.name} · {o.stage}") for o in deals
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("next_action_time") and not data.get("next_action_date"):
            self.add_error("next_action_date", _("请填写日期"))
        return data

    def due(self, zone: datetime.tzinfo) -> datetime.datetime | datetime.date | None:
        day, time = (
            self.cleaned_data.get("next_action_date"),
            self.cleaned_data.get("next_action_time"),
        )
        if day is None:
            return None
        return datetime.datetime.combine(day, time, zone) if time else day

    def keyword_list(self) -> list[str]:
        raw = self.cleaned_data.get("keywords") or ""
        return [k.strip() for k in raw.replace(",", ",").replace("、", ",").split(",") if k.strip()]


class VisitEndForm(forms.Form):
    core_need = forms.CharField(
        label=_("本次核心诉求"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    objection = forms.CharField(
        label=_("客户异议点"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("没有就写“无”")}),
    )
    next_action = forms.CharField(
        label=_("下次行动项"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如:下周二看样机")}),
    )
    next_action_date = forms.DateField(
        label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_action_time = forms.TimeField(
        label=_("时间"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    geo_status = forms.CharField(required=False, widget=forms.HiddenInput)
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
    accuracy = forms.CharField(required=False, widget=forms.HiddenInput)
    client_time = forms.CharField(required=False, widget=forms.HiddenInput)

    def due(self, zone: datetime.tzinfo) -> datetime.datetime | datetime.date | None:
        day, time = (
            self.cleaned_data.get("next_action_date"),
            self.cleaned_data.get("next_action_time"),
        )
        if day is None:
            return None
        return datetime.datetime.combine(day, time, zone) if time else day
