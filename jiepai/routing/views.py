"""Routing pages: the rep's workbench (我的线索), offers, quick contact links, the manager's load
board, unassigned queue, manual reassignment and the routing health report. Thin: they validate,
call services/selectors, render."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiepai.intake.models import Lead, LeadState
from jiepai.org.models import RepProfile, User
from jiepai.org.services import is_online, set_online_status, set_paused, touch_presence
from jiepai.org.visibility import get_visible_or_404
from jiepai.routing import selectors
from jiepai.routing.export import health_workbook
from jiepai.routing.forms import ContactedForm, PeriodForm, PresenceForm, ReassignForm
from jiepai.routing.models import LeadOffer
from jiepai.routing.panel import lead_actions
from jiepai.routing.services import (
    assignable_reps,
    can_reassign,
    claim_offer,
    lead_url,
    mark_contacted,
    reassign_lead,
    route_lead,
)


def _require_manager(user: User) -> None:
    if not can_reassign(user):
        raise PermissionDenied


def _incomplete_url() -> str:
    """The intake helper's incomplete pool (待补全池) page, or the lead list filtered to it."""
    try:
        return reverse("intake:incomplete_list")
    except NoReverseMatch:
        return reverse("intake:lead_list") + "?state=incomplete"


def _first_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


# --- the rep ------------------------------------------------------------------------------


def _presence_context(user: User, now: datetime.datetime) -> dict:
    profile = RepProfile.objects.filter(user=user).first()
    return {"profile": profile, "online": bool(profile and is_online(profile, now))}


