"""The import runner: rows of one sheet into one entity, a chunk per transaction.

One chunk of rows at a time:
1. *prepare* each row: convert the mapped cells (jiepai.imports.cells), apply the entity
   service's defaults (owner, lead state, first stage) and validate them with the same
   built-in and custom-field rules as a form (jiepai.imports.validation, core.records.
   build_record with per-value checks kept for the run);
2. *ledger*: a row whose idempotency key (external id, else a hash of its normalised cells) is
   already in ImportLedger was imported before and is not written again;
3. *duplicates* (jiepai.dedup.batch, the door check for the whole chunk): a row matching an
   existing record — or an earlier row — follows the job's policy: skip it, merge it into the
   record (through the entity's update service), or create it and flag both as likely
   duplicates. Skip and merge act without a person looking, so they take the policy's act
   threshold, as the door does to block; a flag only puts the pair in front of a reviewer, so
   it takes the show threshold — what the door would show the person typing the record in.
   External ids are matched exactly for every entity (opportunities have no other key);
4. *write* the chunk in one transaction (jiepai.imports.bulk): inserts of the records, their
   dedup keys and flags (jiepai.dedup.batch), their `<entity>.created` Events (the same
   after-snapshot create_record writes), ledger rows and row results, and the job's counters.
   A failure rolls the chunk back whole; re-running skips committed chunks.

Step 1 of a large file (≥ PIPELINE_MIN_ROWS rows, more than one CPU, a machine not already
busy) runs in a forked worker process for the next chunks while this process does steps 2–4
of the current one (ImportRunner._run_pipelined); the result is the same as in-process.

Leads created without an owner are routed when the whole run is done, all at once
(jiepai.imports.services.run_job → jiepai.routing.batch.route_leads).
"""

from __future__ import annotations

import datetime
import gc
import hashlib
import io
import json
import logging
import multiprocessing
import os
import pickle
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiepai.core.entities import model_for
from jiepai.customers import services as customer_services
from jiepai.customfields.models import FieldType
from jiepai.customfields.services import clean_value, sync_unique_values
from jiepai.dedup.batch import (
    BatchCandidate,
    find_duplicates_batch,
    flag_new_records,
    index_new_records,
    taken_unique_keys,
)
from jiepai.dedup.keys import keys_for, kind_label, values_of
from jiepai.dedup.models import DEDUP_ENTITIES, MatchKey
from jiepai.dedup.selectors import policy_for
from jiepai.events.models import Event
from jiepai.events.services import snapshot, to_jsonable
from jiepai.imports.bulk import encode_json, insert_instances, insert_rows
from jiepai.imports.cells import (
    Lookups,
    cell_text,
    convert_builtin,
    custom_input,
    is_blank,
    jsonable_cell,
)
from jiepai.imports.fields import (
    FieldSpec,
    field_specs,
)
from jiepai.imports.models import (
    DuplicatePolicy,
    ImportJob,
    ImportLedger,
    ImportRowResult,
    RowOutcome,
)
from jiepai.imports.readers import column_letter
from jiepai.imports.validation import RecordBuilder
from jiepai.intake import services as intake_services
from jiepai.org.models import User
from jiepai.org.visibility import visible_to
from jiepai.pipeline import services as pipeline_services

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
_TEXT_CUSTOM = frozenset({FieldType.TEXT, FieldType.SELECT, FieldType.MULTISELECT})
IMPORT_CACHE_KIB = 32 * 1024  # SQLite page cache during an import
IMPORT_CHECKPOINT_PAGES = 10_000  # WAL pages between checkpoints during an import
ANALYZE_AFTER_ROWS = 10_000  # records created by a run, after which PostgreSQL re-analyzes


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 1_000_000))


# --- results ----------------------------------------------------------------------------------


@dataclass
class RowResult:
    row_number: int
    outcome: str
    errors: list[dict[str, str]] = field(default_factory=list)
    record_id: int | None = None
    duplicate_ids: list[int] = field(default_factory=list)
    cells: list[Any] = field(default_factory=list)
    label: str = ""

    @property
    def message(self) -> str:
        return ";".join(
            f"{e['column']}:{e['message']}" if e.get("column") else e["message"]
            for e in self.errors
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row_number,
            "outcome": self.outcome,
            "outcome_label": str(RowOutcome(self.outcome).label),
            "message": self.message,
            "label": self.label,
        }


@dataclass(eq=False)
class _Row:
    number: int
    cells: list[Any]
    key: str = ""
    row_hash: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    create_values: dict[str, Any] = field(default_factory=dict)
    instance: models.Model | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    action: str = ""  # create, flag, merge, skipped, unchanged, failed
    target: Any = None  # an existing record id, or a _Row created earlier in this run
    keys: dict[str, list[str]] = field(default_factory=dict)  # dedup keys
    duplicates: list[Any] = field(default_factory=list)  # record ids or _Rows
    candidates: list[BatchCandidate | None] = field(default_factory=list)  # per duplicate
    reasons: list[str] = field(default_factory=list)
    outcome_override: str = ""
    record_id: int | None = None
    ledger_update: bool = False
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # select values not options
    event_after: str = ""  # the created event's JSON (see ImportRunner._event_json)
    event_data: str = ""


