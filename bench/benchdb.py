"""The database a benchmark runs on: a fresh one, migrated, with Django set up.

Imported by the bench scripts (run as `python bench/<script>.py`, so this folder is on the path).
"""

from __future__ import annotations

import os
from pathlib import Path


def fresh_database(tmp: Path, url: str | None) -> str:
    """Drop and create the PostgreSQL database `url` names, or use a new SQLite file in `tmp`;
    point Django at it, set it up and migrate. Returns the database URL."""
    if url:
        import psycopg

        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.pop("JIEPAI_TEST_DATABASE_URL", None)
    os.environ["JIEPAI_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiepai.settings")
    os.environ["JIEPAI_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url