@login_required
def my_leads(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    touch_presence(user=request.user, now=now)
    leads = selectors.my_leads(request.user)
    return render(
        request,
        "routing/my_leads.html",
        {
            "offers": list(selectors.open_offers(request.user)),
            "waiting": [lead_actions(request.user, lead, now) for lead in leads["waiting"]],
            "working": leads["working"],
            **_presence_context(request.user, now),
        },
    )


@login_required
def offer(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        LeadOffer.objects.select_related("lead", "lead__channel", "round"), pk=pk, rep=request.user
    )
    return render(request, "routing/offer.html", {"offer": item, "now": timezone.now()})


@login_required
def lead_offer(request: HttpRequest, pk: int) -> HttpResponse:
    """The claim link of an offer notification: the latest offer of this lead to this person."""
    item = (
        LeadOffer.objects.filter(lead_id=pk, rep=request.user)
        .select_related("lead", "lead__channel", "round")
        .order_by("-round__offered_at", "-id")
        .first()
    )
    if item is None:
        raise Http404
    return render(request, "routing/offer.html", {"offer": item, "now": timezone.now()})


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(LeadOffer.objects.select_related("round"), pk=pk, rep=request.user)
    try:
        lead = claim_offer(offer=item, rep=request.user, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
        return redirect("routing:my_leads")
    messages.success(request, _("抢单成功:%(lead)s,请尽快联系") % {"lead": lead})
    return redirect(_back(request, reverse("routing:my_leads")))


@login_required
@require_POST
def contacted(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_visible_or_404(request.user, Lead.objects.select_related("channel"), pk=pk)
    form = ContactedForm(request.POST)
    now = timezone.now()
    error = ""
    if not form.is_valid():
        error = _("未知的联系方式")
    else:
        try:
            lead = mark_contacted(
                lead=lead, rep=request.user, method=form.cleaned_data["method"], now=now
            )
        except ValidationError as exc:
            error = _first_message(exc)
    if request.htmx:
        context = lead_actions(request.user, lead, now)
        context["error"] = error
        return render(request, "routing/_lead_actions.html", context, status=200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已标记为已联系"))
    return redirect(_back(request, reverse("routing:my_leads")))


@login_required
@require_POST
def presence(request: HttpRequest) -> HttpResponse:
    form = PresenceForm(request.POST)
    now = timezone.now()
    if not RepProfile.objects.filter(user=request.user).exists():
        raise Http404
    if form.is_valid():
        if form.cleaned_data["online_status"]:
            set_online_status(user=request.user, status=form.cleaned_data["online_status"], now=now)
        if form.cleaned_data["paused"] in ("0", "1"):
            set_paused(
                user=request.user,
                paused=form.cleaned_data["paused"] == "1",
                actor=request.user,
                now=now,
            )
    else:
        messages.error(request, _("无效的状态"))
    if request.htmx:
        return render(
            request, "routing/my_leads.html#presence", _presence_context(request.user, now)
        )
    return redirect("routing:my_leads")


# --- the manager --------------------------------------------------------------------------


@login_required
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request.user)
    lead = get_visible_or_404(request.user, Lead.objects.select_related("owner", "channel"), pk=pk)
    reps = assignable_reps(request.user).order_by("department__path", "username")
    form = ReassignForm(request.POST or None, reps=reps)
    if request.method == "POST" and form.is_valid():
        try:
            reassign_lead(
                lead=lead,
                to=form.cleaned_data["to"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, _("已改派给 %(to)s") % {"to": form.cleaned_data["to"]})
            return redirect(_back(request, lead_url(lead)))
    loads = {row.rep.pk: row for row in selectors.load_board(request.user, timezone.now())}
    return render(
        request,
        "routing/reassign.html",
        {"lead": lead, "form": form, "loads": loads, "next": _back(request, "")},
    )


@login_required
@require_POST
def route_again(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request.user)
    lead = get_visible_or_404(request.user, Lead.objects.select_related("channel"), pk=pk)
    if lead.state != LeadState.UNASSIGNED or lead.owner_id:
        messages.error(request, _("只有待分配的线索可以重新自动分配"))
        return redirect("routing:queue")
    decision = route_lead(lead=lead, now=timezone.now(), actor=request.user)
    if decision.outcome == "assigned":
        messages.success(request, _("已分配给 %(rep)s") % {"rep": decision.rep})
    elif decision.outcome == "offered":
        messages.success(
            request,
            _("已发给 %(n)s 位销售抢单") % {"n": len(decision.offered_to)},
        )
    else:
        messages.warning(request, _("仍然没有可分配的销售,请手动指派"))
    return redirect("routing:queue")


@login_required
def board(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    now = timezone.now()
    rows = selectors.load_board(request.user, now)
    return render(
        request,
        "routing/board.html",
        {
            "rows": rows,
            "now": now,
            "week_start": selectors.week_start(now),
            "incomplete_url": _incomplete_url(),
            "queue_count": selectors.unassigned_queue(request.user).count(),
            "totals": {
                "active": sum(r.active for r in rows),
                "capacity": sum(r.capacity for r in rows),
                "overdue": sum(r.overdue for r in rows),
                "stale": sum(r.stale for r in rows),
                "converted": sum(r.converted_this_week for r in rows),
            },
        },
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    return render(
        request,
        "routing/queue.html",
        {
            "leads": list(selectors.unassigned_queue(request.user)[:200]),
            "incomplete_url": _incomplete_url(),
        },
    )


def _period(request: HttpRequest) -> tuple[PeriodForm, datetime.date, datetime.date]:
    today = timezone.localdate()
    form = PeriodForm(request.GET if "start" in request.GET else None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    default = PeriodForm.default(today)
    if not form.is_bound:
        form = PeriodForm(initial=default)
    return form, default["start"], default["end"]


@login_required
def health(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    form, start, end = _period(request)
    report = selectors.health_report(request.user, start=start, end=end)
    charts = selectors.health_chart_options(report)
    return render(
        request,
        "routing/health.html",
        {
            "form": form,
            "report": report,
            "balance_chart": charts["balance"],
            "funnel_chart": charts["funnel"],
            "query": f"start={start.isoformat()}&end={end.isoformat()}",
        },
    )


@login_required
def health_export(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    _form, start, end = _period(request)
    report = selectors.health_report(request.user, start=start, end=end)
    response = HttpResponse(
        health_workbook(report),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="routing-health-{start.isoformat()}-{end.isoformat()}.xlsx"'
    )
    return response
