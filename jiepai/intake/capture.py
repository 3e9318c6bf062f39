"""Public capture: each channel's hosted lead form (no login, phone-first) and, for trade shows,
a printable QR code pointing at it with the booth as a source detail (?booth=A12).

The hosted form is protected like any Django form (CSRF token), has a honeypot field bots fill
and people never see, shares its channel's rate limit, and carries a one-time submission id used
as the Idempotency-Key, so a double tap makes one lead.
"""

from __future__ import annotations

import io
import logging
import uuid
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from qrcode.image.pure import PyPNGImage

from jiepai.intake import throttle
from jiepai.intake.aliases import SOURCE_FIELDS
from jiepai.intake.models import Channel
from jiepai.intake.normalise import normalise_budget, normalise_email, normalise_phone
from jiepai.intake.pipeline import IdempotencyMismatch, IntakeRejected, intake_lead
from jiepai.org.models import Role, User

logger = logging.getLogger(__name__)

HONEYPOT = "website"
MAX_SOURCE_VALUE = 100
#: what the hosted form asks for each field
FORM_FIELDS: dict[str, tuple[Any, dict[str, Any]]] = {
    "name": (forms.CharField, {"label": gettext_lazy("姓名"), "max_length": 50}),
    "company": (forms.CharField, {"label": gettext_lazy("公司/单位"), "max_length": 200}),
    "title": (forms.CharField, {"label": gettext_lazy("职位"), "max_length": 50}),
    "mobile": (
        forms.CharField,
        {
            "label": gettext_lazy("手机号"),
            "max_length": 40,
            "widget": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        },
    ),
    "email": (
        forms.CharField,
        {
            "label": gettext_lazy("邮箱"),
            "max_length": 254,
            "widget": forms.EmailInput(attrs={"autocomplete": "email"}),
        },
    ),
    "wechat": (forms.CharField, {"label": gettext_lazy("微信号"), "max_length": 50}),
    "industry": (forms.CharField, {"label": gettext_lazy("行业"), "max_length": 50}),
    "province": (forms.CharField, {"label": gettext_lazy("省份"), "max_length": 30}),
    "city": (forms.CharField, {"label": gettext_lazy("城市"), "max_length": 30}),
    "budget": (forms.CharField, {"label": gettext_lazy("预算(元)"), "max_length": 30}),
    "message": (
        forms.CharField,
        {
            "label": gettext_lazy("需求/留言"),
            "max_length": 2000,
            "widget": forms.Textarea(attrs={"rows": 3}),
        },
    ),
}
#: query parameters carried from the form's URL into the lead's source details
CARRIED_PARAMS = ("booth", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class PublicLeadForm(forms.Form):
    """The fields a channel publishes, required as the channel requires them, checked the way
    intake checks them (a phone number must be one) so the visitor can correct it at once."""

    # Set when the page is shown; a double tap sends it twice and makes one lead.
    submission = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, channel: Channel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        required = set(channel.required_fields)
        for name in channel.public_form_fields:
            if name not in FORM_FIELDS:
                continue
            field_class, options = FORM_FIELDS[name]
            self.fields[name] = field_class(required=name in required, **options)
        for name in CARRIED_PARAMS:
            self.fields[name] = forms.CharField(
                required=False, max_length=MAX_SOURCE_VALUE, widget=forms.HiddenInput
            )
        # The honeypot: a normal-looking text box hidden by CSS; people leave it empty.
        self.fields[HONEYPOT] = forms.CharField(
            required=False,
            label=_("网站"),
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT, "").strip())

    def visible_lead_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name in FORM_FIELDS]

    def clean_mobile(self) -> str:
        value = self.cleaned_data.get("mobile", "")
        if value:
            try:
                normalise_phone(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return value

    def clean_email(self) -> str:
        value = self.cleaned_data.get("email", "")
        if value:
            try:
                normalise_email(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return value

    def clean_budget(self) -> str:
        value = self.cleaned_data.get("budget", "")
        if value:
            try:
                normalise_budget(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return value

    def lead_payload(self) -> dict[str, str]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in FORM_FIELDS and value not in ("", None)
        }

    def source(self) -> dict[str, str]:
        source = {"via": "hosted_form"}
        for name in CARRIED_PARAMS:
            value = self.cleaned_data.get(name, "")
            if value and name in SOURCE_FIELDS:
                source[name] = value
        return source


def _public_channel(slug: str) -> Channel:
    return get_object_or_404(Channel, slug=slug, active=True, public_form_enabled=True)


@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, slug: str) -> HttpResponse:
    channel = _public_channel(slug)
    status = 200
    if request.method == "POST":
        form = PublicLeadForm(request.POST, channel=channel)
        if form.is_bot:
            logger.info("hosted form %s: honeypot filled, submission dropped", channel.slug)
            return redirect("capture:thanks", slug=channel.slug)
        if form.is_valid():
            now = timezone.now()
            verdict = throttle.hit(channel=channel, now=now)
            if not verdict.allowed:
                form.add_error(None, _("提交太频繁,请 %(n)d 秒后再试") % {"n": verdict.retry_after})
                status = 429
            else:
                try:
                    intake_lead(
                        channel=channel,
                        payload=form.lead_payload(),
                        idempotency_key=(
                            f"form:{form.cleaned_data['submission']}"
                            if form.cleaned_data["submission"]
                            else ""
                        ),
                        source=form.source(),
                        now=now,
                    )
                except (IntakeRejected, IdempotencyMismatch) as exc:
                    form.add_error(None, getattr(exc, "detail", "") or _("请填写联系方式"))
                else:
                    return redirect("capture:thanks", slug=channel.slug)
        if status == 200:
            status = 400
    else:
        initial: dict[str, str] = {"submission": uuid.uuid4().hex}
        for name in CARRIED_PARAMS:
            value = request.GET.get(name, "").strip()[:MAX_SOURCE_VALUE]
            if value:
                initial[name] = value
        form = PublicLeadForm(initial=initial, channel=channel)
    return render(
        request,
        "intake/public_form.html",
        {"channel": channel, "form": form, "honeypot": form[HONEYPOT]},
        status=status,
    )


def public_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "intake/public_thanks.html", {"channel": _public_channel(slug)})


