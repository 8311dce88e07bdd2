"""The SLO table in the HTML report, rendered from the run's recorded SLO results.

Each SLO check records its result as a user property (plain JSON, so it crosses xdist
workers); tradeops.plugin's collector gathers them once, the verdict document carries
their figures, and this renders the same results as the report's table with the gate's
line from the document.
"""

from __future__ import annotations

from html import escape

from tradeops.slo import table


def html_fragment(results: list, gate: dict | None) -> str:
    """The SLO table and the gate's verdict, or "" when no SLO ran."""
    if not results:
        return ""
    fragment = table.render_html(results)
    if gate is not None:
        fragment += f"<p><strong>{escape(gate['line'])}</strong></p>"
    return fragment
