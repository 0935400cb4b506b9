"""Configuration of the browser tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``browser`` marker."""
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in Debian's Chromium through Playwright"
    )
