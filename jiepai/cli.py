"""The `jiepai` command: Django's management commands under one name.

jiepai demo | serve | worker | migrate | createadmin | config export FILE.yaml | ...

Help texts and messages are in Chinese; `JIEPAI_LANGUAGE=en jiepai demo --help` prints the
English ones. Like the web pages (see jiepai.core.middleware), the command line does not follow
the system locale: a server whose LANG is en_US should not turn a Chinese team's tools English.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiepai.settings")
    from django.core.management import execute_from_command_line

    language = os.environ.get("JIEPAI_LANGUAGE", "")
    if language:
        activate_language(language)
    execute_from_command_line(["jiepai", *sys.argv[1:]])


def activate_language(code: str) -> None:
    """Make `code` (one of settings.LANGUAGES, e.g. "en") the language of this command.

    Translations need the apps loaded, so Django is set up here first (execute_from_command_line
    sets up again: a no-op). An unknown code is reported and ignored, not fatal."""
    import django
    from django.conf import settings
    from django.utils import translation

    django.setup()
    if code.lower() not in dict(settings.LANGUAGES):
        choices = ", ".join(dict(settings.LANGUAGES))
        sys.stderr.write(f"JIEPAI_LANGUAGE={code}: unknown language (use one of {choices})\n")
        return
    translation.activate(code.lower())


if __name__ == "__main__":
    main()
