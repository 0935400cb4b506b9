"""TrialStore: studies and their trials in any database SQLAlchemy can reach."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import logging
import math
import numbers
import os
import re
import sqlite3
import threading
import time
import unicodedata
import urllib.parse
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from types import TracebackType
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import StaticPool

from hptaa_lab._interrupts import interrupts_deferred
from hptaa_lab.errors import (
    InvalidStudyNameError,
    StoreError,
    StudyExistsError,
    StudyNotFoundError,
    StudyReplacedError,
)
from hptaa_lab.records import StudyRecord, TrialRecord, TrialState, twin_links
from hptaa_lab.store._migrations import MIGRATIONS
from hptaa_lab.store._process import Liveness, TrialOwner, liveness, this_process
from hptaa_lab.store._schema import (
    NAME_LENGTH,
    SCHEMA_VERSION,
    VERSION_KEY,
    WRITER_KEY,
    UTCDateTime,
    meta,
    metadata,
    runs,
    studies,
    trials,
)

__all__ = [
    "DEFAULT_URL",
    "MAX_STUDY_NAME",
    "SCHEMA_VERSION",
    "RunningCheck",
    "TrialStore",
    "check_study_name",
]

logger = logging.getLogger(__name__)

_TREE_DEPTH = 20
"""Depth of lineage beyond which the tree is no longer indented further."""

_AnyRow: TypeAlias = "sa.Row[*tuple[Any, ...]]"

#: Where the trial store lives unless told otherwise (relative to the current
#: working folder when the store is opened).
DEFAULT_URL = "sqlite:///.hptaa/studies.db"

_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "hptaa_write"
_NUMBER_ATTEMPTS = 20
_DIRECTIONS = ("minimize", "maximize")
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL)
_CONNECT_TIMEOUT_S = 10
_LIBPQ_DRIVERS = ("psycopg", "psycopg2")

#: Key of the PostgreSQL advisory lock that serialises opening a store, so two
#: processes never create or migrate the tables at once ("hptaa" in ASCII).
_OPEN_LOCK_KEY = 0x6870746161

#: Schema migrations (see ``_migrations.py``); the step at key k turns a
#: version-k store into version k + 1.
_MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = MIGRATIONS

_TRIAL_COLUMNS = (
    trials.c.id,
    trials.c.number,
    trials.c.state,
    trials.c.value,
    trials.c.error,
    trials.c.config_json,
    trials.c.started_at,
    trials.c.finished_at,
    trials.c.proposed_by,
)
_OWNER_COLUMNS = (trials.c.owner_host, trials.c.owner_pid, trials.c.owner_start)
_RUN_OWNER_COLUMNS = (runs.c.owner_host, runs.c.owner_pid, runs.c.owner_start)

# Statements of the hot path (one trial started and finished), built once.
_NEXT_NUMBER = sa.select(
    studies.c.id,
    sa.select(sa.func.coalesce(sa.func.max(trials.c.number) + 1, 0))
    .where(trials.c.study_id == studies.c.id)
    .scalar_subquery(),
).where(studies.c.name == sa.bindparam("study"))
_INSERT_TRIAL = sa.insert(trials)
_TRIAL_BY_NUMBER = (
    sa.select(*_TRIAL_COLUMNS, *_OWNER_COLUMNS)
    .join(studies, studies.c.id == trials.c.study_id)
    .where(studies.c.name == sa.bindparam("study"))
    .where(trials.c.number == sa.bindparam("number"))
)
_FINISH_TRIAL = (
    sa.update(trials)
    .where(trials.c.id == sa.bindparam("trial_id"))
    .where(trials.c.state == sa.bindparam("old_state", type_=trials.c.state.type))
    .values(
        state=sa.bindparam("new_state", type_=trials.c.state.type),
        value=sa.bindparam("new_value", type_=trials.c.value.type),
        error=sa.bindparam("new_error", type_=trials.c.error.type),
        finished_at=sa.bindparam("new_finished_at", type_=UTCDateTime),
    )
)


@dataclass(frozen=True)
class RunningCheck:
    """What :meth:`TrialStore.fail_abandoned_trials` did with a study's RUNNING
    trials, by trial number.

    Attributes:
        ended: Marked FAIL: the process that started them has ended, or none was
            recorded (trials started by hptaa_lab before schema version 3).
        unchecked: Marked FAIL: started by a process this one cannot check (on
            another host). If it still runs, its results will still be stored.
        live: Left RUNNING: the process that started them still runs.
    """

    ended: tuple[int, ...] = ()
    unchecked: dict[int, TrialOwner] = field(default_factory=dict)
    live: dict[int, TrialOwner] = field(default_factory=dict)


_OPEN_STORES: weakref.WeakSet[TrialStore] = weakref.WeakSet()
"""Stores not garbage-collected yet; their pooled connections close at exit."""


@atexit.register
def _close_connections_at_exit() -> None:
    """Close the pooled connections of every store as the interpreter exits.

    The last connection to a SQLite file to close folds the write-ahead log
    into the file. A Jupyter kernel exits without closing them (a terminal's
    interpreter closes them as it frees its objects), which left every study
    of a notebook's run in studies.db-wal, beside a studies.db that a copy
    alone would find empty. The stores stay usable: a later use reconnects.
    """
    for store in list(_OPEN_STORES):
        if store._pid != os.getpid():
            continue  # a forked child's copy: its connections are the parent's
        with contextlib.suppress(Exception):
            store._engine.dispose()


class TrialStore:
    """Keeps studies and their trials in a SQL database.

    The default is a SQLite file in the working folder (WAL mode, so several
    threads and processes may read and write at once); any SQLAlchemy URL, such
    as ``postgresql+psycopg://user@host/dbname``, gives a store a team can
    share. Every write commits at once, so a crash loses no finished trial. One
    TrialStore may be used from several threads.

    Opening a store creates its tables when the database is empty, and
    migrates a store written by an older hptaa_lab to the current schema
    version (``SCHEMA_VERSION``).

    Args:
        url: SQLAlchemy database URL; None means ``DEFAULT_URL``. A relative
            SQLite path is resolved against the current working folder, and its
            folder is created if missing. ``postgresql://`` without a driver
            uses psycopg (version 3) when psycopg2 is not installed.
        create: Whether a missing SQLite file (and its folder) is created. False
            is for reading: a path that holds no store, often a typo, is then an
            error instead of a new empty store.

    Raises:
        StoreError: The URL cannot be opened (unknown scheme, driver not
            installed, server unreachable, folder not writable, a file that is
            not a database), or the store was written by a newer hptaa_lab; or,
            with ``create=False``, there is no SQLite file at the path.
    """

    def __init__(self, url: str | None = None, *, create: bool = True) -> None:
        parsed = _parse_url(DEFAULT_URL if url is None else url)
        self._sqlite_file = _prepare_sqlite_file(parsed, create=create)
        if self._sqlite_file is not None:
            parsed = parsed.set(database=str(self._sqlite_file))

        self._shown = _hidden_password(parsed)
        parsed = _default_driver(parsed)
        self._url = parsed
        self._closed = False
        self._lock: AbstractContextManager[Any] = nullcontext()
        self._memory = _is_sqlite_memory(parsed)
        if self._memory:
            # NOTE(store): one shared connection, so every use is serialised.
            self._lock = threading.RLock()

        opened = parsed
        self._read_only = (
            self._sqlite_file is not None
            and self._sqlite_file.exists()
            and not _writable(self._sqlite_file)
        )
        if self._read_only:
            # A store this process cannot write (a read-only file or folder)
            # opens read-only: a plain connection would create -wal and -shm
            # files beside it, owned by this process, before a write failed,
            # and they would then lock its owner out. Reads work; writes fail
            # with the store's own message and create nothing.
            assert self._sqlite_file is not None
            opened = sa.make_url(read_only_sqlite_url(self._sqlite_file))
        self._engine = _create_engine(opened, self._shown)
        try:
            if not create:
                self._require_tables()
            elif self._sqlite_file is not None:
                self._refuse_foreign_file()
            self._prepare_schema()
        except BaseException:
            self._engine.dispose()
            raise
        self._pid = os.getpid()
        _OPEN_STORES.add(self)

    @property
    def url(self) -> str:
        """The store's URL (SQLite paths made absolute), password included."""
        return self._url.render_as_string(hide_password=False)

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only: a SQLite file this process
        cannot write (writes then fail with a StoreError)."""
        return self._read_only

    @property
    def shown_url(self) -> str:
        """The store's URL as messages show it (the password hidden)."""
        return self._shown

    def __repr__(self) -> str:
        return f"TrialStore({self._shown!r})"

    def __enter__(self) -> TrialStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; the store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()

    # -- studies -----------------------------------------------------------

    def create_study(self, record: StudyRecord) -> StudyRecord:
        """Add a new study.

        Args:
            record: The study; ``created_at`` is set to now (UTC) when None.

        Returns:
            The record as stored, with ``created_at`` set.

        Raises:
            StudyExistsError: A study with this name exists.
            StudyNotFoundError: ``record.previous`` names no existing study.
            ValueError: A field has a value the store cannot keep.
        """
        _check_study_record(record)
        if record.created_at is None:
            record = replace(record, created_at=_now())
        _study_values(record)  # refuses what cannot be stored, before any write

        try:
            with self._transaction(write=True) as conn:
                self._insert_study(conn, record)
        except sa_exc.IntegrityError as exc:
            # Another writer took the name between our check and our insert.
            raise StudyExistsError(record.name, self._shown) from exc

        logger.debug("Created study %r in %s", record.name, self._shown)
        return record

    def get_study(self, name: str) -> StudyRecord:
        """Return the study called ``name``.

        Raises:
            StudyNotFoundError: No such study; the message lists existing ones.
        """
        with self._transaction(write=False) as conn:
            row = conn.execute(sa.select(studies).where(studies.c.name == name)).first()
            if row is None:
                raise _not_found(conn, name)
        return _study_from_row(row)

    def find_study(self, name: str) -> StudyRecord | None:
        """Return the study called ``name``, or None if there is none."""
        with self._transaction(write=False) as conn:
            row = conn.execute(sa.select(studies).where(studies.c.name == name)).first()
        return None if row is None else _study_from_row(row)

    def has_study(self, name: str) -> bool:
        """Return whether a study called ``name`` exists."""
        with self._transaction(write=False) as conn:
            return _find_study(conn, name) is not None

    def list_studies(self) -> list[StudyRecord]:
        """Return every study, oldest first (ties broken by name)."""
        stmt = sa.select(studies).order_by(studies.c.created_at, studies.c.name)
        with self._transaction(write=False) as conn:
            rows = conn.execute(stmt).all()
        return [_study_from_row(row) for row in rows]

    def set_mapping(self, name: str, mapping_json: str | None) -> None:
        """Store the confirmed mapping (JSON text) of a study, or clear it.

        Raises:
            StudyNotFoundError: No such study.
            ValueError: ``mapping_json`` is not JSON text.
        """
        if mapping_json is not None:
            _check_json_text(mapping_json, "mapping_json")
        with self._transaction(write=True) as conn:
            sid = self._study_id(conn, name)
            stmt = sa.update(studies).where(studies.c.id == sid)
            conn.execute(stmt.values(mapping_json=mapping_json))

    def update_attrs(self, name: str, attrs: dict[str, Any]) -> None:
        """Merge ``attrs`` into a study's attributes (new keys win).

        Raises:
            StudyNotFoundError: No such study.
            ValueError: ``attrs`` is not a dict of JSON values with str keys.
        """
        _dump_json_object(attrs, "attrs")
        select_attrs = (
            sa.select(studies.c.id, studies.c.attrs_json)
            .where(studies.c.name == name)
            .with_for_update()
        )
        with self._transaction(write=True) as conn:
            row = conn.execute(select_attrs).first()
            if row is None:
                raise _not_found(conn, name)
            merged = {**json.loads(row.attrs_json), **attrs}
            stmt = sa.update(studies).where(studies.c.id == row.id)
            conn.execute(stmt.values(attrs_json=_dump_json_object(merged, "attrs")))

    def delete_study(self, name: str, *, force: bool = False) -> None:
        """Delete a study and all its trials (see :meth:`delete_studies`).

        Raises:
            StudyNotFoundError: No such study.
            StoreError: Another study names this one as its previous study, or a
                process tunes it.
        """
        self.delete_studies([name], force=force)

    def delete_studies(
        self, names: Sequence[str], *, force: bool = False, dry_run: bool = False
    ) -> dict[str, int]:
        """Delete studies and all their trials, all or none, in one transaction.

        Refused, deleting nothing: a study that another study not among
        ``names`` names as its previous study, and a study that a process is
        tuning (see :meth:`tuners`): one that runs on this host always, one on
        another host (which cannot be checked from here) unless ``force``. The
        studies' rows are locked while checking, so no run starts between the
        check and the deletion.

        Args:
            names: The studies (in any order; followers are deleted first).
            force: Delete them even while processes on other hosts are recorded
                as tuning them (they have ended, say, without saying so).
            dry_run: Check, and say what would be deleted, deleting nothing.

        Returns:
            The number of trials deleted (or that would be), by study, in the
            order of deletion.

        Raises:
            StudyNotFoundError: A study does not exist.
            StoreError: A refusal above, naming every study refused.
        """
        if isinstance(names, str):
            raise TypeError(
                f"delete_studies takes a list of study names; got the string "
                f"{names!r} (use delete_study for one, or [{names!r}])."
            )
        wanted = list(dict.fromkeys(names))
        deleted: dict[str, int] = {}
        with self._transaction(write=True) as conn:
            ids = {name: self._study_id(conn, name, lock=True) for name in wanted}
            reasons = {
                name: why
                for name, sid in ids.items()
                if (why := busy_message(_tuners(conn, sid), force=force))
            }
            followers = conn.execute(
                sa.select(studies.c.name, studies.c.previous).where(
                    studies.c.previous.in_(wanted)
                )
            ).all()
            outside: dict[str, list[str]] = {}
            for follower, previous in sorted(followers):
                if follower not in ids:
                    outside.setdefault(previous, []).append(repr(follower))
            for previous, names_it in outside.items():
                one = len(names_it) == 1
                who = (
                    f"study {names_it[0]} names"
                    if one
                    else f"studies {', '.join(names_it[:-1])} and {names_it[-1]} name"
                )
                reasons.setdefault(
                    previous,
                    f"{who} it as previous study. Delete {'it' if one else 'them'} "
                    "too (in the same call), or keep this one.",
                )
            if reasons:
                raise StoreError(_refusal(reasons, several=len(wanted) > 1))
            if not dry_run:
                # No study of the set names another then: the database takes
                # them in any order (a loop of previous studies, in a
                # hand-edited store, included).
                conn.execute(
                    sa.update(studies)
                    .where(studies.c.id.in_(list(ids.values())))
                    .values(previous=None)
                )
            for name in _followers_first(list(ids), followers):
                sid = ids[name]
                if dry_run:
                    count = sa.select(sa.func.count()).where(trials.c.study_id == sid)
                    deleted[name] = int(conn.scalar(count) or 0)
                    continue
                deleted[name] = conn.execute(
                    sa.delete(trials).where(trials.c.study_id == sid)
                ).rowcount
                conn.execute(sa.delete(runs).where(runs.c.study_id == sid))
                conn.execute(sa.delete(studies).where(studies.c.id == sid))
        if not dry_run:
            for name, n_trials in deleted.items():
                logger.info("Deleted study %r and its %d trials", name, n_trials)
        return deleted

    def lineage(self, name: str) -> list[str]:
        """Return ``[name, previous, previous of previous, ...]``.

        The walk stops (with a warning) if the chain loops back on itself.

        Raises:
            StudyNotFoundError: No such study.
        """
        with self._transaction(write=False) as conn:
            rows = conn.execute(sa.select(studies.c.name, studies.c.previous)).all()
            parents = {row.name: row.previous for row in rows}
            if name not in parents:
                raise _not_found(conn, name)

        chain = [name]
        current = parents[name]
        while current is not None and current in parents:
            if current in chain:
                logger.warning(
                    "Lineage of study %r loops back to %r; stopped there",
                    name,
                    current,
                )
                break
            chain.append(current)
            current = parents[current]
        return chain

    def summaries(self) -> list[dict[str, Any]]:
        """Return one summary per study, oldest first, from a single query.

        Each summary holds name, previous, transfer, sampler, direction,
        n_trials, n_complete, n_fail, n_running, best_value (None without a
        complete trial) and created_at.
        """
        with self._transaction(write=False) as conn:
            rows = conn.execute(_summary_query()).all()
        return [_summary_from_row(row) for row in rows]

    def lineage_tree(self) -> list[dict[str, Any]]:
        """Return the summaries of :meth:`summaries` as a tree of lineage: each
        study follows its previous study, depth first, oldest first among
        siblings. Each summary also holds ``tree`` (the name drawn as a branch of
        the tree, e.g. "|  `- v3"; beyond depth 20 "[depth 21] `- v22"),
        ``depth`` (0 for a study without a previous study in this store),
        ``twin_of`` (the transfer study a no-transfer twin was run beside, else
        None; None too once that study was deleted, or is another study of
        the same name without this twin), ``n_abandoned`` (how many of its
        ``n_running`` trials belong to a process that has ended, see
        :meth:`abandoned`), ``imported_from`` (what an imported
        study's trials came from: "csv", "optuna", ...; else None) and
        ``missing_previous`` (the name of a previous study that is no longer in
        the store, else None)."""
        rows = self.summaries()
        by_name = {r["name"]: r for r in rows}
        records = {s.name: s for s in self.list_studies()}
        twins = {
            name: twin_links(record, records.get)["twin_of"]
            for name, record in records.items()
        }
        children: dict[str | None, list[str]] = {}
        for r in rows:
            parent = r["previous"] if r["previous"] in by_name else None
            children.setdefault(parent, []).append(r["name"])
        ordered: list[dict[str, Any]] = []
        seen: set[str] = set()
        # Studies on a loop of previous studies (a hand-edited store) have no
        # root: each loop is listed from its oldest study, after the others.
        roots = children.get(None, []) + [r["name"] for r in rows]
        for root in roots:
            if root in seen:
                continue
            # Depth first without recursion: a chain may be thousands deep.
            stack = [(root, "", True, 0)]
            while stack:
                name, prefix, last, depth = stack.pop()
                if name in seen:
                    continue
                seen.add(name)
                r = by_name[name]
                branch = "" if depth == 0 else ("`- " if last else "|- ")
                missing = (
                    r["previous"] if r["previous"] not in (None, *by_name) else None
                )
                drawn = prefix + branch + name
                if depth > _TREE_DEPTH:
                    drawn = f"[depth {depth}] `- {name}"
                if missing is not None:
                    drawn += f" (previous {missing!r} is gone)"
                ordered.append(
                    {
                        **r,
                        "tree": drawn,
                        "depth": depth,
                        "twin_of": twins.get(name),
                        "n_abandoned": len(self.abandoned(name))
                        if r["n_running"]
                        else 0,
                        "imported_from": _imported_from(records.get(name)),
                        "missing_previous": missing,
                    }
                )
                kids = [kid for kid in children.get(name, []) if kid not in seen]
                extend = "" if depth == 0 else ("   " if last else "|  ")
                for k in range(len(kids) - 1, -1, -1):
                    stack.append(
                        (kids[k], prefix + extend, k == len(kids) - 1, depth + 1)
                    )
        return ordered

    # -- trials ------------------------------------------------------------

    def start_trial(
        self,
        study: str,
        config: dict[str, Any],
        proposed_by: str,
        started_at: datetime | None = None,
        *,
        created_at: datetime | None = None,
    ) -> TrialRecord:
        """Add a RUNNING trial with the next free number and commit it.

        The calling process is recorded as the one running the trial (see
        :meth:`fail_abandoned_trials`).

        Args:
            study: Study name.
            config: Configuration: a dict of JSON values with str keys.
            proposed_by: How the configuration was proposed, e.g. "tpe".
            started_at: Start time (timezone-aware); now when None.
            created_at: When the caller's study was created (see
                :meth:`check_same_study`); None skips the check.

        Returns:
            The stored trial, with its number.

        Raises:
            StudyNotFoundError: No such study.
            StoreError: The study of that name is another one (``created_at``).
            ValueError: ``config`` is not JSON, or ``started_at`` is naive.
        """
        config_json = _dump_json_object(config, "config")
        started = _aware(started_at, "started_at") or _now()
        owner = this_process()
        number = self._insert_trial(
            study,
            {
                "state": TrialState.RUNNING.value,
                "config_json": config_json,
                "started_at": started,
                "proposed_by": _check_str(proposed_by, "proposed_by"),
                "owner_host": owner.host,
                "owner_pid": owner.pid,
                "owner_start": owner.start,
            },
            created_at,
        )
        return TrialRecord(
            number=number,
            config=json.loads(config_json),
            state=TrialState.RUNNING,
            started_at=started,
            proposed_by=proposed_by,
        )

    def finish_trial(
        self,
        study: str,
        number: int,
        state: TrialState,
        value: float | None = None,
        error: str | None = None,
        finished_at: datetime | None = None,
        *,
        own_failed: bool = False,
        created_at: datetime | None = None,
    ) -> TrialRecord:
        """Mark a RUNNING trial COMPLETE (with a finite value) or FAIL; commit.

        Args:
            study: Study name.
            number: Trial number, as returned by ``start_trial``.
            state: COMPLETE or FAIL.
            value: Objective value; required for COMPLETE, None for FAIL.
            error: Error text (traceback or reason) of a failed trial.
            finished_at: End time (timezone-aware); now when None.
            own_failed: Also finish a trial that this process started and
                another process marked FAIL meanwhile (a resume that could not
                check this process, or ``fail_running_trials``): the result
                replaces that failure, with a warning. A COMPLETE trial is
                never changed.
            created_at: When the caller's study was created (see
                :meth:`check_same_study`); None skips the check.

        Returns:
            The finished trial as stored.

        Raises:
            StudyNotFoundError: No such study.
            StoreError: The study of that name is another one (``created_at``).
            ValueError: Bad state or value, or no trial with this number.
            StoreError: The trial is no longer RUNNING (finished elsewhere).
        """
        state, value = _check_outcome(state, value)
        finished = _aware(finished_at, "finished_at") or _now()
        outcome = {
            "new_state": state.value,
            "new_value": value,
            "new_error": error,
            "new_finished_at": finished,
        }

        with self._transaction(write=True) as conn:
            _check_created(conn, self._shown, study, created_at)
            row = self._running_trial(conn, study, number, own_failed=own_failed)
            updated = conn.execute(
                _FINISH_TRIAL, {"trial_id": row.id, "old_state": row.state, **outcome}
            ).rowcount
            if updated != 1:
                raise _no_longer_running(study, number)

        if row.state != TrialState.RUNNING.value:
            logger.warning(
                "Trial %d of study %r was marked %s by another process while this "
                "process still ran it (%s); stored its result instead: %s%s",
                number,
                study,
                row.state,
                row.error,
                state,
                "" if value is None else f" with value {value!r}",
            )
        running = _trial_from_row(row)
        return replace(
            running, state=state, value=value, error=error, finished_at=finished
        )

    def add_trial(self, study: str, record: TrialRecord) -> TrialRecord:
        """Import an already finished trial under the next free number.

        Args:
            study: Study name.
            record: A COMPLETE or FAIL trial; ``record.number`` is ignored.

        Returns:
            The stored trial, with its new number.

        Raises:
            StudyNotFoundError: No such study.
            ValueError: The trial is RUNNING, or a field cannot be stored.
        """
        values = _finished_values(record, "add_trial", "record")
        number = self._insert_trial(study, values)
        return _stored_finished(record, number, values)

    def import_study(
        self,
        record: StudyRecord,
        trial_records: Sequence[TrialRecord],
        trial_attrs: Sequence[dict[str, Any]] | None = None,
    ) -> StudyRecord:
        """Create a study together with its finished trials, all or nothing.

        The trials are numbered 0, 1, ... in the given order (their
        ``number`` is ignored). If any trial cannot be stored, neither the
        study nor any trial is written.

        Args:
            record: The new study; ``created_at`` is set to now when None.
            trial_records: COMPLETE or FAIL trials.
            trial_attrs: Free-form JSON attributes of each trial (one dict per
                trial), e.g. where it came from; None gives every trial ``{}``.

        Returns:
            The study record as stored.

        Raises:
            StudyExistsError: A study with this name exists.
            StudyNotFoundError: ``record.previous`` names no existing study.
            ValueError: A field of the study or of a trial cannot be stored,
                or ``trial_attrs`` does not hold one dict per trial.
        """
        _check_study_record(record)
        if record.created_at is None:
            record = replace(record, created_at=_now())
        _study_values(record)
        n_trials = len(trial_records)
        attrs = [{}] * n_trials if trial_attrs is None else list(trial_attrs)
        if len(attrs) != n_trials:
            raise ValueError(
                f"trial_attrs must hold one dict per trial: got {len(attrs)} for "
                f"{n_trials} trials."
            )
        rows = [
            {
                "number": number,
                **_finished_values(trial, "import_study", f"trials[{number}]"),
                "attrs_json": _dump_json_object(
                    attrs[number], f"trial_attrs[{number}]"
                ),
            }
            for number, trial in enumerate(trial_records)
        ]

        try:
            with self._transaction(write=True) as conn:
                self._insert_study(conn, record)
                sid = self._study_id(conn, record.name)
                if rows:
                    conn.execute(
                        sa.insert(trials),
                        [{"study_id": sid, **row} for row in rows],
                    )
        except StudyExistsError as exc:
            raise StudyExistsError(record.name, exc.store, importing=True) from None
        except sa_exc.IntegrityError as exc:
            raise StudyExistsError(record.name, self._shown, importing=True) from exc

        logger.info(
            "Imported study %r with %d trials into %s",
            record.name,
            len(rows),
            self._shown,
        )
        self.checkpoint()
        return record

    def trial_attrs(self, study: str) -> dict[int, dict[str, Any]]:
        """Return the attributes of every trial of a study, by trial number.

        Raises:
            StudyNotFoundError: No such study.
        """
        with self._transaction(write=False) as conn:
            stmt = (
                sa.select(trials.c.number, trials.c.attrs_json)
                .where(trials.c.study_id == self._study_id(conn, study))
                .order_by(trials.c.number)
            )
            rows = conn.execute(stmt).all()
        return {row.number: json.loads(row.attrs_json) for row in rows}

    def update_trial_attrs(
        self, study: str, number: int, attrs: dict[str, Any]
    ) -> None:
        """Merge ``attrs`` into the attributes of one trial (new keys win).

        Raises:
            StudyNotFoundError: No such study.
            ValueError: No trial with this number, or ``attrs`` is not a dict
                of JSON values with str keys.
        """
        _dump_json_object(attrs, "attrs")
        with self._transaction(write=True) as conn:
            sid = self._study_id(conn, study)
            select_attrs = (
                sa.select(trials.c.id, trials.c.attrs_json)
                .where(trials.c.study_id == sid)
                .where(trials.c.number == number)
                .with_for_update()
            )
            row = conn.execute(select_attrs).first()
            if row is None:
                raise _unknown_number(conn, sid, study, number)
            merged = {**json.loads(row.attrs_json), **attrs}
            stmt = sa.update(trials).where(trials.c.id == row.id)
            conn.execute(stmt.values(attrs_json=_dump_json_object(merged, "attrs")))

    def get_trials(
        self,
        study: str,
        states: Iterable[TrialState] | None = None,
        offset: int = 0,
        limit: int | None = None,
        numbers: Iterable[int] | None = None,
    ) -> list[TrialRecord]:
        """Return a study's trials ordered by number.

        Args:
            study: Study name.
            states: Keep only trials in these states; None keeps all.
            offset: Skip this many trials (after filtering).
            limit: Return at most this many trials; None for all.
            numbers: Keep only the trials with these numbers; None keeps all.

        Raises:
            StudyNotFoundError: No such study.
            ValueError: Negative offset or limit, or an unknown state.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError(
                "offset and limit must be >= 0 (limit may be None), got "
                f"offset={offset}, limit={limit}."
            )
        wanted = None if states is None else [TrialState(s).value for s in states]

        with self._transaction(write=False) as conn:
            stmt = sa.select(*_TRIAL_COLUMNS).where(
                trials.c.study_id == self._study_id(conn, study)
            )
            if wanted is not None:
                stmt = stmt.where(trials.c.state.in_(wanted))
            if numbers is not None:
                stmt = stmt.where(trials.c.number.in_([int(n) for n in numbers]))
            stmt = stmt.order_by(trials.c.number).offset(offset).limit(limit)
            rows = conn.execute(stmt).all()
        return [_trial_from_row(row) for row in rows]

    def count_trials(self, study: str) -> dict[TrialState, int]:
        """Return the number of trials in each state (every state present).

        Raises:
            StudyNotFoundError: No such study.
        """
        counts = dict.fromkeys(TrialState, 0)
        with self._transaction(write=False) as conn:
            stmt = (
                sa.select(trials.c.state, sa.func.count())
                .where(trials.c.study_id == self._study_id(conn, study))
                .group_by(trials.c.state)
            )
            for state, count in conn.execute(stmt):
                counts[TrialState(state)] = count
        return counts

    def best_trial(self, study: str) -> TrialRecord | None:
        """Return the study's incumbent: its best COMPLETE trial, or None.

        "Best" follows the study's direction; ties go to the lower number.

        Raises:
            StudyNotFoundError: No such study.
        """
        with self._transaction(write=False) as conn:
            found = _find_study(conn, study)
            if found is None:
                raise _not_found(conn, study)
            sid, direction = found
            order = trials.c.value.desc() if direction == "maximize" else trials.c.value
            stmt = (
                sa.select(*_TRIAL_COLUMNS)
                .where(trials.c.study_id == sid)
                .where(trials.c.state == TrialState.COMPLETE.value)
                .order_by(order, trials.c.number)
                .limit(1)
            )
            row = conn.execute(stmt).first()
        return None if row is None else _trial_from_row(row)

    def running_owners(self, study: str) -> dict[int, TrialOwner | None]:
        """The process recorded for each RUNNING trial (None where none was
        recorded), by trial number; reads only, so a viewer can tell trials whose
        process ended (``liveness``) without failing them.

        Raises:
            StudyNotFoundError: No such study.
        """
        with self._transaction(write=False) as conn:
            stmt = (
                sa.select(trials.c.number, *_OWNER_COLUMNS)
                .where(trials.c.study_id == self._study_id(conn, study))
                .where(trials.c.state == TrialState.RUNNING.value)
                .order_by(trials.c.number)
            )
            return {row.number: _owner_of(row) for row in conn.execute(stmt).all()}

    def abandoned(self, study: str) -> set[int]:
        """Numbers of the RUNNING trials whose process has ended (killed, or a
        kernel shut down mid-trial; checked on this host; a trial with no
        process recorded counts as ended, as resuming the study counts it):
        they never finish, and the next run of the study fails them. Reads only.

        Raises:
            StudyNotFoundError: No such study.
        """
        return {
            number
            for number, owner in self.running_owners(study).items()
            if owner is None or liveness(owner) is Liveness.GONE
        }

    def is_being_run(self, study: str) -> bool:
        """Whether a process that still runs (checked on this host) is tuning
        the study: it runs one of its trials, or is inside ``Study.optimize``
        for it (between two trials, say).

        Raises:
            StudyNotFoundError: No such study.
        """
        return any(seen is Liveness.ALIVE for _, seen in self.tuners(study))

    def tuners(self, study: str) -> list[tuple[TrialOwner, Liveness]]:
        """The processes recorded as tuning a study (running one of its trials,
        or inside ``Study.optimize`` for it) that have not ended, each with what
        this process can tell of it: ALIVE on this host, UNKNOWN on another.

        Raises:
            StudyNotFoundError: No such study.
        """
        with self._transaction(write=False) as conn:
            return _tuners(conn, self._study_id(conn, study))

    def begin_run(self, study: str, *, created_at: datetime | None = None) -> int:
        """Record that this process starts tuning a study (``Study.optimize``
        does it); rows of this study's runs whose process ended are dropped.

        Args:
            study: Study name.
            created_at: When the caller's study was created (see
                :meth:`check_same_study`); None skips the check.

        Returns:
            The run's id, for :meth:`end_run`.

        Raises:
            StudyNotFoundError: No such study.
            StoreError: The study of that name is another one (``created_at``).
        """
        owner = this_process()
        with self._transaction(write=True) as conn:
            # Locked as delete_study locks it: a run starts before a deletion
            # or after it, never between its check and its delete.
            sid = self._study_id(conn, study, lock=True)
            _check_created(conn, self._shown, study, created_at)
            rows = conn.execute(
                sa.select(runs.c.id, *_RUN_OWNER_COLUMNS).where(runs.c.study_id == sid)
            ).all()
            ended = [r.id for r in rows if liveness(_run_owner(r)) is Liveness.GONE]
            if ended:
                conn.execute(sa.delete(runs).where(runs.c.id.in_(ended)))
            key = conn.execute(
                sa.insert(runs).values(
                    study_id=sid,
                    owner_host=owner.host,
                    owner_pid=owner.pid,
                    owner_start=owner.start,
                    started_at=_now(),
                )
            ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def check_same_study(self, study: str, created_at: datetime) -> None:
        """Refuse if the stored study named ``study`` is not the one created at
        ``created_at``: it was deleted and another one took its name. A Study
        object held meanwhile (a notebook's) would otherwise write its trials
        into the new study.

        Raises:
            StudyNotFoundError: No such study.
            StoreError: Another study has the name now.
        """
        with self._transaction(write=False) as conn:
            if _find_study(conn, study) is None:
                raise _not_found(conn, study)
            _check_created(conn, self._shown, study, created_at)

    def end_run(self, run_id: int) -> None:
        """Remove the record of a run :meth:`begin_run` added (none is left if
        its study was deleted meanwhile)."""
        with self._transaction(write=True) as conn:
            conn.execute(sa.delete(runs).where(runs.c.id == run_id))
        self.checkpoint()

    def checkpoint(self) -> None:
        """Copy what SQLite's write-ahead log holds into the database file, as
        far as readers allow without waiting (a no-op for other databases).

        Called as each run ends, so that the file alone (a copy of it, say)
        holds every finished trial even if the process is then killed without
        closing its connections: a Jupyter kernel that a headless run of its
        notebook stops, after a Dask run left child processes, is killed before
        its exit handlers run.
        """
        if self._sqlite_file is None:
            return
        with contextlib.suppress(sa_exc.SQLAlchemyError, sqlite3.Error), self._lock:
            # On the driver's connection, outside any transaction (one would
            # keep the frames after its own snapshot in the log).
            raw = self._engine.raw_connection()
            try:
                if raw.driver_connection is not None:
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                raw.close()

    def run_owners(self, study: str) -> list[TrialOwner]:
        """The processes recorded as inside ``Study.optimize`` for a study,
        oldest first (a process killed meanwhile stays listed: check it with
        ``liveness``).

        Raises:
            StudyNotFoundError: No such study.
        """
        with self._transaction(write=False) as conn:
            stmt = (
                sa.select(*_RUN_OWNER_COLUMNS)
                .where(runs.c.study_id == self._study_id(conn, study))
                .order_by(runs.c.id)
            )
            return [_run_owner(row) for row in conn.execute(stmt).all()]

    def fail_running_trials(self, study: str, reason: str) -> int:
        """Mark every RUNNING trial of a study FAIL with ``reason`` as error.

        Use it when resuming a study whose previous run was interrupted.

        Returns:
            How many trials were marked FAIL.

        Raises:
            StudyNotFoundError: No such study.
        """
        with self._transaction(write=True) as conn:
            stmt = (
                sa.update(trials)
                .where(trials.c.study_id == self._study_id(conn, study))
                .where(trials.c.state == TrialState.RUNNING.value)
                .values(state=TrialState.FAIL.value, error=reason, finished_at=_now())
            )
            n_failed: int = conn.execute(stmt).rowcount
        if n_failed:
            logger.info(
                "Marked %d running trials of study %r as FAIL: %s",
                n_failed,
                study,
                reason,
            )
        return n_failed

    def fail_abandoned_trials(self, study: str) -> RunningCheck:
        """Mark FAIL the RUNNING trials of a study whose process no longer runs.

        Use it when resuming a study. A trial's process (recorded by
        ``start_trial``) is checked on this host: a trial whose process still
        runs stays RUNNING; one whose process ended, or that has no process
        recorded, is marked FAIL. A process on another host cannot be checked:
        its trials are marked FAIL too, and if that process still runs it can
        still store their results (``finish_trial(..., own_failed=True)``).

        Returns:
            The trial numbers in each case.

        Raises:
            StudyNotFoundError: No such study.
        """
        ended: list[int] = []
        unchecked: dict[int, TrialOwner] = {}
        live: dict[int, TrialOwner] = {}
        with self._transaction(write=True) as conn:
            stmt = (
                sa.select(trials.c.id, trials.c.number, *_OWNER_COLUMNS)
                .where(trials.c.study_id == self._study_id(conn, study))
                .where(trials.c.state == TrialState.RUNNING.value)
                .order_by(trials.c.number)
            )
            for row in conn.execute(stmt).all():
                owner = _owner_of(row)
                found = Liveness.GONE if owner is None else liveness(owner)
                if owner is not None and found is Liveness.ALIVE:
                    live[row.number] = owner
                    continue

                error = _abandoned_error(owner, found)
                if not self._fail_running(conn, row.id, error):
                    continue  # finished meanwhile
                if owner is not None and found is Liveness.UNKNOWN:
                    unchecked[row.number] = owner
                else:
                    ended.append(row.number)

        if ended or unchecked:
            logger.info(
                "Marked running trials %s of study %r as FAIL: their process ended "
                "or cannot be checked from here",
                sorted([*ended, *unchecked]),
                study,
            )
        return RunningCheck(tuple(ended), unchecked, live)

    # -- internals -----------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool, action: str = "") -> Iterator[sa.Connection]:
        """Yield a connection inside a transaction that commits on success.

        On SQLite a write transaction takes the write lock at its start, so
        reading the next trial number and inserting it cannot interleave. A
        database that cannot be reached raises a StoreError without the
        driver's traceback (it is logged at DEBUG level).
        """
        if self._closed:
            raise StoreError(
                f"The trial store at {self._shown} was closed. Open a new "
                "TrialStore to use it again."
            )
        verb = action or ("write to" if write else "read")
        # A Ctrl-C inside a write rolls it back, and one that lands while the
        # driver executes a statement can leave a connection that still holds
        # SQLite's write lock, kept alive by the traceback (a notebook keeps
        # the last one): every later write, in any process, would then wait in
        # vain. A write therefore runs to its end, and the Ctrl-C comes after.
        # In memory, a Ctrl-C inside any statement makes SQLAlchemy drop the one
        # connection, and the database with it: reads are held back there too.
        deferred = interrupts_deferred() if write or self._memory else nullcontext()
        with deferred, self._lock:
            try:
                conn = self._engine.connect()
            except sa_exc.DBAPIError as exc:
                logger.debug("Cannot connect to %s", self._shown, exc_info=True)
                raise self._store_error(verb, exc) from None

            try:
                with conn:
                    if write:
                        conn.execution_options(**{_WRITE_OPTION: True})
                    with conn.begin():
                        yield conn
            except sa_exc.IntegrityError:
                raise
            except sa_exc.DBAPIError as exc:
                raise self._store_error(verb, exc) from exc

    def _tables(self) -> set[str] | None:
        """The names of the database's tables, read without writing; None when
        they cannot be read (_prepare_schema then says what is wrong)."""
        try:
            if self._sqlite_file is not None:
                if not self._sqlite_file.exists():
                    return set()
                # A plain read-only connection: the engine's connections set the
                # journal mode, which writes to the file.
                uri = read_only_sqlite_uri(self._sqlite_file)
                with contextlib.closing(sqlite3.connect(uri, uri=True)) as raw:
                    rows = raw.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                    ).fetchall()
                return {str(row[0]) for row in rows}
            with self._engine.connect() as conn:
                return set(sa.inspect(conn).get_table_names())
        except (sa_exc.DBAPIError, sqlite3.Error):
            return None

    def _require_tables(self) -> None:
        """Refuse, before writing anything, a database that holds no trial store
        (an empty file, another program's database)."""
        tables = self._tables()
        if tables is not None and not tables & {meta.name, studies.name}:
            raise StoreError(
                f"{self._shown} holds no hptaa_lab trial store (none of its tables "
                f"are hptaa_lab's); nothing was written to it. {_CHECK_URL}, or "
                "create a study there first."
            )

    def _refuse_foreign_file(self) -> None:
        """Refuse, before writing anything, a SQLite file that holds another
        program's tables: a trial store gets a file of its own."""
        tables = self._tables()
        if tables and not tables & {meta.name, studies.name}:
            shown = ", ".join(sorted(tables)[:5])
            raise StoreError(
                f"{self._shown} is another program's SQLite database (tables: "
                f"{shown}); hptaa_lab adds no tables to it and wrote nothing. "
                f"{_CHECK_URL}, or give a new file for the trial store."
            )

    def _prepare_schema(self) -> None:
        """Create the tables of a new store, or check and migrate its version."""
        for attempt in (1, 2):
            try:
                with self._transaction(write=True, action="open") as conn:
                    if conn.dialect.name == "postgresql":
                        # Two processes opening a new store would both create
                        # the tables; the second would fail on the catalog.
                        lock = sa.func.pg_advisory_xact_lock(_OPEN_LOCK_KEY)
                        conn.execute(sa.select(lock))
                    self._check_version(conn)
                    metadata.create_all(conn)
                return
            except sa_exc.IntegrityError as exc:
                # Backends without the lock: two processes created the store
                # at once; the second attempt finds the other one's tables.
                if attempt == 2:
                    raise self._store_error("open", exc) from exc

    def _check_version(self, conn: sa.Connection) -> None:
        """Record, refuse or migrate the stored schema version."""
        stored = _stored_meta(conn)
        version = stored.get(VERSION_KEY)
        if version is None:
            metadata.create_all(conn)
            conn.execute(
                sa.insert(meta),
                [
                    {"key": VERSION_KEY, "value": str(SCHEMA_VERSION)},
                    {"key": WRITER_KEY, "value": _release()},
                ],
            )
            logger.info(
                "Created trial store at %s (schema version %d)",
                self._shown,
                SCHEMA_VERSION,
            )
            return

        found = int(version) if version.isdigit() else -1
        if found > SCHEMA_VERSION:
            writer = stored.get(WRITER_KEY)
            written_by = f"hptaa_lab {writer}" if writer else "a newer hptaa_lab"
            raise StoreError(
                f"The trial store at {self._shown} has schema version {found}, "
                f"written by {written_by}; this hptaa_lab ({_release()}) reads "
                f"schema versions up to {SCHEMA_VERSION}. Upgrade hptaa_lab"
                + (f" to {writer} or later" if writer else "")
                + " to open it, or use another store URL."
            )
        if found < SCHEMA_VERSION:
            if self._read_only:
                raise StoreError(
                    f"The trial store at {self._shown} has schema version {found}, "
                    f"written by an older hptaa_lab; this one ({_release()}) migrates "
                    f"it to version {SCHEMA_VERSION} when opening it, which writes to "
                    "it, and this process cannot write it. Open it once where it is "
                    "writable (a copy will do), or read it with the hptaa_lab that "
                    "wrote it."
                )
            self._migrate(conn, found, version)

    def _migrate(self, conn: sa.Connection, found: int, stored: str) -> None:
        """Apply the migration steps from version ``found`` to the current one."""
        for version in range(found, SCHEMA_VERSION):
            step = _MIGRATIONS.get(version)
            if step is None:
                raise StoreError(
                    f"The trial store at {self._shown} has schema version "
                    f"{stored!r}, which this hptaa_lab cannot migrate to version "
                    f"{SCHEMA_VERSION}. Use a new store URL, or export the "
                    "studies with the hptaa_lab release that wrote it."
                )
            step(conn)
            logger.info(
                "Migrated trial store %s from schema version %d to %d",
                self._shown,
                version,
                version + 1,
            )

        conn.execute(
            sa.update(meta)
            .where(meta.c.key == VERSION_KEY)
            .values(value=str(SCHEMA_VERSION))
        )
        conn.execute(sa.delete(meta).where(meta.c.key == WRITER_KEY))
        conn.execute(sa.insert(meta).values(key=WRITER_KEY, value=_release()))

    def _insert_study(self, conn: sa.Connection, record: StudyRecord) -> None:
        """Insert a study row after checking its name and previous study."""
        if _find_study(conn, record.name) is not None:
            raise StudyExistsError(
                record.name, conn.engine.url.render_as_string(hide_password=True)
            )
        if record.previous is not None:
            self._study_id(conn, record.previous)
        conn.execute(sa.insert(studies).values(**_study_values(record)))

    def _study_id(self, conn: sa.Connection, name: str, *, lock: bool = False) -> int:
        """Return the id of study ``name``, or raise StudyNotFoundError; with
        ``lock``, its row is locked until the transaction ends (on backends
        with row locks; SQLite's write transaction locks the whole store)."""
        if lock:
            stmt = sa.select(studies.c.id).where(studies.c.name == name)
            sid = conn.scalar(stmt.with_for_update())
            if sid is None:
                raise _not_found(conn, name)
            return int(sid)
        found = _find_study(conn, name)
        if found is None:
            raise _not_found(conn, name)
        return int(found[0])

    def _insert_trial(
        self, study: str, values: dict[str, Any], created_at: datetime | None = None
    ) -> int:
        """Insert a trial under the next free number; return the number.

        The unique (study, number) constraint turns a race between two writers
        into an IntegrityError for one of them, which then tries again.
        """
        for attempt in range(1, _NUMBER_ATTEMPTS + 1):
            try:
                with self._transaction(write=True) as conn:
                    row = conn.execute(_NEXT_NUMBER, {"study": study}).first()
                    if row is None:
                        raise _not_found(conn, study)
                    _check_created(conn, self._shown, study, created_at)
                    sid, number = row
                    conn.execute(
                        _INSERT_TRIAL, {"study_id": sid, "number": number, **values}
                    )
                return int(number)
            except sa_exc.IntegrityError as exc:
                logger.debug(
                    "Trial number of study %r taken by another writer (%s); retry %d",
                    study,
                    exc.orig,
                    attempt,
                )
                time.sleep(0.001 * attempt)
        raise StoreError(
            f"Could not add a trial to study {study!r} in {self._shown}: the next "
            f"trial number was taken by another writer {_NUMBER_ATTEMPTS} times "
            "in a row. Try again, or use fewer concurrent writers."
        )

    def _running_trial(
        self, conn: sa.Connection, study: str, number: int, *, own_failed: bool
    ) -> Any:
        """Return the row of a trial that may be finished, or raise why it cannot.

        That is a RUNNING trial, or with ``own_failed`` a FAIL trial that this
        process started.
        """
        row = conn.execute(_TRIAL_BY_NUMBER, {"study": study, "number": number}).first()
        if row is None:
            raise _unknown_number(conn, self._study_id(conn, study), study, number)
        if row.state == TrialState.RUNNING.value:
            return row
        if (
            own_failed
            and row.state == TrialState.FAIL.value
            and _owner_of(row) == this_process()
        ):
            return row
        raise _no_longer_running(study, number, row.state)

    def _fail_running(self, conn: sa.Connection, trial_id: int, error: str) -> bool:
        """Mark one trial FAIL if it is still RUNNING; return whether it was."""
        stmt = (
            sa.update(trials)
            .where(trials.c.id == trial_id)
            .where(trials.c.state == TrialState.RUNNING.value)
            .values(state=TrialState.FAIL.value, error=error, finished_at=_now())
        )
        return bool(conn.execute(stmt).rowcount == 1)

    def _store_error(self, action: str, exc: sa_exc.DBAPIError) -> StoreError:
        """Turn a database error into a StoreError that says what to do."""
        reason = " ".join(str(exc.orig).split()).rstrip(".") or type(exc.orig).__name__
        advice = (
            "Check that the database server is running and reachable from this "
            "machine, and that the user, password and database name in the URL "
            "are right."
        )
        if self._url.get_backend_name() == "sqlite":
            reason, advice = _sqlite_advice(reason, self._sqlite_file)
        stop = "" if reason.endswith(("?", "!")) else "."
        return StoreError(
            f"Cannot {action} the trial store at {self._shown}: {reason}{stop} {advice}"
        )


# -- opening ------------------------------------------------------------------


def as_store_url(text: str) -> str:
    """A store URL from ``text``: a URL as it is, a file's path (no "://", and
    a folder or a suffix in it: ``../.hptaa/studies.db``, ``runs.sqlite``) as
    the SQLite URL of that file; anything else as it is (a bare word, likely a
    mistyped URL, is refused when opened)."""
    if not isinstance(text, str) or "://" in text or not text.strip():
        return text
    if "/" not in text and os.sep not in text and not PurePath(text).suffix:
        return text
    # A URL decodes %xx and ends its path at "?": a file's name keeps both.
    return "sqlite:///" + text.replace("%", "%25").replace("?", "%3F")


def _parse_url(url: str) -> sa.URL:
    """Parse a SQLAlchemy URL (or a SQLite file's path), or raise a StoreError
    with an example."""
    url = as_store_url(url)
    try:
        return sa.make_url(url)
    except sa_exc.ArgumentError as exc:
        masked = re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", str(url))
        raise StoreError(
            f"Cannot open the trial store at {masked!r}: not a database URL. Use a "
            "SQLAlchemy URL such as sqlite:///path/to/studies.db or "
            "postgresql+psycopg://user@host/dbname, or a SQLite file's path with a "
            "folder or a suffix in it (./runs, runs.db)."
        ) from exc


def resolved_url(url: str | None, *, hide_password: bool = False) -> str:
    """The URL a TrialStore opened on ``url`` reports (a SQLite file's path made
    absolute), without opening anything."""
    parsed = _parse_url(DEFAULT_URL if url is None else url)
    plain_file = (
        parsed.get_backend_name() == "sqlite"
        and not _is_sqlite_memory(parsed)
        and str(parsed.query.get("uri", "")).lower() not in ("true", "1")
        and not parsed.host
    )
    if plain_file:
        path = Path(str(parsed.database)).expanduser().absolute()
        parsed = parsed.set(database=str(path))
    return _default_driver(parsed).render_as_string(hide_password=hide_password)


def _default_driver(url: sa.URL) -> sa.URL:
    """Use psycopg for ``postgresql://`` when psycopg2, the default, is missing."""
    if url.drivername != "postgresql" or importlib.util.find_spec("psycopg2"):
        return url
    if importlib.util.find_spec("psycopg") is None:
        return url
    return url.set(drivername="postgresql+psycopg")


def _stored_meta(conn: sa.Connection) -> dict[str, str]:
    """The rows of the meta table; empty when the store has no tables yet."""
    if not sa.inspect(conn).has_table(meta.name):
        return {}
    return {row.key: row.value for row in conn.execute(sa.select(meta))}


def _release() -> str:
    """The version of this hptaa_lab."""
    from hptaa_lab import __version__

    return __version__


def _is_sqlite_memory(url: sa.URL) -> bool:
    """Whether the URL names a private in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def check_sqlite_url(url: sa.URL) -> None:
    """Refuse a SQLite file URL with a host, user or password, which SQLite
    ignores (the file it would open is not the one the URL seems to name)."""
    if url.get_backend_name() != "sqlite":
        return
    if url.host:
        # sqlite://folder/file.db reads "folder" as a host and drops it.
        raise StoreError(
            f"The SQLite URL {url.render_as_string()} has a host part "
            f"({url.host!r}), which SQLite ignores. A SQLite URL has three slashes "
            f"before a relative path (sqlite:///{url.host}/{url.database}) and four "
            "before an absolute one (sqlite:////home/me/studies.db)."
        )
    if url.username or url.password:
        plain = url._replace(username=None, password=None)
        raise StoreError(
            f"The SQLite URL {url.render_as_string()} names a user or password, "
            "which a SQLite file does not have (its file permissions protect it). "
            f"Leave them out: {plain.render_as_string()}"
        )


def _prepare_sqlite_file(url: sa.URL, *, create: bool = True) -> Path | None:
    """Return the absolute path of a SQLite file URL, creating its folder (or,
    with ``create`` False, checking that the file exists)."""
    if url.get_backend_name() != "sqlite" or _is_sqlite_memory(url):
        return None
    if str(url.query.get("uri", "")).lower() in ("true", "1"):
        if not create:
            _require_uri_file(url)
        return None
    check_sqlite_url(url)
    path = Path(str(url.database)).expanduser().absolute()
    if not create:
        if not path.is_file():
            raise _no_store(path)
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot open the trial store at {url.render_as_string()}: cannot "
            f"create the folder {path.parent} ({exc.strerror or exc}). Choose a "
            "path in a folder you can write to."
        ) from exc
    return path


def _writable(path: Path) -> bool:
    """Whether this process may write the SQLite file at ``path`` and create its
    -wal and -shm files beside it (beside the file a symbolic link names, where
    SQLite puts them)."""
    path = path.resolve()
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _wal_file(path: Path) -> Path:
    """The -wal file of the SQLite file at ``path`` (beside the file a symbolic
    link names)."""
    path = path.resolve()
    return path.with_name(path.name + "-wal")


def read_only_sqlite_uri(path: Path) -> str:
    """A ``file:`` URI (for ``sqlite3.connect(..., uri=True)``) that reads the
    SQLite file at ``path`` and never writes it.

    ``mode=ro``, and, where this process could not create the -wal and -shm
    files and there is no -wal file (nothing waits to be folded in),
    ``immutable=1``: SQLite then reads the file as it is, without the shared
    memory file a database in WAL mode otherwise needs even for reading. A
    writer with more rights may change such a file meanwhile: each open reads
    a snapshot.
    """
    uri = f"{path.as_uri()}?mode=ro"
    if _writable(path):
        return uri
    wal = _wal_file(path)
    if not wal.exists():
        return uri + "&immutable=1"
    if not wal.with_name(wal.name.removesuffix("-wal") + "-shm").exists():
        # SQLite would create the -shm file, owned by this process, which would
        # then lock the store's owner out (or fail in a read-only folder).
        raise StoreError(
            f"Cannot read the trial store at {path}: its -wal file may hold trials "
            "not yet in the file, and reading them needs its -shm file, which is "
            "missing and which this process may not create for the store's "
            "owner. Copy the folder's studies.db* files together to a folder you "
            "can write, and open the copy."
        )
    return uri


def read_only_sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of :func:`read_only_sqlite_uri`."""
    query = urllib.parse.parse_qs(read_only_sqlite_uri(path).partition("?")[2])
    url = sa.URL.create(
        "sqlite",
        database=f"file:{urllib.parse.quote(path.as_posix())}",
        query={**{k: v[0] for k, v in query.items()}, "uri": "true"},
    )
    return url.render_as_string(hide_password=False)


def _require_uri_file(url: sa.URL) -> None:
    """For reading: the file of a URI-style SQLite URL (sqlite:///file:x.db?uri=true)
    must exist, as SQLite would otherwise create it."""
    target = urllib.parse.urlparse(str(url.database or ""))
    if target.scheme != "file" or url.query.get("mode") == "memory":
        return
    path = Path(urllib.parse.unquote(target.path)).expanduser().absolute()
    if not path.is_file():
        raise _no_store(path)


_CHECK_URL = (
    "Check the store URL (--store on the command line, %hptaa store in a notebook; "
    f"the default is {DEFAULT_URL}, relative to the current folder)"
)


def _no_store(path: Path) -> StoreError:
    """The error for reading a store at a path that holds no file."""
    return StoreError(
        f"There is no trial store at {path}. {_CHECK_URL}, or create a study there "
        "first, e.g. with `hptaa demo` or hptaa_lab.create_study."
    )


def _create_engine(url: sa.URL, shown: str) -> sa.Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and eager locking."""
    options: dict[str, Any] = {}
    is_sqlite = url.get_backend_name() == "sqlite"
    if _is_sqlite_memory(url):
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif not is_sqlite:
        options["pool_pre_ping"] = True
    libpq = url.drivername.partition("+")[2] in _LIBPQ_DRIVERS
    if libpq and "connect_timeout" not in url.query:
        # An unreachable host would otherwise block for minutes.
        options["connect_args"] = {"connect_timeout": _CONNECT_TIMEOUT_S}

    try:
        engine = sa.create_engine(url, **options)
    except ImportError as exc:
        raise StoreError(
            f"Cannot open the trial store at {shown}: the database driver for "
            f"{url.drivername!r} is not installed ({exc}). Install the driver "
            "package, or use a sqlite:/// URL."
        ) from exc
    except sa_exc.ArgumentError as exc:
        raise StoreError(
            f"Cannot open the trial store at {shown}: {url.drivername!r} is not a "
            f"database SQLAlchemy knows ({exc}). Use a URL such as "
            "sqlite:///path/to/studies.db or postgresql+psycopg://user@host/dbname."
        ) from exc

    if is_sqlite:
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """Configure a new SQLite connection; SQLAlchemy then issues BEGIN itself."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the database in WAL mode, waiting while another connection holds it.

    Switching a database that is not yet in WAL mode (a new file) needs an
    exclusive lock, and SQLite answers "database is locked" at once, without
    the busy timeout, when another connection is using the file; so wait here.
    Once the file is in WAL mode the statement needs no lock.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.05)


