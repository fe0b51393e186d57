"""A chart of the report as the plain data plotly.js draws: traces and a layout, no graph objects.

Plotly's graph objects check every property against plotly.js's schema as it is set; the first
figure of a process loads that schema (3 MB of JSON), and the report's ten charts then cost about
0.2 s of every build, more than the rest of the page. The charts here are a few bar charts whose
properties are fixed in this package and drawn by a real browser in the tests, so they are written
as data and handed to ``plotly.io.to_html`` unchecked. ``update_layout`` and the axis updates merge
nested settings as plotly's do; a ``title`` given as a string becomes ``{"text": ...}``, the only
form plotly.js 3 reads.
"""

import copy
import json
import pkgutil
from functools import cache

import plotly.io as pio

TEMPLATE = "plotly_white"
TRACE_TYPES = ("bar", "funnel")  # what the report's charts draw


@cache
def template() -> dict:
    """TEMPLATE's layout and its defaults for the trace types drawn here (the other types' defaults would
    only make the page longer)."""
    whole = json.loads(pkgutil.get_data("plotly", f"package_data/templates/{TEMPLATE}.json"))
    return {"layout": whole["layout"], "data": {kind: whole["data"][kind] for kind in TRACE_TYPES
                                                  if whole["data"].get(kind)}}


def _merge(into: dict, settings: dict) -> None:
    for key, value in settings.items():
        if key == "title" and isinstance(value, str):
            value = {"text": value}
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value) if isinstance(value, dict) else value


def bar(**properties: object) -> dict:
    return {"type": "bar", **properties}


def funnel(**properties: object) -> dict:
    return {"type": "funnel", **properties}


class Figure:
    """Traces and a layout (one x and one y axis), built up as with plotly's ``go.Figure``."""

    def __init__(self) -> None:
        self.data: list[dict] = []
        self.layout: dict = {"template": template()}

    def add_trace(self, trace: dict) -> None:
        self.data.append(trace)

    def update_layout(self, **settings: object) -> None:
        _merge(self.layout, settings)

    def update_xaxes(self, **settings: object) -> None:
        _merge(self.layout.setdefault("xaxis", {}), settings)

    def update_yaxes(self, **settings: object) -> None:
        _merge(self.layout.setdefault("yaxis", {}), settings)

    def to_div(self, div_id: str) -> str:
        """The figure's ``<div>``: fixed id (the same page for the same dataset), no plotly.js, no MathJax."""
        return pio.to_html({"data": self.data, "layout": self.layout}, validate=False, full_html=False,
                           include_plotlyjs=False, include_mathjax=False, div_id=div_id,
                           config={"displaylogo": False}, default_width="100%")
