"""The JSON API: one NinjaAPI at /api/v1/ (OpenAPI schema at /api/v1/openapi.json, docs at
/api/v1/docs).

Adding your app's endpoints is one line in ROUTERS below: (prefix, "dotted.path.to.router"), e.g.

    ("/intake", "jiepai.intake.api.router"),
    ("/events", "jiepai.events.api.router"),

Write the router as a thin adapter over your services/selectors (`from ninja import Router`;
`router = Router(tags=["intake"])`). Every endpoint is authenticated by default (Bearer token or
browser session): take the caller with `jiepai.api.auth.actor(request)` and narrow every
queryset with `jiepai.org.visibility.visible_to`. A router that authenticates differently (a
channel's intake key) passes `auth=...` on its operations (or `Router(auth=None)` and checks
itself). Raise django's ValidationError({"field": [...]}) for bad input and Http404 for
unknown/invisible ids: jiepai.api.errors turns them into JSON.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from jiepai.api import errors
from jiepai.api.auth import BrowserSession, TokenAuth

ROUTERS: list[tuple[str, str]] = [
    ("/leads", "jiepai.api.leads.router"),
    ("/accounts", "jiepai.api.accounts.router"),
    ("/contacts", "jiepai.api.contacts.router"),
    ("/opportunities", "jiepai.api.opportunities.router"),
    ("/opportunities", "jiepai.pipeline.api.router"),
    ("/intake", "jiepai.intake.api.router"),
    ("/events", "jiepai.intake.api.events_router"),
    ("/dedup", "jiepai.dedup.api.router"),
]


class ReadableJSON(JSONRenderer):
    """UTF-8 JSON with Chinese as characters rather than \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    # lazy: the schema and the docs page are built per request, in the reader's language
    title=_("节拍 CRM API"),
    version="1",
    description=_(
        "节拍 CRM 的 JSON 接口。认证:请求头 `Authorization: Bearer <令牌>`(在“API 令牌”页面创建),"
        "或浏览器登录会话。错误统一为 "
        '`{"detail": "...", "errors": {"字段": ["说明"]}}`,输入有误返回 400。'
    ),
    auth=[TokenAuth(), BrowserSession()],
    renderer=ReadableJSON(),
    urls_namespace="api-v1",
)
errors.install(api)

for prefix, router in ROUTERS:
    api.add_router(prefix, router)
