"""The page where a user manages their own API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiepai.api.models import ApiToken
from jiepai.api.services import create_api_token, revoke_api_token


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"name": "", "errors": []}
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            token, raw = create_api_token(user=request.user, name=name)  # type: ignore[arg-type]
        except ValidationError as exc:
            context.update(name=name, errors=exc.messages)
        else:
            # Shown in this response only: the token is not stored and cannot be shown again.
            context.update(new_token=raw, new_token_row=token)
    context["tokens"] = ApiToken.objects.filter(user=request.user)
    return render(request, "api/tokens.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    # Only one's own tokens: someone else's id is a 404.
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    revoke_api_token(token=token, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("令牌“%(name)s”已撤销") % {"name": token.name})
    return redirect("api:tokens")
