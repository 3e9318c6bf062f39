"""The incomplete pool 待补全池 (leads missing required fields: marketing completes and routes
them) and the rejected-intake inbox 拒收箱 (payloads that could not become leads: an admin fixes
and replays them)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiepai.core.editing import edit_page
from jiepai.customfields.services import definitions_for
from jiepai.events.labels import field_label
from jiepai.intake.aliases import CUSTOM_PREFIX
from jiepai.intake.models import Channel, Lead, LeadState, RejectedIntake, RejectedStatus
from jiepai.intake.pipeline import complete_lead
from jiepai.intake.rejected import discard_rejected, replay_rejected
from jiepai.org.models import Role, User
from jiepai.org.visibility import get_visible_or_404, visible_to

PAGE_SIZE = 50


class IncompleteLeadForm(forms.ModelForm):
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
            "message",
        ]
        widgets = {
            "message": forms.Textarea(attrs={"rows": 3}),
            "mobile": forms.TextInput(attrs={"inputmode": "tel"}),
            "email": forms.TextInput(attrs={"inputmode": "email"}),
        }

    def __init__(self, *args: object, missing: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name in missing or []:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
                self.fields[name].help_text = _("缺失,请补全")


def field_names_labelled(names: list[str]) -> dict[str, str]:
    """{lead field or "custom.<key>": its label in the reader's language}, for the pool's pages."""
    custom = {d.key: d.label for d in definitions_for("lead")}
    return {
        name: custom.get(name[len(CUSTOM_PREFIX) :], name)
        if name.startswith(CUSTOM_PREFIX)
        else field_label("lead", name)
        for name in names
    }


def _labelled(lead: Lead) -> Lead:
    labels = field_names_labelled([*lead.missing_fields, *lead.field_errors])
    lead.missing_labels = [labels[n] for n in lead.missing_fields]  # type: ignore[attr-defined]
    lead.error_labels = {labels[n]: m for n, m in lead.field_errors.items()}  # type: ignore[attr-defined]
    return lead


def _incomplete(user: User) -> object:
    return visible_to(
        user, Lead.objects.filter(state=LeadState.INCOMPLETE, merged_into__isnull=True)
    )


@login_required
def incomplete_list(request: HttpRequest) -> HttpResponse:
    leads = _incomplete(request.user).select_related("channel")  # type: ignore[attr-defined,arg-type]
    channel = request.GET.get("channel", "")
    if channel.isdigit():
        leads = leads.filter(channel_id=int(channel))
    page = Paginator(leads.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = [_labelled(lead) for lead in page.object_list]
    return render(
        request,
        "intake/incomplete_list.html",
        {"page": page, "channels": Channel.objects.all(), "channel": channel},
    )


@login_required
def incomplete_fix(request: HttpRequest, pk: int) -> HttpResponse:
    """Complete a lead: "save" keeps it in the pool, "complete and route" routes it."""
    lead = get_visible_or_404(request.user, _incomplete(request.user), pk=pk)  # type: ignore[arg-type]
    return edit_page(
        request,
        form_class=IncompleteLeadForm,
        entity="lead",
        instance=lead,
        title=_("补全线索:%(name)s") % {"name": lead},
        save=lambda values, custom: complete_lead(
            lead=lead,
            actor=request.user,
            values=values,
            custom=custom,
            route=request.POST.get("action") == "route",
        ),
        cancel_url=reverse("intake:incomplete_list"),
        form_kwargs={"missing": lead.missing_fields},
        template="intake/incomplete_form.html",
        extra_context={"lead": _labelled(lead)},
    )


# --- rejected inbox -----------------------------------------------------------------------------


def _inbox_user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not (user.is_superuser or user.role in (Role.ADMIN, Role.MARKETING)):
        raise Http404
    return user


@login_required
def rejected_list(request: HttpRequest) -> HttpResponse:
    _inbox_user(request)
    status = request.GET.get("status", RejectedStatus.OPEN)
    rows = RejectedIntake.objects.select_related("channel", "lead")
    if status in RejectedStatus.values:
        rows = rows.filter(status=status)
    page = Paginator(rows.defer("body_bytes", "body_text"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "intake/rejected_list.html",
        {"page": page, "status": status, "statuses": RejectedStatus.choices},
    )


class ReplayForm(forms.Form):
    body_text = forms.CharField(
        label=gettext_lazy("内容(可修改后重新接入)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
    )


@login_required
def rejected_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _inbox_user(request)
    row = get_object_or_404(RejectedIntake.objects.select_related("channel", "lead"), pk=pk)
    form = ReplayForm(request.POST or None, initial={"body_text": row.body_text})
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "discard":
                discard_rejected(rejected=row, actor=user)
                messages.success(request, _("已丢弃"))
                return redirect("intake:rejected_list")
            row = replay_rejected(
                rejected=row, actor=user, body_text=form.cleaned_data["body_text"]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, _("已重新接入"))
            if row.lead_id:
                return redirect("intake:lead_detail", pk=row.lead_id)
            return redirect("intake:rejected_list")
    return render(
        request,
        "intake/rejected_detail.html",
        {"row": row, "form": form},
        status=400 if form.errors else 200,
    )
