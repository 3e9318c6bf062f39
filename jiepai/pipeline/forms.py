from __future__ import annotations

from typing import Any

from django import forms

from jiepai.customers.forms import OwnerFieldMixin
from jiepai.customers.selectors import accounts_for, contacts_for
from jiepai.org.models import User
from jiepai.pipeline.models import Opportunity


class OpportunityForm(OwnerFieldMixin, forms.ModelForm):
    """Built-in fields of a deal; the stage changes only through a gated move."""

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "account",
            "contact",
            "amount",
            "expected_close_date",
            "description",
            "owner",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "expected_close_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts_for(user)
        self.fields["contact"].queryset = contacts_for(user)
        self.setup_owner(user)