@dataclass
class _Found:
    """A likely duplicate of a row: an existing record id, or the index of an earlier row of
    the chunk, with the reason in words; `candidate` is the dedup match (None for an external
    id match)."""

    object_id: int | None
    row: int | None
    reason: str
    candidate: BatchCandidate | None = None


class _Rollback(Exception):
    pass


# --- service defaults, mirrored from the entity services (a parity test keeps them equal) ------


def _create_values(
    entity: str, actor: User, values: dict[str, Any], lookups: Lookups, now: datetime.datetime
) -> dict[str, Any]:
    """The `values` the entity's create service would hand to create_record."""
    values = dict(values)
    if entity == "lead":
        values.setdefault("channel", lookups.import_channel())
        if actor is not None and "owner" not in values and actor.role in ("rep", "manager"):
            values = {"owner": actor, **values}
        state = "assigned" if values.get("owner") else "unassigned"
        return {**values, "state": state}
    if entity == "opportunity":
        stage = values.pop("stage", None) or pipeline_services.first_stage()
        return {"owner": actor, **values, "stage": stage, "stage_entered_at": now}
    return {"owner": actor, **values}


def _update_record(
    entity: str, *, actor: User, instance: Any, values: dict[str, Any], custom: dict[str, Any]
) -> None:
    if entity == "account":
        customer_services.update_account(
            actor=actor, account=instance, values=values, custom=custom
        )
    elif entity == "contact":
        customer_services.update_contact(
            actor=actor, contact=instance, values=values, custom=custom
        )
    elif entity == "lead":
        intake_services.update_lead(actor=actor, lead=instance, values=values, custom=custom)
    else:
        values.pop("stage", None)  # stage moves have gates: not through an import merge
        pipeline_services.update_opportunity(
            actor=actor, opportunity=instance, values=values, custom=custom
        )


@contextmanager
def _gc_per_chunk() -> Iterator[bool]:
    """Python's full garbage collections scan every live object, and an import holds many
    for its whole run (per-value caches): at 100,000 rows they cost seconds. For the run,
    objects that outlive a chunk are set aside (gc.freeze) after one collection of what the
    chunk left; at the end they are handed back to the collector (gc.unfreeze), which sees
    any cycle among them again. Left alone when the collector is off or something else has
    frozen objects (a preforking server)."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield False
        return
    gc.freeze()
    try:
        yield True
    finally:
        gc.unfreeze()


@contextmanager
def _sqlite_import_settings() -> Iterator[None]:
    """On SQLite, for the run: a bigger page cache (an import adds ~10 key rows a record to
    indexes that soon outgrow the default 2 MB), and WAL checkpoints every ~40 MB rather than
    every 4 MB (fewer, larger copies into the database file). Put back afterwards: the
    connection is kept for other work."""
    if connection.vendor != "sqlite":
        yield
        return
    pragmas = {"cache_size": -IMPORT_CACHE_KIB, "wal_autocheckpoint": IMPORT_CHECKPOINT_PAGES}
    before = {}
    with connection.cursor() as cursor:
        for name, value in pragmas.items():
            cursor.execute(f"PRAGMA {name}")
            (before[name],) = cursor.fetchone()
            cursor.execute(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in before.items():
                cursor.execute(f"PRAGMA {name} = {int(value)}")


# --- the second process (see ImportRunner._run_pipelined) ------------------------------------

PIPELINE_MIN_ROWS = 5000  # smaller files are prepared in-process
PIPELINE_AHEAD = 2  # chunks handed to the worker ahead of the one being written
PIPELINE_RESTARTS = 3  # fresh workers after rows that needed a query, then in-process
_WORKER_RUNNER: ImportRunner | None = None  # the runner, as the forked worker inherits it


def pipeline_cpus() -> int:
    """CPUs a second process could use now: those this process may run on, or 1 when the
    machine is already busy (load average over CPUs − ½: the worker would only take turns
    with other processes; measured, it then costs more wall time than it saves)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    if cpus > 1 and os.getloadavg()[0] > cpus - 0.5:
        return 1
    return cpus


class _NoDatabase(BaseException):
    """Raised in the worker when preparing a row would query the database. A BaseException
    so that no `except Exception` in a converter turns it into a row error."""


def _worker_start() -> None:
    """In the forked worker: the database connections are the parent's (the same socket or
    SQLite handle), so none may be used; any query raises _NoDatabase and notes it."""
    for conn in connections.all():
        conn.execute_wrappers.append(_refuse_query)


