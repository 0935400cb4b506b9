"""Read-only access to the store, and the parsing of request parameters."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import hptaa_lab.store._store
from hptaa_lab.errors import StoreError
from hptaa_lab.records import TrialRecord, TrialState
from hptaa_lab.server import (
    NoStoreYetError,
    StoreLocation,
    StoreReader,
    check_study_name,
    incumbent_trajectory,
)
from hptaa_lab.server._payloads import parse_page, parse_states
from hptaa_lab.store import TrialStore

from ._seed import CURRENT, PREVIOUS, seed_store


def reader_for(path: Path) -> StoreReader:
    return StoreReader(StoreLocation(path, "a test"))


def test_missing_store_raises_and_creates_nothing(tmp_path: Path) -> None:
    """Check that a missing store is reported and neither file nor folder appears."""
    path = tmp_path / "absent" / "studies.db"

    with pytest.raises(
        NoStoreYetError, match=r"No store at .*absent/studies\.db yet\."
    ):
        reader_for(path).open()

    assert not path.parent.exists()


def test_folder_is_not_a_store(tmp_path: Path) -> None:
    """Check that a folder given as store path is refused with a file example."""
    with pytest.raises(StoreError, match=r"is a folder\. Point HptaaServer\.store"):
        reader_for(tmp_path).open()


def test_store_is_opened_read_only(tmp_path: Path) -> None:
    """Check that the store the reader hands out cannot write."""
    path = seed_store(tmp_path / "studies.db")
    store = reader_for(path).open()

    with pytest.raises(StoreError, match=r"attempt to write a readonly database"):
        store.start_trial(CURRENT, {"lr": 0.1}, "tpe")
    assert store.count_trials(CURRENT)[TrialState.RUNNING] == 0


def test_a_store_it_cannot_write_is_read_as_a_snapshot_and_reopened_when_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a store whose file or folder the server cannot write is read
    without its -wal and -shm files (SQLite refused to read it at all in a
    read-only folder, and the sidebar blamed a missing schema), and that a
    change to the file opens a new snapshot."""
    path = seed_store(tmp_path / "studies.db")
    monkeypatch.setattr(hptaa_lab.store._store, "_writable", lambda p: False)
    reader = reader_for(path)
    assert reader.open().count_trials(CURRENT)[TrialState.RUNNING] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studies.db"]

    with monkeypatch.context() as owner:  # the file's owner may write it
        owner.setattr(hptaa_lab.store._store, "_writable", lambda p: True)
        with TrialStore(str(path)) as writer:
            writer.start_trial(CURRENT, {"lr": 0.1}, "tpe")
    time.sleep(0.01)  # a new modification time, however coarse the clock
    os.utime(path)

    assert reader.open().count_trials(CURRENT)[TrialState.RUNNING] == 1
    reader.close()


def test_replaced_store_file_is_reopened(tmp_path: Path) -> None:
    """Check that the reader opens the new file after the store was replaced."""
    path = seed_store(tmp_path / "studies.db")
    reader = reader_for(path)
    assert reader.open().has_study(PREVIOUS)

    replacement = tmp_path / "other" / "studies.db"
    seed_store(replacement)
    for leftover in tmp_path.glob("studies.db*"):
        leftover.unlink()
    replacement.rename(path)

    assert reader.open().has_study(CURRENT)
    reader.close()


@pytest.mark.parametrize(
    "name",
    ["mlp-v2", "étude_1", "v" * 200, "a/b", "x;y", "x'y", "a--b", "a..b", "a b", "-x"],
)
def test_any_name_a_study_may_have_is_accepted(name: str) -> None:
    """Check that every name a study may have passes (the sidebar listed
    studies the API then refused)."""
    assert check_study_name(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [(".", "a step of the path"), ("..", "a step of the path"), ("a\nb", "control")],
)
def test_dot_steps_and_control_characters_are_refused(name: str, why: str) -> None:
    """Check that "." and ".." (which a browser resolves as path steps) and
    names no study may have are refused."""
    with pytest.raises(ValueError, match=rf"Invalid study name .*{why}"):
        check_study_name(name)


def test_empty_name_is_refused() -> None:
    """Check that an empty name is refused with the allowed length."""
    with pytest.raises(ValueError, match=r"must have 1 to 200 characters; got 0"):
        check_study_name("")


def test_states_parse_case_insensitively_without_duplicates() -> None:
    """Check that states are parsed from repeated and comma-separated values."""
    assert parse_states([]) is None
    assert parse_states(["complete,FAIL", "Complete"]) == [
        TrialState.COMPLETE,
        TrialState.FAIL,
    ]
    with pytest.raises(ValueError, match="Unknown trial state 'done'"):
        parse_states(["done"])


def test_page_defaults_and_bounds() -> None:
    """Check the default page and the largest allowed limit."""
    assert parse_page(None, None) == (0, 100)
    assert parse_page("5", "1000") == (5, 1000)
    with pytest.raises(ValueError, match="limit must be between 1 and 1000; got 1001"):
        parse_page("0", "1001")
    assert parse_page(str(2**63 - 1), None) == (2**63 - 1, 100)
    for offset in (str(2**63), "9" * 100):
        with pytest.raises(ValueError, match="offset must be between 0 and "):
            parse_page(offset, None)
    for text in (" 1", "1_000", "+5", "\u0665", "9" * 101):
        with pytest.raises(ValueError, match="offset must be an integer"):
            parse_page(text, None)


