"""Where the server extension looks for the trial store."""

from __future__ import annotations

from pathlib import Path

import pytest

from hptaa_lab.server import DEFAULT_STORE, STORE_ENV, locate_store


def test_default_store_is_under_the_server_root(tmp_path: Path) -> None:
    """Check that without setting or variable the store is <root>/.hptaa/studies.db."""
    location = locate_store("", {}, tmp_path)

    assert location.path == tmp_path / ".hptaa" / "studies.db"
    assert location.path == tmp_path / DEFAULT_STORE
    assert location.source == "the default location"
    assert location.problem is None


def test_variable_path_is_resolved_against_the_root(tmp_path: Path) -> None:
    """Check that a relative HPTAA_STORE path is taken relative to the root."""
    location = locate_store("", {STORE_ENV: "stores/team.db"}, tmp_path)

    assert location.path == tmp_path / "stores" / "team.db"
    assert location.source == "the HPTAA_STORE variable"


def test_setting_wins_over_variable(tmp_path: Path) -> None:
    """Check that the HptaaServer.store setting is used before HPTAA_STORE."""
    location = locate_store("/data/a.db", {STORE_ENV: "/data/b.db"}, tmp_path)

    assert location.path == Path("/data/a.db")
    assert location.source == "the HptaaServer.store setting"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sqlite:////data/hpo/studies.db", "/data/hpo/studies.db"),
        ("sqlite:///rel/studies.db", "ROOT/rel/studies.db"),
        ("~/hpo.db", "HOME/hpo.db"),
        ("sqlite:///file:rel/uri.db?uri=true", "ROOT/rel/uri.db"),
        ("sqlite:///file:/data/uri.db?mode=ro&uri=true", "/data/uri.db"),
    ],
)
def test_sqlite_urls_and_home_paths_are_understood(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    """Check that sqlite:/// URLs and ~ paths give the file they name."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = expected.replace("ROOT", str(tmp_path / "root"))
    expected = expected.replace("HOME", str(tmp_path / "home"))

    location = locate_store(value, {}, tmp_path / "root")

    assert location.path == Path(expected)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("postgresql://team@db/hpo", "is not a SQLite file"),
        ("sqlite://", "is not a SQLite file"),
        ("sqlite:///:memory:", "is not a SQLite file"),
        ("sqlite:///file::memory:?uri=true", "is an in-memory database"),
        ("sqlite:///file:x.db?mode=memory&uri=true", "is an in-memory database"),
        ("sqlite://me:s3cret@/s.db", "names a user or password"),
        ("::not a url://x", "is not a URL"),
    ],
)
def test_unusable_store_values_give_a_problem(
    tmp_path: Path, value: str, why: str
) -> None:
    """Check that a value the sidebar cannot read is explained, with no path."""
    location = locate_store("", {STORE_ENV: value}, tmp_path)

    assert location.path is None
    assert location.problem is not None
    assert why in location.problem
    assert "the HPTAA_STORE variable" in location.problem
    assert "s3cret" not in location.problem