def _refuse_query(*args: Any) -> Any:
    if _WORKER_RUNNER is not None:
        _WORKER_RUNNER._touched_database = True
    raise _NoDatabase


def _prepare_in_worker(chunk: list[tuple[int, list[Any]]]) -> bytes:
    """The chunk's rows prepared. From the first row that wanted the database on, the
    worker's caches may be half-filled: that row and every later one is sent back as None
    (prepared again by the parent, which then forks a fresh worker)."""
    runner = _WORKER_RUNNER
    assert runner is not None
    rows: list[_Row | None] = []
    for number, cells in chunk:
        row: _Row | None = None
        if not runner._touched_database:
            try:
                row = runner._prepare(number, cells)
            except _NoDatabase:
                row = None
            if runner._touched_database:
                row = None
        if row is not None:
            row.cells = []  # the parent has them
            row.create_values = {}  # used up: the event's snapshot is encoded
        rows.append(row)
    buffer = io.BytesIO()
    _RowPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(rows)
    return buffer.getvalue()


class _RowPickler(pickle.Pickler):
    """Saved records (an owner, a channel, an account) go by label and primary key; the new
    records the rows build (no key yet) are pickled whole."""

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, models.Model) and obj.pk is not None:
            return (obj._meta.label, obj.pk)
        return None


class _RowUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, known: dict[tuple[str, Any], models.Model]) -> None:
        super().__init__(io.BytesIO(data))
        self.known = known

    def persistent_load(self, pid: Any) -> models.Model:
        record = self.known.get(pid)
        if record is None:
            label, pk = pid
            record = apps.get_model(label)._base_manager.get(pk=pk)
            self.known[pid] = record
        return record


def _load_rows(
    data: bytes, chunk: list[tuple[int, list[Any]]], known: dict[tuple[str, Any], models.Model]
) -> list[_Row | None]:
    rows: list[_Row | None] = _RowUnpickler(data, known).load()
    for row, (_number, cells) in zip(rows, chunk, strict=True):
        if row is not None:
            row.cells = cells
    return rows


# --- the runner -------------------------------------------------------------------------------


