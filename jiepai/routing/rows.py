"""Writing many rows in a few statements, for routing's hot paths (a batch of 100,000 leads,
the routing row of every routed lead)."""

from __future__ import annotations

from typing import Any

from django.db import connection, models

#: rows per INSERT statement (SQLite allows 32,766 parameters per statement)
INSERT_ROWS = 500


def insert_rows(
    model: type[models.Model],
    columns: list[str],
    rows: list[tuple[Any, ...]],
    *,
    constant: dict[str, Any],
    json_columns: tuple[str, ...] = (),
    upsert_on: str = "",
) -> None:
    """Insert many rows in a few statements. The ORM's bulk_create prepares every value of
    every row through its field (a third of the whole batch's time for 100,000 leads); these
    values are already plain. On PostgreSQL one statement per call takes each column as one
    array parameter (`unnest`), so the driver does not parse thousands of placeholders; SQLite
    (and a single row) gets multi-row VALUES. `upsert_on`: replace the row with that unique key (ON CONFLICT ...
    DO UPDATE, SQLite ≥ 3.24 and PostgreSQL), keeping its `created_at`."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = [*columns, *constant]
    table = quote(model._meta.db_table)
    tail = ""
    if upsert_on:
        updates = [c for c in names if c not in (upsert_on, "created_at")]
        tail = f" ON CONFLICT ({quote(upsert_on)}) DO UPDATE SET " + ", ".join(
            f"{quote(c)} = excluded.{quote(c)}" for c in updates
        )
    # table and column names come from the models, never from input
    head = f"INSERT INTO {table} ({', '.join(map(quote, names))}) "  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 1:
            fields = {f.column: f for f in model._meta.concrete_fields}
            arrays = []
            for column in columns:
                kind = "text" if column in json_columns else fields[column].db_type(connection)
                arrays.append(f"%b::{kind}[]")  # binary: no text escaping of each value
            selected = ["u.*"]
            for column in constant:
                selected.append(f"%b::{fields[column].db_type(connection)}")
            # JSON travels as text[] (a jsonb[] literal would need every value re-quoted)
            selected[0] = ", ".join(
                f"u.{quote(c)}::jsonb" if c in json_columns else f"u.{quote(c)}" for c in columns
            )
            unnest = (
                f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)})"  # noqa: S608
                f" AS u({', '.join(map(quote, columns))})"
            )
            params = [list(column) for column in zip(*rows, strict=True)]
            # The constants are selected before the arrays are unnested: their parameters first.
            # Sent bound and in binary on the driver's own cursor (Django's cursor quotes
            # parameters into the SQL text, escaping each JSON string with a regex: 2/3 of the
            # time of a 100,000-lead batch).
            import psycopg  # only ever imported on PostgreSQL

            connection.ensure_connection()
            with psycopg.Cursor(connection.connection) as raw:
                raw.execute(head + unnest + tail, [*constant.values(), *params], binary=True)
            return
        extra = tuple(constant.values())
        json_holder = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        holder = "(" + ", ".join(json_holder if c in json_columns else "%s" for c in names) + ")"
        for start in range(0, len(rows), INSERT_ROWS):
            part = rows[start : start + INSERT_ROWS]
            params = [value for row in part for value in (*row, *extra)]
            cursor.execute(head + "VALUES " + ", ".join([holder] * len(part)) + tail, params)
