"""Resuming a study while another process still runs it, on every store backend:
load_study must not fail the trials of a live writer, nor lose their results."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import hptaa_lab.store
from hptaa_lab import TrialState, create_study, load_study
from hptaa_lab.store import TrialOwner, _process

REPO_ROOT = Path(hptaa_lab.store.__file__).resolve().parents[2]

#: Loads the study, starts one trial, says which, and finishes it with 0.25 once
#: the file named by its third argument exists.
WRITER_SCRIPT = textwrap.dedent(
    """
    import logging, pathlib, sys, time
    import hptaa_lab

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    url, name, go = sys.argv[1:]
    study = hptaa_lab.load_study(name, store=url)
    trial = study.ask()
    print(trial.number, trial.config["a"], flush=True)
    deadline = time.monotonic() + 60
    while not pathlib.Path(go).exists():
        if time.monotonic() > deadline:
            sys.exit("the test never said go")
        time.sleep(0.02)
    finished = study.tell(trial, 0.25)
    print(finished.state, finished.value, flush=True)
    """
)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh store holding the study "live" (a in {0, 1}, random)."""
    if request.param == "postgresql":
        store_url = request.getfixturevalue("postgres_url")
    else:
        store_url = f"sqlite:///{tmp_path / 'studies.db'}"
    create_study("live", {"a": [0, 1]}, sampler="random", store=store_url, seed=0)
    yield store_url


class Writer:
    """A second process running the study, stopped in the middle of a trial."""

    def __init__(self, url: str, folder: Path) -> None:
        self.go = folder / "go"
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, url, "live", str(self.go)],
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        number, a = self.process.stdout.readline().split()
        self.number, self.a = int(number), int(a)

    def finish(self) -> tuple[str, str]:
        """Let the writer finish its trial; return its output and its log."""
        self.go.touch()
        out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err
        return out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=30)


@pytest.fixture
def writer(url: str, tmp_path: Path) -> Iterator[Writer]:
    running = Writer(url, tmp_path)
    yield running
    running.kill()


def test_resume_keeps_the_trial_of_a_live_writer_running_and_learns_its_result(
    url: str, writer: Writer, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that load_study beside a live writer leaves its trial RUNNING (with a
    warning), treats it as pending, and lets the writer store its result, which
    the resumed study then takes in."""
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        resumed = load_study("live", store=url)

    (trial,) = resumed.trials
    assert (trial.number, trial.state) == (writer.number, TrialState.RUNNING)
    owner = f"another process (pid {writer.process.pid} on host "
    assert f"study live is still being run by {owner}" in caplog.text
    assert "its trial(s) 0 stay RUNNING and count as pending here" in caplog.text
    mine = resumed.ask()
    assert mine.config["a"] == 1 - writer.a  # the writer's configuration is pending

    out, _ = writer.finish()

    assert out.strip() == "COMPLETE 0.25"
    resumed.tell(mine, 0.5)
    resumed.ask()
    stored = resumed.store.get_trials("live")
    assert [t.state for t in stored[:2]] == [TrialState.COMPLETE] * 2
    assert resumed.trials[0] == stored[0] and stored[0].value == 0.25
    assert resumed.sampler.n_observed == 2
    resumed.close()


def test_writer_keeps_its_result_when_a_resume_from_another_host_failed_its_trial(
    url: str,
    writer: Writer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that a resume that cannot check the writer (it runs on "another
    host") fails its trial with a warning, and that the writer's result then
    replaces that failure instead of being refused and lost."""
    elsewhere = TrialOwner("another-host.example", os.getpid(), None)
    monkeypatch.setattr(_process, "_identity", lambda pid: elsewhere)
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        resumed = load_study("live", store=url)
    monkeypatch.undo()

    assert resumed.trials[0].state == TrialState.FAIL
    assert "cannot be checked from this host" in caplog.text
    assert "its results are still stored as its trials finish" in caplog.text

    out, err = writer.finish()

    assert out.strip() == "COMPLETE 0.25"
    assert "was marked FAIL by another process while this process still ran it" in err
    (stored,) = resumed.store.get_trials("live")
    assert (stored.state, stored.value, stored.error) == (
        TrialState.COMPLETE,
        0.25,
        None,
    )
    resumed.close()
