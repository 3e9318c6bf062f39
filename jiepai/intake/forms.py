from __future__ import annotations

from typing import Any

from django import forms

from jiepai.customers.forms import OwnerFieldMixin
from jiepai.intake.models import Channel, Lead
from jiepai.org.models import User


class LeadForm(OwnerFieldMixin, forms.ModelForm):
    class Meta:
        model = Lead
        fields = [
            "name",
            "title",
            "company",
            "mobile",
            "email",
            "wechat",
            "industry",
            "province",
            "city",
            "budget",
            "channel",
            "message",
            "owner",
        ]
        widgets = {
            "message": forms.Textarea(attrs={"rows": 3}),
            "mobile": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(active=True)
        self.setup_owner(user)
