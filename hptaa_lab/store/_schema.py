"""Tables of the trial store, as SQLAlchemy Core objects usable on any backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["SCHEMA_VERSION", "meta", "metadata", "runs", "studies", "trials"]

#: Version of the table layout below; raise it with every change and add a
#: migration step in ``_migrations.py``.
#:
#: - 1: studies, trials, meta.
#: - 2: trials gain ``attrs_json`` (free-form JSON attributes of a trial, such
#:   as where an imported trial came from); the (study, state) index becomes
#:   (study, state, value), which also serves the incumbent query.
#: - 3: trials gain ``owner_host``, ``owner_pid`` and ``owner_start``: the
#:   process that started a trial, so resuming a study fails only the RUNNING
#:   trials whose process has ended (NULL for trials of older releases).
#: - 4: studies gain ``transfer_options_json``: the options of the study's
#:   transfer method (NULL: the method's defaults, as for every older study).
#: - 5: table ``hptaa_runs``: the processes tuning a study now (one row per
#:   ``Study.optimize`` call in progress), so that deleting a study sees a run
#:   between two trials, not only its trials in flight.
SCHEMA_VERSION = 5

#: Key of the schema version row in the meta table.
VERSION_KEY = "schema_version"

#: Key of the meta row naming the hptaa_lab release that created or last
#: migrated the store.
WRITER_KEY = "hptaa_lab_version"

#: Name of the index added by schema version 2.
STATE_VALUE_INDEX = "ix_hptaa_trials_study_state_value"

#: Longest study name a backend with sized strings accepts.
NAME_LENGTH = 255

#: Longest host name (DNS allows 253 characters).
HOST_LENGTH = 255


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp kept as naive UTC in the database and returned aware (UTC).

    Backends differ in how they keep time zones (SQLite keeps none), so the
    store normalises every time to UTC before writing it.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        """Convert an aware time to naive UTC for storage."""
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Mark a stored naive UTC time as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = sa.MetaData()

meta = sa.Table(
    "hptaa_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

studies = sa.Table(
    "hptaa_studies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False, unique=True),
    sa.Column("space_json", sa.Text, nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column(
        "previous",
        sa.String(NAME_LENGTH),
        sa.ForeignKey("hptaa_studies.name", name="fk_hptaa_studies_previous"),
        nullable=True,
    ),
    sa.Column("mapping_json", sa.Text, nullable=True),
    sa.Column("sampler", sa.String(64), nullable=False),
    sa.Column("transfer", sa.String(64), nullable=True),
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("attrs_json", sa.Text, nullable=False),
    sa.Column("transfer_options_json", sa.Text, nullable=True),
)

trials = sa.Table(
    "hptaa_trials",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "study_id",
        sa.Integer,
        sa.ForeignKey("hptaa_studies.id", name="fk_hptaa_trials_study"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("config_json", sa.Text, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("proposed_by", sa.String(64), nullable=False),
    sa.Column("attrs_json", sa.Text, nullable=False, server_default="{}"),
    sa.Column("owner_host", sa.String(HOST_LENGTH), nullable=True),
    sa.Column("owner_pid", sa.Integer, nullable=True),
    sa.Column("owner_start", sa.String(100), nullable=True),
    sa.UniqueConstraint("study_id", "number", name="uq_hptaa_trials_study_number"),
    sa.Index(STATE_VALUE_INDEX, "study_id", "state", "value"),
)

runs = sa.Table(
    "hptaa_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "study_id",
        sa.Integer,
        sa.ForeignKey("hptaa_studies.id", name="fk_hptaa_runs_study"),
        nullable=False,
    ),
    sa.Column("owner_host", sa.String(HOST_LENGTH), nullable=False),
    sa.Column("owner_pid", sa.Integer, nullable=False),
    sa.Column("owner_start", sa.String(100), nullable=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    # Ids never reused (SQLite reuses a deleted largest rowid otherwise): a run
    # of a deleted study must not end the record of a later run.
    sqlite_autoincrement=True,
)
"""The processes whose ``Study.optimize`` runs a study now: a row is added when
the call starts and removed when it ends (a process killed meanwhile leaves its
row, which ``liveness`` then tells apart)."""
