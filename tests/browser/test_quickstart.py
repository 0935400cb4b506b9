"""Run the quickstart notebook in JupyterLab in a real browser and watch its widgets.

JupyterLab runs on 127.0.0.1 (random free port, a token) over a temporary folder
holding a copy of notebooks/quickstart.ipynb, with private settings; Debian's
Chromium (never a downloaded browser) is driven by Playwright.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "screenshots" / "quickstart.png"
CHROMIUM = Path("/usr/bin/chromium")
_START_TIMEOUT_S = 120
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LONG = 300_000  # ms: generous, for loaded machines

# The notebook's kernel, once JupyterLab has started it.
KERNEL = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return session && session.kernel ? session.kernel.status : null;
}"""

# Points (non-empty y values) of each trace of each plot of the n-th live widget.
POINTS = """(n) => {
    const live = document.querySelectorAll('.hptaa-live')[n];
    if (!live) { return null; }
    return Array.from(live.querySelectorAll('.js-plotly-plot')).map(
        (gd) => (gd.data || []).map(
            (trace) => Array.from(trace.y || []).filter(
                (v) => v !== null && v !== undefined && !Number.isNaN(v)
            ).length
        )
    );
}"""


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab server.

    Attributes:
        url: Its base URL, e.g. http://127.0.0.1:PORT.
        token: Its access token.
        root: The folder it serves.
        log: Where its output goes.
    """

    url: str
    token: str
    root: Path
    log: Path

    def page(self, path: str) -> str:
        """The URL of a JupyterLab page, token included."""
        return f"{self.url}/{path.lstrip('/')}?token={self.token}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_settings(home: Path) -> dict[str, str]:
    """Private Jupyter folders and settings: no news, no update check, no
    extension manager queries, every notebook cell kept in the page, the app
    object exposed to the test."""
    config_dir, settings = home / "config", home / "settings"
    config_dir.mkdir(parents=True)
    config = {
        "LabApp": {
            "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            "extension_manager": "readonly",
            "expose_app_in_browser": True,
            "user_settings_dir": str(settings),
            "workspaces_dir": str(home / "workspaces"),
        },
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    for plugin, values in (
        ("notebook-extension/tracker", {"windowingMode": "none"}),
        (
            "apputils-extension/notification",
            {"fetchNews": "false", "checkForUpdates": False},
        ),
    ):
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return {
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }


def _wait_until_up(lab: Lab, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {process.returncode} while starting; its "
                f"output is in {lab.log}:\n{lab.log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(lab.page("api/status"), timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(
        f"JupyterLab did not answer within {_START_TIMEOUT_S} s; its output is in "
        f"{lab.log}:\n{lab.log.read_text()[-3000:]}"
    )


def _shut_down(lab: Lab, process: subprocess.Popen[bytes]) -> None:
    """Ask the server to shut down (it stops its kernels), then make sure."""
    request = urllib.request.Request(
        lab.page("api/shutdown"),
        method="POST",
        headers={"Authorization": f"token {lab.token}"},
    )
    with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
        urllib.request.urlopen(request, timeout=10).close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def quickstart_lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 (random free port, token set) serving a temporary
    folder, with private settings; shut down cleanly afterwards."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium package (the Makefile "
            "does) to run the browser tests."
        )
    pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is missing"
    )
    root = tmp_path / "root"
    root.mkdir()
    env = {**os.environ, **_write_settings(tmp_path / "jupyter")}
    lab = Lab(
        url=f"http://127.0.0.1:{free_port()}",
        token=secrets.token_hex(16),
        root=root,
        log=tmp_path / "jupyterlab.log",
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={lab.url.rsplit(':', 1)[1]}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={lab.token}",
        f"--ServerApp.root_dir={root}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers often run tests as root
    with lab.log.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(lab, process)
            yield lab
        finally:
            _shut_down(lab, process)


def copy_notebook(name: str, lab: Lab) -> Path:
    """Copy a notebook of notebooks/ into the server's folder."""
    return Path(shutil.copy(REPO / "notebooks" / name, lab.root / name))


def trace_points(page: Any, widget: int) -> list[int] | None:
    """Points of each trace of the first plot of a live widget (None: not yet)."""
    plots = page.evaluate(POINTS, widget)
    return plots[0] if plots else None


def test_quickstart_runs_in_jupyterlab_with_live_widgets(
    quickstart_lab: Lab, tmp_path: Path
) -> None:
    """Check, in Chromium, that running the quickstart renders the diff widget and
    the live plots, that the transfer run's plot gains points while the studies
    run, and save a screenshot."""
    from playwright.sync_api import sync_playwright

    lab = quickstart_lab
    copy_notebook("quickstart.ipynb", lab)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.set_default_timeout(LONG)
            page.goto(lab.page("lab/tree/quickstart.ipynb"))
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", state="attached")
            page.wait_for_function(f"({KERNEL})() === 'idle'", polling=500)

            # Not awaited: the command's promise settles only when every cell ran.
            page.evaluate(
                "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
            )
            watch_run(page, widget=0, trials=20)  # also waits for plotly.js to load
            counts = watch_run(page, widget=1, trials=20)
            finish_and_check(page)
            shot = tmp_path / "quickstart.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()

    assert counts[0] > 0, counts
    assert any(0 < c < counts[-1] for c in counts), (
        f"the plot went from no points to all {counts[-1]} at once; seen {counts}"
    )
    assert counts == sorted(counts)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOT)


def watch_run(page: Any, widget: int, trials: int) -> list[int]:
    """Poll the first trace of a run's plot until all its trials are drawn;
    return the distinct point counts seen, in order."""
    seen: list[int] = []
    deadline = time.monotonic() + LONG / 1000
    while time.monotonic() < deadline:
        points = trace_points(page, widget)
        count = points[0] if points else 0
        if count and (not seen or count != seen[-1]):
            seen.append(count)
        if count >= trials:
            return seen
        time.sleep(0.1)
    raise AssertionError(
        f"the plot of live widget {widget} never reached {trials} points; seen {seen}"
    )


def finish_and_check(page: Any) -> None:
    """Wait for the transfer run, check its diff widget and plots, and scroll
    them into view for the screenshot."""
    diff = page.locator(".hptaa-diff").first
    diff.wait_for(state="visible")
    assert "svc_C" in diff.inner_text()
    page.wait_for_function(
        '() => document.body.innerText.includes("digits-v2-scratch  20/20 trials")',
        polling=500,
    )
    page.wait_for_function(f"({KERNEL})() === 'idle'", polling=500)
    assert "Confirmed" in diff.inner_text()

    points = trace_points(page, 1)
    assert points is not None
    assert points[:2] == [20, 20], points  # transfer and no-transfer traces
    assert points[2] == 20, points  # the previous study, digits-v1
    speedup = page.evaluate(POINTS, 1)[1]
    assert speedup and speedup[0] > 0, speedup

    diff.scroll_into_view_if_needed()
    page.evaluate("(el) => el.scrollIntoView({block: 'start'})", diff.element_handle())
    page.wait_for_timeout(500)
