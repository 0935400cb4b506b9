"""Tests of the liveness check of the process that runs a trial."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hptaa_lab.store import TrialOwner, this_process
from hptaa_lab.store._process import Liveness, liveness

linux_only = pytest.mark.skipif(
    not Path("/proc/self/stat").is_file(), reason="needs Linux's /proc"
)


def _pid_that_cannot_exist() -> int:
    """A pid above the kernel's largest one, so no process has it."""
    pid_max = Path("/proc/sys/kernel/pid_max")
    return int(pid_max.read_text()) + 1 if pid_max.is_file() else 2**22 + 1


def test_this_process_is_alive() -> None:
    """Check that this process names its host and pid and is seen as alive."""
    me = this_process()

    assert (me.host, me.pid) == (socket.gethostname(), os.getpid())
    assert liveness(me) is Liveness.ALIVE
    assert str(me) == f"pid {os.getpid()} on host {me.host}"


def test_process_with_a_dead_pid_is_gone() -> None:
    """Check that a pid no process has, on this host, is gone."""
    owner = TrialOwner(this_process().host, _pid_that_cannot_exist(), None)

    assert liveness(owner) is Liveness.GONE


def test_process_that_ended_and_was_reaped_is_gone() -> None:
    """Check that a child process that exited is gone once its parent reaped it."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)

    assert liveness(TrialOwner(this_process().host, child.pid)) is Liveness.GONE


@linux_only
def test_process_that_ended_but_is_a_zombie_is_gone() -> None:
    """Check that an exited child not yet reaped (a zombie) counts as gone."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        stat = Path(f"/proc/{child.pid}/stat")
        deadline = time.monotonic() + 30
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.01)
        owner = TrialOwner(this_process().host, child.pid)

        assert liveness(owner) is Liveness.GONE
    finally:
        child.wait(30)


@linux_only
def test_pid_reused_by_a_later_process_is_gone() -> None:
    """Check that a pid now held by a process started at another time is gone."""
    me = this_process()
    assert me.start is not None
    boot, _, ticks = me.start.rpartition("/")
    earlier = TrialOwner(me.host, me.pid, f"{boot}/{int(ticks) - 1}")

    assert liveness(earlier) is Liveness.GONE


@linux_only
def test_process_from_before_a_restart_of_this_host_is_gone() -> None:
    """Check that a process recorded under another boot id of this host is gone,
    even if a process has its pid now."""
    me = this_process()
    before = TrialOwner(me.host, me.pid, "00000000-0000-0000-0000-000000000000/1")

    assert liveness(before) is Liveness.GONE


def test_process_on_another_host_cannot_be_checked() -> None:
    """Check that a process on another host is neither alive nor gone to us."""
    owner = TrialOwner(this_process().host + "-elsewhere", os.getpid(), None)

    assert liveness(owner) is Liveness.UNKNOWN
