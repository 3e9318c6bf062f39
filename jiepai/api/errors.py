"""Every API error is JSON: {"detail": "...", "errors": {"field": ["message", ...]}}.

Bad input (wrong type, missing, too long, unknown id, unparsable JSON) is 400 with a message per
field; custom fields are named "custom.<key>". No input ever produces a 500.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

#: parameter sources in a pydantic error location, dropped from the field name
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
#: the name of the body parameter in every endpoint (dropped from the field name too)
BODY_PARAM = "payload"


def _message(error: dict[str, Any]) -> str:
    """A pydantic error in words a user understands (zh-Hans first, translatable)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("必填项")
    if kind == "string_too_long":
        return _("不能超过 %(n)s 个字符") % {"n": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("不能为空")
    if kind == "string_type":
        return _("应为文本")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("应为整数")
    if kind in {"float_parsing", "float_type", "decimal_parsing", "decimal_type"}:
        return _("应为数字")
    if kind in {"decimal_max_digits", "decimal_whole_digits"}:
        return _("数值太大")
    if kind == "decimal_max_places":
        return _("最多 %(n)s 位小数") % {"n": ctx.get("decimal_places")}
    if kind in {"greater_than_equal", "greater_than"}:
        return _("不能小于 %(n)s") % {"n": ctx.get("ge", ctx.get("gt"))}
    if kind in {"less_than_equal", "less_than"}:
        return _("不能大于 %(n)s") % {"n": ctx.get("le", ctx.get("lt"))}
    if kind.startswith("date") or kind.startswith("datetime"):
        return _("应为日期,格式 YYYY-MM-DD")
    if kind in {"bool_parsing", "bool_type"}:
        return _("应为 true 或 false")
    if kind == "dict_type":
        return _("应为 JSON 对象")
    if kind == "list_type":
        return _("应为列表")
    if kind == "extra_forbidden":
        return _("不支持的字段")
    if kind in {"literal_error", "enum"}:
        return _("可选值:%(values)s") % {"values": ctx.get("expected", "")}
    if kind in {"model_attributes_type", "model_type"}:
        return _("请求体应为 JSON 对象")
    return str(error.get("msg", _("无效的值")))


def _field(location: list[Any] | tuple[Any, ...]) -> str:
    parts = list(location)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] == BODY_PARAM:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def field_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(_field(error.get("loc", ())), []).append(_message(error))
    return by_field


def _json(api: NinjaAPI, request: HttpRequest, status: int, detail: str, **extra: Any) -> Any:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


def install(api: NinjaAPI) -> None:
    """Register the handlers on `api` (replacing django-ninja's defaults)."""

    @api.exception_handler(NinjaValidationError)
    def invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return _json(api, request, 400, _("输入有误"), errors=field_errors(exc.errors))

    @api.exception_handler(DjangoValidationError)
    def invalid_record(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            errors = {
                ("body" if field == "__all__" else field): [str(m) for m in messages]
                for field, messages in exc.message_dict.items()
            }
        else:
            errors = {"body": [str(m) for m in exc.messages]}
        return _json(api, request, 400, _("输入有误"), errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        detail = exc.message if exc.message != "Unauthorized" else _("未登录,或 API 令牌无效")
        return _json(api, request, 401, detail)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            return _json(
                api, request, 400, _("请求体不是有效的 JSON"), errors={"body": [_("无法解析")]}
            )
        if exc.status_code == 403 and "CSRF" in str(exc):
            return _json(api, request, 403, _("CSRF 校验失败;脚本调用请使用 API 令牌"))
        return _json(api, request, exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        # Never say whether the record exists: unknown and invisible look the same.
        return _json(api, request, 404, _("不存在或无权访问"))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return _json(api, request, 500, _("服务器内部错误,已记录"))
