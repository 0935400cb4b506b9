"""Conformance suite of the trial store, run against every store backend."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import hptaa_lab.store
from hptaa_lab.errors import StoreError, StudyExistsError, StudyNotFoundError
from hptaa_lab.records import StudyRecord, TrialRecord, TrialState
from hptaa_lab.space import space_from_json
from hptaa_lab.store import (
    DEFAULT_URL,
    SCHEMA_VERSION,
    Liveness,
    RunningCheck,
    TrialOwner,
    TrialStore,
    _store,
    this_process,
)
from hptaa_lab.store._migrations import MIGRATIONS
from hptaa_lab.store._schema import meta, runs, studies, trials

SPACE_JSON = '{"name": "toy", "hyperparameters": []}'
REPO_ROOT = Path(hptaa_lab.store.__file__).resolve().parents[2]


def _memory_backed_folder() -> str | None:
    """A RAM-backed temporary folder (tmpfs) if this machine has one."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@pytest.fixture(params=["sqlite-file", "sqlite-memory-file", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty store on one backend.

    The PostgreSQL backend is a new database on the session's throwaway server
    (see conftest.py); it is skipped, with the reason, where no server binary
    is installed.
    """
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
        return
    if request.param == "sqlite-file":
        yield f"sqlite:///{tmp_path / 'studies.db'}"
        return
    folder = tempfile.mkdtemp(prefix="hptaa-store-", dir=_memory_backed_folder())
    try:
        yield f"sqlite:///{folder}/studies.db"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def store(store_url: str) -> Iterator[TrialStore]:
    """An open store on a fresh database."""
    opened = TrialStore(store_url)
    yield opened
    opened.close()


def _study(name: str, **fields: Any) -> StudyRecord:
    return StudyRecord(name=name, space_json=SPACE_JSON, **fields)


def _finished(
    store: TrialStore, study: str, value: float | None, config: dict[str, Any]
) -> TrialRecord:
    """Start a trial and finish it COMPLETE with ``value`` (FAIL when None)."""
    trial = store.start_trial(study, config, "random")
    if value is None:
        return store.finish_trial(study, trial.number, TrialState.FAIL, error="boom")
    return store.finish_trial(study, trial.number, TrialState.COMPLETE, value=value)


def _write_trials(
    target: str | TrialStore, study: str, writer: int, n: int, barrier: Any
) -> None:
    """Write ``n`` finished trials to a store or a URL; used by concurrency tests."""
    store = target if isinstance(target, TrialStore) else TrialStore(target)
    barrier.wait(timeout=60)
    for i in range(n):
        trial = store.start_trial(study, {"writer": writer, "i": i}, "random")
        store.finish_trial(study, trial.number, TrialState.COMPLETE, value=float(i))
    if store is not target:
        store.close()


def _open_and_write(url: str, writer: int, n: int, barrier: Any) -> None:
    """Open a store that may not exist yet, then write a study of ``n`` trials."""
    barrier.wait(timeout=60)
    with TrialStore(url) as store:
        store.create_study(_study(f"s{writer}"))
        for i in range(n):
            trial = store.start_trial(f"s{writer}", {"writer": writer, "i": i}, "tpe")
            store.finish_trial(f"s{writer}", trial.number, TrialState.COMPLETE, 0.5)


def _assert_written(store: TrialStore, study: str, writers: list[int], n: int) -> None:
    """Check that a study holds every written trial once, numbered 0, 1, ..."""
    trials = store.get_trials(study)
    assert [t.number for t in trials] == list(range(len(writers) * n))
    written = sorted((t.config["writer"], t.config["i"]) for t in trials)
    assert written == sorted((w, i) for w in writers for i in range(n))
    assert {t.state for t in trials} == {TrialState.COMPLETE}


def _set_meta(url: str, key: str, value: str) -> None:
    """Overwrite one row of a store's meta table, as another release would."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(meta).where(meta.c.key == key).values(value=value))
    engine.dispose()


def _set_schema_version(url: str, version: int) -> None:
    """Overwrite the schema version a store records."""
    _set_meta(url, "schema_version", str(version))


def _stored_meta(url: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = {row.key: row.value for row in conn.execute(sa.select(meta))}
    engine.dispose()
    return rows


def _load_v1_maker() -> Any:
    """The module that writes a version-1 store (tests/store/fixtures)."""
    path = Path(__file__).with_name("fixtures") / "make_store_v1.py"
    spec = importlib.util.spec_from_file_location("make_store_v1", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- stores this process cannot write -----------------------------------------


def test_a_store_this_process_cannot_write_is_read_without_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that opening for reading a store whose file or folder this process
    cannot write reads it as it is and creates no -wal or -shm file (a plain
    connection refused even to read a store in a read-only folder, and left
    both files, owned by the reader, beside a read-only file), while a write
    fails with the store's message."""
    path = tmp_path / "studies.db"
    with TrialStore(f"sqlite:///{path}") as writer:
        writer.create_study(_study("v1"))
        number = writer.start_trial("v1", {"x": 1}, "tpe").number
        writer.finish_trial("v1", number, TrialState.COMPLETE, 0.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studies.db"]
    monkeypatch.setattr(hptaa_lab.store._store, "_writable", lambda p: False)

    assert "immutable=1" in hptaa_lab.store._store.read_only_sqlite_uri(path)
    for create in (False, True):
        # create=True too: a failed write (an import, a new study) used to leave
        # -wal and -shm files of this process that locked the owner out.
        reader = TrialStore(f"sqlite:///{path}", create=create)
        assert [t.value for t in reader.get_trials("v1")] == [0.5]
        with pytest.raises(StoreError, match="readonly database"):
            reader.start_trial("v1", {"x": 2}, "tpe")
        reader.close()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["studies.db"]


def test_a_wal_without_its_shm_in_a_store_it_cannot_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a store this process cannot write whose -wal file has no -shm
    file beside it is refused with what to do, and no -shm file is created:
    SQLite created one owned by the reader, which locked the owner out."""
    path = tmp_path / "studies.db"
    TrialStore(f"sqlite:///{path}").close()
    Path(f"{path}-wal").write_bytes(b"")
    monkeypatch.setattr(hptaa_lab.store._store, "_writable", lambda p: False)

    with pytest.raises(
        StoreError, match=re.escape("Copy the folder's studies.db* files")
    ):
        TrialStore(f"sqlite:///{path}", create=False)
    assert not Path(f"{path}-shm").exists()


def test_a_read_only_store_behind_a_link_is_read_with_its_wal_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a link to a store whose -wal file lies beside the real file
    is not read as an immutable snapshot (which ignores the -wal file and so
    missed committed trials): the -wal file is looked for beside the target."""
    real = tmp_path / "real" / "studies.db"
    real.parent.mkdir()
    TrialStore(f"sqlite:///{real}").close()
    Path(f"{real}-wal").touch()
    Path(f"{real}-shm").touch()
    link = tmp_path / "studies.db"
    link.symlink_to(real)
    monkeypatch.setattr(hptaa_lab.store._store, "_writable", lambda p: False)

    assert "immutable=1" not in hptaa_lab.store._store.read_only_sqlite_uri(link)


def test_an_old_store_this_process_cannot_write_says_it_needs_a_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that reading a store of an older schema that this process cannot
    write says that opening it migrates it, which needs writing (it said the
    file could not be opened for writing, naming a folder that was writable)."""
    path = tmp_path / "store_v1.db"
    shutil.copyfile(_load_v1_maker().FIXTURE, path)
    monkeypatch.setattr(hptaa_lab.store._store, "_writable", lambda p: False)

    with pytest.raises(
        StoreError,
        match=r"schema version 1, .* migrates it to version \d+ when opening",
    ):
        TrialStore(f"sqlite:///{path}", create=False)


def test_a_read_only_file_is_named_in_the_error_of_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a write refused because the file is read-only says so, where
    it told to make the (writable) folder writable."""
    path = tmp_path / "studies.db"
    with TrialStore(f"sqlite:///{path}") as writer:
        writer.create_study(_study("v1"))
    real_access = os.access

    def access(target: Any, mode: int) -> bool:
        if Path(target) == path and mode == os.W_OK:
            return False
        return real_access(target, mode)

    monkeypatch.setattr(hptaa_lab.store._store.os, "access", access)
    reader = TrialStore(f"sqlite:///{path}")

    with pytest.raises(
        StoreError, match=f"the file {re.escape(str(path))} is read-only"
    ):
        reader.start_trial("v1", {"x": 2}, "tpe")
    reader.close()


@pytest.mark.parametrize("name", ["st %41 x.db", "what?.db"])
def test_a_store_path_keeps_percent_signs_and_question_marks(
    tmp_path: Path, name: str
) -> None:
    """Check that a store given as a file's path opens that file: its %41 was
    read as the letter A, and a ? ended the path."""
    path = tmp_path / name
    TrialStore(str(path)).close()

    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


# -- studies -------------------------------------------------------------------


def test_create_study_sets_created_at_and_get_study_returns_it(
    store: TrialStore,
) -> None:
    """Check that a created study reads back field by field, with created_at set."""
    before = datetime.now(UTC)
    record = _study(
        "v1",
        direction="maximize",
        sampler="random",
        transfer="best-first",
        seed=2**40,
        mapping_json='{"renames": {"lr": "learning_rate"}}',
        attrs={"benchmark": "toy", "budget": 20, "tags": ["a", "b"]},
    )

    created = store.create_study(record)

    assert created.created_at is not None
    assert before <= created.created_at <= datetime.now(UTC)
    assert created.created_at.tzinfo is not None
    assert store.get_study("v1") == created
    assert store.has_study("v1")
    assert not store.has_study("v2")


def test_create_study_keeps_given_created_at_in_utc(store: TrialStore) -> None:
    """Check that a given created_at is kept as the same instant, in UTC."""
    local = datetime(
        2024, 5, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2))
    )

    store.create_study(_study("v1", created_at=local))

    got = store.get_study("v1").created_at
    assert got == local
    assert got is not None and got.utcoffset() == timedelta(0)


def test_list_studies_orders_by_created_at_then_name(store: TrialStore) -> None:
    """Check that studies are listed oldest first, ties broken by name."""
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    store.create_study(_study("c", created_at=t0 + timedelta(hours=1)))
    store.create_study(_study("b", created_at=t0))
    store.create_study(_study("a", created_at=t0 + timedelta(hours=1)))

    assert [s.name for s in store.list_studies()] == ["b", "a", "c"]


def test_create_study_refuses_a_taken_name(store: TrialStore) -> None:
    """Check that a second study with the same name is refused."""
    store.create_study(_study("v1"))

    with pytest.raises(StudyExistsError, match="A study named 'v1' already exists"):
        store.create_study(_study("v1", direction="maximize"))
    assert store.get_study("v1").direction == "minimize"


@pytest.mark.parametrize(
    "name", ["a\nb", "v1\x00", "tab\there", "x\u2028y", "abc\u202edcba"]
)
def test_create_study_refuses_control_characters_in_the_name(
    store: TrialStore, name: str
) -> None:
    """Check that a name with a newline, NUL, tab or line separator is refused
    (it would split the rows of every table that lists studies)."""
    with pytest.raises(ValueError, match="cannot hold control characters"):
        store.create_study(_study(name))
    assert store.list_studies() == []
    # spaces, slashes, letters, and joiners inside emoji and words are fine
    for fine in ("svm v2/ä", "👨\u200d👩\u200d👧", "می\u200cخواهم", "soft\u00adhyphen"):
        store.create_study(_study(fine))


@pytest.mark.parametrize("name", [".", ".."])
def test_a_study_named_as_a_path_step_is_refused(tmp_store_url: str, name: str) -> None:
    """Check that "." and ".." are refused as study names (the sidebar could not
    show them: a browser resolves them as path steps), and "..." is not."""
    from hptaa_lab import create_study

    with pytest.raises(ValueError, match="reads it as a step of a path"):
        create_study(name, {"x": (0.0, 1.0)}, store=tmp_store_url)
    create_study("...", {"x": (0.0, 1.0)}, store=tmp_store_url).close()


def test_unknown_study_error_lists_existing_studies(store: TrialStore) -> None:
    """Check that asking for an unknown study names the studies that exist."""
    with pytest.raises(StudyNotFoundError, match=r"\(the store is empty\)"):
        store.get_study("nope")
    store.create_study(_study("b"))
    store.create_study(_study("a"))

    with pytest.raises(
        StudyNotFoundError,
        match=r"No study named 'nope' in the trial store \S+\. Existing studies: a, "
        r"b\.",
    ) as caught:
        store.get_study("nope")
    # The message names the store, so that a wrong store= is easy to see.
    assert caught.value.store is not None and caught.value.store in str(caught.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.start_trial("nope", {}, "random"),
        lambda s: s.finish_trial("nope", 0, TrialState.FAIL),
        lambda s: s.add_trial("nope", TrialRecord(0, {}, TrialState.FAIL)),
        lambda s: s.get_trials("nope"),
        lambda s: s.count_trials("nope"),
        lambda s: s.best_trial("nope"),
        lambda s: s.fail_running_trials("nope", "interrupted"),
        lambda s: s.set_mapping("nope", None),
        lambda s: s.update_attrs("nope", {}),
        lambda s: s.delete_study("nope"),
        lambda s: s.lineage("nope"),
        lambda s: s.trial_attrs("nope"),
        lambda s: s.update_trial_attrs("nope", 0, {}),
    ],
)
def test_every_study_operation_refuses_an_unknown_study(
    store: TrialStore, call: Callable[[TrialStore], object]
) -> None:
    """Check that operations on a missing study raise StudyNotFoundError."""
    store.create_study(_study("v1"))

    with pytest.raises(StudyNotFoundError, match="No study named 'nope'"):
        call(store)


