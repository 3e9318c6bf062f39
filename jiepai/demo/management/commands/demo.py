"""`jiepai demo [--scale 0.1]`: load the demo company (idempotent) and print the logins."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiepai.demo.generate import PASSWORD, load_demo
from jiepai.org.models import User


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        """Worded when the parser is made, in the language JIEPAI_LANGUAGE chose."""
        return _("载入演示数据(固定随机种子,重复运行不会重复创建)并打印演示账号")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help=_("数据量倍数(1 = 约 2,000 客户、5,000 线索、10,000 跟进记录)"),
        )

    def handle(self, *args: Any, scale: float, **options: Any) -> None:
        if not 0 < scale <= 20:
            raise CommandError(_("--scale 应在 0 到 20 之间"))
        started = time.perf_counter()
        demo = load_demo(scale=scale)
        seconds = time.perf_counter() - started
        made = {name: count for name, count in demo.created.items() if count}
        if made:
            summary = ",".join(f"{name} {count}" for name, count in made.items())
            done = _("演示数据已载入(%(seconds).1f 秒):%(summary)s")
            self.stdout.write(self.style.SUCCESS(done % {"seconds": seconds, "summary": summary}))
        else:
            self.stdout.write(_("演示数据已存在,未做修改。"))
        self.stdout.write("")
        self.stdout.write(
            _("打开 %(url)s ,用下面任一账号登录(密码 %(password)s):")
            % {"url": settings.SITE_URL, "password": PASSWORD}
        )
        for username, user in demo.users.items():
            note = _("(已存在的账号,密码未改)") if username in demo.existing_users else ""
            self.stdout.write(
                f"  {username:<14} {user.get_role_display():<6} {user.display_name}"
                f"{self._department(user)}{note}"
            )

    def _department(self, user: User) -> str:
        return f" · {user.department.name}" if user.department_id else ""
