"""Turning the bytes a channel sent into a payload (JSON or form-encoded), or a clear reason why
not. Used by the intake endpoint, the events endpoint and the rejected-inbox replay."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qsl

from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _

from jiepai.intake.models import RejectedReason

MAX_BODY_BYTES = 64 * 1024
MAX_FORM_FIELDS = 1000
JSON_TYPES = ("application/json", "text/json")
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"


class PayloadError(Exception):
    """The body cannot be read as a payload; `reason` is a RejectedReason, `status` the HTTP
    status to answer with."""

    def __init__(self, reason: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.status = status


def media_type(content_type: str) -> tuple[str, str]:
    """("application/json", "utf-8") from a Content-Type header; charset "" when not given."""
    if not content_type:
        return "", ""
    media, params = parse_header_parameters(content_type)
    return media.lower(), params.get("charset", "").strip().lower()


def decode(body: bytes, charset: str = "") -> str:
    """The body as text: in its declared charset; else UTF-8, else GB18030 (older Chinese sites
    post GBK without saying so)."""
    if charset:
        try:
            return body.decode(charset)
        except LookupError as exc:
            raise PayloadError(
                RejectedReason.BAD_ENCODING, _("不认识的字符集“%(c)s”") % {"c": charset}
            ) from exc
        except UnicodeDecodeError as exc:
            raise PayloadError(
                RejectedReason.BAD_ENCODING,
                _("内容不是有效的 %(c)s 编码(第 %(pos)d 字节)") % {"c": charset, "pos": exc.start},
            ) from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PayloadError(RejectedReason.BAD_ENCODING, _("内容既不是 UTF-8 也不是 GBK 编码"))


def clean_strings(value: Any) -> Any:
    """Strings without NUL characters or lone surrogates: neither can be stored (PostgreSQL
    rejects both, SQLite the surrogates), and neither carries meaning in a form."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {clean_strings(str(k)): clean_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_strings(v) for v in value]
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(_("不支持 %(name)s") % {"name": name})


def parse_json(text: str) -> dict[str, Any] | list[Any]:
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            RejectedReason.BAD_JSON,
            _("JSON 格式错误:第 %(line)d 行第 %(col)d 列,%(msg)s")
            % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg},
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise PayloadError(RejectedReason.BAD_JSON, _("JSON 格式错误:%(e)s") % {"e": exc}) from exc
    if not isinstance(data, dict | list):
        raise PayloadError(
            RejectedReason.NOT_AN_OBJECT, _("JSON 顶层应为对象 {...}(或字段列表 [...])")
        )
    return clean_strings(data)


def parse_form(body: bytes, charset: str = "") -> dict[str, Any]:
    text = decode(body, charset)
    encodings = [charset] if charset else ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            pairs = parse_qsl(
                text,
                keep_blank_values=True,
                encoding=encoding,
                errors="strict",
                max_num_fields=MAX_FORM_FIELDS,
            )
        except UnicodeDecodeError:
            continue
        except ValueError as exc:
            raise PayloadError(
                RejectedReason.BAD_FORM,
                _("表单字段太多(最多 %(n)d 个)") % {"n": MAX_FORM_FIELDS},
            ) from exc
        return clean_strings(group_pairs(pairs))
    raise PayloadError(RejectedReason.BAD_ENCODING, _("表单内容的编码无法识别"))


def group_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs → a dict; a repeated name (checkboxes) becomes a list."""
    grouped: dict[str, Any] = {}
    for key, value in pairs:
        if key in grouped:
            current = grouped[key]
            grouped[key] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            grouped[key] = value
    return grouped


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """multipart/form-data fields; an uploaded file is kept as its file name only."""
    from django.core.files.uploadhandler import MemoryFileUploadHandler
    from django.http.multipartparser import MultiPartParser, MultiPartParserError

    meta = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body))}
    try:
        fields, files = MultiPartParser(
            meta, io.BytesIO(body), [MemoryFileUploadHandler()], "utf-8"
        ).parse()
    except (MultiPartParserError, ValueError) as exc:
        raise PayloadError(
            RejectedReason.BAD_FORM, _("multipart 表单格式错误:%(e)s") % {"e": exc}
        ) from exc
    data: dict[str, Any] = {
        key: values[0] if len(values) == 1 else values for key, values in fields.lists()
    }
    for key, upload in files.items():
        data.setdefault(key, upload.name)
    return clean_strings(data)


def parse_body(body: bytes, content_type: str) -> dict[str, Any] | list[Any]:
    """JSON or form-encoded, by Content-Type; without one, JSON if it looks like JSON."""
    media, charset = media_type(content_type)
    if not body.strip():
        return {}
    if media in JSON_TYPES or media.endswith("+json"):
        return parse_json(decode(body, charset))
    if media == FORM_TYPE:
        return parse_form(body, charset)
    if media == MULTIPART_TYPE:
        return parse_multipart(body, content_type)
    if media in ("", "text/plain"):
        if body.lstrip()[:1] in (b"{", b"["):
            return parse_json(decode(body, charset))
        return parse_form(body, charset)
    raise PayloadError(
        RejectedReason.UNSUPPORTED,
        _(
            "不支持的内容类型“%(t)s”;请用 application/json、"
            "application/x-www-form-urlencoded 或 multipart/form-data"
        )
        % {"t": media},
        status=415,
    )
