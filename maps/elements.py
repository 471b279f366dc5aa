"""Small map pieces that need no jQuery or Bootstrap: a legend, a popup, tooltips, a JS registry.

folium writes tooltip text into a JavaScript template literal unescaped, so a check-in point
called "Café `Den Buiten`" would break the page script; `text_tooltip` escapes it. Names come
from GPX files, which anybody can upload.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal

import folium
from branca.element import MacroElement
from folium.template import Template

Symbol = Literal["line", "dashed", "ring", "dot"]

# Page scripts find map objects here: window.refugeeWalk.routes["40km"],
# window.refugeeWalk.checkins["40km/rest-stop-lier"].
JS_NAMESPACE = "refugeeWalk"


def escape_text(text: str) -> str:
    """Plain text made safe inside HTML and inside a JS template literal (`, $ and \\)."""
    escaped = html.escape(text, quote=True)
    return escaped.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def text_tooltip(text: str, **options: Any) -> folium.Tooltip:
    """A folium Tooltip showing `text` literally (no HTML, no script)."""
    return folium.Tooltip(escape_text(text), **options)


class PlainPopup(MacroElement):
    """A popup bound with Leaflet's own `bindPopup`; folium's `Popup` needs jQuery.

    `html` is inserted as given: escape any text in it with `escape_text`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup(
                {{ this.html|tojson }}, {{ this.options|tojson }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, html: str, **options: Any) -> None:
        super().__init__()
        self._name = "PlainPopup"
        self.html = html
        self.options = options


class Register(MacroElement):
    """Makes its parent layer reachable from page scripts as `window.refugeeWalk[table][key]`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (ns) {
                var table = ns[{{ this.table|tojson }}] = ns[{{ this.table|tojson }}] || {};
                table[{{ this.key|tojson }}] = {{ this._parent.get_name() }};
            })(window[{{ this.namespace|tojson }}] = window[{{ this.namespace|tojson }}] || {});
        {% endmacro %}
        """
    )

    def __init__(self, table: str, key: str) -> None:
        super().__init__()
        self._name = "Register"
        self.namespace = JS_NAMESPACE
        self.table = table
        self.key = key


@dataclass(frozen=True)
class LegendEntry:
    colour: str
    label: str
    symbol: Symbol = "line"


_SWATCH = {
    "line": "display:inline-block;width:22px;height:0;border-top:5px solid {c};",
    "dashed": "display:inline-block;width:22px;height:0;border-top:3px dashed {c};",
    "ring": "display:inline-block;width:10px;height:10px;border:3px solid {c};"
    "border-radius:50%;background:#fff;margin:0 6px 0 3px;",
    "dot": "display:inline-block;width:10px;height:10px;border:2px solid #fff;"
    "border-radius:50%;background:{c};box-shadow:0 0 0 1px #555;margin:0 7px 0 4px;",
}


def legend_html(entries: tuple[LegendEntry, ...], title: str = "") -> str:
    """The legend's HTML with inline styles only (no stylesheet to load)."""
    rows = (
        [f'<div style="font-weight:bold;margin-bottom:4px">{escape_text(title)}</div>']
        if title
        else []
    )
    for e in entries:
        swatch = _SWATCH[e.symbol].format(c=escape_text(e.colour))
        rows.append(
            f'<div style="white-space:nowrap;line-height:20px">'
            f'<span style="{swatch}vertical-align:middle;margin-right:6px"></span>'
            f"{escape_text(e.label)}</div>"
        )
    return "".join(rows)


class Legend(MacroElement):
    """A Leaflet control, so it stays inside the map when the map is part of a larger page."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
            {{ this.get_name() }}.onAdd = function () {
                var div = L.DomUtil.create("div", "rw-legend");
                div.style.cssText = {{ this.box_style|tojson }};
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    box_style = (
        "background:rgba(255,255,255,0.92);padding:6px 10px;border-radius:4px;"
        "box-shadow:0 1px 4px rgba(0,0,0,0.35);font:13px/1.4 sans-serif;color:#222"
    )

    def __init__(
        self, entries: tuple[LegendEntry, ...], title: str = "", position: str = "bottomleft"
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.entries = entries
        self.html = legend_html(entries, title)
        self.position = position
