"""Read-only access to the trial store: opened on demand, never created or changed."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import sqlalchemy as sa

from hptaa_lab.errors import StoreError
from hptaa_lab.server._settings import StoreLocation
from hptaa_lab.store import TrialStore
from hptaa_lab.store._store import read_only_sqlite_uri, read_only_sqlite_url

__all__ = ["NoStoreYetError", "StoreReader"]

logger = logging.getLogger(__name__)

# Words of the store's errors when a read-only connection was asked to write:
# the file has no tables yet, or its schema needs a migration.
_WRITE_REFUSED = ("readonly", "read-only", "opened for writing")


class NoStoreYetError(StoreError):
    """The trial store's file does not exist (yet)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"No store at {path} yet. Run a study that keeps its trials there "
            "(e.g. %%hptaa tune with that store) and it appears here."
        )


class StoreReader:
    """Opens the trial store read-only when first needed and keeps it open.

    SQLite opens the file with ``mode=ro``, so nothing the server does can
    change the store; a missing file is reported, never created. When the file
    is replaced (another inode), the next call opens the new one.

    Args:
        location: Where the store is, or why it cannot be read.
    """

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        self._lock = threading.Lock()
        self._store: TrialStore | None = None
        self._identity: tuple[int, ...] | None = None

    @property
    def shown(self) -> str:
        """The store's location for messages: its path, or the configured value."""
        path = self.location.path
        return str(path) if path is not None else f"({self.location.source})"

    def open(self) -> TrialStore:
        """Return the store, opened read-only.

        Raises:
            NoStoreYetError: The file does not exist.
            StoreError: The location is misconfigured, or the file is a folder,
                not a trial store, unreadable, or needs a schema change.
        """
        path = self.location.path
        if path is None:
            raise StoreError(self.location.problem or "No trial store is configured.")
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise NoStoreYetError(path) from None
        except OSError as exc:
            raise StoreError(
                f"Cannot read the trial store at {path}: {exc.strerror or exc}. Check "
                "the path and its permissions."
            ) from exc
        if path.is_dir():
            raise StoreError(
                f"The trial store path {path} is a folder. Point HptaaServer.store at "
                f"a file, e.g. {path / 'studies.db'}."
            )

        identity: tuple[int, ...] = (stat.st_dev, stat.st_ino)
        if "immutable=1" in read_only_sqlite_uri(path):
            # Read as a snapshot (a file this process cannot write, see
            # read_only_sqlite_uri): a change to it is a new snapshot to open.
            identity += (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._store is None or self._identity != identity:
                self._close_locked()
                self._store = _open_read_only(path)
                self._identity = identity
                logger.info("Opened the trial store at %s read-only", path)
            return self._store

    def close(self) -> None:
        """Close the store's connections (it is reopened when needed again)."""
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._store is not None:
            self._store.close()
        self._store = None
        self._identity = None


def _open_read_only(path: Path) -> TrialStore:
    """Open a SQLite trial store with a read-only connection."""
    url = sa.make_url(read_only_sqlite_url(path))
    try:
        return TrialStore(url.render_as_string(hide_password=False))
    except StoreError as exc:
        text = str(exc)
        if "not a sqlite database" in text.lower() or "not a database" in text.lower():
            raise StoreError(
                f"Cannot read the trial store at {path}: the file is not a SQLite "
                "database. Move it away, or point HptaaServer.store (or "
                "HPTAA_STORE) at a trial store."
            ) from exc
        explained = "-wal file" in text or "for this process" in text
        if not explained and any(word in text.lower() for word in _WRITE_REFUSED):
            raise StoreError(
                f"Cannot read the trial store at {path}: it has no hptaa_lab tables "
                "yet, or was written by an older hptaa_lab and needs a schema "
                "migration, which the read-only sidebar never does. Open it once "
                "from Python with hptaa_lab.TrialStore(...), which creates or "
                "migrates the tables, or create a study in it."
            ) from exc
        shown = url.render_as_string(hide_password=True)
        raise StoreError(text.replace(shown, str(path))) from exc
