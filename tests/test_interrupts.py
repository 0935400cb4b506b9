"""Tests of holding back Ctrl-C while a finished trial is written."""

from __future__ import annotations

import signal
from types import FrameType

import pytest

from hptaa_lab._interrupts import interrupts_deferred


def test_sigint_in_the_block_is_raised_after_it(sigint_raises: None) -> None:
    """Check that a SIGINT inside the block lets the block finish, then raises
    KeyboardInterrupt, and that the handler from before is back."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    steps = []

    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        signal.raise_signal(signal.SIGINT)
        steps.append("after the signal")

    assert steps == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_held_back_sigint_goes_to_the_handler_from_before(
    sigint_raises: None,
) -> None:
    """Check that a custom handler installed before the block (a kernel's, say)
    gets the held-back signal once, after the block."""
    calls: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        calls.append(signum)

    signal.signal(signal.SIGINT, handler)
    with interrupts_deferred():
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        assert calls == []

    assert calls == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is handler


def test_ignored_sigint_stays_ignored(sigint_raises: None) -> None:
    """Check that with SIGINT ignored before the block, nothing is raised."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with interrupts_deferred():
        signal.raise_signal(signal.SIGINT)

    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_an_error_in_the_block_restores_the_handler(sigint_raises: None) -> None:
    """Check that an exception from the block passes through unchanged and the
    handler from before is restored."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with pytest.raises(RuntimeError, match="store down"), interrupts_deferred():
        raise RuntimeError("store down")

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_block_sees_a_held_back_signal(sigint_raises: None) -> None:
    """Check that the block gets the signals held back so far (so that it can
    tidy up before the KeyboardInterrupt), and an empty list without one."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    seen = []

    with pytest.raises(KeyboardInterrupt), interrupts_deferred() as received:
        seen.append(list(received))
        signal.raise_signal(signal.SIGINT)
        seen.append(list(received))

    assert seen == [[], [signal.SIGINT]]
