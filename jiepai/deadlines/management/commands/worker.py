from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jiepai.deadlines.worker import Worker


class Command(BaseCommand):
    help = "Run background tasks and act on overdue deadlines until SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds to sleep when idle"
        )
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        Worker(interval=interval).run(once=once)
