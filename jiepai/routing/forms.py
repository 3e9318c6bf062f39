from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from jiepai.org.models import OnlineStatus, User
from jiepai.routing.models import ContactMethod

#: the longest period the health report covers in one go
MAX_REPORT_DAYS = 366


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(queryset=User.objects.none(), label=_("改派给"))
    reason = forms.CharField(
        label=_("原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("必填,会写入线索动态并通知双方"),
    )

    def __init__(self, *args, reps, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = reps
        self.fields["to"].label_from_instance = lambda u: f"{u} · {u.department or ''}".rstrip(" ·")


class ContactedForm(forms.Form):
    method = forms.ChoiceField(choices=ContactMethod.choices)


class PresenceForm(forms.Form):
    online_status = forms.ChoiceField(choices=OnlineStatus.choices, required=False)
    paused = forms.ChoiceField(
        choices=[("", "-"), ("1", _("暂停")), ("0", _("恢复"))], required=False
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                self.add_error("end", _("结束日期不能早于开始日期"))
            elif (end - start).days >= MAX_REPORT_DAYS:
                self.add_error("end", _("一次最多统计 %(days)s 天") % {"days": MAX_REPORT_DAYS})
        return data

    @classmethod
    def default(cls, today: datetime.date) -> dict[str, datetime.date]:
        return {"start": today - datetime.timedelta(days=29), "end": today}
