"""Hold back Ctrl-C while a finished trial is written, then deliver it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["interrupts_deferred"]


@contextmanager
def interrupts_deferred() -> Iterator[list[int]]:
    """Run the block to its end even if SIGINT arrives, then act on that signal.

    A KeyboardInterrupt raised inside a store write rolls the write back, so a
    result the objective already returned would be lost. Inside this block a SIGINT
    is only noted, in the list the block gets (so that it can tidy up first, e.g.
    fail a trial it just started); on leaving, the handler that was installed
    before is given the signal once, however often it came (Python's default
    handler raises KeyboardInterrupt there, after the write). Signal handlers
    belong to the main thread, so in any other thread, which never receives
    KeyboardInterrupt, the block runs unchanged and the list stays empty.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    frames: list[FrameType | None] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        frames.append(frame)

    try:
        previous = signal.signal(signal.SIGINT, note)
    except ValueError:  # not the main interpreter: no handlers to swap
        yield received
        return

    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            _deliver(previous, received[0], frames[0])


def _deliver(handler: Any, signum: int, frame: FrameType | None) -> None:
    """Give a held-back SIGINT to the handler that was installed before."""
    if handler is signal.SIG_IGN:
        return
    if handler is signal.SIG_DFL or handler is None:
        # The default action would end the process; Python's own handler
        # raises KeyboardInterrupt, which lets the caller clean up first.
        handler = signal.default_int_handler
    handler(signum, frame)
