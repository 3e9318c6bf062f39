"""`jiepai defaultchannels`: create the default lead channels (官网表单, 小程序, 展会扫码, ...)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jiepai.intake.services import install_default_channels


class Command(BaseCommand):
    help = "Create the default lead channels whose slug is not taken yet, and print their keys."

    def handle(self, *args: Any, **options: Any) -> None:
        created = install_default_channels()
        for channel in created:
            self.stdout.write(f"{channel.slug}\t{channel.name}\tkey={channel.intake_key}")
        self.stdout.write(f"{len(created)} channel(s) created")
