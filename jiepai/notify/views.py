"""Inbox, notification settings and (for admins) the delivery log. Thin: selectors and services
do the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiepai.notify import selectors, services
from jiepai.notify.forms import parse_preferences
from jiepai.notify.models import Delivery, DeliveryChannel, DeliveryStatus

PAGE_SIZE = 30
INBOX_CHANGED = "inboxChanged"  # htmx event the top-bar badge listens to


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(
        selectors.inbox_for(request.user, unread_only=unread_only), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": selectors.unread_count(request.user),
        },
    )


@login_required
@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    return render(request, "notify/badge.html", {"unread": selectors.unread_count(request.user)})


@login_required
@require_GET
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    note = selectors.own_notification_or_404(request.user, pk)
    services.mark_read(user=request.user, notification_id=note.pk)
    if note.url and url_has_allowed_host_and_scheme(
        note.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(note.url)
    return redirect("notify:inbox")


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.mark_read(user=request.user, notification_id=pk):
        raise Http404
    if request.htmx:
        note = selectors.own_notification_or_404(request.user, pk)
        response = render(request, "notify/inbox.html#row", {"note": note})
        response["HX-Trigger"] = INBOX_CHANGED
        return response
    return redirect("notify:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(user=request.user)
    messages.success(request, _("已将 %(count)d 条通知标为已读") % {"count": count})
    return redirect("notify:inbox")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.save_preferences(user=request.user, choices=parse_preferences(request.POST))
        messages.success(request, _("通知设置已保存"))
        return redirect("notify:preferences")
    rows, robots = selectors.preference_rows(request.user)
    return render(request, "notify/preferences.html", {"rows": rows, "robots": robots})


@login_required
@require_GET
def delivery_log(request: HttpRequest) -> HttpResponse:
    if not selectors.can_see_delivery_log(request.user):
        raise Http404
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    status = status if status in DeliveryStatus.values else ""
    channel = channel if channel in DeliveryChannel.values else ""
    page = Paginator(selectors.delivery_log(status=status, channel=channel), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notify/deliveries.html",
        {
            "page": page,
            "status": status,
            "channel": channel,
            "statuses": DeliveryStatus.choices,
            "channels": DeliveryChannel.choices,
        },
    )


@login_required
@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponse:
    if not selectors.can_see_delivery_log(request.user):
        raise Http404
    delivery = get_object_or_404(Delivery, pk=pk)
    if delivery.status == DeliveryStatus.SENT:
        messages.error(request, _("已发送的投递不能重发"))
    else:
        services.resend_delivery(delivery=delivery)
        messages.success(request, _("已重新安排发送"))
    return redirect("notify:deliveries")
