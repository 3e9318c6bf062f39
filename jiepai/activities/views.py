"""Pages for follow-ups, tasks, visits and their review. Thin: parse input, call services and
selectors, render. Every record is found through the viewer's visibility (404 otherwise)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiepai.activities import selectors
from jiepai.activities.forms import FIELD_FOR_ERROR, FollowUpForm, VisitEndForm
from jiepai.activities.models import (
    Activity,
    ActivitySettings,
    FlagStatus,
    Task,
    Visit,
    VisitFlag,
)
from jiepai.activities.services import complete_task, log_follow_up
from jiepai.activities.transcription import transcribe_upload
from jiepai.activities.visits import (
    Position,
    end_visit,
    parse_client_time,
    review_flag,
    start_visit,
    trajectory,
    trajectory_chart,
)
from jiepai.activities.vocabulary import quick_fill
from jiepai.customers.models import Account, Contact
from jiepai.intake.models import Lead
from jiepai.org.models import User
from jiepai.org.visibility import get_visible_or_404, visible_to
from jiepai.pipeline.models import Opportunity

SEARCH_LIMIT = 8


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _customer(user: User, source: Any) -> tuple[Account | None, Lead | None, Opportunity | None]:
    """The record a follow-up is about, from ids in the query or form (a `pick` button wins)."""
    account_id, lead_id = _int(source.get("account")), _int(source.get("lead"))
    opportunity_id = _int(source.get("opportunity") or source.get("deal"))
    pick = str(source.get("pick") or "")
    if pick:
        kind, _sep, pk = pick.partition(":")
        account_id, lead_id, opportunity_id = None, None, None
        if kind == "account":
            account_id = _int(pk)
        elif kind == "lead":
            lead_id = _int(pk)
    opportunity = (
        get_visible_or_404(user, Opportunity.objects.select_related("account"), pk=opportunity_id)
        if opportunity_id
        else None
    )
    if opportunity is not None:
        account_id = opportunity.account_id
    account = get_visible_or_404(user, Account.objects.all(), pk=account_id) if account_id else None
    lead = (
        get_visible_or_404(user, Lead.objects.all(), pk=lead_id)
        if lead_id and not account
        else None
    )
    return account, lead, opportunity


def _values(request: HttpRequest) -> dict[str, Any]:
    return {key: request.POST.get(key) for key in request.POST if key != "csrfmiddlewaretoken"}


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


def _render_follow_up(
    request: HttpRequest,
    form: FollowUpForm,
    *,
    account: Account | None,
    lead: Lead | None,
    opportunity: Opportunity | None,
    partial: str = "",
    fill_messages: list[str] | None = None,
    parsed: Any = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "account": account,
        "lead": lead,
        "opportunity": opportunity,
        "customer": account or lead,
        "fill_messages": fill_messages or [],
        "parsed": parsed,
        "next": _safe_next(request),
        "folded_errors": any(
            form.is_bound and form.errors.get(name)
            for name in (
                "contact",
                "contact_name",
                "contact_role",
                "conclusion",
                "conclusion_note",
                "opportunity",
                "next_action_kind",
                "keywords",
            )
        ),
    }
    template = "activities/follow_up_form.html" + (f"#{partial}" if partial else "")
    return render(request, template, context, status=status)


@login_required
def follow_up_create(request: HttpRequest) -> HttpResponse:
    """New follow-up. GET ?account= / ?lead= / ?opportunity= preselects the customer.
    POST action=fill reads the sentence (htmx fills the fields for confirmation), pick=<kind:id>
    chooses the customer, anything else saves."""
    now = timezone.now()
    source = request.POST if request.method == "POST" else request.GET
    account, lead, opportunity = _customer(request.user, source)
    if request.method != "POST":
        initial: dict[str, Any] = {
            "method": "call",
            "account": account.pk if account else None,
            "lead": lead.pk if lead else None,
        }
        if opportunity:
            initial["opportunity"] = str(opportunity.pk)
        contact_id = _int(request.GET.get("contact"))
        if account and contact_id and account.contacts.filter(pk=contact_id).exists():
            initial["contact"] = str(contact_id)
        form = FollowUpForm(initial=initial, account=account)
        return _render_follow_up(request, form, account=account, lead=lead, opportunity=opportunity)

    values = _values(request)
    values.update({"account": account.pk if account else "", "lead": lead.pk if lead else ""})
    if "pick" in request.POST:
        values["opportunity"] = ""
        form = FollowUpForm(initial=values, account=account)
        return _render_follow_up(
            request,
            form,
            account=account,
            lead=lead,
            opportunity=None,
            partial="form" if request.htmx else "",
        )
    if request.POST.get("action") == "fill":
        return _fill(request, values, account=account, lead=lead, opportunity=opportunity, now=now)
    return _save(request, values, account=account, lead=lead, opportunity=opportunity, now=now)


def _fill(
    request: HttpRequest,
    values: dict[str, Any],
    *,
    account: Account | None,
    lead: Lead | None,
    opportunity: Opportunity | None,
    now: datetime.datetime,
) -> HttpResponse:
    text = (values.get("text") or "").strip()
    notes: list[str] = []
    audio = request.FILES.get("audio")
    if audio is not None and not text:
        try:
            text = transcribe_upload(audio)
        except Exception:  # noqa: BLE001 - a failing backend must not lose what was typed
            notes.append(_("录音转写失败,请手动输入"))
        if text:
            values["text"] = text
            notes.append(_("录音文字:%(text)s") % {"text": text})
        elif not notes:
            notes.append(_("没有配置录音转写,请用手机键盘的语音输入"))
    if not text:
        notes.append(_("请先输入或说一句话"))
        form = FollowUpForm(initial=values, account=account)
        return _render_follow_up(
            request,
            form,
            account=account,
            lead=lead,
            opportunity=opportunity,
            partial="fields" if request.htmx else "",
            fill_messages=notes,
        )
    fill = quick_fill(actor=request.user, text=text, now=now, account=account)
    suggested = fill.initial()
    due = suggested.pop("next_action_due", None)
    has_time = suggested.pop("next_action_due_has_time", False)
    if due:
        values["next_action_date"] = due[:10]
        values["next_action_time"] = due[11:16] if has_time else ""
    if "contact" in suggested:
        values["contact"] = str(suggested.pop("contact"))
        suggested.pop("contact_name", None)
    values.update(suggested)
    parsed = fill.parsed
    if parsed.action is None and parsed.due is None and parsed.contact is None:
        notes.append(_("没能从这句话里读出联系人、下一步或时间,请直接填写"))
    form = FollowUpForm(initial=values, account=account)
    return _render_follow_up(
        request,
        form,
        account=account,
        lead=lead,
        opportunity=opportunity,
        partial="fields" if request.htmx else "",
        fill_messages=notes + fill.messages,
        parsed=parsed,
    )


def _save(
    request: HttpRequest,
    values: dict[str, Any],
    *,
    account: Account | None,
    lead: Lead | None,
    opportunity: Opportunity | None,
    now: datetime.datetime,
) -> HttpResponse:
    data = request.POST.copy()
    data["account"] = values["account"]
    data["lead"] = values["lead"]
    form = FollowUpForm(data, request.FILES, account=account)
    if not form.is_valid():
        return _render_follow_up(
            request, form, account=account, lead=lead, opportunity=opportunity, status=400
        )
    cleaned = form.cleaned_data
    if account is not None and cleaned.get("opportunity"):
        opportunity = get_visible_or_404(
            request.user, account.opportunities.all(), pk=_int(cleaned["opportunity"])
        )
    contact = None
    if account is not None and cleaned.get("contact"):
        contact = Contact.objects.filter(account=account, pk=_int(cleaned["contact"])).first()
    text = cleaned.get("text") or ""
    parsed = (
        quick_fill(actor=request.user, text=text, now=now, account=account).parsed.as_json()
        if text
        else None
    )
    try:
        log_follow_up(
            actor=request.user,
            method=cleaned["method"],
            account=account,
            lead=lead,
            opportunity=opportunity,
            contact=contact,
            contact_name=cleaned.get("contact_name") or "",
            contact_role=cleaned.get("contact_role") or "",
            save_contact=bool(cleaned.get("save_contact")),
            conclusion=cleaned.get("conclusion") or "",
            conclusion_note=cleaned.get("conclusion_note") or "",
            summary=text,
            next_action=cleaned.get("next_action") or "",
            next_action_kind=cleaned.get("next_action_kind") or "",
            next_action_due=form.due(selectors.user_zone(request.user)),
            keywords=form.keyword_list(),
            audio=cleaned.get("audio") or None,
            source="quick" if text else "form",
            parsed=parsed,
            now=now,
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            name = FIELD_FOR_ERROR.get(field, field)
            for message in errors:
                form.add_error(name if name in form.fields else None, message)
        return _render_follow_up(
            request, form, account=account, lead=lead, opportunity=opportunity, status=400
        )
    messages.success(request, _("跟进已保存"))
    target = _safe_next(request) or (opportunity or account or lead).get_absolute_url()  # type: ignore[union-attr]
    return redirect(target)


@login_required
def customer_search(request: HttpRequest) -> HttpResponse:
    """htmx: visible accounts and leads matching ?customer_q= (the picker's results)."""
    q = (request.GET.get("customer_q") or request.GET.get("q") or "").strip()[:50]
    accounts = visible_to(request.user, Account.objects.filter(merged_into__isnull=True))
    leads = visible_to(request.user, Lead.objects.all())
    if q:
        accounts = accounts.filter(Q(name__icontains=q) | Q(short_name__icontains=q))
        leads = leads.filter(Q(name__icontains=q) | Q(company__icontains=q))
    else:
        accounts = accounts.filter(owner=request.user)
        leads = leads.filter(owner=request.user)
    return render(
        request,
        "activities/follow_up_form.html#customer_results",
        {
            "accounts": list(accounts.order_by("-updated_at")[:SEARCH_LIMIT]),
            "leads": list(leads.order_by("-updated_at")[: SEARCH_LIMIT // 2]),
            "q": q,
            "for_visit": request.GET.get("for") == "visit",
        },
    )


@login_required
def follow_up_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _visible_activity(request.user, pk)
    return render(
        request,
        "activities/follow_up_detail.html",
        {"activity": activity, "tasks": activity.tasks.all()},
    )


def _visible_activity(user: User, pk: int) -> Activity:
    try:
        return (
            selectors.visible_activities(user)
            .select_related("account", "lead", "opportunity", "contact", "audio", "owner")
            .get(pk=pk)
        )
    except (Activity.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    tasks = selectors.open_tasks(request.user).select_related("account", "lead", "opportunity")
    done = Task.objects.filter(owner=request.user, done_at__isnull=False).order_by("-done_at")[:20]
    return render(
        request,
        "activities/tasks.html",
        {
            "tasks": tasks,
            "done": done,
            "now": now,
            "recent": selectors.visible_activities(request.user)
            .filter(owner=request.user)
            .select_related("account", "lead", "contact")[:20],
        },
    )


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        task = selectors.visible_tasks(request.user).get(pk=pk)
    except (Task.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    try:
        complete_task(actor=request.user, task=task, now=timezone.now())
    except PermissionDenied as exc:
        raise Http404 from exc
    if request.htmx:
        return render(
            request, "activities/tasks.html#task_row", {"task": task, "now": timezone.now()}
        )
    messages.success(request, _("已完成:%(title)s") % {"title": task.title})
    return redirect(_safe_next(request) or reverse("activities:task_list"))


# --- visits -----------------------------------------------------------------------------------


@login_required
def visit_home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    open_visit = (
        Visit.objects.filter(owner=request.user, ended_at__isnull=True)
        .select_related("account", "lead")
        .order_by("-started_at")
        .first()
    )
    account, lead, opportunity = _customer(request.user, request.GET)
    today = selectors.local_now(request.user, now).date()
    return render(
        request,
        "activities/visits.html",
        {
            "open_visit": open_visit,
            "end_form": VisitEndForm(),
            "account": account,
            "lead": lead,
            "opportunity": opportunity,
            "customer": account or lead,
            "today_visits": trajectory(rep=request.user, day=today),
            "today": today,
            "flags": selectors.visible_flags(request.user).filter(rep=request.user)[:10],
        },
    )


@login_required
@require_POST
def visit_start(request: HttpRequest) -> HttpResponse:
    account, lead, opportunity = _customer(request.user, request.POST)
    position = Position.parse(
        status=request.POST.get("geo_status", ""),
        latitude=request.POST.get("latitude"),
        longitude=request.POST.get("longitude"),
        accuracy=request.POST.get("accuracy"),
    )
    try:
        visit = start_visit(
            actor=request.user,
            account=account,
            lead=lead,
            opportunity=opportunity,
            position=position,
            client_time=parse_client_time(request.POST.get("client_time")),
            user_agent=request.headers.get("User-Agent", ""),
            now=timezone.now(),
        )
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for message in errors:
                messages.error(request, message)
        return redirect("activities:visit_home")
    messages.success(request, _("已签到:%(customer)s") % {"customer": visit.customer})
    for flag in visit.flags.all():
        messages.warning(
            request,
            _("%(message)s。拜访已记录,会由主管复核(不影响本次记录)") % {"message": flag.message},
        )
    return redirect("activities:visit_home")


@login_required
@require_POST
def visit_end(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visible_or_404_visit(request.user, pk)
    if visit.owner_id != request.user.pk:
        raise Http404
    form = VisitEndForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            end_visit(
                actor=request.user,
                visit=visit,
                core_need=data["core_need"],
                objection=data["objection"],
                next_action=data["next_action"],
                next_action_due=form.due(selectors.user_zone(request.user)),
                position=Position.parse(
                    status=data.get("geo_status") or "",
                    latitude=data.get("latitude"),
                    longitude=data.get("longitude"),
                    accuracy=data.get("accuracy"),
                ),
                client_time=parse_client_time(data.get("client_time")),
                now=timezone.now(),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                name = FIELD_FOR_ERROR.get(field, field)
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, _("已签退,跟进已保存"))
            return redirect("activities:visit_home")
    now = timezone.now()
    return render(
        request,
        "activities/visits.html",
        {
            "open_visit": visit,
            "end_form": form,
            "today_visits": trajectory(
                rep=request.user, day=selectors.local_now(request.user, now).date()
            ),
        },
        status=400,
    )


def get_visible_or_404_visit(user: User, pk: int) -> Visit:
    try:
        return selectors.visible_visits(user).select_related("account", "lead").get(pk=pk)
    except (Visit.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


@login_required
def visit_day(request: HttpRequest) -> HttpResponse:
    """A rep's day as a trajectory: check-ins in order, as an ECharts line over lng × lat."""
    reps = selectors.visible_reps(request.user)
    rep_id = _int(request.GET.get("rep")) or request.user.pk
    try:
        rep = reps.get(pk=rep_id)
    except User.DoesNotExist as exc:
        raise Http404 from exc
    zone = selectors.user_zone(rep)
    try:
        day = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = selectors.local_now(rep, timezone.now()).date()
    visits = trajectory(rep=rep, day=day)
    return render(
        request,
        "activities/visit_day.html",
        {
            "rep": rep,
            "reps": reps.order_by("username") if reps.count() > 1 else [],
            "day": day,
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
            "visits": visits,
            "chart": trajectory_chart(visits, zone),
            "has_points": any(v.start_latitude is not None for v in visits),
        },
    )


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", FlagStatus.OPEN)
    flags = selectors.visible_flags(request.user).select_related(
        "rep", "visit", "visit__account", "visit__lead", "reviewed_by"
    )
    if status in FlagStatus.values:
        flags = flags.filter(status=status)
    return render(
        request,
        "activities/review_queue.html",
        {
            "flags": flags[:200],
            "status": status,
            "statuses": FlagStatus.choices,
            "can_review": request.user.role in ("manager", "director", "admin")
            or request.user.is_superuser,
        },
    )


@login_required
@require_POST
def flag_review(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        flag = selectors.visible_flags(request.user).get(pk=pk)
    except (VisitFlag.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    try:
        review_flag(
            actor=request.user,
            flag=flag,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", "")[:2000],
            now=timezone.now(),
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for message in errors:
                messages.error(request, message)
    else:
        messages.success(request, _("已复核"))
    return redirect(reverse("activities:review_queue"))


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    """Per-rep process quality: closure checks passed / checked over the last N days."""
    now = timezone.now()
    days = min(max(_int(request.GET.get("days")) or 30, 1), 366)
    rows = selectors.process_quality(
        request.user, since=now - datetime.timedelta(days=days), until=now
    )
    return render(
        request,
        "activities/quality.html",
        {"rows": rows, "days": days, "settings_row": ActivitySettings.current()},
    )