def test_create_study_requires_an_existing_previous_study(store: TrialStore) -> None:
    """Check that previous must name an existing study."""
    with pytest.raises(StudyNotFoundError, match="No study named 'v0'"):
        store.create_study(_study("v1", previous="v0"))
    assert not store.has_study("v1")

    store.create_study(_study("v0"))
    assert store.create_study(_study("v1", previous="v0")).previous == "v0"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"direction": "up"}, "direction must be 'minimize' or 'maximize', got 'up'"),
        ({"space_json": "{not json"}, "space_json must be JSON text"),
        ({"attrs": {1: "x"}}, "attrs must be a dict with str keys"),
        (
            {"created_at": datetime(2024, 1, 1)},
            "created_at must be a timezone-aware datetime",
        ),
    ],
)
def test_create_study_refuses_fields_it_cannot_keep(
    store: TrialStore, fields: dict[str, Any], message: str
) -> None:
    """Check that bad study fields are refused before anything is written."""
    record = StudyRecord(**{"name": "v1", "space_json": SPACE_JSON, **fields})

    with pytest.raises(ValueError, match=message):
        store.create_study(record)
    assert not store.has_study("v1")


def test_set_mapping_and_update_attrs_change_the_study(store: TrialStore) -> None:
    """Check that the mapping is replaced or cleared and attrs are merged."""
    store.create_study(_study("v1", attrs={"benchmark": "toy", "budget": 10}))

    store.set_mapping("v1", '{"renames": {}}')
    store.update_attrs("v1", {"budget": 20, "note": "rerun"})

    study = store.get_study("v1")
    assert study.mapping_json == '{"renames": {}}'
    assert study.attrs == {"benchmark": "toy", "budget": 20, "note": "rerun"}
    store.set_mapping("v1", None)
    assert store.get_study("v1").mapping_json is None
    with pytest.raises(ValueError, match="mapping_json must be JSON text"):
        store.set_mapping("v1", "{broken")


def test_delete_study_removes_it_and_its_trials(store: TrialStore) -> None:
    """Check that a deleted study and its trials are gone, others untouched."""
    store.create_study(_study("v1"))
    store.create_study(_study("other"))
    _finished(store, "v1", 1.0, {"x": 1})
    _finished(store, "other", 2.0, {"x": 2})

    store.delete_study("v1")

    assert [s.name for s in store.list_studies()] == ["other"]
    assert len(store.get_trials("other")) == 1
    store.create_study(_study("v1"))
    assert store.get_trials("v1") == []


def test_delete_study_refuses_a_study_named_as_previous(store: TrialStore) -> None:
    """Check that a study another study transfers from cannot be deleted."""
    store.create_study(_study("v1"))
    store.create_study(_study("v2", previous="v1"))

    with pytest.raises(
        StoreError,
        match=r"Cannot delete study 'v1': study 'v2' names it as previous study\. "
        r"Delete it too \(in the same call\), or keep this one\.",
    ):
        store.delete_study("v1")
    assert store.has_study("v1")


def test_delete_study_refuses_a_study_a_live_process_is_running(
    store: TrialStore,
) -> None:
    """Check that a study whose trial a running process (this one) owns is not
    deleted under it; once the trial is finished it is."""
    store.create_study(_study("v1"))
    trial = store.start_trial("v1", {"x": 1}, "random")

    with pytest.raises(
        StoreError, match=r"pid \d+ on host .* is tuning it\. Stop the run first"
    ):
        store.delete_study("v1")
    assert store.has_study("v1")
    store.finish_trial("v1", trial.number, TrialState.COMPLETE, value=1.0)
    store.delete_study("v1")
    assert not store.has_study("v1")


def test_delete_study_refuses_a_study_a_live_process_tunes_between_trials(
    store: TrialStore,
) -> None:
    """Check that a run recorded by begin_run blocks deleting its study with no
    trial in flight, and no longer once end_run removed it."""
    store.create_study(_study("v1"))
    store.create_study(_study("other"))
    run = store.begin_run("v1")

    assert store.is_being_run("v1") and not store.is_being_run("other")
    assert store.run_owners("v1") == [this_process()]
    with pytest.raises(
        StoreError, match=r"pid \d+ on host .* is tuning it\. Stop the run first"
    ):
        store.delete_study("v1")
    store.end_run(run)
    assert not store.is_being_run("v1") and store.run_owners("v1") == []
    store.delete_study("v1")
    assert not store.has_study("v1")


def test_a_study_tuned_on_another_host_is_deleted_only_with_force(
    store: TrialStore,
) -> None:
    """Check that a trial in flight, or a run, of a process on another host
    (which cannot be checked) blocks deleting the study unless force=True, and
    that tuners names it as unknown."""
    store.create_study(_study("v1"))
    trial = store.start_trial("v1", {"x": 1}, "random")
    with store._transaction(write=True) as conn:
        conn.execute(
            sa.update(trials)
            .where(trials.c.number == trial.number)
            .values(owner_host="gpu-node-4", owner_pid=7, owner_start=None)
        )

    assert store.tuners("v1") == [(TrialOwner("gpu-node-4", 7, None), Liveness.UNKNOWN)]
    assert not store.is_being_run("v1")
    with pytest.raises(
        StoreError,
        match=r"pid 7 on host gpu-node-4 is recorded as tuning it, which cannot "
        r"be checked from this host\..* delete with --force \(force=True",
    ):
        store.delete_study("v1")
    store.delete_study("v1", force=True)
    assert not store.has_study("v1")


def test_a_run_whose_process_ended_does_not_block_and_is_dropped(
    store: TrialStore,
) -> None:
    """Check that the record of a run whose process was killed (never ended its
    run) counts as not running, is dropped by the next begin_run, and that
    deleting the study removes run records with it."""
    store.create_study(_study("v1"))
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    me = this_process()
    with store._transaction(write=True) as conn:
        sid = conn.scalar(sa.select(studies.c.id).where(studies.c.name == "v1"))
        conn.execute(
            sa.insert(runs).values(
                study_id=sid,
                owner_host=me.host,
                owner_pid=child.pid,
                owner_start=None,
                started_at=datetime.now(UTC),
            )
        )

    assert len(store.run_owners("v1")) == 1 and not store.is_being_run("v1")
    run = store.begin_run("v1")
    assert store.run_owners("v1") == [me]
    store.end_run(run)
    store.begin_run("v1")
    with pytest.raises(StoreError, match="is tuning it"):
        store.delete_study("v1")
    with store._transaction(write=True) as conn:
        conn.execute(sa.update(runs).values(owner_pid=child.pid, owner_start=None))
    store.delete_study("v1")
    with store._transaction(write=False) as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(runs)) == 0