def _sqlite_on_begin(conn: sa.Connection) -> None:
    """Begin a SQLite transaction; writers take the write lock at once."""
    if conn.get_execution_options().get(_WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _sqlite_advice(reason: str, path: Path | None) -> tuple[str, str]:
    """Explain a SQLite error and say what to do about it."""
    lowered = reason.lower()
    if "not a database" in lowered:
        return (
            f"{path} is not a SQLite database",
            "Point the URL at a new file or at an existing trial store, or move "
            "that file away.",
        )
    if path is not None and path.is_dir():
        return (
            f"{path} is a folder",
            f"Name a file inside it, e.g. sqlite:///{path / 'studies.db'}.",
        )
    if path is not None and ("unable to open" in lowered or "readonly" in lowered):
        real = path.resolve()
        if (
            real.exists()
            and not os.access(real.parent, os.W_OK)
            and _wal_file(real).exists()
            and not real.with_name(real.name + "-shm").exists()
        ):
            return (
                f"the folder {real.parent} is read-only and holds the store's "
                f"-wal file without its -shm file ({reason})",
                "SQLite cannot create the -shm file there to read the trials "
                "the -wal file holds: copy the folder's studies.db* files "
                "together to a folder you can write, and open the copy.",
            )
        if real.exists() and not os.access(real, os.W_OK):
            return (
                f"the file {real} is read-only for this process ({reason})",
                "It can be read (hptaa studies, show, export; load_study); to write "
                "to it, make it writable (or ask its owner), or work on a copy.",
            )
        if real.exists() and not os.access(real.parent, os.W_OK):
            return (
                f"the folder {real.parent} is read-only ({reason})",
                "SQLite writes its -wal and -shm files beside the store: make the "
                "folder writable, or work on a copy of the store elsewhere.",
            )
    if "unable to open" in lowered or "readonly" in lowered:
        folder = path.parent if path is not None else "its folder"
        return (
            f"the database file cannot be opened for writing ({reason})",
            f"Check that {folder} exists and is writable, or choose another path.",
        )
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{reason} for more than {_BUSY_TIMEOUT_MS // 1000} s",
            "Another process holds the store; try again, or use a database server "
            "such as PostgreSQL for many concurrent writers.",
        )
    return (reason, "Check the file, its folder and the free disk space.")


# -- rows and values ----------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None, argument: str) -> datetime | None:
    """Return ``value`` in UTC; refuse a naive datetime."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{argument} must be a timezone-aware datetime, got the naive "
            f"{value.isoformat()}. Pass e.g. datetime.now(timezone.utc)."
        )
    return value.astimezone(UTC)


def _check_str(value: Any, argument: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{argument} must be a str, got {value!r}.")
    return value


def _json_default(value: Any) -> Any:
    """Turn numpy scalars into Python values; refuse anything else."""
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _dump_json_object(value: Any, argument: str) -> str:
    """Return ``value`` as JSON text; it must be a dict with str keys."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(
            f"{argument} must be a dict with str keys, got {value!r}. "
            "Convert keys to str before storing."
        )
    try:
        return json.dumps(value, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{argument} must hold JSON values only (str, int, float, bool, None, "
            f"lists and dicts of them; finite floats), got {value!r}: {exc}."
        ) from exc


def _hidden_password(url: sa.URL) -> str:
    """``url`` as text with its password hidden, in the user part and in a
    ``password=`` query parameter (libpq takes it there too)."""
    if "password" in url.query:
        url = url.update_query_dict({"password": "***"})
    return url.render_as_string(hide_password=True)


def _check_json_text(text: Any, argument: str) -> None:
    try:
        json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{argument} must be JSON text, got {str(text)[:80]!r} ({exc})."
        ) from exc


