from __future__ import annotations

from typing import Any

from django import forms

from jiepai.customers.models import Account, Contact
from jiepai.customers.selectors import accounts_for
from jiepai.org.models import User
from jiepai.org.selectors import assignable_users


class OwnerFieldMixin:
    """Managers and directors may pick the owner; a rep owns what they create."""

    def setup_owner(self, user: User) -> None:
        field = self.fields["owner"]  # type: ignore[attr-defined]
        choices = assignable_users(user)
        if choices.count() <= 1:
            del self.fields["owner"]  # type: ignore[attr-defined]
        else:
            field.queryset = choices
            field.required = False


class AccountForm(OwnerFieldMixin, forms.ModelForm):
    class Meta:
        model = Account
        fields = [
            "name",
            "short_name",
            "credit_code",
            "industry",
            "province",
            "city",
            "address",
            "phone",
            "website",
            "tier",
            "latitude",
            "longitude",
            "notes",
            "owner",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_owner(user)


class ContactForm(OwnerFieldMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "account",
            "name",
            "title",
            "department_name",
            "role",
            "decision_weight",
            "mobile",
            "phone",
            "email",
            "wechat",
            "notes",
            "owner",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts_for(user)
        self.setup_owner(user)
