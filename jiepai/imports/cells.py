"""Turning one spreadsheet cell into the value a field takes, or a message saying why not.

Built-in fields are converted here by their model field type (numbers, money, dates, choices,
people and linked records); custom fields are handed to jiepai.customfields (clean_value) through
the record services, so their rules live in one place. Linked records are looked up once per
distinct value and cached for the run.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from jiepai.customers.models import Account, Contact
from jiepai.customfields.models import FieldType
from jiepai.imports.fields import FieldSpec
from jiepai.intake.models import Channel, ChannelKind
from jiepai.lib.values import parse_date, parse_datetime, parse_decimal, to_half_width
from jiepai.org.models import User
from jiepai.org.visibility import subtree_department_ids, visible_to
from jiepai.pipeline.models import Pipeline, Stage


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
    """A cell as text: 13800138000.0 → '13800138000', a date → '2026-02-17'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()


def jsonable_cell(value: Any) -> Any:
    """A cell as kept for the error report (JSON): numbers stay numbers, dates become text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return cell_text(value)


def _quantize(number: Decimal, places: int) -> Decimal:
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class Lookups:
    """Linked records by the text people put in a sheet, cached for one run.

    Accounts and contacts are found among those the importer can see; people among active users.
    """

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self._users: dict[str, list[User]] | None = None
        self._accounts: dict[str, Account] = {}
        self._contacts: dict[tuple[str, int | None], Contact] = {}
        self._channels: dict[str, Channel] | None = None
        self._stages: dict[str, Stage] | None = None
        self._subtree: set[int] | None = None
        self._import_channel: Channel | None = None

    # people ----------------------------------------------------------------------------------
    def user(self, text: str) -> User:
        if self._users is None:
            self._users = {}
            for user in User.objects.filter(is_active=True):
                for name in {user.username, user.display_name, user.email, user.mobile}:
                    if name:
                        self._users.setdefault(name.strip().lower(), []).append(user)
        found = self._users.get(text.strip().lower(), [])
        if not found:
            raise ValueError(_("找不到用户“%(name)s”") % {"name": text})
        if len({u.pk for u in found}) > 1:
            raise ValueError(_("有多个用户叫“%(name)s”,请填写用户名") % {"name": text})
        return found[0]

    def may_assign_to(self, owner: User) -> bool:
        """An importer may hand records to themself; a manager to their department subtree;
        a director or admin to anyone."""
        actor = self.actor
        if owner.pk == actor.pk or actor.sees_everything:
            return True
        if actor.role == "manager":
            if self._subtree is None:
                self._subtree = set(subtree_department_ids(actor))
            return owner.department_id in self._subtree
        return False

    # records ---------------------------------------------------------------------------------
    def account(self, text: str) -> Account:
        key = to_half_width(text)
        if key not in self._accounts:
            matches = list(
                visible_to(self.actor, Account.objects.filter(merged_into__isnull=True)).filter(
                    Q(name=key) | Q(external_id=key) | Q(short_name=key)
                )[:2]
            )
            if not matches:
                raise ValueError(_("找不到客户“%(name)s”,请先导入或新建该客户") % {"name": text})
            if len(matches) > 1:
                raise ValueError(_("有多个客户叫“%(name)s”,请填写外部编号") % {"name": text})
            self._accounts[key] = matches[0]
        return self._accounts[key]

    def contact(self, text: str, account: Account | None) -> Contact:
        key = (to_half_width(text), account.pk if account else None)
        if key not in self._contacts:
            qs = visible_to(self.actor, Contact.objects.filter(merged_into__isnull=True)).filter(
                Q(name=key[0]) | Q(external_id=key[0])
            )
            if account is not None:
                qs = qs.filter(account=account)
            matches = list(qs[:2])
            if not matches:
                raise ValueError(_("找不到联系人“%(name)s”") % {"name": text})
            if len(matches) > 1:
                raise ValueError(_("有多个联系人叫“%(name)s”,请填写外部编号") % {"name": text})
            self._contacts[key] = matches[0]
        return self._contacts[key]

    def channel(self, text: str) -> Channel:
        if self._channels is None:
            self._channels = {}
            for channel in Channel.objects.all():
                self._channels[channel.name.lower()] = channel
                self._channels[channel.slug.lower()] = channel
        found = self._channels.get(text.strip().lower())
        if found is None:
            raise ValueError(_("找不到渠道“%(name)s”") % {"name": text})
        return found

    def import_channel(self) -> Channel:
        """The channel imported leads come from unless a column names another."""
        if self._import_channel is None:
            channel = Channel.objects.filter(kind=ChannelKind.IMPORT, active=True).first()
            if channel is None:
                channel, _created = Channel.objects.get_or_create(
                    slug="import", defaults={"name": "批量导入", "kind": ChannelKind.IMPORT}
                )
            self._import_channel = channel
        return self._import_channel

    def stage(self, text: str) -> Stage:
        if self._stages is None:
            pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
            stages = pipeline.stages.all() if pipeline else Stage.objects.none()
            self._stages = {s.name.strip().lower(): s for s in stages}
        found = self._stages.get(text.strip().lower())
        if found is None:
            allowed = "、".join(s.name for s in self._stages.values())
            raise ValueError(
                _("“%(value)s”不是阶段;可选:%(allowed)s") % {"value": text, "allowed": allowed}
            )
        return found


def match_choice(spec: FieldSpec, text: str) -> str:
    folded = text.strip().lower()
    for value, label in spec.choices:
        if folded in (value.lower(), label.lower()):
            return value
    allowed = "、".join(label for _value, label in spec.choices)
    raise ValueError(
        _("“%(value)s”不是可选项;可选:%(allowed)s") % {"value": text, "allowed": allowed}
    )


def convert_builtin(
    spec: FieldSpec, raw: Any, lookups: Lookups, *, decimal_places: int = 2, row: dict[str, Any]
) -> Any:
    """A non-blank cell → the value the model field takes; ValueError with the reason."""
    kind = spec.kind
    if kind == "text":
        return cell_text(raw)
    if kind in ("decimal", "integer", "float"):
        try:
            number = parse_decimal(raw)
        except ValueError as exc:
            raise ValueError(_("“%(value)s”不是数字") % {"value": cell_text(raw)}) from exc
        if kind == "integer":
            if number != number.to_integral_value():
                raise ValueError(_("“%(value)s”不是整数") % {"value": cell_text(raw)})
            return int(number)
        if kind == "float":
            return float(number)
        if abs(number) >= 10**12:
            raise ValueError(_("数值太大"))
        return _quantize(number, decimal_places)
    if kind == "date":
        try:
            return parse_date(raw)
        except ValueError as exc:
            raise ValueError(_("“%(value)s”不是有效日期") % {"value": cell_text(raw)}) from exc
    if kind == "datetime":
        try:
            return parse_datetime(raw)
        except ValueError as exc:
            raise ValueError(
                _("“%(value)s”不是有效的日期时间") % {"value": cell_text(raw)}
            ) from exc
    if kind == "choice":
        return match_choice(spec, cell_text(raw))
    if kind == "user":
        owner = lookups.user(cell_text(raw))
        if not lookups.may_assign_to(owner):
            raise ValueError(_("你无权把记录分配给“%(name)s”") % {"name": owner})
        return owner
    if kind == "account":
        return lookups.account(cell_text(raw))
    if kind == "contact":
        return lookups.contact(cell_text(raw), row.get("account"))
    if kind == "channel":
        return lookups.channel(cell_text(raw))
    if kind == "stage":
        return lookups.stage(cell_text(raw))
    return cell_text(raw)


def custom_input(spec: FieldSpec, raw: Any, lookups: Lookups) -> Any:
    """A cell as handed to customfields.clean_value: text kinds as text, others as read."""
    kind = spec.kind
    if kind in (FieldType.TEXT, FieldType.SELECT, FieldType.MULTISELECT):
        return cell_text(raw)
    if kind == FieldType.USER and isinstance(raw, str) and not raw.strip().isdigit():
        return lookups.user(raw).pk
    return raw
