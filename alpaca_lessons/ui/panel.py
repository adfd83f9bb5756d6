"""A widget container that also carries a static HTML view of its current state.

JupyterLab shows the live widget; GitHub, nbviewer and a notebook opened without a kernel fall back to
the HTML, so every widget cell still reads well on the web. nbval compares that HTML too, which is why
the view is built only from data, never from widget ids or timings.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets


class Panel(widgets.VBox):
    """A VBox whose notebook output includes ``text/html`` from ``render()`` as a static fallback."""

    def __init__(self, children: list[widgets.Widget], render: Callable[[], str], title: str) -> None:
        super().__init__(children=children)
        self._render = render
        self._title = title

    def static_html(self) -> str:
        """The HTML that stands in for the widget where widgets cannot run."""
        return f"<div><b>{html.escape(self._title)}</b> (static view of the widget's current state)</div>" + \
            self._render()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = f"{self._title}: an interactive widget (run the notebook to use it)"
        bundle["text/html"] = self.static_html()
        return bundle


def pre(text: str) -> str:
    """Preformatted, escaped, wrapped text for HTML views."""
    return f"<pre style='white-space: pre-wrap; font-size: 12px'>{html.escape(text)}</pre>"
