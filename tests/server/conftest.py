"""Fixtures of the server tests: a Jupyter server with the extension, a seeded store.

The jupyter_server pytest plugin (pytest-jupyter) is loaded for this folder only
by importing its fixtures and hooks here: ``pytest_plugins`` is only allowed in
the top-level conftest, which this folder does not own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403

from hptaa_lab.server import STORE_ENV

from ._seed import seed_store


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    """Server config with the hptaa_lab extension enabled."""
    return {"ServerApp": {"jpserver_extensions": {"hptaa_lab.server": True}}}


@pytest.fixture(autouse=True)
def _no_store_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose the store; an HPTAA_STORE of the caller's shell must not leak."""
    monkeypatch.delenv(STORE_ENV, raising=False)


@pytest.fixture
def store_path(jp_root_dir: Path) -> Path:
    """Where the server looks for the store by default (nothing there yet)."""
    return jp_root_dir / ".hptaa" / "studies.db"


@pytest.fixture
def seeded_store(store_path: Path) -> Path:
    """The default store, seeded with a previous study, a current one and its twin."""
    return seed_store(store_path)
