"""Tests of the records shared across modules: the one-line error summary."""

from __future__ import annotations

import traceback

from hptaa_lab.records import error_summary


def _traceback_of(exc: BaseException) -> str:
    try:
        raise exc
    except BaseException as raised:
        return "".join(traceback.format_exception(raised))


def test_error_summary_keeps_the_exception_line_of_a_traceback() -> None:
    """Check that the summary is the exception's first line with its type, not
    the last line of a message that goes on over several lines."""
    text = _traceback_of(ValueError("All the 5 fits failed.\nBelow are more details"))

    assert error_summary(text) == "ValueError: All the 5 fits failed. ..."
    assert error_summary(_traceback_of(KeyError("k"))) == "KeyError: 'k'"
    assert error_summary(_traceback_of(ValueError("\nstarts below\nmore"))) == (
        "ValueError: starts below ..."
    )


def test_error_summary_of_an_exception_group_is_its_own_line() -> None:
    """Check that an exception group's traceback (drawn with "| " in front) is
    summed up by the group's line, not by its first drawn line."""
    group = ExceptionGroup("2 folds failed", [ValueError("a"), KeyError("b")])

    assert error_summary(_traceback_of(group)) == (
        "ExceptionGroup: 2 folds failed (2 sub-exceptions)"
    )


def test_error_summary_of_a_plain_message_and_of_nothing() -> None:
    """Check an error that is no traceback, a width limit, and no error."""
    assert error_summary("cancelled: the study was stopped") == (
        "cancelled: the study was stopped"
    )
    assert error_summary("x" * 100, width=10) == "xxxxxxx..."
    assert error_summary(None) == error_summary("  \n") == ""


def test_twin_links_hold_only_both_ways() -> None:
    """Check that a twin link counts only while the named study exists and
    names this one back."""
    from hptaa_lab.records import StudyRecord, twin_links

    v2 = StudyRecord("v2", "{}", attrs={"scratch_twin": "v2-scratch"})
    twin = StudyRecord("v2-scratch", "{}", attrs={"twin_of": "v2"})
    stranger = StudyRecord("v2", "{}")
    both = {r.name: r for r in (v2, twin)}

    assert twin_links(v2, both.get) == {"scratch_twin": "v2-scratch", "twin_of": None}
    assert twin_links(twin, both.get) == {"scratch_twin": None, "twin_of": "v2"}
    assert twin_links(twin, {"v2": stranger}.get)["twin_of"] is None
    assert twin_links(v2, {}.get)["scratch_twin"] is None
