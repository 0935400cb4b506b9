"""Jupyter workbench: the ``%hptaa`` magics, the search-space diff widget and the
live run widget.

Load it in a notebook with ``%load_ext hptaa_lab``. Everything here calls the
layers below (study, space, store, report); only this package imports IPython,
ipywidgets and plotly's FigureWidget.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from hptaa_lab.jupyter import _bench as _bench  # registers %hptaa bench
from hptaa_lab.jupyter import _import as _import  # registers %hptaa import
from hptaa_lab.jupyter._live import LiveRunView, speedup_curve
from hptaa_lab.jupyter._magics import (
    BODY_NAMES,
    Command,
    HptaaMagics,
    commands,
    register_command,
)
from hptaa_lab.jupyter._run import RunState, TuneRequest, TuneRun
from hptaa_lab.jupyter._updater import Updater
from hptaa_lab.jupyter._widgets import SpaceDiffWidget

__all__ = [
    "BODY_NAMES",
    "Command",
    "HptaaMagics",
    "LiveRunView",
    "RunState",
    "SpaceDiffWidget",
    "TuneRequest",
    "TuneRun",
    "Updater",
    "commands",
    "load_ipython_extension",
    "register_command",
    "speedup_curve",
]


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%hptaa`` magics with an IPython shell, and what they do to
    runs still going on when the interpreter exits (see
    :meth:`HptaaMagics.at_exit`)."""
    magics = HptaaMagics(ipython)
    ipython.register_magics(magics)
    _at_exit(magics.at_exit)


def _at_exit(callback: Any) -> None:
    """Call ``callback`` as the interpreter exits, before the thread pools that
    Dask's client needs shut down (a run stopped later ended in distributed's
    tracebacks and a failed run): threading's exit hooks run before those of
    ``atexit``, newest first. Plain ``atexit`` where Python lacks them."""
    register = getattr(threading, "_register_atexit", None)
    if register is None:
        atexit.register(callback)
        return
    try:
        register(callback)
    except RuntimeError:  # the interpreter is shutting down already
        atexit.register(callback)
