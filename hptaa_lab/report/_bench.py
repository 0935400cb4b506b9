"""Plotly figures of a benchmark sweep: speedup violins, grid heatmap, incumbents."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["incumbent_curves_figure", "speedup_heatmap", "speedup_violins"]

_PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
]


def speedup_violins(table: Any, *, title: str = "Speedup over TPE") -> Any:
    """Violins of speedups per benchmark, one violin per method.

    Args:
        table: A pandas DataFrame with columns benchmark, method and speedup
            (e.g. one row per task, b_old and target from
            ``hptaa_lab.benchmarks.protocol.speedups``).
        title: Figure title.

    Returns:
        A plotly ``go.Figure`` with a log-scale speedup axis and a line at 1.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (method, part) in enumerate(table.groupby("method", sort=False)):
        fig.add_trace(
            go.Violin(
                x=list(part["benchmark"]),
                y=list(part["speedup"]),
                name=str(method),
                legendgroup=str(method),
                line_color=_PALETTE[i % len(_PALETTE)],
                box_visible=True,
                meanline_visible=True,
                points="all",
                pointpos=0,
                jitter=0.3,
                marker_size=3,
                spanmode="hard",
            )
        )
    fig.add_hline(y=1.0, line_dash="dot", line_color="#555")
    fig.update_layout(
        title=title,
        violinmode="group",
        xaxis_title="benchmark",
        yaxis_title="speedup over TPE (log scale)",
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_yaxes(type="log")
    return fig


def speedup_heatmap(grid: Any, *, title: str = "Speedup") -> Any:
    """The paper-style grid as a heatmap: rows b_old, columns target budget.

    Args:
        grid: A pandas DataFrame indexed by previous budget, one column per
            target budget (``protocol.speedup_grid``).
        title: Figure title.

    Returns:
        A plotly ``go.Figure``; each cell shows its speedup, colours diverge
        at 1 on a log scale.
    """
    import plotly.graph_objects as go

    values = [[_finite_or_none(v) for v in row] for row in grid.to_numpy().tolist()]
    logs = [[None if v is None else math.log2(v) for v in row] for row in values]
    bound = max([abs(v) for row in logs for v in row if v is not None] + [0.5])
    fig = go.Figure(
        go.Heatmap(
            z=logs,
            x=[f"target {c}" for c in grid.columns],
            y=[f"b_old {i}" for i in grid.index],
            text=[["-" if v is None else f"{v:.2f}" for v in row] for row in values],
            texttemplate="%{text}",
            colorscale="RdBu",
            zmid=0.0,
            zmin=-bound,
            zmax=bound,
            colorbar={"title": "log2 speedup"},
            hovertemplate="%{y}, %{x}: speedup %{text}<extra></extra>",
        )
    )
    fig.update_layout(title=title, template="plotly_white", height=320)
    fig.update_yaxes(autorange="reversed")
    return fig


def incumbent_curves_figure(
    curves: Mapping[str, Sequence[float]],
    targets: Mapping[int, float] | None = None,
    *,
    title: str = "Mean incumbent",
    log_y: bool = False,
) -> Any:
    """Mean incumbent per evaluation, one line per method, targets as lines.

    Args:
        curves: Method -> mean incumbent after each evaluation.
        targets: Target budget -> target value, drawn as dotted lines.
        title: Figure title.
        log_y: Whether to use a log-scale value axis.

    Returns:
        A plotly ``go.Figure``.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (method, values) in enumerate(curves.items()):
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(values) + 1)),
                y=[_finite_or_none(v) for v in values],
                mode="lines",
                name=method,
                line={"color": _PALETTE[i % len(_PALETTE)], "width": 2},
                line_shape="hv",
            )
        )
    for budget, value in (targets or {}).items():
        fig.add_hline(
            y=value,
            line_dash="dot",
            line_color="#777",
            annotation_text=f"target {budget}",
            annotation_position="top right",
        )
    fig.update_layout(
        title=title,
        xaxis_title="evaluations of the current HPO",
        yaxis_title="mean incumbent objective value (lowest is best)",
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
    )
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number
