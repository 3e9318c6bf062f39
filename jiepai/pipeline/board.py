"""Pages for moving deals: the kanban board (and its list view), the gated move (dialog on the
board, full page from the detail page), and the one-tap "add follow-up" link of stall alerts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiepai.org.selectors import owner_choices
from jiepai.org.visibility import get_visible_or_404
from jiepai.pipeline.gate_form import answers_from_post, prompts
from jiepai.pipeline.kanban import (
    BoardFilters,
    board_columns,
    board_totals,
    default_pipeline,
    department_choices,
    team_choices,
)
from jiepai.pipeline.models import Opportunity, Pipeline, Stage
from jiepai.pipeline.stages import (
    GateBlocked,
    StageMoveError,
    allowed_targets,
    check_transition,
    move_opportunity,
    preview_move,
)


def _pipeline(request: HttpRequest) -> Pipeline:
    raw = str(request.GET.get("pipeline") or "")
    if raw.isdigit() and len(raw) < 12:
        found = Pipeline.objects.filter(pk=int(raw)).first()
        if found:
            return found
    pipeline = default_pipeline()
    if pipeline is None:
        raise Http404(_("还没有配置销售流程"))
    return pipeline


@login_required
def board(request: HttpRequest) -> HttpResponse:
    pipeline = _pipeline(request)
    filters = BoardFilters.from_params(request.GET)
    columns = board_columns(viewer=request.user, pipeline=pipeline, filters=filters)
    return render(
        request,
        "pipeline/board.html",
        {
            "pipeline": pipeline,
            "pipelines": Pipeline.objects.all(),
            "columns": columns,
            "totals": board_totals(columns),
            "filters": filters,
            "owner_choices": owner_choices(request.user),
            "team_choices": team_choices(request.user),
            "department_choices": department_choices(request.user),
            "as_list": request.GET.get("view") == "list",
        },
    )


def _deal(request: HttpRequest, pk: int) -> Opportunity:
    return get_visible_or_404(
        request.user,
        Opportunity.objects.select_related("stage__pipeline", "account", "owner"),
        pk=pk,
    )


def _target(request: HttpRequest, deal: Opportunity) -> Stage | None:
    raw = str(request.POST.get("stage") or request.GET.get("stage") or "")
    if not raw.isdigit() or len(raw) > 12:
        return None
    return (
        Stage.objects.select_related("pipeline")
        .filter(pk=int(raw), pipeline_id=deal.stage.pipeline_id)
        .first()
    )


def _render_move(
    request: HttpRequest,
    deal: Opportunity,
    target: Stage | None,
    *,
    missing: list[Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    saved: list[str] | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "deal": deal,
        "target": target,
        "targets": allowed_targets(deal, request.user),
        "groups": prompts(
            missing or [],
            deal,
            posted=request.POST if request.method == "POST" else None,
            errors=errors,
        ),
        "errors": errors or {},
        "saved": saved or [],
        "problem": problem,
        # the form was sent (not just a card dropped): say which parts are still open
        "submitted": request.method == "POST" and "answering" in request.POST,
        "in_dialog": bool(request.htmx),
    }
    if request.htmx:
        # htmx swaps only 2xx answers: the dialog shows what is missing with a 200.
        return render(request, "pipeline/board_gate.html", context)
    return render(request, "pipeline/board_move.html", context, status=status)


def _moved(request: HttpRequest, deal: Opportunity) -> HttpResponse:
    messages.success(
        request, _("“%(name)s”已进入“%(stage)s”") % {"name": deal.name, "stage": deal.stage.name}
    )
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect(deal.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what entering the chosen stage still needs. POST: complete it and move."""
    deal = _deal(request, pk)
    target = _target(request, deal)
    if target is None:
        return _render_move(request, deal, None, problem=_("请选择要进入的阶段"), status=400)
    if request.method == "GET":
        try:
            check_transition(opportunity=deal, to_stage=target, actor=request.user)
        except StageMoveError as exc:
            return _render_move(request, deal, None, problem=exc.message)
        return _render_move(
            request, deal, target, missing=preview_move(opportunity=deal, to_stage=target)
        )
    answers, parse_errors = answers_from_post(request.POST, request.FILES)
    if parse_errors:
        missing = preview_move(opportunity=deal, to_stage=target)
        return _render_move(request, deal, target, missing=missing, errors=parse_errors, status=400)
    try:
        move_opportunity(
            opportunity=deal,
            to_stage=target,
            actor=request.user,
            answers=answers,
            now=timezone.now(),
        )
    except StageMoveError as exc:
        return _render_move(request, deal, target, problem=exc.message, status=400)
    except GateBlocked as blocked:
        return _render_move(
            request,
            deal,
            target,
            missing=blocked.missing,
            errors=blocked.errors,
            saved=blocked.saved,
            status=400,
        )
    return _moved(request, deal)


@login_required
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """The one-tap link of a stall alert: straight to a new follow-up on this deal."""
    deal = _deal(request, pk)
    try:
        url = reverse("activities:follow_up_create")
    except NoReverseMatch:
        return redirect(f"{deal.get_absolute_url()}#follow-up")
    return redirect(f"{url}?opportunity={deal.pk}")
