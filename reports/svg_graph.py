"""The lemma dependency graph of the HTML report as inline SVG (split from :mod:`reports.svg`)."""

from __future__ import annotations

import re
from html import escape
from typing import Any, Sequence

__all__ = ["VERDICT_COLORS", "dependency_graph"]


def _anchor(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text)


# --- dependency graph --------------------------------------------------------------------------

VERDICT_COLORS = {"proved": "#1a7f37", "pass": "#2da44e", "refuted": "#0a6f8f", "fail": "#cf222e", "inconclusive": "#bf8700",
                  "error": "#8250df", "none": "#6e7781"}


def dependency_graph(nodes: Sequence[dict[str, Any]]) -> str:
    """The lemma dependency graph as SVG: one box per theorem (colour: its worst verdict; a dashed
    orange outline when a claim's verdict rests on a lemma that did not hold), an arrow from each
    lemma to the theorems that use it.  ``nodes``: {"id", "verdict", "inherited", "depends_on",
    "unexpected"}; layers come from networkx's topological generations."""
    import networkx as nx

    g = nx.DiGraph()
    info = {n["id"]: n for n in nodes}
    for n in nodes:
        g.add_node(n["id"])
    for n in nodes:
        for dep in n.get("depends_on", ()):
            if dep not in info:
                g.add_node(dep)
                info[dep] = {"id": dep, "verdict": "none", "inherited": False, "depends_on": (), "external": True}
            g.add_edge(dep, n["id"])
    try:
        layers = [sorted(layer) for layer in nx.topological_generations(g)]
    except nx.NetworkXUnfeasible:
        layers = [sorted(g.nodes)]
    # 11px monospace advances about 6.7px per character; measured in Chromium, 7.0 leaves a margin.
    charw, boxh, gapx, gapy, margin = 7.0, 26, 18, 46, 10
    widths = {n: len(n) * charw + 16 for n in g.nodes}
    row_w = [sum(widths[n] for n in layer) + gapx * (len(layer) - 1) for layer in layers]
    width = max(max(row_w, default=100) + 2 * margin, 780)  # 780: room for the legend
    height = len(layers) * (boxh + gapy) - gapy + 2 * margin + 18
    pos: dict[str, tuple[float, float]] = {}
    for i, layer in enumerate(layers):
        x = margin + (width - 2 * margin - row_w[i]) / 2
        y = margin + i * (boxh + gapy)
        for n in layer:
            pos[n] = (x, y)
            x += widths[n] + gapx
    # Scaled down to its box when wider (max-width), never cut off or scrolled.
    out = [f'<svg class="depgraph" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'style="max-width:100%;height:auto" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="lemma dependency graph">'
           '<title>lemma dependency graph</title><defs><marker id="thmcheck-arrow" viewBox="0 0 10 10" refX="10" '
           'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
           'fill="#57606a"/></marker></defs>']
    for a, b in g.edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        x1, y1 = xa + widths[a] / 2, ya + boxh
        x2, y2 = xb + widths[b] / 2, yb
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#57606a" '
                   f'stroke-width="1.2" marker-end="url(#thmcheck-arrow)"/>')
    for n in g.nodes:
        x, y = pos[n]
        meta = info[n]
        colour = VERDICT_COLORS.get(meta.get("verdict", "none"), VERDICT_COLORS["none"])
        dash = ' stroke="#fb8500" stroke-width="3" stroke-dasharray="5,3"' if meta.get("inherited") else \
            ' stroke="#24292f" stroke-width="0.8"'
        tip = f'{n}: {meta.get("verdict", "none")}' + ("; rests on a lemma that did not hold" if meta.get("inherited") else "")
        href = f"#thm-{_anchor(n)}" if not meta.get("external") else None
        box = (f'<g class="gnode" data-theorem="{escape(n)}"><title>{escape(tip)}</title>'
               f'<rect x="{x:.1f}" y="{y:.1f}" width="{widths[n]:.1f}" height="{boxh}" rx="5" fill="{colour}"{dash}/>'
               f'<text x="{x + widths[n] / 2:.1f}" y="{y + 17:.1f}" text-anchor="middle" class="gtext">{escape(n)}</text></g>')
        out.append(f'<a href="{href}">{box}</a>' if href else box)
    ly = height - 8
    lx = margin
    for v, label in (("proved", "proved"), ("pass", "pass"), ("refuted", "refuted as expected"), ("fail", "fail"),
                     ("inconclusive", "inconclusive"), ("error", "error")):
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{VERDICT_COLORS[v]}"/>'
                   f'<text x="{lx + 13}" y="{ly}" class="ptick">{label}</text>')
        lx += 22 + 6.6 * len(label)
    out.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="none" stroke="#fb8500" stroke-width="2" '
               f'stroke-dasharray="3,2"/><text x="{lx + 13}" y="{ly}" class="ptick">rests on a lemma that did not hold</text>')
    out.append("</svg>")
    return "".join(out)
