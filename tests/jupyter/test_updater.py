"""Tests of the single UI updater: batching, threads, ticks on an event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from hptaa_lab.jupyter import Updater


class Recorder:
    """An apply function that records each batch and the thread it ran on."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.threads: set[int] = set()

    def __call__(self, events: list[Any]) -> None:
        self.batches.append(list(events))
        self.threads.add(threading.get_ident())


def test_flush_applies_a_burst_of_events_in_one_batch() -> None:
    """Check that 500 queued events reach apply in one call, in order."""
    recorder = Recorder()
    updater = Updater(recorder)
    for i in range(500):
        updater.post(i)

    assert updater.flush() == 500
    assert recorder.batches == [list(range(500))]
    assert updater.flush() == 0
    assert len(recorder.batches) == 1
    assert (updater.n_batches, updater.n_events) == (1, 500)


def test_events_posted_from_threads_are_applied_on_the_flushing_thread() -> None:
    """Check that events from 8 threads all arrive, applied on this thread only."""
    recorder = Recorder()
    updater = Updater(recorder)

    def work(k: int) -> None:
        for i in range(100):
            updater.post((k, i))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        updater.flush()
    updater.flush()

    events = [e for batch in recorder.batches for e in batch]
    assert sorted(events) == [(k, i) for k in range(8) for i in range(100)]
    assert recorder.threads == {threading.get_ident()}


def test_ticks_on_an_event_loop_turn_a_stream_into_few_batches() -> None:
    """Check that 400 events posted over ~0.6 s become at most a few batches a
    second on the loop's thread, and that ticks stop once finished and drained."""
    recorder = Recorder()
    updater = Updater(recorder, interval=0.1)

    def producer() -> None:
        for i in range(400):
            updater.post(i)
            time.sleep(0.0015)
        updater.finish()

    async def main() -> float:
        assert updater.start(asyncio.get_running_loop())
        started = time.monotonic()
        thread = threading.Thread(target=producer)
        thread.start()
        while updater.ticking:
            await asyncio.sleep(0.02)
        thread.join()
        return time.monotonic() - started

    elapsed = asyncio.run(main())

    events = [e for batch in recorder.batches for e in batch]
    assert events == list(range(400))
    assert len(recorder.batches) <= elapsed / 0.1 + 2
    assert len(recorder.batches) < 40
    assert recorder.threads == {threading.get_ident()}
    assert not updater.ticking


def test_start_without_an_event_loop_leaves_flushing_to_the_caller() -> None:
    """Check that start() outside any event loop schedules nothing."""
    recorder = Recorder()
    updater = Updater(recorder)
    updater.post("event")

    assert updater.start() is False
    assert not updater.ticking
    assert updater.pending == 1
    assert updater.flush() == 1


def test_a_failing_apply_does_not_stop_the_ticks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that an apply that raises is logged and the next tick still runs."""
    calls: list[list[Any]] = []

    def apply(events: list[Any]) -> None:
        calls.append(events)
        if len(calls) == 1:
            raise RuntimeError("broken widget")

    updater = Updater(apply, interval=0.02)

    async def main() -> None:
        updater.start(asyncio.get_running_loop())
        updater.post(1)
        await asyncio.sleep(0.1)
        updater.post(2)
        updater.finish()
        while updater.ticking:
            await asyncio.sleep(0.01)

    asyncio.run(main())

    assert calls == [[1], [2]]
    assert "applying queued widget updates failed" in caplog.text


def test_updater_refuses_a_non_positive_interval() -> None:
    """Check the error for interval=0."""
    with pytest.raises(
        ValueError, match="interval must be a positive number of seconds; got 0"
    ):
        Updater(lambda events: None, interval=0)


def test_an_interrupted_apply_is_called_again_without_new_events() -> None:
    """Check that after Ctrl-C inside apply the next flush calls apply again,
    with no events, and that a completed apply does not repeat."""
    calls: list[list[Any]] = []

    def apply(events: list[Any]) -> None:
        calls.append(list(events))
        if len(calls) == 1:
            raise KeyboardInterrupt

    updater = Updater(apply)
    updater.post(1)
    with pytest.raises(KeyboardInterrupt):
        updater.flush()

    assert updater.flush() == 0
    assert updater.flush() == 0
    assert calls == [[1], []]


def test_ticks_go_on_after_finish_until_an_interrupted_apply_is_redone() -> None:
    """Check that a finished, drained updater whose last apply was interrupted
    still ticks once more to call apply again."""
    calls: list[list[Any]] = []

    def apply(events: list[Any]) -> None:
        calls.append(list(events))
        if len(calls) == 1:
            raise KeyboardInterrupt

    updater = Updater(apply, interval=0.02)

    async def main() -> None:
        updater.start(asyncio.get_running_loop())
        updater.post(1)
        updater.finish()
        with pytest.raises(KeyboardInterrupt):
            updater.flush()  # as run.wait() does on the widgets' thread
        while updater.ticking:
            await asyncio.sleep(0.01)

    asyncio.run(main())

    assert calls == [[1], []]
