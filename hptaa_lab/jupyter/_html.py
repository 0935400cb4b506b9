"""HTML and plain-text renderings shared by the widgets and the magics' output."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from hptaa_lab.space import ChangeKind, SpaceDiff

__all__ = ["TextAndHtml", "change_style", "diff_table_html", "table_html", "table_text"]

# Background and text colour of a row, by the change that matters most.
_ADDED = ("#e6f4ea", "#137333")
_REMOVED = ("#fce8e6", "#a50e0e")
_RENAMED = ("#f3e8fd", "#681da8")
_CHANGED = ("#fef7e0", "#8a4b00")
_UNCHANGED = ("#ffffff", "#5f6368")

_LEGEND = (
    ("added", _ADDED),
    ("removed", _REMOVED),
    ("renamed", _RENAMED),
    ("range, choices, order, scale, type or default changed", _CHANGED),
    ("unchanged", _UNCHANGED),
)

_TABLE_STYLE = "border-collapse:collapse;font-size:0.9em;margin:4px 0"
_CELL_STYLE = "border:1px solid #ddd;padding:3px 8px;text-align:left"


class TextAndHtml:
    """Output with a plain-text and an HTML form, for IPython's display.

    Args:
        text: The plain-text form (what terminals and nbval see).
        html_text: The HTML form (what JupyterLab shows).
    """

    def __init__(self, text: str, html_text: str) -> None:
        self.text = text
        self.html = html_text

    def __repr__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self.html}


def change_style(kinds: Sequence[ChangeKind]) -> tuple[str, str]:
    """Background and text colour of a diff row with these change kinds."""
    if ChangeKind.REMOVED in kinds:
        return _REMOVED
    if ChangeKind.ADDED in kinds:
        return _ADDED
    if ChangeKind.RENAMED in kinds:
        return _RENAMED
    if kinds == (ChangeKind.UNCHANGED,) or not kinds:
        return _UNCHANGED
    return _CHANGED


def diff_table_html(
    space_diff: SpaceDiff, *, previous: str = "", current: str = ""
) -> str:
    """The search-space diff as an HTML table: previous and current side by side.

    One row per hyperparameter; the row's colour and the "change" column both
    say how it changed.

    Args:
        space_diff: The diff to show.
        previous: Name of the previous study, for the column header.
        current: Name of the current study, for the column header.
    """
    header = (
        "hyperparameter",
        "previous" + (f" ({previous})" if previous else ""),
        "current" + (f" ({current})" if current else ""),
        "change",
    )
    rows = []
    styles = []
    for change in space_diff.changes:
        renamed = change.previous_name and change.previous_name != change.name
        name = f"{change.previous_name} → {change.name}" if renamed else change.name
        rows.append((name, change.previous or "-", change.current or "-", change.label))
        background, colour = change_style(change.kinds)
        styles.append(f"background:{background};color:{colour}")
    legend = " ".join(
        f"<span style='background:{bg};color:{fg};border:1px solid #ddd;"
        f"padding:1px 6px;margin-right:4px'>{html.escape(words)}</span>"
        for words, (bg, fg) in _LEGEND
    )
    notes = "".join(
        f"<div style='color:{colour}'>{html.escape(words)} {html.escape(rule)}</div>"
        for words, colour, changed in (
            ("removed", "#a61b1b", space_diff.rules_removed),
            ("added", "#1b7a2e", space_diff.rules_added),
        )
        for rule in changed
    )
    notes += "".join(f"<div>{html.escape(line)}</div>" for line in space_diff.fixed)
    return (
        table_html(header, rows, styles)
        + notes
        + f"<div style='font-size:0.8em'>{legend}</div>"
    )


def table_html(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    row_styles: Sequence[str] | None = None,
) -> str:
    """An HTML table; cell values are escaped, each row may carry a CSS style."""
    head = "".join(
        f"<th style='{_CELL_STYLE};background:#f2f2f2'>{html.escape(str(h))}</th>"
        for h in header
    )
    body = []
    for i, row in enumerate(rows):
        style = f" style='{row_styles[i]}'" if row_styles else ""
        cells = "".join(
            f"<td style='{_CELL_STYLE}'>{html.escape(str(v))}</td>" for v in row
        )
        body.append(f"<tr{style}>{cells}</tr>")
    return (
        f"<table style='{_TABLE_STYLE}'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def table_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(h) for h in header], *[[str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)