def test_incumbent_trajectory_follows_direction() -> None:
    """Check that the incumbent is the running max when maximizing, and that a
    failed trial keeps the incumbent."""
    values = [None, 0.5, 0.3, None, 0.9]
    trials = [
        TrialRecord(
            number=n,
            config={},
            state=TrialState.FAIL if v is None else TrialState.COMPLETE,
            value=v,
        )
        for n, v in enumerate(values)
    ]

    assert incumbent_trajectory(trials, "maximize") == [None, 0.5, 0.5, 0.5, 0.9]
    assert incumbent_trajectory(trials, "minimize") == [None, 0.5, 0.3, 0.3, 0.3]


def test_trials_left_by_an_ended_process_do_not_make_a_study_running(
    tmp_path: Path, ended_owner: Callable[[str, str, int], None]
) -> None:
    """Check that a RUNNING trial whose process has ended (killed) is counted
    apart, as abandoned, and leaves the study "finished" (the sidebar polled it
    as running for ever), while a trial of a live process keeps it running."""
    from hptaa_lab import create_study
    from hptaa_lab.server._payloads import (
        studies_payload,
        study_payload,
        trials_payload,
    )
    from hptaa_lab.store import TrialStore

    url = f"sqlite:///{tmp_path / 's.db'}"
    study = create_study("v1", {"x": (0.0, 1.0)}, store=url, seed=0)
    study.tell(study.ask(), 0.5)
    store = TrialStore(url)
    store.start_trial("v1", {"x": 0.25}, "random")
    ended_owner(url, "v1", 1)

    listed = studies_payload(store, "a test")["studies"][0]
    detail = study_payload(store, "v1")["study"]
    page = trials_payload(store, "v1", None, 0, 10)["trials"]

    for summary in (listed, detail):
        assert (summary["n_running"], summary["n_abandoned"]) == (0, 1)
        assert summary["state"] == "finished"
    assert [t["process_ended"] for t in page] == [False, True]

    store.start_trial("v1", {"x": 0.75}, "random")  # this live process's
    listed = studies_payload(store, "a test")["studies"][0]
    assert (listed["n_running"], listed["n_abandoned"], listed["state"]) == (
        1,
        1,
        "running",
    )


def test_a_long_trajectory_is_thinned_to_its_steps_and_a_sample() -> None:
    """Check that a study of many trials sends at most MAX_TRAJECTORY points
    (100,000 trials made a 10 MB reply, polled every 2 s), with every trial
    that improved the incumbent, the last trial, and the rest evenly spaced;
    and every point of a short study."""
    from hptaa_lab.server._payloads import MAX_TRAJECTORY, _thinned

    values = [1.0 / (1 + n) if n % 997 == 0 else 2.0 for n in range(20_000)]
    trials = [
        TrialRecord(number=n, config={}, state=TrialState.COMPLETE, value=v)
        for n, v in enumerate(values)
    ]
    trajectory = incumbent_trajectory(trials, "minimize")

    kept = _thinned(trials, trajectory)

    numbers = [trial.number for trial, _ in kept]
    assert len(kept) <= MAX_TRAJECTORY
    assert numbers == sorted(set(numbers))
    assert {n for n in range(20_000) if n % 997 == 0} <= set(numbers)
    assert numbers[-1] == 19_999
    assert max(b - a for a, b in itertools.pairwise(numbers)) <= 25
    assert all(best == trajectory[trial.number] for trial, best in kept)
    assert len(_thinned(trials[:500], trajectory[:500])) == 500
    # At most the cap, also when the spaced sample and the steps do not meet.
    failed_first = [
        TrialRecord(
            number=n,
            config={},
            state=TrialState.FAIL if n == 0 else TrialState.COMPLETE,
            value=None if n == 0 else (1.0 / n if n % 3 == 1 else 5.0),
        )
        for n in range(3000)
    ]
    thinned = _thinned(failed_first, incumbent_trajectory(failed_first, "minimize"))
    assert len(thinned) <= MAX_TRAJECTORY


def test_a_study_reply_names_its_last_error_and_an_ended_twin_run(
    tmp_path: Path,
) -> None:
    """Check that a study's reply carries the last failed trial's error (the
    sidebar showed no reason for a study whose trials all fail), and that a
    finished transfer study that never reached its twin's final incumbent is
    not said to have missed it "yet"."""
    from hptaa_lab import create_study
    from hptaa_lab.server._payloads import study_payload
    from hptaa_lab.store import TrialStore

    url = f"sqlite:///{tmp_path / 's.db'}"
    failing = create_study("f", {"x": (0.0, 1.0)}, store=url, seed=0)
    failing.optimize(lambda c: 1 / 0, n_trials=2)
    create_study("v1", {"x": (0.0, 1.0)}, store=url, seed=0).optimize(
        lambda c: c["x"], n_trials=3
    )
    transfer = create_study(
        "v2",
        {"x": (0.0, 1.0)},
        previous="v1",
        store=url,
        seed=0,
        attrs={"scratch_twin": "v2-scratch"},
    )
    for value in (0.5, 0.4):
        transfer.tell(transfer.ask(), value)
    twin = create_study(
        "v2-scratch", {"x": (0.0, 1.0)}, store=url, seed=0, attrs={"twin_of": "v2"}
    )
    twin.tell(twin.ask(), 0.1)
    store = TrialStore(url)

    last = study_payload(store, "f")["study"]["last_error"]
    twin_reply = study_payload(store, "v2")["twin"]

    assert last == {"number": 1, "error": "ZeroDivisionError: division by zero"}
    assert study_payload(store, "v2")["study"]["last_error"] is None
    assert twin_reply["message"] == (
        "'v2' did not reach the final incumbent of 'v2-scratch' in its 2 complete "
        "trials."
    )
    transfer.ask()  # a trial of this live process runs: it may still reach it
    assert study_payload(store, "v2")["twin"]["message"].endswith(" yet.")
