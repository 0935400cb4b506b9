"""Fixtures of the Jupyter tests: an IPython shell with the magics, toy studies."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from hptaa_lab.errors import HptaaError
from hptaa_lab.jupyter import HptaaMagics
from hptaa_lab.store import TrialStore


@pytest.fixture
def store(tmp_store_url: str) -> Iterator[TrialStore]:
    """A fresh trial store in a temporary folder."""
    trial_store = TrialStore(tmp_store_url)
    yield trial_store
    trial_store.close()


@pytest.fixture
def shell(tmp_store_url: str) -> Iterator[InteractiveShell]:
    """An IPython shell with ``%load_ext hptaa_lab`` done and a fresh trial store.

    The shell is IPython's singleton; its user namespace is emptied and the
    magics forget earlier runs, so each test starts clean.
    """
    ip = InteractiveShell.instance()
    ip.run_cell("%load_ext hptaa_lab")
    magics = hptaa_magics(ip)
    magics.runs.clear()
    magics.store_url = tmp_store_url
    ip.user_ns.pop("space", None)
    ip.user_ns.pop("objective", None)
    yield ip
    for run in magics.runs:
        run.stop()
        with contextlib.suppress(HptaaError):
            run.wait(timeout=30)
    magics.runs.clear()


@pytest.fixture
def magics(shell: InteractiveShell) -> HptaaMagics:
    """The HptaaMagics instance registered with the shell."""
    return hptaa_magics(shell)


def hptaa_magics(ip: InteractiveShell) -> HptaaMagics:
    """The HptaaMagics instance registered with ``ip``."""
    magics = ip.magics_manager.registry["HptaaMagics"]
    assert isinstance(magics, HptaaMagics)
    return magics