def test_delete_studies_is_all_or_nothing_followers_first(store: TrialStore) -> None:
    """Check that deleting several studies deletes none when one is refused (a
    follower left out, a process tuning one), that a dry run says what would go
    in which order and deletes nothing, and that a chain goes followers first."""
    for name, previous in (("v1", None), ("v2", "v1"), ("v3", "v2"), ("x", None)):
        store.create_study(_study(name, previous=previous))
    _finished(store, "v2", 1.0, {"x": 1})
    _finished(store, "v2", 2.0, {"x": 2})
    run = store.begin_run("x")

    with pytest.raises(
        StoreError,
        match=r"Nothing was deleted\. 'x': pid \d+ .* is tuning it\..* 'v2': study "
        r"'v3' names it as previous study\.",
    ):
        store.delete_studies(["v1", "v2", "x"])
    assert [s.name for s in store.list_studies()] == ["v1", "v2", "v3", "x"]
    store.end_run(run)

    planned = store.delete_studies(["v1", "v3", "v2", "x"], dry_run=True)
    assert list(planned) in (["v3", "x", "v2", "v1"], ["x", "v3", "v2", "v1"])
    assert planned["v2"] == 2 and len(store.list_studies()) == 4
    assert store.delete_studies(["v1", "v3", "v2", "x"]) == planned
    assert store.list_studies() == []


def test_delete_studies_refuses_a_string_and_run_ids_are_not_reused(
    store: TrialStore,
) -> None:
    """Check that a string for names is refused (not read as its letters), and
    that a run of a deleted study cannot end the record of a later run (run ids
    are never reused)."""
    for name in ("a", "b", "c"):
        store.create_study(_study(name))
    with pytest.raises(TypeError, match="got the string 'abc'"):
        store.delete_studies("abc")  # type: ignore[arg-type]
    assert len(store.list_studies()) == 3

    old = store.begin_run("a")
    with store._transaction(write=True) as conn:
        conn.execute(sa.update(runs).values(owner_host="elsewhere"))
    store.delete_studies(["a"], force=True)
    store.create_study(_study("a"))
    new = store.begin_run("a")

    assert new != old
    store.end_run(old)  # the deleted study's run ends
    assert store.run_owners("a") == [this_process()]


def test_a_study_two_others_transfer_from_names_both(store: TrialStore) -> None:
    """Check the refusal's wording with two followers."""
    store.create_study(_study("v1"))
    store.create_study(_study("v2", previous="v1"))
    store.create_study(_study("v2b", previous="v1"))

    with pytest.raises(
        StoreError,
        match=r"studies 'v2' and 'v2b' name it as previous study\. Delete them too",
    ):
        store.delete_study("v1")


def test_delete_studies_cuts_a_loop_of_previous_studies(store_url: str) -> None:
    """Check that studies whose previous links loop (a hand-edited store) are
    deleted together instead of waiting on each other for ever."""
    store = TrialStore(store_url)
    store.create_study(_study("a"))
    store.create_study(_study("b", previous="a"))
    with store._transaction(write=True) as conn:
        conn.execute(
            sa.update(studies).where(studies.c.name == "a").values(previous="b")
        )

    assert sorted(store.delete_studies(["a", "b"])) == ["a", "b"]
    assert store.list_studies() == []


def test_lineage_follows_previous_studies(store: TrialStore) -> None:
    """Check that lineage lists a study, its previous, and so on."""
    store.create_study(_study("v1"))
    store.create_study(_study("v2", previous="v1"))
    store.create_study(_study("v3", previous="v2"))
    store.create_study(_study("branch", previous="v1"))

    assert store.lineage("v3") == ["v3", "v2", "v1"]
    assert store.lineage("branch") == ["branch", "v1"]
    assert store.lineage("v1") == ["v1"]


def test_lineage_tree_orders_studies_under_their_previous_ones(
    store: TrialStore,
) -> None:
    """Check the tree: each study under its previous one, siblings oldest first,
    a twin as a root that names its transfer study."""
    store.create_study(_study("v1"))
    store.create_study(
        _study("v2", previous="v1", attrs={"scratch_twin": "v2-scratch"})
    )
    store.create_study(_study("v3", previous="v2"))
    store.create_study(_study("branch", previous="v1"))
    store.create_study(_study("v2-scratch", attrs={"twin_of": "v2"}))

    tree = store.lineage_tree()

    assert [r["tree"] for r in tree] == [
        "v1",
        "|- v2",
        "|  `- v3",
        "`- branch",
        "v2-scratch",
    ]
    assert [r["depth"] for r in tree] == [0, 1, 2, 1, 0]
    assert tree[-1]["twin_of"] == "v2" and tree[0]["twin_of"] is None


def test_lineage_tree_lists_studies_on_a_loop_once(
    store_url: str, store: TrialStore
) -> None:
    """Check that studies whose previous studies loop back (a hand-edited store)
    are still listed, each once."""
    store.create_study(_study("v1"))
    store.create_study(_study("v2", previous="v1"))
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(studies).where(studies.c.name == "v1").values(previous="v2")
        )
    engine.dispose()

    assert [r["tree"] for r in store.lineage_tree()] == ["v1", "`- v2"]


