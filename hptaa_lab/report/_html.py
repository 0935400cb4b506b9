"""Self-contained HTML reports: plotly figures and pandas tables in one file."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["write_html_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto;
       color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
th { background: #f2f2f2; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
"""


def write_html_report(path: str | Path, title: str, sections: Sequence[Any]) -> Path:
    """Write one HTML file with plotly.js inlined, so it opens offline.

    Args:
        path: Where to write.
        title: Page title and heading.
        sections: In order: plotly figures, pandas DataFrames, or strings (a string
            starting with "## " is a heading, one starting with "```" preformatted
            text, any other a paragraph).

    Returns:
        The path written.
    """
    parts = [f"<h1>{html.escape(title)}</h1>"]
    first_figure = True
    for section in sections:
        if isinstance(section, str):
            parts.append(_text(section))
        elif hasattr(section, "to_html") and hasattr(section, "to_plotly_json"):
            parts.append(
                section.to_html(full_html=False, include_plotlyjs=first_figure)
            )
            first_figure = False
        elif hasattr(section, "to_html"):
            parts.append(section.to_html(index=False, border=0, na_rep="-"))
        else:
            raise TypeError(f"Cannot put a {type(section).__name__} in a report.")
    page = (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def _text(text: str) -> str:
    if text.startswith("## "):
        return f"<h2>{html.escape(text[3:])}</h2>"
    if text.startswith("```"):
        return f"<pre>{html.escape(text.strip('`').strip())}</pre>"
    return f"<p>{html.escape(text)}</p>"
