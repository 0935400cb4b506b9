"""Ignore Ctrl-C in the worker template from the start of its preload.

The template (a multiprocessing forkserver, see ``execution._template``) ignores SIGINT
only once its preload list is imported, which takes a second or two; a Ctrl-C
in the terminal reaches the whole process group, so one pressed in that window
killed the template with a traceback of its own among the driver's. This module
comes first in the preload list. It acts only inside a forkserver's ``main``:
imported anywhere else (it should not be), it changes nothing.
"""

from __future__ import annotations

import signal
import sys

__all__ = ["ignore_sigint_in_forkserver"]


def ignore_sigint_in_forkserver() -> bool:
    """Ignore SIGINT if called from a multiprocessing forkserver's ``main``;
    return whether it did."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename.endswith("forkserver.py"):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


ignore_sigint_in_forkserver()
