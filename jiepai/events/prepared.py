"""Statements PostgreSQL parses and plans once per connection, for the hot paths (intake)."""

from __future__ import annotations

from django.db import connection


def prepared_cursor():
    """A cursor whose statements PostgreSQL parses and plans once per connection.

    Django's psycopg cursors bind parameters on the client and send every statement as new
    text, which the server parses, analyses and plans each time (a third of its CPU per
    intake). A server-binding cursor sends the text with $n parameters, and psycopg prepares a
    statement it has seen `prepare_threshold` (5) times on the connection; for a statement
    without parameters, or once the generic plan is chosen, the server only executes. For hot
    statements of a fixed shape only (psycopg keeps the 100 most recent per connection). Other
    databases: the ordinary cursor. Logged like any other (CaptureQueriesContext counts it)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    return connection._prepare_cursor(ServerBindingCursor(connection.connection))
