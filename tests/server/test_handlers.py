"""REST handlers of the server extension, through a real Jupyter server."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from ._seed import CURRENT, PREVIOUS, TWIN, VALUES

Fetch = Callable[..., Awaitable[HTTPResponse]]

ENDPOINTS = [
    ("hptaa", "api", "studies"),
    ("hptaa", "api", "studies", CURRENT),
    ("hptaa", "api", "studies", CURRENT, "trials"),
]


async def get_json(jp_fetch: Fetch, *parts: str, **kwargs: Any) -> Any:
    response = await jp_fetch(*parts, method="GET", **kwargs)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


async def get_error(jp_fetch: Fetch, *parts: str, **kwargs: Any) -> tuple[int, Any]:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(*parts, method="GET", **kwargs)
    response = caught.value.response
    assert response is not None
    return caught.value.code, json.loads(response.body)


@pytest.mark.parametrize("parts", ENDPOINTS)
@pytest.mark.parametrize("authorization", ["", "token not-the-token"])
async def test_requests_without_valid_token_are_refused(
    jp_fetch: Fetch, seeded_store: Path, parts: tuple[str, ...], authorization: str
) -> None:
    """Check that every endpoint answers 403 without the server's token."""
    code, body = await get_error(
        jp_fetch, *parts, headers={"Authorization": authorization}
    )

    assert code == 403
    assert "studies" not in body and "study" not in body


