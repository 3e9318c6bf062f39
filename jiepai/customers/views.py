from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiepai.core.editing import edit_page, keep_owner
from jiepai.core.listing import Column, list_context
from jiepai.core.timeline import timeline
from jiepai.customers import services
from jiepai.customers.forms import AccountForm, ContactForm
from jiepai.customers.models import Account, Contact
from jiepai.customers.selectors import (
    ACCOUNT_LIST,
    CONTACT_LIST,
    accounts_for,
    contacts_for,
    industries,
    provinces,
)
from jiepai.customfields.services import definitions_for, display_values
from jiepai.dedup.selectors import merged_ids
from jiepai.org.selectors import owner_choices
from jiepai.org.visibility import get_visible_or_404, visible_to
from jiepai.pipeline.models import Opportunity
from jiepai.tagging.services import tags_of

ACCOUNT_COLUMNS = [
    Column(gettext_lazy("客户名称"), "name"),
    Column(gettext_lazy("行业")),
    Column(gettext_lazy("城市"), "city"),
    Column(gettext_lazy("负责人")),
    Column(gettext_lazy("更新时间"), "-updated"),
]
CONTACT_COLUMNS = [
    Column(gettext_lazy("姓名"), "name"),
    Column(gettext_lazy("客户")),
    Column(gettext_lazy("职位")),
    Column(gettext_lazy("决策链角色")),
    Column(gettext_lazy("决策权重"), "-weight", numeric=True),
    Column(gettext_lazy("手机")),
    Column(gettext_lazy("负责人")),
]


def _custom_columns(entity: str) -> list:
    return [d for d in definitions_for(entity) if d.show_in_list]


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    custom = _custom_columns("account")
    context = list_context(
        request.GET,
        accounts_for(request.user),
        ACCOUNT_LIST,
        ACCOUNT_COLUMNS + [Column(d.label) for d in custom],
        extra_choices={
            "industry": industries(),
            "province": provinces(),
            "owner": owner_choices(request.user),
        },
    )
    return render(
        request,
        "customers/account_list.html",
        {
            **context,
            "title": _("客户"),
            "custom_columns": custom,
            "create_url": reverse("customers:account_create"),
            "export_url": reverse("imports:export", args=["account", "xlsx"]),
        },
    )


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_visible_or_404(request.user, Account.objects.select_related("owner"), pk=pk)
    if account.merged_into_id:
        return redirect("customers:account_detail", pk=account.merged_into_id)
    return render(
        request,
        "customers/account_detail.html",
        {
            "account": account,
            "custom_values": display_values("account", account.custom),
            "contacts": contacts_for(request.user).filter(account=account)[:50],
            "opportunities": visible_to(
                request.user, Opportunity.objects.filter(account=account)
            ).select_related("stage", "owner")[:50],
            "tags": tags_of("account", account.pk),
            "entries": timeline("account", merged_ids("account", account.pk)),
        },
    )


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    return edit_page(
        request,
        form_class=AccountForm,
        entity="account",
        title=_("新建客户"),
        save=lambda values, custom: services.create_account(
            actor=request.user, values=values, custom=custom
        ),
        cancel_url=reverse("customers:account_list"),
        form_kwargs={"user": request.user},
        template="customers/account_form.html",
    )


@login_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_visible_or_404(request.user, accounts_for(request.user), pk=pk)
    return edit_page(
        request,
        form_class=AccountForm,
        entity="account",
        instance=account,
        title=_("编辑客户:%(name)s") % {"name": account.name},
        save=lambda values, custom: services.update_account(
            actor=request.user, account=account, values=keep_owner(values, account), custom=custom
        ),
        cancel_url=account.get_absolute_url(),
        form_kwargs={"user": request.user},
    )


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    custom = _custom_columns("contact")
    context = list_context(
        request.GET,
        contacts_for(request.user),
        CONTACT_LIST,
        CONTACT_COLUMNS + [Column(d.label) for d in custom],
        extra_choices={"owner": owner_choices(request.user)},
    )
    return render(
        request,
        "customers/contact_list.html",
        {
            **context,
            "title": _("联系人"),
            "custom_columns": custom,
            "create_url": reverse("customers:contact_create"),
            "export_url": reverse("imports:export", args=["contact", "xlsx"]),
        },
    )


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_visible_or_404(
        request.user, Contact.objects.select_related("account", "owner"), pk=pk
    )
    if contact.merged_into_id:
        return redirect("customers:contact_detail", pk=contact.merged_into_id)
    return render(
        request,
        "customers/contact_detail.html",
        {
            "contact": contact,
            "custom_values": display_values("contact", contact.custom),
            "tags": tags_of("contact", contact.pk),
            "entries": timeline("contact", merged_ids("contact", contact.pk)),
        },
    )


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    initial = (
        {"account": request.GET.get("account")} if request.GET.get("account", "").isdigit() else {}
    )
    return edit_page(
        request,
        form_class=ContactForm,
        entity="contact",
        title=_("新建联系人"),
        save=lambda values, custom: services.create_contact(
            actor=request.user, values=values, custom=custom
        ),
        cancel_url=reverse("customers:contact_list"),
        form_kwargs={"user": request.user, "initial": initial},
        template="customers/contact_form.html",
    )


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_visible_or_404(request.user, contacts_for(request.user), pk=pk)
    return edit_page(
        request,
        form_class=ContactForm,
        entity="contact",
        instance=contact,
        title=_("编辑联系人:%(name)s") % {"name": contact.name},
        save=lambda values, custom: services.update_contact(
            actor=request.user, contact=contact, values=keep_owner(values, contact), custom=custom
        ),
        cancel_url=contact.get_absolute_url(),
        form_kwargs={"user": request.user},
    )
