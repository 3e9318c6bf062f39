"""Pages of the stage reports: the dwell heat map and the stage health per rep."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from jiepai.pipeline.kanban import default_pipeline
from jiepai.pipeline.models import Pipeline
from jiepai.pipeline.reports import Period, dwell_heatmap, stage_health


def _pipeline(request: HttpRequest) -> Pipeline:
    raw = str(request.GET.get("pipeline") or "")
    found = (
        Pipeline.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 12 else None
    )
    pipeline = found or default_pipeline()
    if pipeline is None:
        raise Http404
    return pipeline


def _period(request: HttpRequest) -> Period:
    period, errors = Period.from_params(request.GET)
    for error in errors:
        messages.warning(request, error)
    return period


@login_required
def dwell(request: HttpRequest) -> HttpResponse:
    pipeline = _pipeline(request)
    period = _period(request)
    by = "department" if request.GET.get("by") == "department" else "rep"
    heatmap = dwell_heatmap(viewer=request.user, pipeline=pipeline, period=period, by=by)
    return render(
        request,
        "pipeline/report_dwell.html",
        {
            "pipeline": pipeline,
            "pipelines": Pipeline.objects.all(),
            "period": period,
            "by": by,
            "heatmap": heatmap,
            "table": heatmap.table(),
            "chart": heatmap.echarts(),
        },
    )


@login_required
def health(request: HttpRequest) -> HttpResponse:
    pipeline = _pipeline(request)
    period = _period(request)
    report = stage_health(viewer=request.user, pipeline=pipeline, period=period)
    return render(
        request,
        "pipeline/report_health.html",
        {
            "pipeline": pipeline,
            "pipelines": Pipeline.objects.all(),
            "period": period,
            "report": report,
            "table": report.table(),
        },
    )
