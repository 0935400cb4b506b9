"""jupyter_server extension: a read-only REST view of the trial store for the sidebar.

Enable it with ``jupyter server extension enable hptaa_lab.server`` (installing
hptaa_lab enables it already). Endpoints, below the server's base URL, all
requiring the server's authentication:

- ``GET hptaa/api/studies``: every study with its previous study, transfer
  method, trial counts, incumbent value, state and creation time;
- ``GET hptaa/api/studies/NAME``: one study with its search space, mapping,
  lineage, incumbent trajectory, search-space diff to its previous study and
  the speedup against its no-transfer twin;
- ``GET hptaa/api/studies/NAME/trials?offset=0&limit=100&state=COMPLETE``:
  one page of its trials.

The store is ``<server root>/.hptaa/studies.db`` unless the
``HptaaServer.store`` setting or the ``HPTAA_STORE`` environment variable names
another SQLite file. It is opened read-only and never created.
"""

from __future__ import annotations

import os
from typing import Any

from hptaa_lab.server._handlers import API_PATH, setup_handlers
from hptaa_lab.server._payloads import check_study_name, incumbent_trajectory
from hptaa_lab.server._reader import NoStoreYetError, StoreReader
from hptaa_lab.server._settings import (
    DEFAULT_STORE,
    STORE_ENV,
    HptaaServer,
    StoreLocation,
    locate_store,
)

__all__ = [
    "API_PATH",
    "DEFAULT_STORE",
    "STORE_ENV",
    "HptaaServer",
    "NoStoreYetError",
    "StoreLocation",
    "StoreReader",
    "check_study_name",
    "incumbent_trajectory",
    "load_server_extension",
    "locate_store",
    "setup_handlers",
]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell jupyter_server which module holds the extension."""
    return [{"module": "hptaa_lab.server"}]


def load_server_extension(serverapp: Any) -> StoreReader:
    """Add the endpoints to a running jupyter_server ``ServerApp``.

    Args:
        serverapp: The ``jupyter_server.serverapp.ServerApp``.

    Returns:
        The store reader the endpoints share.
    """
    settings = HptaaServer(parent=serverapp)
    location = locate_store(settings.store, os.environ, serverapp.root_dir)
    reader = StoreReader(location)
    setup_handlers(serverapp.web_app, reader)
    if location.problem is not None:
        serverapp.log.warning("hptaa_lab server extension: %s", location.problem)
    else:
        serverapp.log.info(
            "hptaa_lab server extension: reading the trial store at %s (%s), read-only",
            location.path,
            location.source,
        )
    return reader


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Entry point jupyter_server calls when the extension is enabled."""
    load_server_extension(serverapp)
