from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiepai.org.services import create_user


class Command(BaseCommand):
    help = "Create the CRM administrator (role 管理员, Django superuser)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="omit to be asked (or set JIEPAI_ADMIN_PASSWORD)")

    def handle(
        self, *args: Any, username: str, email: str, password: str | None, **opts: Any
    ) -> None:
        import os

        password = password or os.environ.get("JIEPAI_ADMIN_PASSWORD") or getpass.getpass()
        if len(password) < 8:
            raise CommandError("the password needs at least 8 characters")
        user = create_user(
            username=username, password=password, role="admin", email=email, superuser=True
        )
        self.stdout.write(self.style.SUCCESS(f"administrator {user.username} created"))
