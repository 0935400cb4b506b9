"""Tests of the magics in a real IPython kernel (ipykernel 7): the cell returns at
once and the updater applies events on the kernel's event loop."""

from __future__ import annotations

import queue
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

TUNE = """\
%%hptaa tune --study k1 --trials 24 --seed 0 --as run
import time
space = {"x": (-2.0, 2.0)}
def objective(config):
    time.sleep(0.05)
    if config["x"] > 1.5:
        raise ValueError("x is too big")
    return config["x"] ** 2
"""


class Kernel:
    """A kernel started from this Python, and a way to run cells in it."""

    def __init__(self) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3")

    def run(self, code: str, timeout: float = 60) -> tuple[str, str]:
        """Run one cell; return its text output and its stderr."""
        msg_id = self.client.execute(textwrap.dedent(code))
        out: list[str] = []
        err: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.client.get_iopub_msg(
                    timeout=max(0.1, deadline - time.monotonic())
                )
            except queue.Empty:
                raise TimeoutError(f"no reply to {code!r} in {timeout} s") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return "".join(out), "".join(err)
            if kind == "stream":
                (err if content["name"] == "stderr" else out).append(content["text"])
            elif kind in ("execute_result", "display_data"):
                out.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                err.append("\n".join(content["traceback"]))

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    """A kernel with %load_ext hptaa_lab and a store in a temporary folder."""
    k = Kernel()
    try:
        k.run(f"%load_ext hptaa_lab\n%hptaa store sqlite:///{tmp_path}/studies.db")
        yield k
    finally:
        k.close()


def wait_until(kernel: Kernel, condition: str, timeout: float = 60) -> None:
    """Poll the kernel (leaving it idle in between) until condition is True."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out, err = kernel.run(f"print({condition})")
        assert not err, err
        if out.strip() == "True":
            return
        time.sleep(0.2)
    raise TimeoutError(f"{condition} still False after {timeout} s")


def test_cell_returns_at_once_and_ticks_update_the_widget(kernel: Kernel) -> None:
    """Check that the tune cell returns before the trials run, that the widget
    follows the run through ticks on the kernel's loop while the kernel idles
    (no wait() call), and that no worker output is printed."""
    out, err = kernel.run(TUNE)

    assert out.startswith("TuneRun 'k1': running")
    assert "24/24" not in out
    wait_until(
        kernel, "run.done and run.updater.pending == 0 and not run.updater.ticking"
    )
    out, err = kernel.run(
        "print(run.view.progress.value, len(run.view.figure.data[0].y), "
        "run.updater.n_batches, run.updater.n_events)"
    )
    progress, points, batches, events = (int(v) for v in out.split())

    assert (progress, points) == (24, 24)
    assert 2 <= batches <= events
    assert "too big" not in err
    out, _ = kernel.run("print(run)")
    assert out.startswith("TuneRun 'k1': finished\n  k1  24/24 trials")
