"""`jiepai config export FILE.yaml` / `jiepai config import FILE.yaml [--dry-run]` (FILE may be -)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiepai.core.config import ConfigError, dump_yaml, export_config, import_config, load_yaml


class Command(BaseCommand):
    help = "导出或导入配置(渠道、销售流程与阶段、自定义字段、标签、部门……)为一个 YAML 文件"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="把当前配置写入 YAML 文件(- 表示标准输出)")
        export.add_argument("file")
        load = actions.add_parser("import", help="从 YAML 文件导入配置(全部成功或全部不生效)")
        load.add_argument("file")
        load.add_argument("--dry-run", action="store_true", help="只校验,不保存")

    def handle(self, *args: Any, action: str, file: str, **options: Any) -> None:
        if action == "export":
            self._export(file)
        else:
            self._import(file, dry_run=options["dry_run"])

    def _export(self, file: str) -> None:
        text = dump_yaml(export_config())
        if file == "-":
            self.stdout.write(text, ending="")
            return
        Path(file).write_text(text, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"已导出配置到 {file}"))

    def _import(self, file: str, *, dry_run: bool) -> None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取 {file}:{exc}") from exc
        try:
            result = import_config(load_yaml(text), dry_run=dry_run)
        except ConfigError as exc:
            raise CommandError(f"导入失败,未做任何修改。{exc}") from exc
        for name, report in result.sections.items():
            self.stdout.write(f"{name}: {report}")
        if dry_run:
            self.stdout.write(self.style.WARNING("校验通过(--dry-run,未保存)"))
        else:
            self.stdout.write(self.style.SUCCESS("导入完成"))
