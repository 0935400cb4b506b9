"""The "HPO studies" sidebar in a real JupyterLab, driven by Chromium.

JupyterLab runs on 127.0.0.1 with a token over a folder whose store holds a
previous study, a current study that transfers from it (with one trial still
running) and the current study's no-transfer twin.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from server._seed import CURRENT, PREVIOUS, TWIN, seed_store

from ._lab_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LabServer,
    labextension_installed,
    running_lab,
    write_notebook,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: install Debian's chromium package "
        "(apt-get install chromium) to run the browser tests",
    ),
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (dev extra)"
)
expect = sync_api.expect

#: Where the screenshot of the sidebar goes (build/ is not versioned).
SCREENSHOT = (
    Path(__file__).resolve().parents[2] / "build" / "screenshots" / "sidebar.png"
)

_STUDIES_LIST = re.compile(r".*/hptaa/api/studies(\?.*)?$")
_TIMEOUT_MS = 30_000
_EXPECT_DEFAULT_MS = 5_000


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab over a folder with the seeded store and a notebook."""
    if not labextension_installed():
        pytest.fail(
            "The hptaa-lab labextension is not installed in this environment; "
            "`pip install -e .` (or `make test`) builds and installs it."
        )
    root = tmp_path_factory.mktemp("lab-root")
    store_path = seed_store(root / ".hptaa" / "studies.db")
    _add_maximised_study(store_path)
    _start_running_trial(store_path)
    write_notebook(root / "demo.ipynb")
    with running_lab(root, tmp_path_factory.mktemp("lab-home")) as server:
        yield server


