"""Route what run threads log to their run's widget instead of stderr."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from hptaa_lab.jupyter._live import Note

__all__ = ["LOG_ROUTER", "LogRouter"]


class LogRouter(logging.Handler):
    """Sends what run threads log to their run's widget, not to stderr.

    Installed once on the ``hptaa_lab`` logger. A warning or error logged by a
    run thread becomes a Note event of that run. Any other record is printed
    as Python prints it when no handler is configured, and only then, so this
    handler changes nothing outside run threads.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._routes: dict[str, Callable[[Any], None]] = {}
        self._installed = False
        self._install_lock = threading.Lock()

    def install(self) -> None:
        """Attach the handler to the ``hptaa_lab`` logger (once)."""
        with self._install_lock:
            if not self._installed:
                logging.getLogger("hptaa_lab").addHandler(self)
                self._installed = True

    def route(self, thread_name: str, post: Callable[[Any], None]) -> None:
        """Send records of the thread called ``thread_name`` to ``post``."""
        self._routes[thread_name] = post

    def unroute(self, thread_name: str) -> None:
        """Stop routing a thread's records."""
        self._routes.pop(thread_name, None)

    def emit(self, record: logging.LogRecord) -> None:
        post = self._routes.get(record.threadName or "")
        if post is not None:
            post(
                Note(
                    f"{record.levelname.lower()}: {record.getMessage()}",
                    record.levelno >= logging.ERROR,
                )
            )
        elif logging.lastResort is not None and not self._others_handle(record):
            logging.lastResort.handle(record)

    def _others_handle(self, record: logging.LogRecord) -> bool:
        """Whether a handler other than this one sees the record."""
        logger_: logging.Logger | None = logging.getLogger(record.name)
        while logger_ is not None:
            if any(h is not self for h in logger_.handlers):
                return True
            if not logger_.propagate:
                return False
            logger_ = logger_.parent
        return False


#: The router every run uses.
LOG_ROUTER = LogRouter()