def test_lineage_stops_on_a_cycle(
    store_url: str, store: TrialStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a previous chain looping back on itself ends the walk."""
    store.create_study(_study("v1"))
    store.create_study(_study("v2", previous="v1"))
    store.create_study(_study("v3", previous="v2"))
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(studies).where(studies.c.name == "v1").values(previous="v3")
        )
    engine.dispose()

    with caplog.at_level(logging.WARNING, logger="hptaa_lab.store"):
        assert store.lineage("v3") == ["v3", "v2", "v1"]
    assert "Lineage of study 'v3' loops back to 'v3'" in caplog.text


# -- trials --------------------------------------------------------------------


def test_trial_round_trip_keeps_exact_json_types(store: TrialStore) -> None:
    """Check that configurations come back with the same values and types."""
    store.create_study(_study("v1"))
    config = {"n": 3, "big": 2**53 + 1, "lr": 0.1, "one": 1.0, "on": True, "k": "rbf"}

    started = store.start_trial("v1", config, "tpe")
    finished = store.finish_trial("v1", started.number, TrialState.COMPLETE, 0.25)
    (stored,) = store.get_trials("v1")

    for record in (started, finished, stored):
        assert record.config == config
        assert [type(v) for v in record.config.values()] == [
            int, int, float, float, bool, str
        ]  # fmt: skip
    assert stored == finished
    assert (stored.number, stored.state, stored.value) == (0, TrialState.COMPLETE, 0.25)
    assert stored.proposed_by == "tpe"
    assert stored.started_at is not None and stored.finished_at is not None
    assert stored.started_at <= stored.finished_at
    assert stored.started_at.utcoffset() == timedelta(0)


def test_trial_times_are_stored_as_utc(store: TrialStore) -> None:
    """Check that times given in another zone come back as the same UTC instant."""
    store.create_study(_study("v1"))
    zone = timezone(timedelta(hours=-5))
    start = datetime(2024, 3, 1, 8, 0, 0, 250000, tzinfo=zone)
    end = start + timedelta(seconds=90)

    trial = store.start_trial("v1", {}, "random", started_at=start)
    store.finish_trial("v1", trial.number, TrialState.COMPLETE, 1.0, finished_at=end)

    (stored,) = store.get_trials("v1")
    assert stored.started_at == start and stored.finished_at == end
    assert stored.started_at.tzinfo is UTC and stored.finished_at.tzinfo is UTC
    assert stored.started_at.hour == 13


def test_naive_times_are_refused(store: TrialStore) -> None:
    """Check that a datetime without time zone is refused with advice."""
    store.create_study(_study("v1"))

    with pytest.raises(
        ValueError,
        match=r"started_at must be a timezone-aware datetime, got the naive "
        r"2024-01-01T00:00:00\. Pass e\.g\. datetime\.now\(timezone\.utc\)\.",
    ):
        store.start_trial("v1", {}, "random", started_at=datetime(2024, 1, 1))
    assert store.get_trials("v1") == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({1: "x"}, "config must be a dict with str keys"),
        ({"x": object()}, "config must hold JSON values only"),
        ({"x": math.nan}, "config must hold JSON values only"),
        (["x"], "config must be a dict with str keys"),
    ],
)
def test_start_trial_refuses_configurations_that_are_not_json(
    store: TrialStore, config: Any, message: str
) -> None:
    """Check that a configuration that would not round trip is refused."""
    store.create_study(_study("v1"))

    with pytest.raises(ValueError, match=message):
        store.start_trial("v1", config, "random")
    assert store.get_trials("v1") == []


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, None, "0.5"])
def test_complete_trial_refuses_a_non_finite_value(
    store: TrialStore, value: Any
) -> None:
    """Check that NaN, infinite or missing values are never stored as COMPLETE."""
    store.create_study(_study("v1"))
    trial = store.start_trial("v1", {}, "random")
    message = "A COMPLETE trial needs a finite objective value, got " + re.escape(
        f"value={value!r}. Finish the trial as FAIL"
    )

    with pytest.raises(ValueError, match=message):
        store.finish_trial("v1", trial.number, TrialState.COMPLETE, value=value)
    with pytest.raises(ValueError, match=message):
        store.add_trial("v1", TrialRecord(0, {}, TrialState.COMPLETE, value=value))
    assert store.count_trials("v1")[TrialState.RUNNING] == 1
    assert store.count_trials("v1")[TrialState.COMPLETE] == 0


def test_finish_trial_as_fail_keeps_the_error(store: TrialStore) -> None:
    """Check that a failed trial keeps its error text and no value."""
    store.create_study(_study("v1"))
    trial = store.start_trial("v1", {"x": 1}, "random")

    failed = store.finish_trial("v1", trial.number, TrialState.FAIL, error="OOM")

    assert store.get_trials("v1") == [failed]
    assert (failed.state, failed.value, failed.error) == (TrialState.FAIL, None, "OOM")
    with pytest.raises(ValueError, match="A FAIL trial has no objective value"):
        store.finish_trial("v1", 0, TrialState.FAIL, value=1.0)


def test_finish_trial_refuses_running_state(store: TrialStore) -> None:
    """Check that finishing a trial as RUNNING is refused."""
    store.create_study(_study("v1"))
    trial = store.start_trial("v1", {}, "random")

    with pytest.raises(ValueError, match="only be finished as COMPLETE or FAIL"):
        store.finish_trial("v1", trial.number, TrialState.RUNNING)


def test_finish_trial_refuses_a_trial_that_is_not_running(store: TrialStore) -> None:
    """Check that a finished trial cannot be finished again."""
    store.create_study(_study("v1"))
    trial = _finished(store, "v1", 1.0, {})

    with pytest.raises(
        StoreError, match="Trial 0 of study 'v1' is already COMPLETE; only a RUNNING"
    ):
        store.finish_trial("v1", trial.number, TrialState.COMPLETE, value=2.0)
    assert store.get_trials("v1")[0].value == 1.0


def test_finish_trial_refuses_an_unknown_number(store: TrialStore) -> None:
    """Check that finishing a trial number that was never started is refused."""
    store.create_study(_study("v1"))
    store.start_trial("v1", {}, "random")

    with pytest.raises(
        ValueError, match="Study 'v1' has no trial number 7; its 1 trials are numbered"
    ):
        store.finish_trial("v1", 7, TrialState.FAIL)


def test_add_trial_imports_a_finished_trial_under_the_next_number(
    store: TrialStore,
) -> None:
    """Check that add_trial ignores record.number and keeps the other fields."""
    store.create_study(_study("v1"))
    _finished(store, "v1", 3.0, {"x": 0})
    started = datetime(2023, 6, 1, 12, 0, tzinfo=UTC)
    record = TrialRecord(
        number=41,
        config={"x": 5, "kernel": "rbf"},
        state=TrialState.COMPLETE,
        value=0.5,
        started_at=started,
        finished_at=started + timedelta(minutes=3),
        proposed_by="import",
    )

    added = store.add_trial("v1", record)

    assert added.number == 1
    assert store.get_trials("v1")[1] == added
    assert added == TrialRecord(**{**record.__dict__, "number": 1})
    failed = store.add_trial("v1", TrialRecord(0, {}, TrialState.FAIL, error="OOM"))
    assert store.get_trials("v1", states=[TrialState.FAIL]) == [failed]
    assert (failed.number, failed.started_at, failed.error) == (2, None, "OOM")
    with pytest.raises(ValueError, match="add_trial imports finished trials"):
        store.add_trial("v1", TrialRecord(0, {}, TrialState.RUNNING))


def test_numbering_resumes_after_reopening_the_store(store_url: str) -> None:
    """Check that a new TrialStore on the same URL continues the numbering."""
    first = TrialStore(store_url)
    first.create_study(_study("v1"))
    for i in range(3):
        _finished(first, "v1", float(i), {"i": i})
    first.close()

    second = TrialStore(store_url)
    trial = second.start_trial("v1", {"i": 3}, "random")
    second.close()

    assert trial.number == 3
    with TrialStore(store_url) as third:
        assert [t.number for t in third.get_trials("v1")] == [0, 1, 2, 3]


def test_get_trials_filters_states_and_paginates(store: TrialStore) -> None:
    """Check the states filter, offset and limit, always ordered by number."""
    store.create_study(_study("v1"))
    for i in range(6):
        _finished(store, "v1", None if i % 3 == 2 else float(i), {"i": i})
    store.start_trial("v1", {"i": 6}, "random")

    def numbers(**kwargs: Any) -> list[int]:
        return [t.number for t in store.get_trials("v1", **kwargs)]

    assert numbers() == [0, 1, 2, 3, 4, 5, 6]
    assert numbers(states=[TrialState.COMPLETE]) == [0, 1, 3, 4]
    assert numbers(states={TrialState.FAIL, TrialState.RUNNING}) == [2, 5, 6]
    assert numbers(states=[]) == []
    assert numbers(offset=2, limit=3) == [2, 3, 4]
    assert numbers(offset=5) == [5, 6]
    assert numbers(states=[TrialState.COMPLETE], offset=1, limit=2) == [1, 3]
    assert numbers(limit=0) == []
    with pytest.raises(ValueError, match="offset and limit must be >= 0"):
        store.get_trials("v1", offset=-1)


def test_count_trials_counts_every_state(store: TrialStore) -> None:
    """Check that count_trials reports all states, zero included."""
    store.create_study(_study("v1"))
    assert store.count_trials("v1") == {s: 0 for s in TrialState}
    _finished(store, "v1", 1.0, {})
    _finished(store, "v1", None, {})
    _finished(store, "v1", 2.0, {})
    store.start_trial("v1", {}, "random")

    assert store.count_trials("v1") == {
        TrialState.RUNNING: 1,
        TrialState.COMPLETE: 2,
        TrialState.FAIL: 1,
    }


@pytest.mark.parametrize(
    ("direction", "best_number"), [("minimize", 3), ("maximize", 1)]
)
def test_best_trial_follows_the_direction(
    store: TrialStore, direction: str, best_number: int
) -> None:
    """Check that the best COMPLETE trial depends on the study's direction."""
    store.create_study(_study("v1", direction=direction))
    assert store.best_trial("v1") is None
    for value in (0.5, 9.0, None, -2.0, 9.0, -2.0):
        _finished(store, "v1", value, {})
    store.start_trial("v1", {}, "random")

    best = store.best_trial("v1")

    assert best is not None
    assert best.number == best_number
    assert best.state is TrialState.COMPLETE


def test_fail_running_trials_marks_only_running_trials(store: TrialStore) -> None:
    """Check that RUNNING trials become FAIL with the reason; others stay."""
    store.create_study(_study("v1"))
    store.create_study(_study("other"))
    _finished(store, "v1", 1.0, {})
    store.start_trial("v1", {}, "random")
    store.start_trial("v1", {}, "random")
    store.start_trial("other", {}, "random")

    n_failed = store.fail_running_trials("v1", "interrupted: driver restarted")

    assert n_failed == 2
    trials = store.get_trials("v1")
    assert [t.state for t in trials] == [TrialState.COMPLETE] + [TrialState.FAIL] * 2
    assert trials[1].error == "interrupted: driver restarted"
    assert trials[1].finished_at is not None
    assert store.count_trials("other")[TrialState.RUNNING] == 1
    assert store.fail_running_trials("v1", "again") == 0


def _set_owner(url: str, study: str, number: int, owner: TrialOwner | None) -> None:
    """Record another process (or none, as before schema version 3) for a trial."""
    engine = sa.create_engine(url)
    study_id = sa.select(studies.c.id).where(studies.c.name == study)
    with engine.begin() as conn:
        conn.execute(
            sa.update(trials)
            .where(trials.c.study_id == study_id.scalar_subquery())
            .where(trials.c.number == number)
            .values(
                owner_host=None if owner is None else owner.host,
                owner_pid=None if owner is None else owner.pid,
                owner_start=None if owner is None else owner.start,
            )
        )
    engine.dispose()


def _owners(url: str, study: str) -> list[tuple[Any, ...]]:
    """(owner_host, owner_pid, owner_start) of every trial of a study, by number."""
    engine = sa.create_engine(url)
    stmt = (
        sa.select(trials.c.owner_host, trials.c.owner_pid, trials.c.owner_start)
        .join(studies, studies.c.id == trials.c.study_id)
        .where(studies.c.name == study)
        .order_by(trials.c.number)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(stmt)]
    engine.dispose()
    return rows


def _gone_owner() -> TrialOwner:
    """A process of this host that does not exist (its pid is above the maximum)."""
    pid_max = Path("/proc/sys/kernel/pid_max")
    pid = int(pid_max.read_text()) + 1 if pid_max.is_file() else 2**22 + 1
    return TrialOwner(this_process().host, pid, None)


def test_start_trial_records_the_process_running_it(store: TrialStore) -> None:
    """Check that a started trial names this process; an imported one none."""
    store.create_study(_study("v1"))
    store.start_trial("v1", {}, "random")
    store.add_trial("v1", TrialRecord(0, {}, TrialState.COMPLETE, value=1.0))

    me = this_process()
    assert _owners(store.url, "v1") == [(me.host, me.pid, me.start), (None,) * 3]


def test_fail_abandoned_trials_fails_only_trials_whose_process_is_gone(
    store: TrialStore,
) -> None:
    """Check that a resume keeps the RUNNING trials of a live process and fails
    those of a process that ended, of none recorded, or of another host."""
    store.create_study(_study("v1"))
    _finished(store, "v1", 1.0, {})
    for i in range(4):
        store.start_trial("v1", {"i": i}, "random")
    elsewhere = TrialOwner("another-host.example", 4321, None)
    _set_owner(store.url, "v1", 2, _gone_owner())
    _set_owner(store.url, "v1", 3, None)
    _set_owner(store.url, "v1", 4, elsewhere)

    check = store.fail_abandoned_trials("v1")

    assert check == RunningCheck(
        ended=(2, 3), unchecked={4: elsewhere}, live={1: this_process()}
    )
    trials = store.get_trials("v1")
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.RUNNING] + [
        TrialState.FAIL
    ] * 3
    assert trials[2].error == (
        f"the process running this trial ({_gone_owner()}) ended before it finished"
    )
    assert "no process was recorded for it" in (trials[3].error or "")
    assert (trials[4].error or "").startswith(
        "the process running this trial (pid 4321 on host another-host.example) could "
        f"not be checked from host {this_process().host} when the study was resumed"
    )
    assert all(t.finished_at is not None for t in trials[2:])
    assert store.fail_abandoned_trials("v1") == RunningCheck(live={1: this_process()})


