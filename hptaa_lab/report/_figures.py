"""Plotly figures built from incumbent trajectories."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["COLORS", "trajectory_figure"]

COLORS = {
    "previous": "#7f7f7f",
    "transfer": "#d62728",
    "no transfer": "#1f77b4",
}
_PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def trajectory_figure(
    trajectories: Mapping[str, Sequence[float]],
    *,
    title: str = "Incumbent trajectory",
    direction: str = "minimize",
    log_y: bool = False,
) -> Any:
    """A line chart of incumbent trajectories, one line per named study.

    Args:
        trajectories: Label -> best objective value after each evaluation.
        title: Figure title.
        direction: "minimize" or "maximize" (for the axis label).
        log_y: Whether to use a log-scale value axis.

    Returns:
        A plotly ``go.Figure``.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (label, values) in enumerate(trajectories.items()):
        xs = list(range(1, len(values) + 1))
        ys = [None if (v is None or math.isnan(v)) else v for v in values]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=label,
                line_shape="hv",
                line={
                    "color": _color(label, i),
                    "width": 2.5,
                    "dash": "dot" if label.startswith("previous") else "solid",
                },
            )
        )
    best = "lowest" if direction == "minimize" else "highest"
    fig.update_layout(
        title=title,
        xaxis_title="evaluations",
        yaxis_title=f"incumbent objective value ({best} is best)",
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 60, "b": 60},
    )
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def _color(label: str, i: int) -> str:
    """The colour of a line: by its label's first words, else from the palette."""
    for key in sorted(COLORS, key=len, reverse=True):
        if label.startswith(key):
            return COLORS[key]
    return _PALETTE[i % len(_PALETTE)]
