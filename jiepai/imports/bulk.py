"""Inserting many new rows of one model at once: what QuerySet.bulk_create writes, faster.

bulk_create compiles every value of every row through the SQL compiler (a third of an
import's time went there: a lead has ~35 columns). Here each field's conversion is worked out
once per model — a value that is already what the database takes (a str for a text column, an
int for an integer or a foreign key, None) goes as it is; anything else goes through the
field's own `get_db_prep_save`, and auto_now fields through their `pre_save` — so the database
receives what bulk_create would send. Rows go in multi-row INSERTs with RETURNING the new ids,
in order, as bulk_create does on SQLite ≥ 3.35 and PostgreSQL. No signals (bulk_create sends
none either). A test compares the rows both write.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

MAX_ROWS = 1000  # rows per INSERT statement

#: values that cannot change between two rows that share them
_IMMUTABLE = frozenset({datetime.datetime, datetime.date, datetime.time, Decimal, str, int, float})
_AUTO = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _plain_type(field: models.Field) -> type | None:
    """The Python type a value of `field` is sent as unchanged (its get_db_prep_save returns
    such a value as it is), or None when every value needs the field's conversion."""
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    if isinstance(target, models.CharField | models.TextField):
        return str
    if isinstance(target, models.BooleanField):
        return bool
    if isinstance(target, models.IntegerField | models.AutoField):
        return int
    if isinstance(target, models.FloatField):
        return float
    return None


class EncodedJSON(str):
    """A JSONField value already encoded, as the field would encode it (json.dumps with the
    field's encoder: see encode_json). Sent as it is instead of being encoded at the INSERT
    — an import encodes its events' snapshots in the worker that prepares the rows."""

    __slots__ = ()


def encode_json(field: models.Field, value: Any) -> EncodedJSON:
    """`value` as `field` (a JSONField) would send it to the database, encoded now."""
    return EncodedJSON(json.dumps(value, cls=field.encoder))  # type: ignore[attr-defined]


def _encoded_adapter(connection: BaseDatabaseWrapper) -> Callable[[EncodedJSON], Any]:
    """What the connection's adapt_json_value returns for the value `text` encodes."""
    if connection.vendor == "sqlite":
        return str  # SQLite's adapt_json_value is json.dumps
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if connection.vendor == "postgresql" and is_psycopg3:
        from psycopg.types.json import Jsonb

        return lambda text: Jsonb(str(text), dumps=_as_it_is)
    return lambda text: connection.ops.adapt_json_value(json.loads(text), None)


def _as_it_is(text: str) -> str:
    return text


def _has_pre_save(field: models.Field) -> bool:
    """auto_now / auto_now_add dates (and file fields) set their value when saved."""
    return type(field).pre_save is not models.Field.pre_save and (
        getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
        or isinstance(field, models.FileField)
    )


class _Plan:
    """How one model's rows become INSERT parameters on one connection."""

    def __init__(self, model: type[models.Model], connection: BaseDatabaseWrapper) -> None:
        meta = model._meta
        assert isinstance(meta.pk, _AUTO), "auto-increment primary keys only"
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        self.pk = meta.pk
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        self.head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608 (names from the model)
        self.tail = f" RETURNING {quote(self.pk.column)}"
        self.one_row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        self.get = itemgetter(*(f.attname for f in self.fields))
        # auto_now(_add) timestamps take the time of the INSERT, one for all its rows
        self.stamped = [
            f.attname
            for f in self.fields
            if _has_pre_save(f) and isinstance(f, models.DateTimeField)
        ]
        self.pre_save = [
            f for f in self.fields if _has_pre_save(f) and f.attname not in self.stamped
        ]
        self.convert: list[tuple[int, type | None, Callable[[Any], Any], Any]] = []
        # the last value converted per column: one `now` written on every row is converted once
        self.last: list[tuple[Any, Any]] = [(None, None)] * len(self.fields)
        for i, field in enumerate(self.fields):

            def prep(value: Any, field: models.Field = field) -> Any:
                return field.get_db_prep_save(value, connection)

            if isinstance(field, models.JSONField):
                adapt = _encoded_adapter(connection)

                def prep(value: Any, field: models.Field = field, adapt: Any = adapt) -> Any:
                    if type(value) is EncodedJSON:
                        return adapt(value)
                    return field.get_db_prep_save(value, connection)

            plain = _plain_type(field)
            # An empty JSON value (most JSON columns of a new row) is converted once.
            empty = (
                {type(v): prep(v) for v in ({}, [])} if isinstance(field, models.JSONField) else {}
            )
            self.convert.append((i, plain, prep, empty))
        limit = _parameter_limit(connection)
        self.rows_per_insert = max(1, min(MAX_ROWS, limit // max(1, len(self.fields))))

    def values(self, instance: models.Model, now: datetime.datetime) -> list[Any]:
        state = instance.__dict__
        for attname in self.stamped:
            state[attname] = now
        for field in self.pre_save:
            field.pre_save(instance, True)
        return self.converted(list(self.get(state)))

    def converted(self, row: list[Any]) -> list[Any]:
        for i, plain, prep, empty in self.convert:
            value = row[i]
            kind = type(value)
            if value is None or kind is plain:
                continue
            if empty:
                row[i] = empty[kind] if not value and kind in empty else prep(value)
                continue
            if kind not in _IMMUTABLE:
                row[i] = prep(value)
                continue
            last, converted = self.last[i]
            if value is not last:
                converted = prep(value)
                self.last[i] = (value, converted)
            row[i] = converted
        return row


def _parameter_limit(connection: BaseDatabaseWrapper) -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        if raw is not None and hasattr(raw, "getlimit"):
            return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        return 999
    return int(connection.features.max_query_params or 65535)


@cache
def _plan(model: type[models.Model], alias: str) -> _Plan:
    return _Plan(model, connections[alias])


def insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, using: str = "default"
) -> None:
    """Insert rows given as {attname: value} for every column but the id — no model instance
    to build per row (events, ledger rows). Values are converted as for insert_instances."""
    if not rows:
        return
    connection = connections[using]
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.using(using).bulk_create([model(**row) for row in rows])
        return
    plan = _plan(model, using)
    assert not plan.pre_save, "models with auto_now fields go through insert_instances"
    params = [plan.converted(list(plan.get(row))) for row in rows]
    _execute(connection, plan, params)


def insert_instances(instances: Sequence[models.Model], *, using: str = "default") -> None:
    """Insert new, unsaved instances of one model; sets each one's pk (and marks it saved)."""
    if not instances:
        return
    model = type(instances[0])
    connection = connections[using]
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.using(using).bulk_create(list(instances))
        return
    plan = _plan(model, using)
    now = timezone.now()
    ids = _execute(connection, plan, [plan.values(instance, now) for instance in instances])
    attname = plan.pk.attname
    for instance, pk in zip(instances, ids, strict=True):
        setattr(instance, attname, pk)
        instance._state.adding = False
        instance._state.db = using


def _execute(connection: BaseDatabaseWrapper, plan: _Plan, rows: list[list[Any]]) -> list[Any]:
    """The multi-row INSERTs; the new ids in row order."""
    ids: list[Any] = []
    step = plan.rows_per_insert
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            batch = rows[start : start + step]
            cursor.execute(
                plan.head + ", ".join([plan.one_row] * len(batch)) + plan.tail,
                list(chain.from_iterable(batch)),
            )
            ids.extend(row[0] for row in cursor.fetchall())
    return ids
