"""Statements PostgreSQL parses and plans once per connection, for the hot paths (intake)."""

from __future__ import annotations

from django.db import connection


def prepared_cursor():
    """A cursor whose statements PostgreSQL parses and plans once per connection.

    A server-binding psycopg cursor sends the text with $n parameters, and psycopg prepares a
    statement it has seen `prepare_threshold` (5, settings) times on the connection; for a
    statement without parameters, or once the server settles on its generic plan, it only
    executes. Settings make every cursor so (server_side_binding); this one stays so for the
    intake's hot statements when that switch is off, and then prepares nothing
    (prepare_threshold None) but still sends parameters apart from the text. For statements
    of a few fixed shapes (psycopg keeps the 100 most recent per connection). Other databases:
    the ordinary cursor. Logged like any other (CaptureQueriesContext counts it)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    return connection._prepare_cursor(ServerBindingCursor(connection.connection))
