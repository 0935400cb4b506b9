"""A JupyterLab server for browser tests: 127.0.0.1, a token, isolated settings.

The server runs from this environment, so it has the labextension and the
server extension exactly as ``pip install`` left them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Where Debian's Chromium is; the browser tests skip without it.
CHROMIUM = Path("/usr/bin/chromium")

#: Arguments that keep Chromium off the network and quiet in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

_START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab server.

    Attributes:
        url: Base URL, ending in "/".
        token: The token every request must carry.
        root: The server's root folder.
        log: File with the server's output.
    """

    url: str
    token: str
    root: Path
    log: Path

    def lab_url(self, path: str = "") -> str:
        """URL of a page of JupyterLab (``lab/tree/...``) with the token."""
        return f"{self.url}lab{('/tree/' + path) if path else ''}?token={self.token}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_notebook(path: Path) -> Path:
    """Write an empty Python 3 notebook with one code cell."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "first-cell",
                "metadata": {},
                "outputs": [],
                "source": ["%load_ext hptaa_lab"],
            }
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))
    return path


@contextlib.contextmanager
def running_lab(root: Path, home: Path) -> Iterator[LabServer]:
    """Run JupyterLab on 127.0.0.1 over ``root`` until the block ends.

    Args:
        root: The server's root folder (its .hptaa/studies.db is the store).
        home: An empty folder for the server's own config, data, settings and
            runtime files, so that nothing of the user's is read or changed.

    Raises:
        RuntimeError: The server did not answer within 90 s; the message holds
            the end of its log.
    """
    token = secrets.token_hex(16)
    port = free_port()
    env = _isolated_environment(home)
    log = home / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        # CI runs as root; the server still listens on 127.0.0.1 with a token.
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = LabServer(f"http://127.0.0.1:{port}/", token, root, log)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _isolated_environment(home: Path) -> dict[str, str]:
    """Environment with private Jupyter folders and news/update checks off."""
    folders = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)

    (folders["JUPYTER_CONFIG_DIR"] / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                    "extension_manager": "readonly",
                }
            }
        )
    )
    notification = (
        folders["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    )
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )

    env = {key: value for key, value in os.environ.items() if key != "HPTAA_STORE"}
    env.update({key: str(folder) for key, folder in folders.items()})
    env["HOME"] = str(home)
    return env


def _wait_until_up(server: LabServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    status = f"{server.url}api/status?token={server.token}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode} before it "
                f"answered. End of its log:\n{_tail(server.log)}"
            )
        try:
            with urllib.request.urlopen(status, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(
        f"JupyterLab did not answer at {server.url} within {_START_TIMEOUT_S:.0f} s. "
        f"End of its log:\n{_tail(server.log)}"
    )


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def labextension_installed() -> bool:
    """Whether ``pip install`` put the built labextension into this environment."""
    return (
        Path(sys.prefix)
        / "share"
        / "jupyter"
        / "labextensions"
        / "hptaa-lab"
        / "package.json"
    ).is_file()
