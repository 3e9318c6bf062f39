"""`jiepai parse-note "TEXT" [--now ISO-8601] [--json]`: what the follow-up parser reads in a note.

    $ jiepai parse-note "客户李总约周三下午三点看厂" --now 2026-02-26T09:00+08:00 --json
    {"contact": "李总", "action": {"kind": "factory_visit", "label": "工厂参观"},
     "due": "2026-03-04T15:00:00+08:00", "due_has_time": true, "keywords": [], "phrases": []}

The vocabulary is the configured one (database rows); without a migrated database the shipped
defaults are used. Problems (a past date, 25点) go to stderr; the JSON on stdout keeps its shape.
"""

from __future__ import annotations

import datetime
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _

from jiepai.lib import notes


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        """Worded when the parser is made, in the language JIEPAI_LANGUAGE chose."""
        return _("解析一句跟进记录:联系人、下一步、时间、痛点关键词、口语含义")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", help=_("跟进记录原文"))
        parser.add_argument("--now", help=_("以此时间为“现在”(ISO-8601,默认当前时间)"))
        parser.add_argument("--json", action="store_true", help=_("输出 JSON"))

    def handle(self, *args: Any, text: str, now: str | None, json: bool, **options: Any) -> None:
        moment = self._now(now)
        parsed = notes.parse_note(text, now=moment, vocabulary=self._vocabulary())
        for problem in parsed.problems:
            self.stderr.write(problem)
        data = parsed.as_json()
        if json:
            self.stdout.write(_dumps(data))
            return
        action = data["action"]
        self.stdout.write(_("联系人: %(contact)s") % {"contact": data["contact"] or "—"})
        label = f"{action['label']} ({action['kind']})" if action else "—"
        self.stdout.write(_("下一步: %(action)s") % {"action": label})
        due = data["due"] or "—"
        if data["due"] and not data["due_has_time"]:
            due = _("%(date)s (只有日期)") % {"date": due[:10]}
        self.stdout.write(_("时间:   %(due)s") % {"due": due})
        keywords = "、".join(data["keywords"]) or "—"
        self.stdout.write(_("痛点:   %(keywords)s") % {"keywords": keywords})
        for phrase in data["phrases"]:
            self.stdout.write(
                _("口语:   “%(phrase)s” → %(meaning)s(%(task)s)")
                % {"phrase": phrase["phrase"], "meaning": phrase["meaning"], "task": phrase["task"]}
            )

    def _now(self, value: str | None) -> datetime.datetime:
        zone = ZoneInfo(settings.TIME_ZONE)
        if not value:
            return datetime.datetime.now(zone)
        try:
            moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise CommandError(
                _("--now 不是 ISO-8601 时间: %(value)r(例: 2026-03-02T10:00+08:00)")
                % {"value": value}
            ) from exc
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)

    def _vocabulary(self) -> notes.Vocabulary:
        from jiepai.activities.vocabulary import load_vocabulary

        try:
            vocabulary = load_vocabulary()
        except DatabaseError:
            return notes.DEFAULT_VOCABULARY
        if not (vocabulary.actions or vocabulary.pain_points or vocabulary.phrases):
            return notes.DEFAULT_VOCABULARY  # an empty (unmigrated) configuration
        return vocabulary


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)
