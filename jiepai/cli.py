"""The `jiepai` command: Django's management commands under one name.

jiepai demo | serve | worker | migrate | createadmin | config export FILE.yaml | ...
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiepai.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jiepai", *sys.argv[1:]])


if __name__ == "__main__":
    main()
