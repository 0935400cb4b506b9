"""The single UI updater: threads queue events, the widgets' thread applies them."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_INTERVAL", "BackgroundHandle", "Updater", "kernel_loop"]

logger = logging.getLogger(__name__)

#: Seconds between two batches of widget updates (at most four a second).
DEFAULT_INTERVAL = 0.25

Apply = Callable[[list[Any]], None]


class Updater:
    """Collects events from any thread and applies them in batches.

    Background threads only call :meth:`post` (and :meth:`finish`). The thread
    that owns the widgets, the kernel's main thread, applies what was queued:
    through ticks scheduled on its asyncio event loop every ``interval``
    seconds (:meth:`start`), or by calling :meth:`flush` itself, e.g. while it
    waits for a run. Each flush hands every queued event to ``apply`` in one
    call, so a burst of events becomes one widget update.

    Args:
        apply: Called with the list of queued events, on the widgets' thread.
        interval: Seconds between two ticks.

    Attributes:
        interval: Seconds between two ticks.
        n_events: Events applied so far.
        n_batches: Calls of ``apply`` so far.
    """

    def __init__(self, apply: Apply, interval: float = DEFAULT_INTERVAL) -> None:
        if not interval > 0:
            raise ValueError(
                f"interval must be a positive number of seconds; got {interval!r}."
            )
        self.interval = float(interval)
        self.n_events = 0
        self.n_batches = 0
        self._apply = apply
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._finished = threading.Event()
        self._flush_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        # An apply interrupted (Ctrl-C) part way: the next flush calls apply
        # again, with no events if none came, so that the view redraws.
        self._retry = False
        self._timer: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return (
            f"Updater(interval={self.interval}, batches={self.n_batches}, "
            f"events={self.n_events}, ticking={self.ticking})"
        )

    def post(self, event: Any) -> None:
        """Queue one event; safe from any thread, never touches a widget."""
        self._queue.put(event)

    def finish(self) -> None:
        """Say that no more events will come; ticks stop once the queue is empty.

        Safe from any thread.
        """
        self._finished.set()

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` was called."""
        return self._finished.is_set()

    @property
    def ticking(self) -> bool:
        """Whether a tick is scheduled on an event loop."""
        return self._timer is not None

    @property
    def pending(self) -> int:
        """Number of queued events not applied yet (approximate while posting)."""
        return self._queue.qsize()

    def flush(self) -> int:
        """Apply every queued event in one batch, on the calling thread.

        Call it only from the thread that owns the widgets.

        If the last call of ``apply`` was interrupted (Ctrl-C while it redrew),
        ``apply`` is called again even with no new events, so that what it had
        taken in is shown.

        Returns:
            How many events were applied (0: none were queued).
        """
        with self._flush_lock:
            events = []
            while True:
                try:
                    events.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not events and not self._retry:
                return 0
            self.n_events += len(events)
            self.n_batches += 1
            try:
                self._apply(events)
            except Exception:
                self._retry = False
                raise
            except BaseException:
                self._retry = True
                raise
            self._retry = False
            return len(events)

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> bool:
        """Tick on an event loop of the calling thread until finished and drained.

        Args:
            loop: The event loop that runs on this thread; by default the
                running loop, or the IPython kernel's loop.

        Returns:
            Whether ticks were scheduled (False without an event loop: then
            someone must call :meth:`flush`).
        """
        loop = loop or kernel_loop()
        if loop is None or loop.is_closed():
            logger.debug("no event loop on this thread; events wait for flush()")
            return False
        self._loop = loop
        if self._timer is None:
            self._timer = loop.call_later(self.interval, self._tick)
        return True

    def stop(self) -> None:
        """Cancel the scheduled tick (queued events stay queued)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        try:
            self.flush()
        except Exception:
            logger.exception("applying queued widget updates failed")
        if self._finished.is_set() and self._queue.empty() and not self._retry:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._timer = self._loop.call_later(self.interval, self._tick)


def kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio event loop of the calling thread, if one runs it.

    Inside a cell or a widget callback of an IPython kernel (ipykernel 6 and 7
    run both on the main thread's asyncio loop) this is that loop. Elsewhere,
    e.g. in a plain IPython shell, it is the kernel's loop when called from the
    main thread, else None.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    if threading.current_thread() is not threading.main_thread():
        return None
    from IPython import get_ipython

    kernel = getattr(get_ipython(), "kernel", None)
    loop = getattr(getattr(kernel, "io_loop", None), "asyncio_loop", None)
    return loop if isinstance(loop, asyncio.AbstractEventLoop) else None


class BackgroundHandle:
    """What run handles share: waiting for a background thread while applying
    its widget updates. Subclasses set ``updater``, ``_owner`` (the widgets'
    thread id) and ``_done`` (an Event), and define ``stop()``."""

    updater: Updater
    _owner: int
    _done: threading.Event

    def stop(self) -> bool:
        raise NotImplementedError

    def _wait_done(self, timeout: float | None) -> bool:
        """Block until done or timeout, flushing updates; Ctrl-C stops the run."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._done.wait(self._slice(deadline)):
                self._flush()
                if deadline is not None and time.monotonic() >= deadline:
                    return False
        except KeyboardInterrupt:
            self.stop()
            raise
        self._flush()
        return True

    def _flush(self) -> None:
        """Apply queued events now, if this is the widgets' thread."""
        if threading.get_ident() == self._owner:
            self.updater.flush()

    def _slice(self, deadline: float | None) -> float:
        if deadline is None:
            return self.updater.interval
        return max(0.0, min(self.updater.interval, deadline - time.monotonic()))
