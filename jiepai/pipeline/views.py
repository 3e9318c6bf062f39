from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiepai.core.editing import edit_page, keep_owner
from jiepai.core.listing import Column, list_context
from jiepai.core.timeline import timeline
from jiepai.customfields.services import definitions_for, display_values
from jiepai.org.selectors import owner_choices
from jiepai.org.visibility import get_visible_or_404
from jiepai.pipeline import services
from jiepai.pipeline.forms import OpportunityForm
from jiepai.pipeline.selectors import OPPORTUNITY_LIST, opportunities_for, stage_choices

OPPORTUNITY_COLUMNS = [
    Column(gettext_lazy("商机名称")),
    Column(gettext_lazy("客户")),
    Column(gettext_lazy("阶段")),
    Column(gettext_lazy("金额"), "-amount", numeric=True),
    Column(gettext_lazy("预计成交"), "close"),
    Column(gettext_lazy("负责人")),
    Column(gettext_lazy("更新时间"), "-updated"),
]


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    custom = [d for d in definitions_for("opportunity") if d.show_in_list]
    context = list_context(
        request.GET,
        opportunities_for(request.user),
        OPPORTUNITY_LIST,
        OPPORTUNITY_COLUMNS + [Column(d.label) for d in custom],
        extra_choices={"stage": stage_choices(), "owner": owner_choices(request.user)},
    )
    return render(
        request,
        "pipeline/opportunity_list.html",
        {
            **context,
            "title": _("商机"),
            "custom_columns": custom,
            "create_url": reverse("pipeline:opportunity_create"),
            "export_url": reverse("imports:export", args=["opportunity", "xlsx"]),
        },
    )


@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_visible_or_404(request.user, opportunities_for(request.user), pk=pk)
    return render(
        request,
        "pipeline/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "custom_values": display_values("opportunity", opportunity.custom),
            "entries": timeline("opportunity", opportunity.pk),
        },
    )


@login_required
def opportunity_create(request: HttpRequest) -> HttpResponse:
    initial = (
        {"account": request.GET.get("account")} if request.GET.get("account", "").isdigit() else {}
    )
    return edit_page(
        request,
        form_class=OpportunityForm,
        entity="opportunity",
        title=_("新建商机"),
        save=lambda values, custom: services.create_opportunity(
            actor=request.user, values=values, custom=custom
        ),
        cancel_url=reverse("pipeline:opportunity_list"),
        form_kwargs={"user": request.user, "initial": initial},
    )


@login_required
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_visible_or_404(request.user, opportunities_for(request.user), pk=pk)
    return edit_page(
        request,
        form_class=OpportunityForm,
        entity="opportunity",
        instance=opportunity,
        title=_("编辑商机:%(name)s") % {"name": opportunity.name},
        save=lambda values, custom: services.update_opportunity(
            actor=request.user,
            opportunity=opportunity,
            values=keep_owner(values, opportunity),
            custom=custom,
        ),
        cancel_url=opportunity.get_absolute_url(),
        form_kwargs={"user": request.user},
    )