@pytest.fixture(scope="module")
def page(lab: LabServer) -> Iterator[sync_api.Page]:
    """Chromium showing the notebook, with the HPO studies sidebar open."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(_TIMEOUT_MS)
        # Assertions wait as long as actions do on this shared 2-core machine;
        # the default is restored for other test modules.
        expect.set_options(timeout=_TIMEOUT_MS)
        try:
            tab = context.new_page()
            tab.goto(lab.lab_url("demo.ipynb"))
            expect(tab.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible(
                timeout=2 * _TIMEOUT_MS
            )
            open_sidebar(tab)
            yield tab
        finally:
            expect.set_options(timeout=_EXPECT_DEFAULT_MS)
            browser.close()


def open_sidebar(page: sync_api.Page) -> None:
    """Show the HPO studies panel (its tab toggles it)."""
    panel = page.locator("#hptaa-lab-studies")
    if not panel.is_visible():
        page.locator('.lm-TabBar-tab[data-id="hptaa-lab-studies"]').click()
    expect(panel).to_be_visible()


MAXIMISED = "accuracy-v1"


def _add_maximised_study(store_path: Path) -> None:
    """A study that maximises its objective, beside the seeded ones; its values
    are small (below 1e-5), so their axis labels are long in plain digits."""
    from hptaa_lab import create_study

    study = create_study(
        MAXIMISED,
        {"x": (0.0, 1.0)},
        direction="maximize",
        store=f"sqlite:///{store_path}",
        seed=0,
    )
    study.optimize(lambda config: 1e-5 * config["x"], n_trials=3)
    study.close()


def row(page: sync_api.Page, name: str) -> sync_api.Locator:
    return page.locator(f'.hptaa-StudyRow[data-study="{name}"]')


def test_sidebar_shows_lineage_previous_to_current(page: sync_api.Page) -> None:
    """Check that the current study sits under its previous one, with counts,
    incumbent and transfer method, and the twin is listed too."""
    nested = page.locator(
        f'.hptaa-Study[data-study="{PREVIOUS}"] > .hptaa-Children > '
        f'.hptaa-Study[data-study="{CURRENT}"]'
    )

    expect(nested).to_have_count(1)
    expect(row(page, PREVIOUS)).to_contain_text("8 trials, 1 failed")
    expect(row(page, PREVIOUS)).to_contain_text("incumbent 0.27")
    expect(row(page, CURRENT)).to_contain_text("best-first")
    expect(row(page, CURRENT)).to_contain_text("running")
    expect(row(page, CURRENT)).to_contain_text("incumbent 0.2")
    expect(row(page, TWIN)).to_contain_text("no transfer (twin)")


def test_selecting_a_study_shows_chart_diff_and_speedup(page: sync_api.Page) -> None:
    """Check that selecting the current study shows its incumbent chart, its
    search-space diff to the previous study and the speedup against its twin."""
    row(page, CURRENT).click()
    detail = page.locator(".hptaa-Detail")

    expect(detail.locator(".hptaa-DetailTitle")).to_have_text(CURRENT)
    expect(detail.locator(".hptaa-Chart polyline.hptaa-Chart-incumbent")).to_have_count(
        1
    )
    assert detail.locator(".hptaa-Chart circle.hptaa-Chart-dot").count() >= 6
    diff = detail.locator(".hptaa-DiffTable")
    expect(diff).to_contain_text("units → width")
    expect(diff.locator(".hptaa-Change-renamed")).to_contain_text("renamed")
    expect(diff.locator(".hptaa-Change-widened")).to_contain_text("lr")
    expect(diff.locator(".hptaa-Change-removed")).to_contain_text("dropout")
    expect(diff.locator(".hptaa-Change-added")).to_contain_text("batch")
    expect(detail.locator(".hptaa-Speedup")).to_contain_text(
        "Speedup of transfer: 1.5×"
    )


def test_insert_button_adds_tune_cell_to_open_notebook(
    page: sync_api.Page, lab: LabServer
) -> None:
    """Check that the insert button adds a %%hptaa tune --from cell below the
    active cell, which names the sidebar's store (the notebook's own may be
    another), says which notebook it went into, and is in the saved notebook."""
    row(page, CURRENT).click()
    cells = page.locator(".jp-NotebookPanel .jp-Cell")
    before = cells.count()

    page.locator(".hptaa-InsertButton").click()

    expect(cells).to_have_count(before + 1)
    header = f"%%hptaa tune --study {CURRENT}-next --from {CURRENT} --trials 40"
    expect(cells.nth(before).locator(".cm-content")).to_contain_text(header)
    expect(page.locator(".hptaa-InsertStatus")).to_have_text(
        "Cell inserted into demo.ipynb."
    )
    store = lab.root / ".hptaa" / "studies.db"
    expect(cells.nth(before).locator(".cm-content")).to_contain_text(
        f"run %hptaa store {store} first."
    )
    # The detail is drawn again while a study runs (every 2 s): the note stays.
    page.locator(".hptaa-RefreshButton").click()
    page.wait_for_timeout(2500)
    expect(page.locator(".hptaa-InsertStatus")).to_have_text(
        "Cell inserted into demo.ipynb."
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    page.keyboard.press("Control+s")
    sources = _saved_sources(lab.root / "demo.ipynb", header)
    assert sources[0] == "%load_ext hptaa_lab"
    assert sources[1].startswith(header + "\n# Define `space`")


def test_insert_from_a_maximised_study_keeps_its_direction(
    page: sync_api.Page,
) -> None:
    """Check that a maximised study's incumbent is marked (as `hptaa studies`
    marks it), and that the cell inserted from it tunes the next one in the
    same direction (it said "return the value to minimize")."""
    expect(row(page, MAXIMISED)).to_contain_text("(max)")
    expect(row(page, CURRENT)).not_to_contain_text("(max)")
    row(page, MAXIMISED).click()
    cells = page.locator(".jp-NotebookPanel .jp-Cell")
    before = cells.count()

    page.locator(".hptaa-InsertButton").click()

    expect(cells).to_have_count(before + 1)
    inserted = page.locator(
        ".jp-NotebookPanel .jp-Cell .cm-content", has_text=f"--from {MAXIMISED}"
    )
    expect(inserted).to_have_count(1)
    expect(inserted).to_contain_text('direction = "maximize"')


def test_chart_labels_of_small_values_fit_the_chart(page: sync_api.Page) -> None:
    """Check that the y labels of a study whose values are below 1e-5 fit inside
    the chart (in plain digits, 0.000007123, they ran past its left edge)."""
    row(page, MAXIMISED).click()
    chart = page.locator(".hptaa-Detail .hptaa-Chart-svg")
    expect(chart).to_be_visible()

    # Read in one go in the page: a poll may draw the chart again meanwhile.
    labels = chart.evaluate(
        """svg => {
            const left = svg.getBoundingClientRect().left;
            return [...svg.querySelectorAll('.hptaa-Chart-label')].map(
                t => [t.textContent, t.getBoundingClientRect().left - left]
            );
        }"""
    )

    assert len(labels) == 4
    assert all(offset >= -0.5 for _, offset in labels), labels
    assert re.fullmatch(r"\d\.\d\de-6", labels[0][0]), labels


def test_panel_polls_while_a_study_runs_and_stops_when_hidden(
    page: sync_api.Page, lab: LabServer
) -> None:
    """Check that the panel shows new trials of a running study, asks at most
    every 2 s while visible, and asks nothing while hidden."""
    requests: list[float] = []
    page.on(
        "request",
        lambda request: (
            _STUDIES_LIST.match(request.url) and requests.append(time.monotonic())
        ),
    )
    _finish_running_trial(lab.root / ".hptaa" / "studies.db", value=0.15)

    expect(row(page, CURRENT)).to_contain_text("incumbent 0.15", timeout=15_000)
    expect(row(page, CURRENT)).to_contain_text("8 trials, 1 running")
    requests.clear()
    page.wait_for_timeout(4_500)
    visible = len(requests)

    page.locator('.lm-TabBar-tab[data-id="hptaa-lab-studies"]').click()
    expect(page.locator("#hptaa-lab-studies")).to_be_hidden()
    page.wait_for_timeout(300)
    requests.clear()
    page.wait_for_timeout(3_000)
    hidden = len(requests)
    open_sidebar(page)

    assert 1 <= visible <= 3, f"{visible} list requests in 4.5 s while visible"
    assert hidden == 0, f"{hidden} list requests in 3 s while hidden"


def test_the_detail_follows_a_study_that_stops_running(
    page: sync_api.Page, lab: LabServer
) -> None:
    """Check that the shown study's detail is drawn again when its last
    running trial ends (it stayed at "1 running" once the study had finished,
    or its process had been killed, between two polls)."""
    from hptaa_lab.records import TrialState
    from hptaa_lab.store import TrialStore

    store_path = lab.root / ".hptaa" / "studies.db"
    row(page, CURRENT).click()
    detail = page.locator(".hptaa-Detail")
    expect(detail).to_contain_text("1 running")
    try:
        with TrialStore(f"sqlite:///{store_path}") as store:
            (running,) = store.get_trials(CURRENT, states=[TrialState.RUNNING])
            store.finish_trial(CURRENT, running.number, TrialState.COMPLETE, 0.3)

        expect(row(page, CURRENT)).not_to_contain_text("running", timeout=15_000)
        expect(detail).not_to_contain_text("running", timeout=5_000)
    finally:
        _start_running_trial(store_path)  # as the tests after this one expect


def test_missing_server_extension_says_how_to_enable_it(page: sync_api.Page) -> None:
    """Check that a server without the extension gives a message, not a blank panel."""
    page.route(
        _STUDIES_LIST,
        lambda route: route.fulfill(
            status=404, content_type="text/html", body="<h1>404</h1>"
        ),
    )
    try:
        page.locator(".hptaa-RefreshButton").click()
        message = page.locator("#hptaa-lab-studies > .hptaa-Message")
        expect(message).to_contain_text("server extension is not enabled")
        expect(message).to_contain_text(
            "jupyter server extension enable hptaa_lab.server"
        )
    finally:
        page.unroute(_STUDIES_LIST)
    page.locator(".hptaa-RefreshButton").click()
    expect(row(page, PREVIOUS)).to_be_visible()


def test_store_error_is_shown_in_the_panel(page: sync_api.Page) -> None:
    """Check that a store error from the server appears as its message."""
    reason = "Cannot read the trial store at /x/studies.db: the file is not a SQLite database."
    body = json.dumps(
        {"status": 503, "reason": "Service Unavailable", "message": reason}
    )
    page.route(
        _STUDIES_LIST,
        lambda route: route.fulfill(
            status=503, content_type="application/json", body=body
        ),
    )
    try:
        page.locator(".hptaa-RefreshButton").click()
        expect(page.locator("#hptaa-lab-studies > .hptaa-Message")).to_have_text(reason)
        expect(page.locator(".hptaa-StudyRow")).to_have_count(0)
    finally:
        page.unroute(_STUDIES_LIST)
    page.locator(".hptaa-RefreshButton").click()
    expect(row(page, PREVIOUS)).to_be_visible()


# -- helpers -------------------------------------------------------------------


def _start_running_trial(store_path: Path) -> None:
    from hptaa_lab.store import TrialStore

    with TrialStore(f"sqlite:///{store_path}") as store:
        store.start_trial(CURRENT, {"lr": 0.01}, "best-first")


def _finish_running_trial(store_path: Path, value: float) -> None:
    """Finish the running trial of the current study and start the next one."""
    from hptaa_lab.records import TrialState
    from hptaa_lab.store import TrialStore

    with TrialStore(f"sqlite:///{store_path}") as store:
        running = store.get_trials(CURRENT, states=[TrialState.RUNNING])
        store.finish_trial(CURRENT, running[0].number, TrialState.COMPLETE, value)
        store.start_trial(CURRENT, {"lr": 0.02}, "best-first")


def _saved_sources(path: Path, header: str, timeout_s: float = 15.0) -> list[str]:
    """The notebook's cell sources once the saved file holds ``header``."""
    deadline = time.monotonic() + timeout_s
    while True:
        cells = json.loads(path.read_text())["cells"]
        sources = ["".join(cell["source"]) for cell in cells]
        if any(header in source for source in sources) or time.monotonic() > deadline:
            return sources
        time.sleep(0.2)
