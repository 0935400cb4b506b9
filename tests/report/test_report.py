"""Tests of the report helpers: summary numbers, figures and HTML."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from hptaa_lab.report import (
    evaluations_to_reach,
    incumbent_at,
    speedup,
    trajectory_figure,
    write_html_report,
)


def test_evaluations_to_reach_counts_from_one() -> None:
    """Check the first evaluation whose incumbent reaches the target (1-based)."""
    curve = [math.nan, 5.0, 3.0, 3.0, 1.0]
    assert evaluations_to_reach(curve, 3.0) == 3
    assert evaluations_to_reach(curve, 0.5) is None
    assert evaluations_to_reach([1.0, 4.0], 3.0, direction="maximize") == 2


def test_incumbent_at_and_speedup() -> None:
    """Check incumbent lookup and the speedup ratio, with NaN where undefined."""
    assert incumbent_at([3.0, 2.0], 2) == 2.0
    assert math.isnan(incumbent_at([3.0], 2))
    assert speedup(20, 5) == 4.0
    assert math.isnan(speedup(20, None))


def test_trajectory_figure_has_one_line_per_study() -> None:
    """Check that the figure holds each trajectory as a step line, NaN as a gap."""
    fig = trajectory_figure(
        {"previous (a)": [2.0, 1.0], "transfer (b)": [math.nan, 0.5, 0.4]}
    )
    assert [t.name for t in fig.data] == ["previous (a)", "transfer (b)"]
    assert list(fig.data[1].y) == [None, 0.5, 0.4]
    assert fig.data[0].line.dash == "dot" and fig.data[1].line.dash == "solid"
    assert fig.data[1].line.shape == "hv"


def test_html_report_is_self_contained(tmp_path: Path) -> None:
    """Check that the report inlines plotly.js once and renders tables and text."""
    fig = trajectory_figure({"a": [1.0, 0.5]})
    path = write_html_report(
        tmp_path / "sub" / "r.html",
        "Title <x>",
        [fig, "## Section", pd.DataFrame({"n": [1]}), "```a  b```", "plain", fig],
    )
    page = path.read_text()
    assert "Title &lt;x&gt;" in page and "<h2>Section</h2>" in page
    assert "<pre>a  b</pre>" in page and "<table" in page
    assert page.count("plotly.js v") <= 2 and "Plotly.newPlot" in page
    assert "cdn" not in page.split("Plotly.newPlot")[0][-2000:].lower()
