"""Where the server extension finds the trial store: setting, variable or default."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from traitlets import Unicode
from traitlets.config import Configurable

from hptaa_lab.errors import StoreError
from hptaa_lab.store._store import check_sqlite_url

__all__ = ["DEFAULT_STORE", "STORE_ENV", "HptaaServer", "StoreLocation", "locate_store"]

logger = logging.getLogger(__name__)

#: Environment variable naming the trial store when no server setting does.
STORE_ENV = "HPTAA_STORE"

#: The trial store's place relative to the server's root folder by default.
DEFAULT_STORE = Path(".hptaa") / "studies.db"


class HptaaServer(Configurable):
    """Settings of the hptaa_lab server extension.

    Set them in a Jupyter config file (``c.HptaaServer.store = "..."``) or on
    the command line (``jupyter lab --HptaaServer.store=...``).
    """

    store = Unicode(
        "",
        help=(
            "Trial store the HPO studies sidebar reads: a SQLite file path or a "
            "sqlite:/// URL; a relative path is resolved against the server's root "
            f"folder. Empty: the {STORE_ENV} environment variable, else "
            f"<root>/{DEFAULT_STORE.as_posix()}."
        ),
    ).tag(config=True)


@dataclass(frozen=True)
class StoreLocation:
    """The trial store the server reads, or why none can be read.

    Attributes:
        path: Absolute path of the SQLite file (None when ``problem`` is set).
        source: Where the location came from, in words (for messages).
        problem: Why the configured location cannot be used, or None.
    """

    path: Path | None
    source: str
    problem: str | None = None


def locate_store(
    setting: str, environ: Mapping[str, str], root_dir: str | os.PathLike[str]
) -> StoreLocation:
    """Return the trial store location: the setting, else the variable, else default.

    Args:
        setting: The ``HptaaServer.store`` setting ("" when unset).
        environ: Environment variables (``HPTAA_STORE`` is read).
        root_dir: The server's root folder; relative paths are resolved
            against it.

    Returns:
        The location; its ``problem`` says why a configured value cannot be
        used (a non-SQLite URL, or text that is no URL).
    """
    root = Path(root_dir).expanduser().absolute()
    if setting.strip():
        value, source = setting.strip(), "the HptaaServer.store setting"
    elif environ.get(STORE_ENV, "").strip():
        value, source = environ[STORE_ENV].strip(), f"the {STORE_ENV} variable"
    else:
        return StoreLocation(root / DEFAULT_STORE, "the default location")

    if "://" not in value:
        return StoreLocation(_absolute(Path(value), root), source)
    try:
        url = sa.make_url(value)
    except sa_exc.ArgumentError:
        return StoreLocation(None, source, _bad_url(value, source, "is not a URL"))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        problem = _bad_url(
            url.render_as_string(hide_password=True),
            source,
            "is not a SQLite file; the sidebar reads SQLite stores only",
        )
        return StoreLocation(None, source, problem)
    try:
        check_sqlite_url(url)
    except StoreError as exc:
        return StoreLocation(
            None, source, f"{exc} (From {source}; restart the server.)"
        )
    database = url.database
    if str(url.query.get("uri", "")).lower() in ("true", "1"):
        # sqlite:///file:x.db?uri=true names the file x.db (its own query apart).
        database = database.removeprefix("file:").split("?", 1)[0]
        if database in ("", ":memory:") or url.query.get("mode") == "memory":
            problem = _bad_url(
                url.render_as_string(hide_password=True),
                source,
                "is an in-memory database, no SQLite file; the sidebar reads files",
            )
            return StoreLocation(None, source, problem)
    return StoreLocation(_absolute(Path(database), root), source)


def _absolute(path: Path, root: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else root / path


def _bad_url(shown: str, source: str, why: str) -> str:
    return (
        f"The trial store {shown!r} from {source} {why}. Give a SQLite file path "
        "or a sqlite:///path/to/studies.db URL, then restart the server."
    )