def test_owner_stores_the_result_of_its_trial_failed_by_another_process(
    store: TrialStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that the process running a trial that another process marked FAIL
    meanwhile still stores its result, with a warning, when it says so; a
    COMPLETE trial is never changed."""
    store.create_study(_study("v1"))
    trial = store.start_trial("v1", {"x": 1}, "random")
    store.fail_running_trials("v1", "resumed on another host")

    with pytest.raises(StoreError, match="Trial 0 of study 'v1' is already FAIL"):
        store.finish_trial("v1", trial.number, TrialState.COMPLETE, value=0.5)
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.store"):
        finished = store.finish_trial(
            "v1", trial.number, TrialState.COMPLETE, value=0.5, own_failed=True
        )

    assert (finished.state, finished.value, finished.error) == (
        TrialState.COMPLETE,
        0.5,
        None,
    )
    assert store.get_trials("v1") == [finished]
    assert (
        "Trial 0 of study 'v1' was marked FAIL by another process while this "
        "process still ran it (resumed on another host); stored its result instead: "
        "COMPLETE with value 0.5"
    ) in caplog.text
    with pytest.raises(StoreError, match="Trial 0 of study 'v1' is already COMPLETE"):
        store.finish_trial(
            "v1", trial.number, TrialState.COMPLETE, value=0.1, own_failed=True
        )
    assert store.get_trials("v1") == [finished]


def test_own_failed_does_not_finish_a_failed_trial_of_another_process(
    store: TrialStore,
) -> None:
    """Check that a process cannot take over a failed trial it did not start."""
    store.create_study(_study("v1"))
    trial = store.start_trial("v1", {}, "random")
    _set_owner(store.url, "v1", trial.number, _gone_owner())
    store.fail_abandoned_trials("v1")

    with pytest.raises(StoreError, match="Trial 0 of study 'v1' is already FAIL"):
        store.finish_trial(
            "v1", trial.number, TrialState.COMPLETE, value=0.5, own_failed=True
        )
    assert store.get_trials("v1")[0].state is TrialState.FAIL


def test_summaries_report_counts_and_best_value_per_study(store: TrialStore) -> None:
    """Check that summaries hold one row per study with counts and best value."""
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    store.create_study(_study("v1", created_at=t0))
    store.create_study(
        _study(
            "v2",
            previous="v1",
            transfer="t2pe",
            sampler="tpe",
            direction="maximize",
            created_at=t0 + timedelta(days=1),
        )
    )
    store.create_study(_study("empty", sampler="random", created_at=t0))
    for value in (3.0, 1.0, None):
        _finished(store, "v1", value, {})
    for value in (3.0, 7.0):
        _finished(store, "v2", value, {})
    store.start_trial("v2", {}, "random")

    rows = {row["name"]: row for row in store.summaries()}

    assert [row["name"] for row in store.summaries()] == ["empty", "v1", "v2"]
    assert rows["v1"] == {
        "name": "v1",
        "previous": None,
        "transfer": None,
        "sampler": "tpe",
        "direction": "minimize",
        "n_trials": 3,
        "n_complete": 2,
        "n_fail": 1,
        "n_running": 0,
        "best_value": 1.0,
        "created_at": t0,
    }
    assert (rows["v2"]["previous"], rows["v2"]["transfer"]) == ("v1", "t2pe")
    assert (rows["v2"]["n_trials"], rows["v2"]["n_running"]) == (3, 1)
    assert rows["v2"]["best_value"] == 7.0
    assert (rows["empty"]["n_trials"], rows["empty"]["best_value"]) == (0, None)


# -- trial attributes and imported studies -------------------------------------------


def _imported(number: int, value: float | None) -> TrialRecord:
    """A finished trial as an importer builds it (number is ignored)."""
    started = datetime(2024, 2, 1, 10, number, tzinfo=UTC)
    return TrialRecord(
        number=100 + number,
        config={"x": number, "kernel": "rbf"},
        state=TrialState.FAIL if value is None else TrialState.COMPLETE,
        value=value,
        error="OOM" if value is None else None,
        started_at=started,
        finished_at=started + timedelta(seconds=30),
        proposed_by="optuna",
    )


def test_import_study_writes_the_study_and_its_trials(store: TrialStore) -> None:
    """Check that import_study stores the study, its trials renumbered, and attrs."""
    trials = [_imported(0, 0.5), _imported(1, None), _imported(2, 0.25)]
    attrs = [{"optuna_number": 10 + i, "source": {"row": i}} for i in range(3)]

    created = store.import_study(
        _study("old", attrs={"imported_from": "optuna"}), trials, attrs
    )

    assert created.created_at is not None
    assert store.get_study("old") == created
    stored = store.get_trials("old")
    assert [t.number for t in stored] == [0, 1, 2]
    assert stored == [replace(t, number=i) for i, t in enumerate(trials)]
    assert store.trial_attrs("old") == dict(enumerate(attrs))
    best = store.best_trial("old")
    assert best is not None and best.number == 2
    assert store.start_trial("old", {"x": 3}, "tpe").number == 3
    assert store.trial_attrs("old")[3] == {}


def test_import_study_writes_nothing_when_a_trial_is_bad(store: TrialStore) -> None:
    """Check that one bad trial leaves neither the study nor any trial behind."""
    running = TrialRecord(0, {"x": 1}, TrialState.RUNNING)
    not_finite = TrialRecord(0, {"x": 1}, TrialState.COMPLETE, value=math.nan)

    with pytest.raises(
        ValueError,
        match=r"import_study imports finished trials: trials\[1\]\.state must be "
        r"COMPLETE or FAIL, got RUNNING",
    ):
        store.import_study(_study("old"), [_imported(0, 1.0), running])
    with pytest.raises(ValueError, match="A COMPLETE trial needs a finite objective"):
        store.import_study(_study("old"), [not_finite])
    with pytest.raises(
        ValueError, match="trial_attrs must hold one dict per trial: got 1 for 2"
    ):
        store.import_study(_study("old"), [_imported(0, 1.0)] * 2, [{}])
    with pytest.raises(ValueError, match=r"trial_attrs\[0\] must be a dict"):
        not_a_dict: Any = ["x"]
        store.import_study(_study("old"), [_imported(0, 1.0)], [not_a_dict])
    assert not store.has_study("old")


def test_import_study_refuses_a_taken_name(store: TrialStore) -> None:
    """Check that importing under an existing name changes nothing."""
    store.create_study(_study("old"))
    _finished(store, "old", 1.0, {"x": 0})

    with pytest.raises(
        StudyExistsError,
        match=r"A study named 'old' already exists in .*\. Import under another name",
    ):
        store.import_study(_study("old"), [_imported(0, 9.0)])
    assert [t.value for t in store.get_trials("old")] == [1.0]


def test_update_trial_attrs_merges_into_one_trial(store: TrialStore) -> None:
    """Check that trial attributes are merged into one trial and read back."""
    store.create_study(_study("v1"))
    first = store.start_trial("v1", {"x": 1}, "random")
    store.start_trial("v1", {"x": 2}, "random")

    store.update_trial_attrs("v1", first.number, {"host": "a", "epochs": 3})
    store.update_trial_attrs("v1", first.number, {"epochs": 5})

    assert store.trial_attrs("v1") == {0: {"host": "a", "epochs": 5}, 1: {}}
    with pytest.raises(ValueError, match="Study 'v1' has no trial number 7"):
        store.update_trial_attrs("v1", 7, {"host": "b"})
    with pytest.raises(ValueError, match="attrs must hold JSON values only"):
        store.update_trial_attrs("v1", 0, {"host": object()})


# -- concurrency and durability ----------------------------------------------------


@pytest.mark.parametrize("target", ["same-study", "different-studies"])
def test_threads_sharing_a_store_lose_no_trial(store: TrialStore, target: str) -> None:
    """Check that two threads writing at once keep every trial, numbers unique."""
    n = 40
    names = ["v1", "v1"] if target == "same-study" else ["v1", "v2"]
    for name in sorted(set(names)):
        store.create_study(_study(name))
    barrier = threading.Barrier(2)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_write_trials, store, name, writer, n, barrier)
            for writer, name in enumerate(names)
        ]
        for future in futures:
            future.result(timeout=120)

    if target == "same-study":
        _assert_written(store, "v1", [0, 1], n)
    else:
        _assert_written(store, "v1", [0], n)
        _assert_written(store, "v2", [1], n)


@pytest.mark.parametrize("target", ["same-study", "different-studies"])
def test_processes_writing_at_once_lose_no_trial(
    store_url: str, store: TrialStore, target: str
) -> None:
    """Check that two processes writing at once keep every trial, numbers unique."""
    n = 40
    names = ["v1", "v1"] if target == "same-study" else ["v1", "v2"]
    for name in sorted(set(names)):
        store.create_study(_study(name))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)

    processes = [
        context.Process(
            target=_write_trials, args=(store_url, name, writer, n, barrier)
        )
        for writer, name in enumerate(names)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)

    assert [p.exitcode for p in processes] == [0, 0]
    if target == "same-study":
        _assert_written(store, "v1", [0, 1], n)
    else:
        _assert_written(store, "v1", [0], n)
        _assert_written(store, "v2", [1], n)


def test_stores_opened_at_once_on_a_new_database_all_succeed(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that stores opening one brand-new database at once all succeed.

    Each thread opens its own TrialStore (its own connections), as separate
    processes would; the race on creating the tables is in the database.
    """
    n_writers, n = 3, 5
    barrier = threading.Barrier(n_writers)

    with (
        caplog.at_level(logging.INFO, logger="hptaa_lab.store"),
        ThreadPoolExecutor(max_workers=n_writers) as pool,
    ):
        futures = [
            pool.submit(_open_and_write, store_url, w, n, barrier)
            for w in range(n_writers)
        ]
        for future in futures:
            future.result(timeout=120)

    assert caplog.text.count("Created trial store at") == 1
    assert _stored_meta(store_url) == {
        "schema_version": str(SCHEMA_VERSION),
        "hptaa_lab_version": _store._release(),
    }
    with TrialStore(store_url) as store:
        assert sorted(s.name for s in store.list_studies()) == ["s0", "s1", "s2"]
        for writer in range(n_writers):
            _assert_written(store, f"s{writer}", [writer], n)


def test_killed_process_leaves_its_committed_trials(store_url: str) -> None:
    """Check that SIGKILL mid-trial keeps the finished trials and the running one."""
    with TrialStore(store_url) as store:
        store.create_study(_study("v1"))
    script = textwrap.dedent(
        """
        import os, signal, sys
        from hptaa_lab.records import TrialState
        from hptaa_lab.store import TrialStore

        store = TrialStore(sys.argv[1])
        for i in range(5):
            trial = store.start_trial("v1", {"i": i}, "random")
            store.finish_trial("v1", trial.number, TrialState.COMPLETE, float(i))
        store.start_trial("v1", {"i": 5}, "random")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    child = subprocess.run(
        [sys.executable, "-c", script, store_url], env=env, timeout=120, check=False
    )

    assert child.returncode == -signal.SIGKILL
    with TrialStore(store_url) as reopened:
        trials = reopened.get_trials("v1")
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 5 + [
            TrialState.RUNNING
        ]
        assert [t.config["i"] for t in trials] == list(range(6))
        assert reopened.start_trial("v1", {}, "random").number == 6


# -- opening the store ---------------------------------------------------------------


def test_new_store_records_schema_version_and_logs_creation(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that creating a store writes its schema version and logs it once."""
    with caplog.at_level(logging.INFO, logger="hptaa_lab.store"):
        TrialStore(store_url).close()
        TrialStore(store_url).close()

    assert caplog.text.count("Created trial store at") == 1
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        stored = conn.scalar(
            sa.select(meta.c.value).where(meta.c.key == "schema_version")
        )
    engine.dispose()
    assert stored == str(SCHEMA_VERSION)


def test_store_with_newer_schema_version_is_refused(store_url: str) -> None:
    """Check that a store of a newer release is refused, naming who wrote it."""
    TrialStore(store_url).close()
    _set_schema_version(store_url, SCHEMA_VERSION + 1)
    _set_meta(store_url, "hptaa_lab_version", "9.1.0")

    with pytest.raises(
        StoreError,
        match=rf"has schema version {SCHEMA_VERSION + 1}, written by hptaa_lab "
        rf"9\.1\.0; this hptaa_lab \({re.escape(_store._release())}\) reads schema versions up to "
        rf"{SCHEMA_VERSION}\. Upgrade hptaa_lab to 9\.1\.0 or later to open it",
    ):
        TrialStore(store_url)
    assert _stored_meta(store_url)["schema_version"] == str(SCHEMA_VERSION + 1)


def test_older_store_is_migrated_step_by_step(
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that opening an older store runs each migration step once and logs it."""
    with TrialStore(store_url) as store:
        store.create_study(_study("v1"))
    _set_schema_version(store_url, SCHEMA_VERSION - 1)
    steps: list[int] = []
    monkeypatch.setitem(
        _store._MIGRATIONS, SCHEMA_VERSION - 1, lambda conn: steps.append(1)
    )

    with caplog.at_level(logging.INFO, logger="hptaa_lab.store"):
        TrialStore(store_url).close()
        TrialStore(store_url).close()

    assert steps == [1]
    assert (
        f"from schema version {SCHEMA_VERSION - 1} to {SCHEMA_VERSION}" in caplog.text
    )
    with TrialStore(store_url) as reopened:
        assert reopened.has_study("v1")


def test_store_without_a_migration_path_is_refused(store_url: str) -> None:
    """Check that a version with no migration step is refused with advice."""
    TrialStore(store_url).close()
    _set_schema_version(store_url, 0)

    with pytest.raises(
        StoreError,
        match=rf"has schema version '0', which this hptaa_lab cannot migrate to "
        rf"version {SCHEMA_VERSION}\. Use a new store URL",
    ):
        TrialStore(store_url)


def _assert_migrated_from_v1(url: str, maker: Any) -> None:
    """Check that the version-1 store at ``url`` opens migrated, every trial kept."""
    with TrialStore(url) as store:
        studies_by_name = {s.name: s for s in store.list_studies()}
        assert list(studies_by_name) == [row["name"] for row in maker.STUDIES]
        for row in maker.STUDIES:
            study = studies_by_name[row["name"]]
            assert study.created_at == row["created_at"].replace(tzinfo=UTC)
            assert (study.previous, study.mapping_json) == (
                row["previous"],
                row["mapping_json"],
            )
            assert (study.sampler, study.transfer, study.seed) == (
                row["sampler"],
                row["transfer"],
                row["seed"],
            )
            assert study.attrs == json.loads(row["attrs_json"])
            assert list(space_from_json(study.space_json)) == list(
                space_from_json(row["space_json"])
            )

            trials = store.get_trials(row["name"])
            expected = maker.TRIALS[row["name"]]
            assert [
                (t.number, str(t.state), t.value, t.error, t.config, t.proposed_by)
                for t in trials
            ] == expected
            assert all(t.started_at is not None for t in trials)
            assert store.trial_attrs(row["name"]) == {t.number: {} for t in trials}

        # The migrated store takes new trials and trial attributes.
        added = _finished(store, "svm-v2", 0.2, {"cost": 40.0, "kernel": "rbf"})
        assert added.number == 3
        store.update_trial_attrs("svm-v2", 3, {"note": "after migration"})
        best = store.best_trial("svm-v1")
        assert best is not None and best.number == 4

    assert _stored_meta(url) == {
        "schema_version": str(SCHEMA_VERSION),
        "hptaa_lab_version": _store._release(),
    }
    engine = sa.create_engine(url)
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("hptaa_trials")}
    engine.dispose()
    assert "ix_hptaa_trials_study_state_value" in indexes
    assert "ix_hptaa_trials_study_state" not in indexes


def test_store_file_of_schema_version_1_is_migrated_keeping_every_trial(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that the version-1 fixture file is migrated once, every trial kept."""
    maker = _load_v1_maker()
    path = tmp_path / "store_v1.db"
    shutil.copyfile(maker.FIXTURE, path)
    url = f"sqlite:///{path}"

    with caplog.at_level(logging.INFO, logger="hptaa_lab.store"):
        _assert_migrated_from_v1(url, maker)
        TrialStore(url).close()

    assert caplog.text.count("from schema version 1 to 2") == 1


def test_store_of_schema_version_1_is_migrated_on_every_backend(
    store_url: str,
) -> None:
    """Check that a version-1 store built on each backend is migrated."""
    maker = _load_v1_maker()
    maker.build(store_url)

    _assert_migrated_from_v1(store_url, maker)


def _store_at_version(url: str, version: int) -> Any:
    """Build the version-1 fixture store at ``url`` and migrate it to ``version``
    with the steps of this release; return the fixture's maker module."""
    maker = _load_v1_maker()
    maker.build(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for step in range(1, version):
            MIGRATIONS[step](conn)
        conn.execute(
            sa.update(meta)
            .where(meta.c.key == "schema_version")
            .values(value=str(version))
        )
    engine.dispose()
    return maker


def test_store_of_schema_version_2_is_migrated_with_no_process_for_old_trials(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a version-2 store gains the owner columns, empty for its trials,
    so a resume fails the trial it left RUNNING as before; new trials name their
    process."""
    maker = _store_at_version(store_url, 2)

    with caplog.at_level(logging.INFO, logger="hptaa_lab.store"):
        store = TrialStore(store_url)
        TrialStore(store_url).close()

    assert caplog.text.count("from schema version 2 to 3") == 1
    assert "from schema version 1 to 2" not in caplog.text
    assert _stored_meta(store_url)["schema_version"] == str(SCHEMA_VERSION)
    with store:
        for study in ("svm-v1", "svm-v2"):
            expected = [t[:3] for t in maker.TRIALS[study]]
            got = [(t.number, str(t.state), t.value) for t in store.get_trials(study)]
            assert got == expected
            assert set(_owners(store_url, study)) == {(None, None, None)}

        check = store.fail_abandoned_trials("svm-v2")

        assert check == RunningCheck(ended=(2,))
        assert "taken as abandoned" in (store.get_trials("svm-v2")[2].error or "")
        store.start_trial("svm-v2", {"cost": 1.0, "kernel": "rbf"}, "tpe")
        me = this_process()
        assert _owners(store_url, "svm-v2")[3] == (me.host, me.pid, me.start)


def test_store_of_schema_version_3_is_migrated_with_default_transfer_options(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a version-3 store gains the studies' transfer options column,
    empty (the method's defaults) for its studies, and stores options of new
    studies."""
    _store_at_version(store_url, 3)

    with caplog.at_level(logging.INFO, logger="hptaa_lab.store"):
        store = TrialStore(store_url)

    assert caplog.text.count("from schema version 3 to 4") == 1
    assert "from schema version 2 to 3" not in caplog.text
    assert _stored_meta(store_url)["schema_version"] == str(SCHEMA_VERSION)
    with store:
        assert [s.transfer_options for s in store.list_studies()] == [{}, {}]
        assert store.get_study("svm-v2").transfer == "best-first+t2pe"
        store.create_study(
            StudyRecord(
                name="svm-v3",
                space_json=store.get_study("svm-v2").space_json,
                previous="svm-v2",
                transfer="auto",
                transfer_options={"ties": None, "fade": 10.0},
            )
        )
        again = store.get_study("svm-v3")
    assert again.transfer_options == {"ties": None, "fade": 10.0}


def test_store_of_schema_version_4_is_migrated_with_an_empty_runs_table(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a version-4 store gains the runs table, empty, and records runs
    in it afterwards."""
    _store_at_version(store_url, 4)

    with caplog.at_level(logging.INFO, logger="hptaa_lab.store"):
        store = TrialStore(store_url)

    assert caplog.text.count("from schema version 4 to 5") == 1
    assert "from schema version 3 to 4" not in caplog.text
    with store:
        assert store.run_owners("svm-v2") == []
        run = store.begin_run("svm-v2")
        assert store.is_being_run("svm-v2")
        store.end_run(run)
        assert not store.is_being_run("svm-v2")


def test_store_opened_by_many_threads_at_once_is_migrated_once(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that stores opened at once on a version-1 database migrate it once."""
    _load_v1_maker().build(store_url)
    barrier = threading.Barrier(4)

    def open_store() -> None:
        barrier.wait(timeout=60)
        TrialStore(store_url).close()

    with (
        caplog.at_level(logging.INFO, logger="hptaa_lab.store"),
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        futures = [pool.submit(open_store) for _ in range(4)]
        for future in futures:
            future.result(timeout=120)

    assert caplog.text.count("from schema version 1 to 2") == 1
    assert _stored_meta(store_url)["schema_version"] == str(SCHEMA_VERSION)


def test_new_store_has_the_current_indexes(store_url: str) -> None:
    """Check that a new store has the index the migration adds, not the old one."""
    TrialStore(store_url).close()

    engine = sa.create_engine(store_url)
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("hptaa_trials")}
    engine.dispose()
    assert "ix_hptaa_trials_study_state_value" in indexes
    assert "ix_hptaa_trials_study_state" not in indexes


def test_closed_store_refuses_further_use(store: TrialStore) -> None:
    """Check that a closed store says how to get a working one."""
    store.close()

    with pytest.raises(StoreError, match=r"was closed\. Open a new TrialStore"):
        store.list_studies()


def test_sqlite_store_is_in_wal_mode(tmp_path: Path) -> None:
    """Check that a SQLite store file uses write-ahead logging."""
    path = tmp_path / "studies.db"
    TrialStore(f"sqlite:///{path}").close()

    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_default_url_is_relative_to_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that the default store is .hptaa/studies.db in the working folder."""
    monkeypatch.chdir(tmp_path)

    expected = Path.cwd() / ".hptaa" / "studies.db"

    with TrialStore() as store:
        store.create_study(_study("v1"))
        url = store.url
    monkeypatch.chdir(tmp_path.parent)

    assert DEFAULT_URL == "sqlite:///.hptaa/studies.db"
    assert expected.is_file()
    assert url == f"sqlite:///{expected}"
    with TrialStore(url) as reopened:
        assert reopened.has_study("v1")


def test_in_memory_store_is_shared_between_threads() -> None:
    """Check that one in-memory store serves several threads as one database."""
    with TrialStore("sqlite://") as store:
        store.create_study(_study("v1"))
        barrier = threading.Barrier(3)
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [
                pool.submit(_write_trials, store, "v1", writer, 15, barrier)
                for writer in range(3)
            ]
            for future in futures:
                future.result(timeout=60)

        _assert_written(store, "v1", [0, 1, 2], 15)


def test_file_that_is_not_a_database_gives_advice(tmp_path: Path) -> None:
    """Check that opening a file that is not SQLite explains what to do."""
    path = tmp_path / "notes.db"
    path.write_text("These are my notes, not a database.\n" * 50)

    with pytest.raises(
        StoreError,
        match=re.escape(
            f"Cannot open the trial store at sqlite:///{path}: {path} is not a "
            "SQLite database. Point the URL at a new file"
        ),
    ):
        TrialStore(f"sqlite:///{path}")
    assert path.read_text().startswith("These are my notes")


def test_folder_that_cannot_be_created_gives_advice(tmp_path: Path) -> None:
    """Check that a store path below a regular file explains what to do."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")

    with pytest.raises(
        StoreError,
        match=re.escape(f"cannot create the folder {blocker / 'sub'} (")
        + r".+\)\. Choose a path in a folder you can write to",
    ):
        TrialStore(f"sqlite:///{blocker / 'sub' / 'studies.db'}")


def test_path_that_is_a_folder_gives_advice(tmp_path: Path) -> None:
    """Check that a store URL naming a folder suggests a file inside it."""
    with pytest.raises(
        StoreError,
        match=re.escape(
            f"{tmp_path} is a folder. Name a file inside it, e.g. "
            f"sqlite:///{tmp_path / 'studies.db'}."
        ),
    ):
        TrialStore(f"sqlite:///{tmp_path}")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="file permissions do not bind the root user",
)
def test_unwritable_folder_gives_advice(tmp_path: Path) -> None:
    """Check that a store in a read-only folder explains what to do."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(
            StoreError,
            match=r"cannot be opened for writing .+ "
            + re.escape(f"Check that {folder} exists and is writable"),
        ):
            TrialStore(f"sqlite:///{folder / 'studies.db'}")
    finally:
        folder.chmod(0o700)


def test_unknown_url_scheme_gives_advice() -> None:
    """Check that a URL of an unknown database names it and shows an example."""
    with pytest.raises(
        StoreError,
        match=r"Cannot open the trial store at nosuchdb://host/db: 'nosuchdb' is not "
        r"a database SQLAlchemy knows .+ Use a URL such as sqlite:///",
    ):
        TrialStore("nosuchdb://host/db")


def test_unparsable_url_gives_advice() -> None:
    """Check that a string that is neither a URL nor a file's path (no folder,
    no suffix: likely a mistyped URL) is refused with an example."""
    with pytest.raises(
        StoreError, match=r"not a database URL\. Use a SQLAlchemy URL such as"
    ):
        TrialStore("studies")


def test_reading_leaves_a_database_without_a_store_untouched(tmp_path: Path) -> None:
    """Check that create=False refuses an existing empty file and another
    program's SQLite database without writing a byte to either, and refuses a
    missing file given as a URI-style URL without creating it."""
    import hashlib
    import sqlite3

    empty = tmp_path / "empty.db"
    empty.touch()
    other = tmp_path / "other_app.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
        conn.commit()
    before = hashlib.sha256(other.read_bytes()).hexdigest()

    for path in (empty, other):
        with pytest.raises(StoreError, match="holds no hptaa_lab trial store"):
            TrialStore(f"sqlite:///{path}", create=False)
    assert empty.stat().st_size == 0
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "other_app.db"]

    typo = tmp_path / "typo.db"
    with pytest.raises(StoreError, match="There is no trial store at"):
        TrialStore(f"sqlite:///file:{typo}?uri=true", create=False)
    assert not typo.exists()


def test_writing_refuses_another_programs_sqlite_file(tmp_path: Path) -> None:
    """Check that opening a store for writing on another program's SQLite file
    refuses it without writing a byte, while an empty file becomes a store and a
    file that holds a store and other tables stays usable."""
    import hashlib
    import sqlite3

    other = tmp_path / "other_app.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
        conn.commit()
    before = hashlib.sha256(other.read_bytes()).hexdigest()
    with pytest.raises(
        StoreError, match=r"another program's SQLite database \(tables: customers\)"
    ):
        TrialStore(f"sqlite:///{other}")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before

    empty = tmp_path / "empty.db"
    empty.touch()
    with TrialStore(f"sqlite:///{empty}") as store:
        assert store.summaries() == []
    shared = tmp_path / "shared.db"
    TrialStore(f"sqlite:///{shared}").close()
    with contextlib.closing(sqlite3.connect(shared)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.commit()
    with TrialStore(f"sqlite:///{shared}") as store:
        assert store.summaries() == []


def test_sqlite_url_with_two_slashes_says_how_many_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that sqlite://folder/file.db (whose folder SQLAlchemy reads as a host
    and SQLite drops) is refused with the three-slash form, and creates nothing."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=r"three slashes .+sqlite:///\.hptaa/s\.db"):
        TrialStore("sqlite://.hptaa/s.db")
    assert list(tmp_path.iterdir()) == []


def test_sqlite_url_with_a_user_or_password_is_refused_with_it_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a SQLite URL with a user or password (which SQLite ignores) is
    refused by TrialStore and by %hptaa store, which keeps its store, with the
    URL to use and the password hidden."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError) as refused:
        TrialStore("sqlite://me:s3cret@/s.db")
    message = str(refused.value)
    assert "s3cret" not in message and "sqlite://me:***@/s.db" in message
    assert message.endswith("Leave them out: sqlite:///s.db")
    with pytest.raises(StoreError, match="user or password"):
        TrialStore("sqlite://me@/s.db")
    assert list(tmp_path.iterdir()) == []

    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext hptaa_lab")
    shell.run_cell("%hptaa store sqlite:///kept.db")
    capsys.readouterr()
    shell.run_cell("%hptaa store sqlite://me:s3cret@/s.db")
    shell.run_cell("%hptaa store")
    out, err = capsys.readouterr()
    assert "s3cret" not in out + err and "user or password" in err
    assert out == (
        f"trial store: sqlite:///{tmp_path / 'kept.db'}\n"
        f"There is no trial store at {tmp_path / 'kept.db'} yet; the first "
        "%%hptaa tune creates it there. If you meant an existing store, check the "
        "path.\n"
    )


def test_missing_driver_error_masks_the_password() -> None:
    """Check that the password of a URL never shows in an error."""
    url = "postgresql+pg8000://user:s3cret@127.0.0.1:1/db"

    with pytest.raises(StoreError) as raised:
        TrialStore(url)

    message = str(raised.value)
    assert "s3cret" not in message
    assert (
        "Cannot open the trial store at postgresql+pg8000://user:***@127.0.0.1:1/db: "
        "the database driver for 'postgresql+pg8000' is not installed" in message
    )


def test_unreachable_server_gives_a_clear_message_without_driver_traceback() -> None:
    """Check that a server that is down gives one clear error, no driver traceback."""
    pytest.importorskip("psycopg")
    port = _closed_port()
    url = f"postgresql+psycopg://hptaa:s3cret@127.0.0.1:{port}/studies"

    begin = time.perf_counter()
    with pytest.raises(StoreError) as raised:
        TrialStore(url)

    assert time.perf_counter() - begin < 10
    message = str(raised.value)
    assert message.startswith(
        f"Cannot open the trial store at postgresql+psycopg://hptaa:***@127.0.0.1:"
        f"{port}/studies: connection failed: "
    )
    assert message.endswith(
        "Check that the database server is running and reachable from this "
        "machine, and that the user, password and database name in the URL are right."
    )
    assert "\n" not in message and "s3cret" not in message
    shown = "".join(traceback.format_exception(raised.value))
    assert "OperationalError" not in shown
    assert "psycopg" not in shown.replace("postgresql+psycopg://", "")


@pytest.mark.skipif(
    importlib.util.find_spec("psycopg2") is not None,
    reason="psycopg2 is installed, so postgresql:// uses it",
)
def test_postgresql_url_without_driver_uses_psycopg(postgres_url: str) -> None:
    """Check that postgresql:// opens a store with psycopg when psycopg2 is absent."""
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")

    with TrialStore(url) as store:
        store.create_study(_study("v1"))
        assert store.url.startswith("postgresql+psycopg://")
        assert repr(store).startswith("TrialStore('postgresql://")
    with TrialStore(postgres_url) as same:
        assert same.has_study("v1")


def test_start_and_finish_cost_a_few_statements_however_many_trials(
    tmp_path: Path,
) -> None:
    """Check that starting and finishing a trial runs a few SQL statements, as
    many for the 200th trial as for the first (no statement per stored trial).
    Its time is measured by scripts/bench_perf.py, not here."""
    with TrialStore(f"sqlite:///{tmp_path / 'studies.db'}") as store:
        store.create_study(_study("v1"))
        counts: list[int] = []
        sa.event.listen(
            store._engine,
            "before_cursor_execute",
            lambda *args, **kwargs: counts.__setitem__(-1, counts[-1] + 1),
        )
        for i in range(200):
            counts.append(0)
            _finished(store, "v1", float(i), {"x": i, "lr": 0.01, "kernel": "rbf"})

    assert counts[0] <= 8
    assert set(counts) == {counts[0]}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://me:s3cret@127.0.0.1/db", "postgresql://me:***@127.0.0.1/db"),
        (
            "postgresql://me@127.0.0.1/db?password=s3cret&sslmode=disable",
            "postgresql://me@127.0.0.1/db?password=%2A%2A%2A&sslmode=disable",
        ),
    ],
)
def test_messages_hide_a_password_in_the_user_part_or_the_query(
    url: str, shown: str
) -> None:
    """Check that the URL messages show hides the password wherever it is."""
    assert _store._hidden_password(sa.engine.make_url(url)) == shown


@pytest.mark.parametrize("moment", ["begin", "statement", "commit", "rollback"])
def test_ctrl_c_during_a_write_completes_it_and_frees_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigint_raises: None, moment: str
) -> None:
    """Check that a Ctrl-C at any moment of a write (its BEGIN, its statement, its
    commit, the rollback of a failed one) lets the write finish, then raises
    KeyboardInterrupt, and leaves no connection holding SQLite's write lock, even
    with the exception kept alive (as a notebook keeps the last traceback): a new
    store in the same process writes at once. Before, the write was lost; and
    Ctrl-Cs at random moments of a loop of writes left, within a few dozen, a
    connection holding the lock, so that the next write waited out the busy
    timeout and failed."""
    monkeypatch.setattr(hptaa_lab.store._store, "_BUSY_TIMEOUT_MS", 200)
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    store = TrialStore(url)
    store.create_study(_study("s"))
    interrupt = [True]

    def ctrl_c_once(*args: Any) -> None:
        if interrupt:
            interrupt.clear()
            signal.raise_signal(signal.SIGINT)

    if moment == "statement":
        # Inside the driver's execute of the UPDATE, once it ran (the
        # connection holds the write lock then).
        execute = store._engine.dialect.do_execute

        def execute_then_ctrl_c(cursor: Any, statement: str, *args: Any) -> None:
            execute(cursor, statement, *args)
            if statement.startswith("UPDATE"):
                ctrl_c_once(cursor)

        monkeypatch.setattr(store._engine.dialect, "do_execute", execute_then_ctrl_c)
    else:
        sa.event.listen(store._engine, moment, ctrl_c_once)
    with pytest.raises(KeyboardInterrupt) as raised:
        if moment != "rollback":
            store.update_attrs("s", {"note": "kept"})
        else:  # a write that fails (an unknown study) and rolls back
            store.start_trial("no-such-study", {"x": 1}, "random")
    kept = raised.value  # its traceback holds the frames of the write

    fresh = TrialStore(url)
    fresh.update_attrs("s", {"after": 1})
    expected = {"note": "kept", "after": 1} if moment != "rollback" else {"after": 1}
    assert fresh.get_study("s").attrs == expected
    assert kept.__traceback__ is not None
    fresh.close()
    store.close()


