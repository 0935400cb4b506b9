"""Argument types shared by the ``hptaa`` command and the ``%hptaa`` magics."""

from __future__ import annotations

import argparse

__all__ = ["count_int", "name_list", "positive_int", "positive_int_list", "seed_int"]


def positive_int(text: str) -> int:
    """Parse a positive integer, or raise the error argparse prints with the usage."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def count_int(text: str) -> int:
    """Parse a count: an integer of 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected 0 or a positive integer, got {text!r}"
        )
    return value


def seed_int(text: str) -> int:
    """Parse a sampler seed: an integer from 0 to 2**62 - 1."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**62:
        raise argparse.ArgumentTypeError(
            f"expected a seed from 0 to 2**62 - 1, got {text!r}"
        )
    return value


def name_list(text: str) -> list[str]:
    """Parse a comma-separated list of names (at least one)."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list, got {text!r}"
        )
    return items


def positive_int_list(text: str) -> list[int]:
    """Parse comma-separated positive integers such as 10,20,40."""
    items = [item.strip() for item in text.split(",")]
    try:
        values = [int(item) for item in items]
    except ValueError:
        values = []
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 10,20,40, got {text!r}"
        )
    return values
