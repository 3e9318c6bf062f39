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
from jiepai.customfields.services import definitions_for, display_values
from jiepai.dedup.selectors import merged_ids
from jiepai.intake import services
from jiepai.intake.forms import LeadForm
from jiepai.intake.models import Lead
from jiepai.intake.selectors import LEAD_LIST, channel_choices, leads_for
from jiepai.org.selectors import owner_choices
from jiepai.org.visibility import get_visible_or_404
from jiepai.tagging.services import tags_of

LEAD_COLUMNS = [
    Column(gettext_lazy("姓名")),
    Column(gettext_lazy("公司"), "company"),
    Column(gettext_lazy("状态")),
    Column(gettext_lazy("渠道")),
    Column(gettext_lazy("负责人")),
    Column(gettext_lazy("响应截止"), "due"),
    Column(gettext_lazy("评分"), "-score", numeric=True),
    Column(gettext_lazy("创建时间"), "-created"),
]


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    custom = [d for d in definitions_for("lead") if d.show_in_list]
    context = list_context(
        request.GET,
        leads_for(request.user),
        LEAD_LIST,
        LEAD_COLUMNS + [Column(d.label) for d in custom],
        extra_choices={"channel": channel_choices(), "owner": owner_choices(request.user)},
    )
    return render(
        request,
        "intake/lead_list.html",
        {
            **context,
            "title": _("线索"),
            "custom_columns": custom,
            "create_url": reverse("intake:lead_create"),
            "export_url": reverse("imports:export", args=["lead", "xlsx"]),
        },
    )


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_visible_or_404(
        request.user, Lead.objects.select_related("owner", "channel", "account"), pk=pk
    )
    if lead.merged_into_id:
        return redirect("intake:lead_detail", pk=lead.merged_into_id)
    return render(
        request,
        "intake/lead_detail.html",
        {
            "lead": lead,
            "custom_values": display_values("lead", lead.custom),
            "tags": tags_of("lead", lead.pk),
            "entries": timeline("lead", merged_ids("lead", lead.pk)),
        },
    )


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    return edit_page(
        request,
        form_class=LeadForm,
        entity="lead",
        title=_("新建线索"),
        save=lambda values, custom: services.create_lead(
            actor=request.user, values=values, custom=custom
        ),
        cancel_url=reverse("intake:lead_list"),
        form_kwargs={"user": request.user},
        template="intake/lead_form.html",
    )


@login_required
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_visible_or_404(request.user, leads_for(request.user), pk=pk)
    return edit_page(
        request,
        form_class=LeadForm,
        entity="lead",
        instance=lead,
        title=_("编辑线索:%(name)s") % {"name": lead},
        save=lambda values, custom: services.update_lead(
            actor=request.user, lead=lead, values=keep_owner(values, lead), custom=custom
        ),
        cancel_url=lead.get_absolute_url(),
        form_kwargs={"user": request.user},
    )