def _check_outcome(state: Any, value: Any) -> tuple[TrialState, float | None]:
    """Validate the end state and objective value of a trial."""
    state = TrialState(state)
    if state not in _FINISHED:
        raise ValueError(
            f"A trial can only be finished as COMPLETE or FAIL, got {state}."
        )
    if state is TrialState.FAIL:
        if value is not None:
            raise ValueError(
                f"A FAIL trial has no objective value, got value={value!r}. Pass "
                "value=None and put the reason in error."
            )
        return state, None

    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value):
        raise ValueError(
            "A COMPLETE trial needs a finite objective value, got "
            f"value={value!r}. Finish the trial as FAIL with an error text "
            "instead, or fix the objective."
        )
    return state, float(value)


# Characters that reorder the text shown after them (a name could look like another).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _imported_from(record: StudyRecord | None) -> str | None:
    """What an imported study's trials came from (its ``imported_from``
    attribute, as the importers set it), else None."""
    origin = None if record is None else record.attrs.get("imported_from")
    return origin if isinstance(origin, str) and origin else None


MAX_STUDY_NAME = 200
"""Longest study name create_study and the importers accept."""


def check_study_name(name: Any) -> str:
    """Return ``name`` if it can name a new study: a string of 1 to 200
    characters, not blank, not "." or "..", without control characters (a
    newline, a NUL byte, a text-direction override...), which would break every
    table that shows it.

    Raises:
        InvalidStudyNameError: Otherwise.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_STUDY_NAME:
        raise InvalidStudyNameError(
            f"A study name must be a non-empty string of at most {MAX_STUDY_NAME} "
            f"characters; got {name!r}."
        )
    if name in (".", ".."):
        raise InvalidStudyNameError(
            f"A study cannot be named {name!r}: a browser (the Jupyter sidebar) "
            "reads it as a step of a path, so it could not be shown. Use a word, "
            "e.g. 'svm-v2'."
        )
    _check_printable(name)
    return name


def _check_printable(name: str) -> None:
    bad = [
        c
        for c in name
        if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI_CONTROLS
    ]
    if bad:
        raise InvalidStudyNameError(
            f"A study name cannot hold control characters such as {bad[0]!r}; got "
            f"{name!r}. Use letters, digits and punctuation, e.g. 'svm-v2'."
        )


def _check_study_record(record: StudyRecord) -> None:
    """Refuse study fields the store cannot keep."""
    if not isinstance(record.name, str) or not 0 < len(record.name) <= NAME_LENGTH:
        raise InvalidStudyNameError(
            f"A study name must be a non-empty str of at most {NAME_LENGTH} "
            f"characters, got {record.name!r}."
        )
    _check_printable(record.name)
    if record.direction not in _DIRECTIONS:
        raise ValueError(
            f"direction must be 'minimize' or 'maximize', got {record.direction!r}."
        )
    _check_json_text(record.space_json, "space_json")
    if record.mapping_json is not None:
        _check_json_text(record.mapping_json, "mapping_json")
    _aware(record.created_at, "created_at")


def _study_values(record: StudyRecord) -> dict[str, Any]:
    """Columns of the studies table for ``record``."""
    return {
        "name": record.name,
        "space_json": record.space_json,
        "direction": record.direction,
        "previous": record.previous,
        "mapping_json": record.mapping_json,
        "sampler": _check_str(record.sampler, "sampler"),
        "transfer": record.transfer,
        "seed": record.seed,
        "created_at": record.created_at,
        "attrs_json": _dump_json_object(record.attrs, "attrs"),
        "transfer_options_json": (
            _dump_json_object(record.transfer_options, "transfer_options")
            if record.transfer_options
            else None
        ),
    }


def _find_study(conn: sa.Connection, name: str) -> _AnyRow | None:
    """Return (id, direction) of study ``name``, or None."""
    stmt = sa.select(studies.c.id, studies.c.direction).where(studies.c.name == name)
    return conn.execute(stmt).first()


def _not_found(conn: sa.Connection, name: str) -> StudyNotFoundError:
    names = conn.scalars(sa.select(studies.c.name).order_by(studies.c.name)).all()
    store = conn.engine.url.render_as_string(hide_password=True)
    return StudyNotFoundError(name, list(names), store)


_SAME_STUDY_SLACK = timedelta(seconds=1)
"""How far a creation time stored in whole seconds (a backend that keeps no
fractions rounds them) may lie from the time the study was created with."""


def _check_created(
    conn: sa.Connection, shown: str, study: str, created_at: datetime | None
) -> None:
    """Raise a StoreError if the study of this name was not created at
    ``created_at`` (None: no check; a missing study is the caller's case)."""
    if created_at is None:
        return
    stored = conn.scalar(sa.select(studies.c.created_at).where(studies.c.name == study))
    if stored is None or stored == created_at:
        return
    if stored.microsecond == 0 and abs(stored - created_at) < _SAME_STUDY_SLACK:
        return
    raise StudyReplacedError(
        f"The study {study!r} this object tunes was deleted from {shown}, and "
        f"another study of that name was created at {stored:%Y-%m-%d %H:%M:%S} "
        "UTC; nothing was written to it. To tune the new study, load it: "
        f"hptaa_lab.load_study({study!r})."
    )


def _no_longer_running(study: str, number: int, state: str = "finished") -> StoreError:
    return StoreError(
        f"Trial {number} of study {study!r} is already {state}; only a RUNNING "
        "trial can be finished. Another process may have finished it or marked "
        "it FAIL with fail_running_trials."
    )


def _unknown_number(
    conn: sa.Connection, sid: int, study: str, number: int
) -> ValueError:
    n_trials = conn.scalar(sa.select(sa.func.count()).where(trials.c.study_id == sid))
    return ValueError(
        f"Study {study!r} has no trial number {number}; its {n_trials} trials "
        "are numbered from 0. Pass a number returned by start_trial."
    )


def _finished_values(record: TrialRecord, method: str, argument: str) -> dict[str, Any]:
    """Columns of the trials table for a finished trial; refuse what cannot be kept."""
    if TrialState(record.state) not in _FINISHED:
        raise ValueError(
            f"{method} imports finished trials: {argument}.state must be COMPLETE "
            f"or FAIL, got {record.state}. Use start_trial for a running trial."
        )
    state, value = _check_outcome(record.state, record.value)
    return {
        "state": state.value,
        "value": value,
        "error": record.error,
        "config_json": _dump_json_object(record.config, f"{argument}.config"),
        "started_at": _aware(record.started_at, f"{argument}.started_at"),
        "finished_at": _aware(record.finished_at, f"{argument}.finished_at"),
        "proposed_by": _check_str(record.proposed_by, f"{argument}.proposed_by"),
    }


def _stored_finished(
    record: TrialRecord, number: int, values: dict[str, Any]
) -> TrialRecord:
    """The record of a finished trial as the store keeps it."""
    return replace(
        record,
        number=number,
        config=json.loads(values["config_json"]),
        state=TrialState(values["state"]),
        value=values["value"],
        started_at=values["started_at"],
        finished_at=values["finished_at"],
    )


def _study_from_row(row: _AnyRow) -> StudyRecord:
    return StudyRecord(
        name=row.name,
        space_json=row.space_json,
        direction=row.direction,
        previous=row.previous,
        mapping_json=row.mapping_json,
        sampler=row.sampler,
        transfer=row.transfer,
        seed=row.seed,
        created_at=row.created_at,
        attrs=json.loads(row.attrs_json),
        transfer_options=(
            {}
            if row.transfer_options_json is None
            else json.loads(row.transfer_options_json)
        ),
    )


def _owner_of(row: Any) -> TrialOwner | None:
    """The process recorded as running a trial, or None (none recorded)."""
    if row.owner_host is None or row.owner_pid is None:
        return None
    return TrialOwner(row.owner_host, row.owner_pid, row.owner_start)


def _followers_first(names: list[str], links: Sequence[Any]) -> list[str]:
    """``names`` with each study before its previous study (``links`` holds
    (study, previous) pairs); the members of a loop come last, as listed."""
    order: list[str] = []
    left = list(names)
    while left:
        needed = {previous for study, previous in links if study in left}
        ready = [n for n in left if n not in needed] or left
        order += ready
        left = [n for n in left if n not in ready]
    return order


def _refusal(reasons: dict[str, str], *, several: bool) -> str:
    """The StoreError text of a deletion refused for ``reasons`` (study ->
    why)."""
    if not several:
        ((name, why),) = reasons.items()
        return f"Cannot delete study {name!r}: {why}"
    return "Nothing was deleted. " + " ".join(
        f"{name!r}: {why}" for name, why in reasons.items()
    )


def _tuners(conn: sa.Connection, sid: int) -> list[tuple[TrialOwner, Liveness]]:
    """The processes of a study's RUNNING trials and of its runs that have not
    ended, each once, with their liveness."""
    in_flight = conn.execute(
        sa.select(*_OWNER_COLUMNS)
        .where(trials.c.study_id == sid)
        .where(trials.c.state == TrialState.RUNNING.value)
    ).all()
    in_optimize = conn.execute(
        sa.select(*_RUN_OWNER_COLUMNS).where(runs.c.study_id == sid).order_by(runs.c.id)
    ).all()
    owners = [o for row in in_flight if (o := _owner_of(row)) is not None]
    owners += [_run_owner(row) for row in in_optimize]
    found: list[tuple[TrialOwner, Liveness]] = []
    for owner in dict.fromkeys(owners):
        seen = liveness(owner)
        if seen is not Liveness.GONE:
            found.append((owner, seen))
    return found


def busy_message(
    tuners: Sequence[tuple[TrialOwner, Liveness]], *, force: bool = False
) -> str | None:
    """Why a study that ``tuners`` tune cannot be deleted (None if it can): a
    live process here always refuses; one on another host unless ``force``."""
    alive = [str(o) for o, seen in tuners if seen is Liveness.ALIVE]
    elsewhere = [str(o) for o, seen in tuners if seen is Liveness.UNKNOWN]
    if alive:
        return (
            f"{', '.join(alive)} {'is' if len(alive) == 1 else 'are'} tuning it. "
            "Stop the run first (Ctrl-C in its terminal, study.stop(), or %hptaa "
            "stop in its notebook), then delete."
        )
    if elsewhere and not force:
        return (
            f"{', '.join(elsewhere)} {'is' if len(elsewhere) == 1 else 'are'} "
            "recorded as tuning it, which cannot be checked from this host. Stop "
            "that run first; if it has ended (its machine went down, say), delete "
            "with --force (force=True in Python)."
        )
    return None


def _run_owner(row: Any) -> TrialOwner:
    """The process of a row of ``hptaa_runs``."""
    return TrialOwner(row.owner_host, row.owner_pid, row.owner_start)


def _abandoned_error(owner: TrialOwner | None, found: Liveness) -> str:
    """The error text of a RUNNING trial that a resume marks FAIL."""
    if owner is None:
        return (
            "the trial was unfinished when the study was resumed, and no process "
            "was recorded for it (it was started by an hptaa_lab older than schema "
            "version 3), so it was taken as abandoned"
        )
    if found is Liveness.GONE:
        return f"the process running this trial ({owner}) ended before it finished"
    return (
        f"the process running this trial ({owner}) could not be checked from host "
        f"{this_process().host} when the study was resumed there; if that process "
        "still finishes the trial, its result replaces this failure"
    )


def _trial_from_row(row: _AnyRow) -> TrialRecord:
    return TrialRecord(
        number=row.number,
        config=json.loads(row.config_json),
        state=TrialState(row.state),
        value=row.value,
        error=row.error,
        started_at=row.started_at,
        finished_at=row.finished_at,
        proposed_by=row.proposed_by,
    )


def _summary_query() -> sa.Select[Any]:
    """Studies joined with per-state trial counts and best values."""

    def count_of(state: TrialState) -> sa.ColumnElement[Any]:
        is_state = trials.c.state == state.value
        return sa.func.coalesce(sa.func.sum(sa.case((is_state, 1), else_=0)), 0)

    complete_value = sa.case(
        (trials.c.state == TrialState.COMPLETE.value, trials.c.value)
    )
    columns = (
        studies.c.name,
        studies.c.previous,
        studies.c.transfer,
        studies.c.sampler,
        studies.c.direction,
        studies.c.created_at,
    )
    return (
        sa.select(
            *columns,
            sa.func.count(trials.c.id).label("n_trials"),
            count_of(TrialState.COMPLETE).label("n_complete"),
            count_of(TrialState.FAIL).label("n_fail"),
            count_of(TrialState.RUNNING).label("n_running"),
            sa.func.min(complete_value).label("min_value"),
            sa.func.max(complete_value).label("max_value"),
        )
        .select_from(studies.outerjoin(trials, trials.c.study_id == studies.c.id))
        .group_by(studies.c.id, *columns)
        .order_by(studies.c.created_at, studies.c.name)
    )


def _summary_from_row(row: _AnyRow) -> dict[str, Any]:
    best = row.max_value if row.direction == "maximize" else row.min_value
    return {
        "name": row.name,
        "previous": row.previous,
        "transfer": row.transfer,
        "sampler": row.sampler,
        "direction": row.direction,
        "n_trials": int(row.n_trials),
        "n_complete": int(row.n_complete),
        "n_fail": int(row.n_fail),
        "n_running": int(row.n_running),
        "best_value": None if best is None else float(best),
        "created_at": row.created_at,
    }
