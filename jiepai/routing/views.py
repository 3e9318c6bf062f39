from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    raise Http404


my_leads = offer = claim = contacted = reassign = route_again = presence = _todo
board = queue = health = health_export = _todo
