"""Which process runs a trial, and whether that process is still running."""

from __future__ import annotations

import enum
import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Liveness", "TrialOwner", "liveness", "this_process"]

_PROC = Path("/proc")
_BOOT_ID = _PROC / "sys" / "kernel" / "random" / "boot_id"

#: Process states in /proc/<pid>/stat of a process that has ended (zombie, dead).
_ENDED_STATES = ("Z", "X")

#: Index of the start time (clock ticks after boot) among the fields of
#: /proc/<pid>/stat that follow the command name: field 22, the state being 3.
_START_FIELD = 22 - 3


class Liveness(enum.StrEnum):
    """What this process can tell about the process that runs a trial."""

    ALIVE = "alive"
    GONE = "gone"
    UNKNOWN = "unknown"
    """On another host, or on a system this process cannot inspect."""


@dataclass(frozen=True)
class TrialOwner:
    """The process that started a RUNNING trial and is to finish it.

    Attributes:
        host: Its host name.
        pid: Its process id on that host.
        start: What tells this process from a later one with the same pid: on
            Linux the boot id and the process's start time in clock ticks after
            boot; None where the system does not say.
    """

    host: str
    pid: int
    start: str | None = None

    def __str__(self) -> str:
        return f"pid {self.pid} on host {self.host}"


def this_process() -> TrialOwner:
    """The calling process (computed once per process id, so a fork gets its own)."""
    return _identity(os.getpid())


@functools.cache
def _identity(pid: int) -> TrialOwner:
    return TrialOwner(socket.gethostname(), pid, _start_token(pid))


def liveness(owner: TrialOwner) -> Liveness:
    """Whether the process ``owner`` is still running, seen from this process.

    A process on this host is gone when no process has its pid, when that
    process has ended (a zombie), when the machine restarted since (another
    boot id) or when the pid now belongs to a process started at another time.
    """
    here = this_process()
    if owner.host != here.host:
        return Liveness.UNKNOWN
    if _restarted_since(owner, here):
        return Liveness.GONE
    if _PROC.is_dir():
        return _liveness_from_proc(owner)
    if os.name != "posix":
        # NOTE(store): os.kill on Windows ends the process whatever the signal.
        return Liveness.UNKNOWN
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return Liveness.GONE
    except PermissionError:
        return Liveness.ALIVE  # another user's process
    except OSError:
        return Liveness.UNKNOWN
    return Liveness.ALIVE


def _restarted_since(owner: TrialOwner, here: TrialOwner) -> bool:
    """Whether this host booted again since ``owner`` started (boot ids differ)."""
    if owner.start is None or here.start is None:
        return False
    return owner.start.rpartition("/")[0] != here.start.rpartition("/")[0]


def _liveness_from_proc(owner: TrialOwner) -> Liveness:
    fields = _stat_fields(owner.pid)
    if fields is None or fields[0] in _ENDED_STATES:
        return Liveness.GONE
    started = _start_token(owner.pid, fields)
    if owner.start is not None and started is not None and started != owner.start:
        return Liveness.GONE  # the pid was reused
    return Liveness.ALIVE


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name, in parentheses, may itself hold spaces and parentheses.
    return text[text.rfind(")") + 2 :].split()


def _start_token(pid: int, fields: list[str] | None = None) -> str | None:
    """The boot id and start time (clock ticks) of a process, as "boot/ticks"."""
    boot = _boot_id()
    fields = _stat_fields(pid) if fields is None else fields
    if boot is None or fields is None or len(fields) <= _START_FIELD:
        return None
    return f"{boot}/{fields[_START_FIELD]}"


@functools.cache
def _boot_id() -> str | None:
    try:
        return _BOOT_ID.read_text().strip() or None
    except OSError:
        return None
