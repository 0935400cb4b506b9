"""Figures, tables and HTML reports shared by the CLI, widgets and notebooks."""

from hptaa_lab.report._bench import (
    incumbent_curves_figure,
    speedup_heatmap,
    speedup_violins,
)
from hptaa_lab.report._figures import COLORS, trajectory_figure
from hptaa_lab.report._html import write_html_report
from hptaa_lab.report._summary import evaluations_to_reach, incumbent_at, speedup

__all__ = [
    "COLORS",
    "evaluations_to_reach",
    "incumbent_at",
    "incumbent_curves_figure",
    "speedup",
    "speedup_heatmap",
    "speedup_violins",
    "trajectory_figure",
    "write_html_report",
]