class ImportRunner:
    """Imports rows of one sheet into one entity for one person.

    `mapping` is column index → field key; `headers` the sheet's header cells. With `job`, the
    ledger, row results and the job's counters are written; without (a trial or dry run) the
    results are only returned.
    """

    def __init__(
        self,
        *,
        entity: str,
        actor: User,
        mapping: dict[int, str],
        headers: list[Any],
        on_duplicate: str = DuplicatePolicy.SKIP,
        now: datetime.datetime | None = None,
        job: ImportJob | None = None,
        formula_cells: set[tuple[int, int]] | None = None,
        chunk_size: int | None = None,
        in_process: bool = False,
    ) -> None:
        self.entity = entity
        self.model = model_for(entity)
        self.actor = actor
        self.headers = [cell_text(h) for h in headers]
        self.on_duplicate = on_duplicate
        self.now = now or timezone.now()
        self.job = job
        self.formula_cells = formula_cells or set()
        self.chunk_size = chunk_size or CHUNK_SIZE
        # True: never prepare rows in a second process (see _run_pipelined)
        self.in_process = in_process
        self._touched_database = False
        self._gc_frozen = False
        self.specs = field_specs(entity)
        self.by_key = {s.key: s for s in self.specs}
        self.definitions = [s.definition for s in self.specs if s.definition is not None]
        self.has_unique_custom = any(d.unique for d in self.definitions)
        self.builder = RecordBuilder(self.model, definitions=self.definitions)
        self.event_actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        self.created_verb = f"{entity}.created"
        self.event_after_field = Event._meta.get_field("after")
        self.event_data_field = Event._meta.get_field("data")
        self.attnames = {
            f.name: getattr(f, "attname", f.name) for f in self.model._meta.concrete_fields
        }
        self.job_id = str(job.public_id) if job is not None else ""
        # `contact` is looked up within the row's `account`, so accounts convert first.
        self.mapping = sorted(
            ((int(c), k) for c, k in mapping.items() if k in self.by_key),
            key=lambda item: item[1] == "contact",
        )
        self.column_of = {k: c for c, k in self.mapping}
        self.places = {
            k: getattr(self.model._meta.get_field(k), "decimal_places", 2) or 2
            for _c, k in self.mapping
            if self.by_key[k].definition is None
        }
        self.lookups = Lookups(actor)
        self.optional_fields = [
            f.name for f in self.model._meta.concrete_fields if f.blank and not f.primary_key
        ]
        self._trusted_by_shape: dict[tuple[tuple[str, bool], ...], tuple[str, ...]] = {}
        self.lookup_fields = {
            s.key for s in self.specs if s.kind in ("account", "contact", "channel", "stage")
        }
        self.counts: Counter[str] = Counter()
        self.unmatched: dict[str, dict[str, int]] = {}
        self.results: list[RowResult] = []
        self.keep_results = job is None
        self.processed = 0
        self._seen_keys: dict[str, int] = {}
        self._option_checked: dict[tuple[str, str], bool] = {}  # (field, value) → is an option

    # public ----------------------------------------------------------------------------------
    def run(self, rows: Iterable[tuple[int, list[Any]]], *, dry_run: bool = False) -> Counter[str]:
        iterator = iter(rows)
        with _sqlite_import_settings(), _gc_per_chunk() as self._gc_frozen:
            if dry_run:
                try:
                    with transaction.atomic():
                        self._run_chunks(iterator)
                        raise _Rollback
                except _Rollback:
                    pass
                return self.counts
            self._run_chunks(iterator)
        self._analyze_if_large()
        return self.counts

    def _analyze_if_large(self) -> None:
        """After a large import on PostgreSQL, refresh the planner's statistics of the tables
        it grew (the dedup keys and the entity's): with stale ones the door's key lookups
        pick a wrong index until autovacuum comes round. Nothing to do on SQLite."""
        created = self.counts[RowOutcome.CREATED] + self.counts[RowOutcome.FLAGGED]
        if created < ANALYZE_AFTER_ROWS or connection.vendor != "postgresql":
            return
        quote = connection.ops.quote_name
        tables = [self.model._meta.db_table]
        if self.entity in DEDUP_ENTITIES:
            tables.insert(0, MatchKey._meta.db_table)
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {quote(table)}")

    # chunks ----------------------------------------------------------------------------------
    def _run_chunks(self, iterator: Iterator[tuple[int, list[Any]]]) -> None:
        ahead = list(islice(iterator, PIPELINE_MIN_ROWS))
        if (
            len(ahead) >= PIPELINE_MIN_ROWS
            and not self.in_process
            # a daemonic process (some task runners' workers) may not start children
            and not multiprocessing.current_process().daemon
            and pipeline_cpus() > 1
        ):
            self._run_pipelined(chain(ahead, iterator))
            return
        iterator = chain(ahead, iterator)
        while chunk := list(islice(iterator, self.chunk_size)):
            self._process_chunk(chunk)

    def _run_pipelined(self, iterator: Iterator[tuple[int, list[Any]]]) -> None:
        """Prepare the next chunks in a second process while this one decides and writes the
        current: the first chunk here (it warms the lookups the worker inherits), then each
        chunk's cells go to a forked worker, which sends the prepared rows back. Chunks are
        written here, in order, each in its own transaction as in-process; an error in the
        worker fails the run as it would here.

        The worker may not use the database (its connection is this process's). A row that
        needs a query (a value no earlier row looked up) comes back empty and is prepared
        here; the worker's caches may then be half-filled, so it is replaced by a fresh fork
        of this process, whose caches now hold the answer. After a few such restarts the
        rest of the file is prepared here."""
        global _WORKER_RUNNER
        chunks = iter(lambda: list(islice(iterator, self.chunk_size)), [])
        first = next(chunks, None)
        if first is None:
            return
        self._process_chunk(first)
        known: dict[tuple[str, Any], models.Model] = {}
        if getattr(self.actor, "pk", None) is not None:
            known[(self.actor._meta.label, self.actor.pk)] = self.actor
        waiting: deque[list[tuple[int, list[Any]]]] = deque(islice(chunks, PIPELINE_AHEAD))
        restarts = 0
        _WORKER_RUNNER = self
        try:
            while waiting and restarts <= PIPELINE_RESTARTS:
                pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_worker_start,
                )
                try:
                    futures = deque(pool.submit(_prepare_in_worker, c) for c in waiting)
                    while waiting:
                        following = next(chunks, None)
                        if following is not None:
                            waiting.append(following)
                            futures.append(pool.submit(_prepare_in_worker, following))
                        chunk = waiting[0]
                        prepared = _load_rows(futures.popleft().result(), chunk, known)
                        waiting.popleft()
                        rows = [
                            row if row is not None else self._prepare(number, cells)
                            for row, (number, cells) in zip(prepared, chunk, strict=True)
                        ]
                        self._process_chunk(chunk, rows)
                        if any(row is None for row in prepared):
                            restarts += 1
                            break
                finally:
                    pool.shutdown(wait=True, cancel_futures=True)
        finally:
            _WORKER_RUNNER = None
        for chunk in chain(waiting, chunks):
            self._process_chunk(chunk)

    def _process_chunk(
        self, chunk: list[tuple[int, list[Any]]], prepared: list[_Row] | None = None
    ) -> None:
        seen_before = dict(self._seen_keys)
        unmatched_before = {k: dict(v) for k, v in self.unmatched.items()}
        for attempt in range(2):
            if prepared is not None and not attempt:
                rows = prepared
            else:
                rows = [self._prepare(number, cells) for number, cells in chunk]
            self._tally_unmatched(rows)
            try:
                with transaction.atomic():
                    self._decide(rows)
                    self._write(rows)
                break
            except IntegrityError:
                # Another run of the same file committed some of these rows first (the ledger's
                # unique key fired). Roll back, forget this attempt, and decide again against
                # the ledger as it is now.
                self._seen_keys = dict(seen_before)
                self.unmatched = {k: dict(v) for k, v in unmatched_before.items()}
                if attempt:
                    raise
        self._finish_chunk(rows)

    def _tally_unmatched(self, rows: list[_Row]) -> None:
        for row in rows:
            for key, text in row.unmatched:
                bucket = self.unmatched.setdefault(key, {})
                bucket[text] = bucket.get(text, 0) + 1

    def _finish_chunk(self, rows: list[_Row]) -> None:
        self.processed += len(rows)
        if self._gc_frozen:
            gc.collect()
            gc.freeze()

    # prepare ---------------------------------------------------------------------------------
    def _column(self, key: str) -> str:
        column = self.column_of.get(key)
        if column is not None:
            return self.headers[column] if column < len(self.headers) else column_letter(column)
        spec = self.by_key.get(key)
        return spec.label if spec else ""

    def _prepare(self, number: int, cells: list[Any]) -> _Row:
        row = _Row(number=number, cells=cells)
        hashed: list[tuple[str, str]] = []
        width = len(cells)
        formulas = self.formula_cells
        for column, key in self.mapping:
            raw = cells[column] if column < width else ""
            if formulas and (number, column) in formulas:
                row.errors.append(
                    {
                        "column": self._column(key),
                        "message": _(
                            "单元格 %(cell)s 是公式,但文件里没有计算结果;请在 Excel 中打开并保存后再导入"
                        )
                        % {"cell": f"{column_letter(column)}{number}"},
                    }
                )
                continue
            if is_blank(raw):
                continue
            text = cell_text(raw)
            # the cell as the row hash sees it: spaces collapsed, lower case
            hashed.append((key, " ".join(text.split()).lower()))
            spec = self.by_key[key]
            try:
                if spec.definition is not None:
                    # custom_input gives text kinds their cell_text
                    value = (
                        text if spec.kind in _TEXT_CUSTOM else custom_input(spec, raw, self.lookups)
                    )
                    if spec.kind in (FieldType.SELECT, FieldType.MULTISELECT):
                        self._note_unmatched(spec, value, row)
                    row.custom[spec.definition.key] = value
                elif spec.kind == "text":
                    row.values[key] = text  # what convert_builtin gives a text field
                else:
                    row.values[key] = convert_builtin(
                        spec, raw, self.lookups, decimal_places=self.places[key], row=row.values
                    )
            except ValueError as exc:
                row.errors.append({"column": self._column(key), "message": str(exc)})
        row.row_hash = hashlib.sha256(
            json.dumps(sorted(hashed), ensure_ascii=False).encode()
        ).hexdigest()
        external = str(row.values.get("external_id") or "").strip()
        row.key = f"ext:{external}" if external else f"row:{row.row_hash}"
        if not hashed and not row.errors:
            row.errors.append({"column": "", "message": _("映射的列都是空的")})
        if row.errors:
            row.action = "failed"
            return row
        row.create_values = _create_values(
            self.entity, self.actor, row.values, self.lookups, self.now
        )
        try:
            row.instance = self.builder.build(
                values=row.create_values,
                custom=row.custom,
                trusted=self._trusted(row.create_values),
            )
        except ValidationError as exc:
            row.errors.extend(self._errors_from(exc))
            row.action = "failed"
            return row
        if self.entity in DEDUP_ENTITIES:
            row.keys = keys_for(self.entity, values_of(self.entity, row.instance))
        self._event_json(row)
        return row

    def _trusted(self, values: dict[str, Any]) -> tuple[str, ...]:
        """Fields full_clean need not look at: foreign keys set from Lookups or service
        defaults (rows known to exist), and optional fields the row leaves at their default.
        Rows of one sheet come in few shapes (which cells are filled): worked out once each."""
        shape = tuple(
            (name, isinstance(value, models.Model) or (name in self.lookup_fields and bool(value)))
            for name, value in values.items()
        )
        trusted = self._trusted_by_shape.get(shape)
        if trusted is None:
            trusted = (
                *(name for name, known in shape if known),
                *(name for name in self.optional_fields if name not in values),
            )
            self._trusted_by_shape[shape] = trusted
        return trusted

    def _errors_from(self, exc: ValidationError) -> list[dict[str, str]]:
        errors = []
        for key, messages in exc.message_dict.items():
            column = "" if key == "__all__" else self._column(key)
            for message in messages:
                errors.append({"column": column, "message": message})
        return errors

    def _note_unmatched(self, spec: FieldSpec, value: Any, row: _Row) -> None:
        """Note on the row the select values that are not options (tallied in `unmatched`
        when its chunk is written: a chunk prepared twice, or elsewhere, counts once)."""
        assert spec.definition is not None
        items = (
            [value]
            if spec.kind == FieldType.SELECT
            else str(value).replace(",", ",").replace("、", ",").split(",")
        )
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            known = (spec.definition.key, text)
            if known not in self._option_checked:
                try:
                    clean_value(spec.definition, text if spec.kind == FieldType.SELECT else [text])
                    self._option_checked[known] = True
                except ValueError:
                    self._option_checked[known] = False
            if not self._option_checked[known]:
                row.unmatched.append(known)

    # decide ----------------------------------------------------------------------------------
    def _decide(self, rows: list[_Row]) -> None:
        live = [r for r in rows if r.action != "failed"]
        ledger = {
            entry.key: entry
            for entry in ImportLedger.objects.filter(
                entity=self.entity, key__in=[r.key for r in live]
            )
        }
        fresh: list[_Row] = []
        for row in live:
            if row.key in self._seen_keys:
                row.action = "skipped"
                row.errors.append(
                    {
                        "column": "",
                        "message": _("与第 %(n)d 行相同") % {"n": self._seen_keys[row.key]},
                    }
                )
                continue
            self._seen_keys[row.key] = row.number
            entry = ledger.get(row.key)
            if entry is None:
                fresh.append(row)
                continue
            row.record_id = entry.record_id
            if entry.row_hash != row.row_hash and self.on_duplicate == DuplicatePolicy.MERGE:
                row.action, row.target, row.ledger_update = "merge", entry.record_id, True
                continue
            row.action = "unchanged"
            if self.job is not None and entry.job_id == self.job.pk:
                row.outcome_override = entry.outcome  # resumed: counted as first time round
        found = self._by_external_id(fresh)
        taken: list[list[tuple[str, str]]] = [[] for _row in fresh]
        if self.entity in DEDUP_ENTITIES:
            keys = [r.keys for r in fresh]
            batch = find_duplicates_batch(self.entity, keys, threshold=self._threshold())
            for row_found, candidates in zip(found, batch, strict=True):
                row_found.extend(
                    _Found(c.object_id, c.index, "、".join(c.reason_texts[:3]), c)
                    for c in candidates
                )
            taken = taken_unique_keys(self.entity, keys)
        visible = self._visible_ids({f.object_id for fs in found for f in fs if f.object_id})
        for row, row_found, row_taken in zip(fresh, found, taken, strict=True):
            if row_taken:
                row.action = "failed"
                row.errors.extend(
                    {
                        "column": "",
                        "message": _("%(kind)s“%(value)s”已被其他记录使用(唯一性规则)")
                        % {"kind": kind_label(kind), "value": value},
                    }
                    for kind, value in row_taken
                )
                continue
            self._decide_duplicate(row, row_found, fresh, visible)

    def _threshold(self) -> float:
        """Skip and merge act on a row without anybody looking: the policy's act threshold (the
        door blocks at it). A flag asks a reviewer: the show threshold (the door shows a person
        typing the record what scores that much)."""
        policy = policy_for(self.entity)
        if self.on_duplicate == DuplicatePolicy.FLAG:
            return policy.show_threshold
        return policy.act_threshold

    def _by_external_id(self, fresh: list[_Row]) -> list[list[_Found]]:
        """Rows whose external id an existing record, or an earlier row, already has: the same
        record, whatever else they say."""
        found: list[list[_Found]] = [[] for _row in fresh]
        externals = [str(r.values.get("external_id") or "").strip() for r in fresh]
        wanted = sorted({e for e in externals if e})
        if not wanted:
            return found
        qs = self.model._default_manager.all()
        if any(f.name == "merged_into" for f in self.model._meta.get_fields()):
            qs = qs.filter(merged_into__isnull=True)
        holders: dict[str, list[int]] = {}
        for start in range(0, len(wanted), 900):
            batch = wanted[start : start + 900]
            for pk, external in qs.filter(external_id__in=batch).values_list("pk", "external_id"):
                holders.setdefault(external, []).append(pk)
        first: dict[str, int] = {}
        reason = _("外部编号相同")
        for index, external in enumerate(externals):
            if not external:
                continue
            if external in first:
                found[index].append(_Found(None, first[external], reason))
            else:
                first[external] = index
            found[index].extend(_Found(pk, None, reason) for pk in holders.get(external, []))
        return found

    def _visible_ids(self, ids: set[int]) -> set[int]:
        if not ids:
            return set()
        return set(
            visible_to(self.actor, self.model._default_manager.filter(pk__in=ids)).values_list(
                "pk", flat=True
            )
        )

    def _decide_duplicate(
        self, row: _Row, found: list[_Found], fresh: list[_Row], visible: set[int]
    ) -> None:
        duplicates: list[Any] = []  # record ids, or rows of this chunk created before this one
        reasons: list[str] = []
        for candidate in found:
            target: Any = candidate.object_id
            if candidate.row is not None:
                earlier = fresh[candidate.row]
                if earlier.action in ("create", "flag"):
                    target = earlier
                elif earlier.action == "merge":
                    target = earlier.target
                else:
                    continue  # the earlier row was skipped or rejected: nothing to match
            if any(d is target or d == target for d in duplicates):
                continue
            duplicates.append(target)
            reasons.append(candidate.reason)
            row.candidates.append(candidate.candidate)
        row.duplicates, row.reasons = duplicates, reasons
        if not duplicates:
            row.action = "create"
        elif self.on_duplicate == DuplicatePolicy.SKIP or self.entity not in DEDUP_ENTITIES:
            # only the dedup entities have a review queue; elsewhere a duplicate is skipped
            row.action = "skipped"
            row.errors.append({"column": "", "message": self._duplicate_message(row)})
        elif self.on_duplicate == DuplicatePolicy.MERGE:
            target = duplicates[0]
            if isinstance(target, _Row) or target in visible:
                row.action, row.target = "merge", target
            else:
                row.action = "flag"
                row.errors.append(
                    {"column": "", "message": _("重复的已有记录你无权查看,已新建并标记疑似重复")}
                )
        else:
            row.action = "flag"

    def _duplicate_message(self, row: _Row) -> str:
        first = row.duplicates[0]
        reason = row.reasons[0] or _("疑似重复")
        if isinstance(first, _Row):
            return _("%(reason)s:与第 %(n)d 行重复") % {"reason": reason, "n": first.number}
        return _("%(reason)s:已存在记录 #%(id)s") % {"reason": reason, "id": first}

    # write -----------------------------------------------------------------------------------
    def _write(self, rows: list[_Row]) -> None:
        creates = [r for r in rows if r.action in ("create", "flag")]
        insert_instances([r.instance for r in creates])  # type: ignore[misc]
        for row in creates:
            row.record_id = row.instance.pk  # type: ignore[union-attr]
        if self.has_unique_custom:
            self._sync_unique(creates)
        creates = [r for r in creates if r.action != "failed"]
        index_new_records(self.entity, [(r.record_id, r.keys) for r in creates if r.keys])  # type: ignore[misc]
        insert_rows(Event, [self._created_event(r) for r in creates])
        self._flag([r for r in creates if r.action == "flag"])
        for row in rows:
            if row.action == "merge":
                self._merge(row)
        if self.job is not None:
            self._write_ledger(rows)
            self._write_results(rows)
        self._count(rows)
        if self.job is not None:
            self._save_progress(len(rows))
        if self.keep_results:
            self.results.extend(self._result(r) for r in rows)

    def _flag(self, rows: list[_Row]) -> None:
        """Flag each new record with its likely duplicates for review: the flags and events the
        dedup app's "allow and flag" policy writes."""
        flagged = []
        for row in rows:
            pairs: list[tuple[int, BatchCandidate]] = []
            for target, candidate in zip(row.duplicates, row.candidates, strict=True):
                target_id = target.record_id if isinstance(target, _Row) else target
                if target_id is None:
                    continue  # an earlier row that failed after all
                pairs.append((target_id, candidate or BatchCandidate(target_id, None, 1.0)))
            flagged.append((row.instance, pairs))
            row.duplicates = [d.record_id if isinstance(d, _Row) else d for d in row.duplicates]
        flag_new_records(self.entity, flagged, actor=self.actor, source="import", now=self.now)

    def _sync_unique(self, creates: list[_Row]) -> None:
        for row in creates:
            try:
                sync_unique_values(self.entity, row.record_id, row.instance.custom)  # type: ignore[arg-type, union-attr]
            except ValidationError as exc:
                row.action = "failed"
                row.errors.extend(
                    {"column": self._column(f"custom.{k}"), "message": m}
                    for k, messages in exc.message_dict.items()
                    for m in messages
                )
                self.model._default_manager.filter(pk=row.record_id).delete()
                row.record_id = None

    def _event_json(self, row: _Row) -> None:
        """The `<entity>.created` event's after-snapshot (what create_record writes: the
        values set, and the custom fields) and data, encoded for their JSON columns now —
        while the row is prepared, in the worker when there is one."""
        instance = row.instance
        assert instance is not None
        # events.services.snapshot(instance, row.create_values), with the attnames looked up
        # once for the run
        state = instance.__dict__
        attname = self.attnames
        if all(name in attname for name in row.create_values):
            after = {name: to_jsonable(state[attname[name]]) for name in row.create_values}
        else:
            after = snapshot(instance, row.create_values)
        custom = getattr(instance, "custom", None)
        if custom:
            after["custom"] = to_jsonable(custom)
        data: dict[str, Any] = {"import_row": row.number}
        if self.job is not None:
            data["import_job"] = self.job_id
        row.event_after = encode_json(self.event_after_field, after)
        row.event_data = encode_json(self.event_data_field, data)

    def _created_event(self, row: _Row) -> dict[str, Any]:
        """The `<entity>.created` event create_record writes (its JSON encoded in _prepare)."""
        instance = row.instance
        assert instance is not None
        return {
            "created_at": self.now,
            "actor_id": self.event_actor_id,
            "subject_type": self.entity,
            "subject_id": instance.pk,
            "verb": self.created_verb,
            "before": {},
            "after": row.event_after,
            "data": row.event_data,
        }

    def _merge(self, row: _Row) -> None:
        target_id = row.target.record_id if isinstance(row.target, _Row) else row.target
        if target_id is None:
            row.action = "failed"
            row.errors.append({"column": "", "message": _("要合并的记录未能导入")})
            return
        values = {k: v for k, v in row.values.items() if k != "owner"}
        try:
            with transaction.atomic():
                instance = self.model._default_manager.get(pk=target_id)
                if getattr(instance, "external_id", ""):
                    values.pop("external_id", None)
                _update_record(
                    self.entity,
                    actor=self.actor,
                    instance=instance,
                    values=values,
                    custom=dict(row.custom),
                )
        except (ValidationError, self.model.DoesNotExist) as exc:
            row.action = "failed"
            if isinstance(exc, ValidationError):
                row.errors.extend(self._errors_from(exc))
            else:
                row.errors.append({"column": "", "message": _("要合并的记录已不存在")})
            return
        row.record_id = target_id

    def _write_ledger(self, rows: list[_Row]) -> None:
        assert self.job is not None
        new = []
        for row in rows:
            if row.action not in ("create", "flag", "merge"):
                continue
            if row.ledger_update:
                ImportLedger.objects.filter(entity=self.entity, key=row.key).update(
                    row_hash=row.row_hash, job=self.job, row_number=row.number
                )
                continue
            new.append(
                {
                    "entity": self.entity,
                    "key": row.key,
                    "row_hash": row.row_hash,
                    "record_id": row.record_id,
                    "outcome": self._outcome(row),
                    "job_id": self.job.pk,
                    "row_number": row.number,
                    "created_at": self.now,
                }
            )
        # The unique (entity, key) constraint raises here if another run wrote a row first;
        # the chunk's transaction then rolls back whole (see _process_chunk).
        insert_rows(ImportLedger, new)

    def _write_results(self, rows: list[_Row]) -> None:
        assert self.job is not None
        results = []
        for row in rows:
            outcome = self._outcome(row)
            if outcome == RowOutcome.CREATED and not row.errors:
                continue
            results.append(
                {
                    "job_id": self.job.pk,
                    "row_number": row.number,
                    "outcome": outcome,
                    "values": [jsonable_cell(c) for c in row.cells] if outcome == "failed" else [],
                    "errors": row.errors,
                    "record_id": row.record_id,
                    "duplicate_ids": [
                        d.record_id if isinstance(d, _Row) else d for d in row.duplicates
                    ],
                }
            )
        # Re-running a job rewrites the results of the rows it sees again.
        ImportRowResult.objects.filter(
            job=self.job, row_number__in=[r.number for r in rows]
        ).delete()
        insert_rows(ImportRowResult, results)

    def _outcome(self, row: _Row) -> str:
        if row.outcome_override:
            return row.outcome_override
        return {
            "create": RowOutcome.CREATED,
            "flag": RowOutcome.FLAGGED,
            "merge": RowOutcome.MERGED,
            "skipped": RowOutcome.SKIPPED,
            "unchanged": RowOutcome.UNCHANGED,
            "failed": RowOutcome.FAILED,
        }[row.action]

    def _count(self, rows: list[_Row]) -> None:
        for row in rows:
            self.counts[self._outcome(row)] += 1

    def _save_progress(self, chunk_rows: int) -> None:
        assert self.job is not None
        c = self.counts
        ImportJob.objects.filter(pk=self.job.pk).update(
            processed_rows=self.processed + chunk_rows,
            created_count=c[RowOutcome.CREATED],
            merged_count=c[RowOutcome.MERGED],
            flagged_count=c[RowOutcome.FLAGGED],
            skipped_count=c[RowOutcome.SKIPPED],
            unchanged_count=c[RowOutcome.UNCHANGED],
            failed_count=c[RowOutcome.FAILED],
            unmatched=self.unmatched,
            updated_at=timezone.now(),
        )

    def _result(self, row: _Row) -> RowResult:
        label = ""
        if row.instance is not None:
            label = str(row.instance)
        return RowResult(
            row_number=row.number,
            outcome=self._outcome(row),
            errors=row.errors,
            record_id=row.record_id,
            duplicate_ids=[d.record_id if isinstance(d, _Row) else d for d in row.duplicates],
            cells=[jsonable_cell(c) for c in row.cells],
            label=label,
        )
