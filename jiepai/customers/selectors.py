"""Reading accounts and contacts, always through the viewer's visibility."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from jiepai.core.listing import Filter, ListSpec
from jiepai.customers.models import Account, Contact, ContactRole
from jiepai.org.models import User
from jiepai.org.visibility import visible_to

ACCOUNT_LIST = ListSpec(
    search_fields=("name", "short_name", "credit_code", "city", "phone"),
    filters=(
        Filter("industry", "industry", _("行业")),
        Filter("province", "province", _("省份")),
        Filter("owner", "owner_id", _("负责人")),
    ),
    sorts={
        "name": "name",
        "-name": "-name",
        "updated": "updated_at",
        "-updated": "-updated_at",
        "city": "city",
        "-city": "-city",
    },
    default_sort="-updated",
)

CONTACT_LIST = ListSpec(
    search_fields=("name", "mobile", "email", "account__name", "title"),
    filters=(
        Filter("role", "role", _("决策链角色"), tuple(ContactRole.choices)),
        Filter("owner", "owner_id", _("负责人")),
        Filter("account", "account_id", _("客户")),
    ),
    sorts={
        "name": "name",
        "-name": "-name",
        "updated": "updated_at",
        "-updated": "-updated_at",
        "weight": "decision_weight",
        "-weight": "-decision_weight",
    },
    default_sort="-updated",
)


def accounts_for(user: User) -> QuerySet[Account]:
    """Live (not merged away) accounts the user may see."""
    return visible_to(user, Account.objects.filter(merged_into__isnull=True)).select_related(
        "owner"
    )


def contacts_for(user: User) -> QuerySet[Contact]:
    return visible_to(user, Contact.objects.filter(merged_into__isnull=True)).select_related(
        "owner", "account"
    )


def industries() -> list[tuple[str, str]]:
    values = Account.objects.exclude(industry="").values_list("industry", flat=True).distinct()
    return [(v, v) for v in sorted(values)]


def provinces() -> list[tuple[str, str]]:
    values = Account.objects.exclude(province="").values_list("province", flat=True).distinct()
    return [(v, v) for v in sorted(values)]
