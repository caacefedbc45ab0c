"""Server-side SVG: SLI line charts and the services map. Plain strings, escaped here.

>>> svg = line_chart([(0.0, 1.0), (10.0, 3.0)], title="latency", unit="ms")
>>> svg.startswith("<svg") and "polyline" in svg and "latency" in svg
True
>>> "<script" in line_chart([], title="<script>")
False
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

__all__ = ["HEALTH_COLOURS", "bar_chart", "line_chart", "services_map"]

HEALTH_COLOURS = {"ok": "#2e7d32", "degraded": "#c62828", "acting": "#ef6c00",
                  "awaiting_approval": "#6a1b9a"}


def _hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


def line_chart(points: Sequence[tuple[float, float]], *, title: str, unit: str = "",
               marks: Sequence[tuple[float, str]] = (), width: int = 560,
               height: int = 160) -> str:
    """A line of (ts, value) with vertical marks at (ts, label); empty data says so."""
    pad_l, pad_r, pad_t, pad_b = 48, 10, 22, 22
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            f'<title>{escape(title)}</title>'
            f'<text x="{pad_l}" y="14" class="chart-title">{escape(title)}</text>')
    if len(points) < 2:
        return head + (f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" '
                       f'class="muted">no data yet</text></svg>')
    t0, t1 = points[0][0], points[-1][0]
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    lo = min(lo, 0.0)
    hi = hi if hi > lo else lo + 1.0
    span_t = (t1 - t0) or 1.0
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(t: float) -> float:
        return pad_l + (t - t0) / span_t * w

    def y(v: float) -> float:
        return pad_t + h - (v - lo) / (hi - lo) * h

    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
    parts = [head,
             f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" '
             'class="axis"/>',
             f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + h}" class="axis"/>',
             f'<text x="{pad_l - 4}" y="{pad_t + 4}" text-anchor="end" class="tick">'
             f'{hi:.3g}{escape(unit)}</text>',
             f'<text x="{pad_l - 4}" y="{pad_t + h}" text-anchor="end" class="tick">'
             f'{lo:.3g}{escape(unit)}</text>',
             f'<text x="{pad_l}" y="{height - 6}" class="tick">{_hhmm(t0)}</text>',
             f'<text x="{pad_l + w}" y="{height - 6}" text-anchor="end" class="tick">'
             f'{_hhmm(t1)}</text>']
    for ts, label in marks:
        if t0 <= ts <= t1:
            parts.append(f'<line x1="{x(ts):.1f}" y1="{pad_t}" x2="{x(ts):.1f}" '
                         f'y2="{pad_t + h}" class="mark"><title>{escape(label)}</title></line>')
    parts.append(f'<polyline points="{line}" class="series"/></svg>')
    return "".join(parts)


def bar_chart(buckets: Sequence[tuple[float, float]], *, title: str, colour: str = "#1565c0",
              width: int = 560, height: int = 140) -> str:
    """Bars of (bucket start, count), labelled with the first and last bucket's time.

    >>> svg = bar_chart([(0.0, 1), (3600.0, 3)], title="pages")
    >>> svg.count("<rect"), "pages" in svg
    (2, True)
    """
    pad_l, pad_r, pad_t, pad_b = 36, 10, 22, 22
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
             f'<title>{escape(title)}</title>'
             f'<text x="{pad_l}" y="14" class="chart-title">{escape(title)}</text>']
    if not buckets:
        parts.append("</svg>")
        return "".join(parts)
    top = max(max(v for _, v in buckets), 1.0)
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    step = w / len(buckets)
    for i, (ts, v) in enumerate(buckets):
        bh = v / top * h
        parts.append(f'<rect x="{pad_l + i * step + 1:.1f}" y="{pad_t + h - bh:.1f}" '
                     f'width="{max(step - 2, 1):.1f}" height="{bh:.1f}" fill="{colour}">'
                     f'<title>{_hhmm(ts)}: {v:g}</title></rect>')
    parts += [f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" '
              'class="axis"/>',
              f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" class="tick">'
              f'{top:g}</text>',
              f'<text x="{pad_l}" y="{height - 6}" class="tick">{_hhmm(buckets[0][0])}</text>',
              f'<text x="{pad_l + w}" y="{height - 6}" text-anchor="end" class="tick">'
              f'{_hhmm(buckets[-1][0])}</text></svg>']
    return "".join(parts)


def services_map(services: Sequence[tuple[str, Sequence[str], str]], *,
                 link: str = "") -> str:
    """(name, depends_on, health) drawn in layers: callers above the services they call.

    ``link``, when given, is a URL prefix; each node links to ``link + name``.
    """
    deps = {name: [d for d in ds] for name, ds, _ in services}
    health = {name: hl for name, _, hl in services}
    depth: dict[str, int] = {}

    def level(n: str, seen: frozenset[str] = frozenset()) -> int:
        if n in depth:
            return depth[n]
        callers = [c for c, ds in deps.items() if n in ds and c not in seen]
        depth[n] = 1 + max((level(c, seen | {n}) for c in callers), default=-1)
        return depth[n]

    for name in deps:
        level(name)
    layers: dict[int, list[str]] = {}
    for name in sorted(deps):
        layers.setdefault(depth[name], []).append(name)
    box_w, box_h, gap_x, gap_y = 120, 36, 30, 60
    cols = max((len(v) for v in layers.values()), default=1)
    width = max(cols * (box_w + gap_x) + gap_x, 300)
    height = max(len(layers) * (box_h + gap_y) + gap_y // 2, 120)
    pos: dict[str, tuple[float, float]] = {}
    for lv, names in layers.items():
        row_w = len(names) * box_w + (len(names) - 1) * gap_x
        x0 = (width - row_w) / 2
        for i, n in enumerate(names):
            pos[n] = (x0 + i * (box_w + gap_x), gap_y / 2 + lv * (box_h + gap_y))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
             '<title>services and their dependencies</title>'
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
             '<path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>']
    for name, ds in deps.items():
        x1, y1 = pos[name]
        for d in ds:
            if d not in pos:
                continue
            x2, y2 = pos[d]
            parts.append(f'<line x1="{x1 + box_w / 2:.1f}" y1="{y1 + box_h:.1f}" '
                         f'x2="{x2 + box_w / 2:.1f}" y2="{y2:.1f}" class="edge" '
                         'marker-end="url(#arrow)"/>')
    for name in sorted(deps):
        x0, y0 = pos[name]
        colour = HEALTH_COLOURS.get(health[name], "#757575")
        node = (f'<g class="node" data-service="{escape(name)}" '
                f'data-health="{escape(health[name])}">'
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{box_w}" height="{box_h}" rx="6" '
                f'fill="{colour}"><title>{escape(name)}: {escape(health[name])}</title></rect>'
                f'<text x="{x0 + box_w / 2:.1f}" y="{y0 + box_h / 2 + 5:.1f}" '
                f'text-anchor="middle" class="label">{escape(name)}</text></g>')
        if link:
            node = f'<a href="{escape(link + name)}">{node}</a>'
        parts.append(node)
    parts.append("</svg>")
    return "".join(parts)