def test_ctrl_c_during_a_read_of_an_in_memory_store_keeps_its_data(
    monkeypatch: pytest.MonkeyPatch, sigint_raises: None
) -> None:
    """Check that a Ctrl-C inside a read of a ``sqlite://`` store raises
    KeyboardInterrupt after the read and keeps the database: SQLAlchemy dropped
    the one connection on an interrupted statement, and the in-memory database
    with it (the next call found no tables)."""
    store = TrialStore("sqlite://")
    store.create_study(_study("s"))
    _finished(store, "s", 0.5, {"x": 1})
    interrupt = [True]
    execute = store._engine.dialect.do_execute

    def execute_then_ctrl_c(cursor: Any, statement: str, *args: Any) -> None:
        execute(cursor, statement, *args)
        if interrupt and statement.startswith("SELECT"):
            interrupt.clear()
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(store._engine.dialect, "do_execute", execute_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        store.get_trials("s")

    assert [s.name for s in store.list_studies()] == ["s"]
    assert [t.value for t in store.get_trials("s")] == [0.5]
    store.close()


def test_lineage_tree_of_a_deep_chain_and_a_lost_previous_study(
    tmp_path: Path,
) -> None:
    """Check that a chain deeper than Python's recursion limit is listed with
    its indentation capped, and that a study whose previous study is no longer
    in the store (deleted by hand) says so."""
    url = f"sqlite:///{tmp_path / 'deep.db'}"
    store = TrialStore(url)
    store.create_study(_study("s0"))
    for k in range(1, 1100):
        store.create_study(_study(f"s{k}", previous=f"s{k - 1}"))
    store.create_study(_study("parent"))
    store.create_study(_study("orphan", previous="parent"))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
        conn.execute(sa.delete(studies).where(studies.c.name == "parent"))
    engine.dispose()

    tree = store.lineage_tree()
    store.close()

    assert len(tree) == 1101
    assert tree[1099]["tree"] == "[depth 1099] `- s1099"
    assert tree[20]["tree"] == " " * 3 * 19 + "`- s20"
    assert tree[-1]["tree"] == "orphan (previous 'parent' is gone)"
    assert tree[-1]["missing_previous"] == "parent"


def test_the_write_ahead_log_is_folded_into_the_file_at_exit(tmp_path: Path) -> None:
    """Check that a process whose store is still referenced as it exits (a
    Jupyter kernel's are) leaves every trial in the SQLite file itself, not in
    its -wal file beside it: a copy of the file alone holds the study."""
    script = tmp_path / "keep.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, threading
            from hptaa_lab import create_study
            study = create_study(
                "v1", {"x": (0.0, 1.0)}, store=f"sqlite:///{sys.argv[1]}", seed=0
            )
            study.optimize(lambda c: c["x"], n_trials=3)
            # A daemon thread alive at exit keeps the study and its store's
            # pooled connection referenced, as a kernel's objects are.
            hold = threading.Event()
            threading.Thread(target=lambda s=study: hold.wait(), daemon=True).start()
            """
        )
    )
    db = tmp_path / "studies.db"
    done = subprocess.run(
        [sys.executable, str(script), str(db)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr

    assert not (tmp_path / "studies.db-wal").exists()
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    store = TrialStore(f"sqlite:///{copy}")
    try:
        assert len(store.get_trials("v1")) == 3
    finally:
        store.close()


def test_listings_hide_the_password_of_the_store_url(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that `hptaa studies`, `%hptaa store` and `%hptaa studies` show the
    store's URL with its password hidden (their text is saved with notebooks and
    terminal logs), for an empty store and one with a study."""
    from IPython.core.interactiveshell import InteractiveShell

    from hptaa_lab import create_study
    from hptaa_lab.cli import main

    # The test server trusts every local connection, so any password works.
    url = postgres_url.replace("@", ":s3cret@", 1)
    TrialStore(url).close()

    assert main(["--store", url, "studies"]) == 0
    out = capsys.readouterr().out
    assert "No studies in " in out and ":***@" in out and "s3cret" not in out

    create_study("v1", {"x": (0.0, 1.0)}, store=url, seed=0).close()
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext hptaa_lab")
    shell.run_cell(f"%hptaa store {url}")
    shell.run_cell("%hptaa studies")
    out = capsys.readouterr().out
    assert "trial store: " in out and "Studies in " in out
    assert ":***@" in out and "s3cret" not in out


def test_a_finished_run_is_in_the_database_file_itself(tmp_path: Path) -> None:
    """Check that once optimize (or an import) returns, a copy of the SQLite
    file alone, taken while the process still holds the store open, holds
    every trial: a Jupyter kernel killed by a headless notebook run (after a
    Dask run it does not exit when asked) never closes its connections."""
    from hptaa_lab import create_study

    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = create_study("v1", {"x": (0.0, 1.0)}, store=url, seed=0)
    study.optimize(lambda c: c["x"], n_trials=4)
    copy = tmp_path / "copy.db"
    shutil.copy(tmp_path / "studies.db", copy)

    assert (tmp_path / "studies.db-wal").exists()  # the store is still open
    again = TrialStore(f"sqlite:///{copy}")
    try:
        assert len(again.get_trials("v1")) == 4
    finally:
        again.close()
        study.close()
