"""Schema migrations of the trial store: one step per schema version."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn

from hptaa_lab.store._schema import STATE_VALUE_INDEX, runs, studies, trials

__all__ = ["MIGRATIONS"]

#: Name of the version-1 index that version 2 replaces.
_V1_STATE_INDEX = "ix_hptaa_trials_study_state"


def _v1_to_v2(conn: sa.Connection) -> None:
    """Add ``hptaa_trials.attrs_json`` and widen the state index by the value.

    Existing trials get empty attributes (``{}``). The (study, state, value)
    index answers both the state filters and the incumbent query, so the
    narrower (study, state) index of version 1 is dropped.
    """
    column = CreateColumn(trials.c.attrs_json).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {trials.name} ADD COLUMN {column}"))

    conn.execute(sa.text(f"DROP INDEX IF EXISTS {_V1_STATE_INDEX}"))
    (index,) = (ix for ix in trials.indexes if ix.name == STATE_VALUE_INDEX)
    index.create(conn, checkfirst=True)


def _v2_to_v3(conn: sa.Connection) -> None:
    """Add the nullable ``owner_host``, ``owner_pid`` and ``owner_start`` columns.

    Trials of older releases keep NULL there: no process is known to run them,
    so resuming their study marks those left RUNNING failed, as before.
    """
    for column in (trials.c.owner_host, trials.c.owner_pid, trials.c.owner_start):
        ddl = CreateColumn(column).compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {trials.name} ADD COLUMN {ddl}"))


def _v3_to_v4(conn: sa.Connection) -> None:
    """Add the nullable ``hptaa_studies.transfer_options_json`` column.

    Studies of older releases keep NULL there: their transfer method runs with
    its defaults, as it always did.
    """
    ddl = CreateColumn(studies.c.transfer_options_json).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {studies.name} ADD COLUMN {ddl}"))


def _v4_to_v5(conn: sa.Connection) -> None:
    """Create the ``hptaa_runs`` table, empty: a run of an older release that
    goes on meanwhile is not recorded (its trials in flight still are)."""
    runs.create(conn, checkfirst=True)


#: The step at key k turns a version-k store into version k + 1. Steps run
#: inside the opening transaction, before tables missing from the current
#: layout are created.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
}