async def test_studies_list_each_study_with_counts_and_links(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that the studies endpoint lists every study with its summary fields."""
    body = await get_json(jp_fetch, "hptaa", "api", "studies")

    assert body["store"] == {"location": str(seeded_store), "exists": True}
    assert body["message"] is None
    by_name = {study["name"]: study for study in body["studies"]}
    assert list(by_name) == [PREVIOUS, CURRENT, TWIN]
    current = by_name[CURRENT]
    assert current["previous"] == PREVIOUS
    assert current["transfer"] == "best-first"
    assert current["n_trials"] == len(VALUES[CURRENT])
    assert current["incumbent_value"] == pytest.approx(0.20)
    assert current["state"] == "finished"
    assert current["created_at"] == "2026-01-05T10:00:00+00:00"
    assert current["scratch_twin"] == TWIN
    assert by_name[TWIN]["twin_of"] == CURRENT
    assert by_name[PREVIOUS]["n_fail"] == 1
    assert by_name[PREVIOUS]["incumbent_value"] == pytest.approx(0.27)


async def test_study_holds_space_mapping_lineage_and_trajectory(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that one study comes with its space, mapping, lineage and incumbents."""
    body = await get_json(jp_fetch, "hptaa", "api", "studies", CURRENT)

    assert body["study"]["name"] == CURRENT
    assert body["study"]["counts"] == {"RUNNING": 0, "COMPLETE": 6, "FAIL": 0}
    assert body["study"]["incumbent_number"] == 5
    names = [hp["name"] for hp in body["space"]["hyperparameters"]]
    assert sorted(names) == ["batch", "lr", "width"]
    assert body["mapping"]["renames"] == {"units": "width"}
    assert body["lineage"] == [CURRENT, PREVIOUS]
    incumbents = [point["incumbent"] for point in body["trajectory"]]
    assert incumbents == pytest.approx([0.26, 0.24, 0.24, 0.21, 0.21, 0.20])


async def test_study_shows_search_space_diff_to_previous(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that the diff names every change, the confirmed rename included."""
    diff = (await get_json(jp_fetch, "hptaa", "api", "studies", CURRENT))["diff"]

    assert diff["previous"] == PREVIOUS
    assert diff["error"] is None
    assert diff["identical"] is False
    kinds = {change["name"]: change["kinds"] for change in diff["changes"]}
    assert kinds == {
        "batch": ["added"],
        "lr": ["widened"],
        "width": ["renamed"],
        "dropout": ["removed"],
    }
    width = next(c for c in diff["changes"] if c["name"] == "width")
    assert width["previous_name"] == "units"
    assert diff["rules_removed"] == [] and diff["rules_added"] == []


async def test_study_without_previous_has_no_diff(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that a first study has no diff and a trajectory that skips failures."""
    body = await get_json(jp_fetch, "hptaa", "api", "studies", PREVIOUS)

    assert body["diff"] is None
    assert body["twin"] is None
    failed = body["trajectory"][2]
    assert failed == {"number": 2, "state": "FAIL", "value": None, "incumbent": 0.35}


@pytest.mark.parametrize("name", [CURRENT, TWIN])
async def test_speedup_against_no_transfer_twin_is_reported_on_both_sides(
    jp_fetch: Fetch, seeded_store: Path, name: str
) -> None:
    """Check that the transfer study and its twin both report the speedup."""
    twin = (await get_json(jp_fetch, "hptaa", "api", "studies", name))["twin"]

    # The twin's final incumbent 0.22 is reached after 6 of its evaluations and
    # after 4 of the transfer study's (0.21 at trial 3).
    assert twin == {
        "transfer_study": CURRENT,
        "no_transfer_study": TWIN,
        "target": pytest.approx(0.22),
        "evaluations_transfer": 4,
        "evaluations_no_transfer": 6,
        "speedup": pytest.approx(1.5),
        "message": None,
    }


async def test_a_twin_whose_study_was_deleted_and_created_again_is_no_twin(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that a kept twin is not compared with a new study that took its
    deleted transfer study's name."""
    from hptaa_lab.records import StudyRecord
    from hptaa_lab.store import TrialStore

    store = TrialStore(f"sqlite:///{seeded_store}")
    space = store.get_study(CURRENT).space_json
    store.delete_study(CURRENT)
    store.create_study(StudyRecord(name=CURRENT, space_json=space))
    store.close()

    body = await get_json(jp_fetch, "hptaa", "api", "studies", TWIN)
    listed = await get_json(jp_fetch, "hptaa", "api", "studies")

    assert body["twin"] is None and body["study"]["twin_of"] is None
    by_name = {s["name"]: s for s in listed["studies"]}
    assert by_name[TWIN]["twin_of"] is None
    assert by_name[CURRENT]["scratch_twin"] is None


async def test_trials_are_paginated_by_number(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that offset and limit page through the trials in number order."""
    parts = ("hptaa", "api", "studies", PREVIOUS, "trials")
    body = await get_json(jp_fetch, *parts, params={"offset": "2", "limit": "3"})

    assert body["total"] == len(VALUES[PREVIOUS])
    assert (body["offset"], body["limit"]) == (2, 3)
    assert [t["number"] for t in body["trials"]] == [2, 3, 4]
    failed = body["trials"][0]
    assert (failed["state"], failed["value"], failed["error"]) == (
        "FAIL",
        None,
        "diverged",
    )
    assert failed["config"] == {"lr": pytest.approx(0.003)}
    assert failed["finished_at"] == "2026-01-05T09:02:30+00:00"


async def test_trials_filter_by_state(jp_fetch: Fetch, seeded_store: Path) -> None:
    """Check that the state parameter keeps only trials in those states."""
    parts = ("hptaa", "api", "studies", PREVIOUS, "trials")
    body = await get_json(jp_fetch, *parts, params={"state": "fail"})

    assert body["states"] == ["FAIL"]
    assert body["total"] == 1
    assert [t["number"] for t in body["trials"]] == [2]


@pytest.mark.parametrize(
    "name",
    [
        "../studies.db",
        "a/b",
        "mlp-v1'; DROP TABLE studies; --",
        'say "hi"',
        "mlp%",
        "a b",
        "mlp--v1",
        "v2--scratch",
        "-v1",
        "<b>x</b>",
    ],
)
async def test_any_study_name_is_served_percent_encoded(
    jp_fetch: Fetch,
    http_server_client: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    seeded_store: Path,
    name: str,
) -> None:
    """Check that a study of any name a study may have (the sidebar listed
    "v2--scratch", "-x" and "a/b" and then refused them with 400) is served
    when its name comes percent-encoded, as the sidebar sends it, with its
    trials; bound parameters keep SQL out of it, and an unknown such name is
    404, not a path into the server."""
    from urllib.parse import quote

    from hptaa_lab import create_study

    url = f"sqlite:///{seeded_store}"
    study = create_study(name, {"x": (0.0, 1.0)}, store=url, seed=0)
    study.tell(study.ask(), 0.25)
    study.close()

    async def fetch(study: str, *rest: str) -> Any:
        # As the sidebar sends it (jp_fetch would encode the "%" once more).
        path = "/".join(["hptaa/api/studies", quote(study, safe=""), *rest])
        return await http_server_client.fetch(
            jp_base_url + path, headers=jp_auth_header, raise_error=False
        )

    body = json.loads((await fetch(name)).body)
    page = json.loads((await fetch(name, "trials")).body)
    missing = await fetch(name + "-x")

    assert body["study"]["name"] == name and body["study"]["n_trials"] == 1
    assert page["study"] == name and [t["value"] for t in page["trials"]] == [0.25]
    assert missing.code == 404
    assert "No study named" in json.loads(missing.body)["message"]


async def test_too_long_study_name_gets_400(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that a name longer than 200 characters is refused with 400."""
    code, body = await get_error(jp_fetch, "hptaa", "api", "studies", "a" * 201)

    assert code == 400
    assert "A study name must have 1 to 200 characters; got 201" in body["message"]


@pytest.mark.parametrize("suffix", [(), ("trials",)])
async def test_unknown_study_gets_404(
    jp_fetch: Fetch, seeded_store: Path, suffix: tuple[str, ...]
) -> None:
    """Check that a valid but unknown name gets 404 with a JSON message."""
    code, body = await get_error(jp_fetch, "hptaa", "api", "studies", "mlp-v9", *suffix)

    assert code == 404
    assert body == {
        "status": 404,
        "reason": "Not Found",
        "message": f"No study named 'mlp-v9' in the trial store at {seeded_store}. "
        "The sidebar lists the existing studies.",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"offset": "-1"}, "offset must be between 0 and 9223372036854775807; got -1."),
        (
            {"offset": "9223372036854775808"},
            "offset must be between 0 and 9223372036854775807; got 9223372036854775808.",
        ),
        ({"offset": "1_000"}, "offset must be an integer; got '1_000'."),
        ({"limit": "+5"}, "limit must be an integer; got '+5'."),
        ({"limit": "\u0665"}, "limit must be an integer; got '\u0665'."),
        ({"limit": "0"}, "limit must be between 1 and 1000; got 0."),
        ({"limit": "ten"}, "limit must be an integer; got 'ten'."),
        ({"state": "DONE"}, "Unknown trial state 'DONE' in the state parameter."),
    ],
)
async def test_bad_page_parameters_get_400(
    jp_fetch: Fetch, seeded_store: Path, params: dict[str, str], message: str
) -> None:
    """Check that bad offset, limit or state values get 400 saying what is valid."""
    parts = ("hptaa", "api", "studies", PREVIOUS, "trials")
    code, body = await get_error(jp_fetch, *parts, params=params)

    assert code == 400
    assert message in body["message"]


async def test_missing_store_is_reported_and_not_created(
    jp_fetch: Fetch, store_path: Path
) -> None:
    """Check that without a store the list says so, a study gets 404, and no file
    or folder is created."""
    body = await get_json(jp_fetch, "hptaa", "api", "studies")
    code, error = await get_error(jp_fetch, "hptaa", "api", "studies", CURRENT)

    assert body["studies"] == []
    assert body["store"] == {"location": str(store_path), "exists": False}
    assert (
        body["message"]
        == f"No store at {store_path} yet. Run a study and it appears here."
    )
    assert code == 404
    # Each "%" as written (tornado doubles them in a message without arguments).
    assert error["message"] == (
        f"No store at {store_path} yet. Run a study that keeps its trials there "
        "(e.g. %%hptaa tune with that store) and it appears here."
    )
    assert not store_path.parent.exists()


async def test_corrupt_store_gets_503_with_readable_message(
    jp_fetch: Fetch, store_path: Path
) -> None:
    """Check that a file that is not a database gives 503 and a message naming it."""
    store_path.parent.mkdir()
    store_path.write_text("these are not the studies you are looking for\n" * 100)

    for parts in ENDPOINTS:
        code, body = await get_error(jp_fetch, *parts)

        assert code == 503
        assert body["message"] == (
            f"Cannot read the trial store at {store_path}: the file is not a SQLite "
            "database. Move it away, or point HptaaServer.store (or HPTAA_STORE) at "
            "a trial store."
        )


async def test_empty_database_file_is_not_given_tables(
    jp_fetch: Fetch, store_path: Path
) -> None:
    """Check that an empty SQLite file gets a message, not a schema."""
    store_path.parent.mkdir()
    store_path.touch()

    code, body = await get_error(jp_fetch, "hptaa", "api", "studies")

    assert code == 503
    assert "it has no hptaa_lab tables yet" in body["message"]
    assert store_path.stat().st_size == 0


async def test_server_never_writes_to_the_store(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that the store's file is byte for byte the same after every endpoint."""
    before = hashlib.sha256(seeded_store.read_bytes()).hexdigest()
    mtime = seeded_store.stat().st_mtime_ns

    for parts in ENDPOINTS:
        await get_json(jp_fetch, *parts)
    await get_json(jp_fetch, "hptaa", "api", "studies", PREVIOUS, "trials")

    assert hashlib.sha256(seeded_store.read_bytes()).hexdigest() == before
    assert seeded_store.stat().st_mtime_ns == mtime


@pytest.fixture
def other_store(tmp_path: Path) -> Path:
    from ._seed import seed_store

    return seed_store(tmp_path / "elsewhere" / "team.db")


@pytest.mark.parametrize(
    "jp_server_config",
    [
        {
            "ServerApp": {"jpserver_extensions": {"hptaa_lab.server": True}},
            "HptaaServer": {"store": "../elsewhere/team.db"},
        }
    ],
)
async def test_store_setting_names_another_store(
    jp_fetch: Fetch, other_store: Path, store_path: Path
) -> None:
    """Check that HptaaServer.store, relative to the root folder, is the one read."""
    body = await get_json(jp_fetch, "hptaa", "api", "studies")

    assert Path(body["store"]["location"]).resolve() == other_store.resolve()
    assert [s["name"] for s in body["studies"]] == [PREVIOUS, CURRENT, TWIN]


@pytest.fixture
def store_variable(other_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HPTAA_STORE set to the other store's URL (before the server starts)."""
    monkeypatch.setenv("HPTAA_STORE", f"sqlite:///{other_store}")
    return other_store


async def test_store_variable_names_another_store(
    store_variable: Path, jp_fetch: Fetch
) -> None:
    """Check that HPTAA_STORE (a sqlite:/// URL) is read when no setting is given."""
    body = await get_json(jp_fetch, "hptaa", "api", "studies")

    assert body["store"]["location"] == str(store_variable)
    assert len(body["studies"]) == 3


@pytest.mark.parametrize(
    "jp_server_config",
    [
        {
            "ServerApp": {"jpserver_extensions": {"hptaa_lab.server": True}},
            "HptaaServer": {"store": "postgresql://team@db.invalid/hpo"},
        }
    ],
)
async def test_non_sqlite_store_setting_gets_503_saying_why(jp_fetch: Fetch) -> None:
    """Check that a store URL the sidebar cannot read is reported, not guessed at."""
    code, body = await get_error(jp_fetch, "hptaa", "api", "studies")

    assert code == 503
    assert body["message"] == (
        "The trial store 'postgresql://team@db.invalid/hpo' from the "
        "HptaaServer.store setting is not a SQLite file; the sidebar reads SQLite "
        "stores only. Give a SQLite file path or a sqlite:///path/to/studies.db URL, "
        "then restart the server."
    )


async def test_list_follows_a_running_study_without_restart(
    jp_fetch: Fetch, seeded_store: Path
) -> None:
    """Check that trials written by another process show up in the next reply,
    with the study's state "running" while a trial runs."""
    from hptaa_lab.records import TrialState
    from hptaa_lab.store import TrialStore

    first = await get_json(jp_fetch, "hptaa", "api", "studies")
    with TrialStore(f"sqlite:///{seeded_store}") as writer:
        trial = writer.start_trial(CURRENT, {"lr": 0.01}, "best-first")
        during = await get_json(jp_fetch, "hptaa", "api", "studies")
        writer.finish_trial(CURRENT, trial.number, TrialState.COMPLETE, 0.1)
    after = await get_json(jp_fetch, "hptaa", "api", "studies")

    def current(body: Any) -> dict[str, Any]:
        return next(s for s in body["studies"] if s["name"] == CURRENT)

    assert current(first)["state"] == "finished"
    assert (current(during)["state"], current(during)["n_running"]) == ("running", 1)
    assert current(during)["n_trials"] == len(VALUES[CURRENT]) + 1
    assert current(after)["state"] == "finished"
    assert current(after)["incumbent_value"] == pytest.approx(0.1)