# --- channels and QR codes (marketing) ----------------------------------------------------------


def can_manage_channels(user: User) -> bool:
    return user.is_superuser or user.role in (Role.ADMIN, Role.MARKETING, Role.DIRECTOR)


def _managed_channel(request: HttpRequest, pk: int) -> Channel:
    if not can_manage_channels(request.user):  # type: ignore[arg-type]
        raise Http404
    return get_object_or_404(Channel, pk=pk)


def public_url(channel: Channel, booth: str = "") -> str:
    url = settings.SITE_URL + reverse("capture:form", args=[channel.slug])
    return f"{url}?{urlencode({'booth': booth})}" if booth else url


def qr_image(data: str, fmt: str) -> bytes:
    """The QR code of `data` as PNG or SVG bytes (error correction M: survives a smudge)."""
    factory = PyPNGImage if fmt == "png" else qrcode.image.svg.SvgPathImage
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=12, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(image_factory=factory).save(buffer)
    return buffer.getvalue()


def _booth(request: HttpRequest) -> str:
    return request.GET.get("booth", "").strip()[:MAX_SOURCE_VALUE]


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    if not can_manage_channels(request.user):  # type: ignore[arg-type]
        raise Http404
    channels = list(Channel.objects.all())
    rows = [
        {
            "channel": c,
            "public_url": public_url(c) if c.public_form_enabled else "",
            "endpoint": settings.SITE_URL + f"/api/v1/intake/{c.slug}",
        }
        for c in channels
    ]
    user: User = request.user  # type: ignore[assignment]
    show_keys = user.is_superuser or user.role in (Role.ADMIN, Role.MARKETING)
    return render(request, "intake/channel_list.html", {"rows": rows, "show_keys": show_keys})


@login_required
def channel_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable page: the channel's QR code with its name and booth, and download links."""
    channel = _managed_channel(request, pk)
    if not channel.public_form_enabled:
        raise Http404
    booth = _booth(request)
    target = public_url(channel, booth)
    return render(
        request,
        "intake/channel_qr.html",
        {
            "channel": channel,
            "booth": booth,
            "target": target,
            "svg": qr_image(target, "svg").decode("utf-8").split("?>", 1)[-1],
            "query": urlencode({"booth": booth}) if booth else "",
        },
    )


@login_required
def channel_qr_image(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    channel = _managed_channel(request, pk)
    if fmt not in ("png", "svg") or not channel.public_form_enabled:
        raise Http404
    booth = _booth(request)
    response = HttpResponse(
        qr_image(public_url(channel, booth), fmt),
        content_type="image/png" if fmt == "png" else "image/svg+xml",
    )
    name = f"qr-{channel.slug}{'-' + booth if booth else ''}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(False, name)
    return response
