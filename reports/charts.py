"""The report charts: matplotlib figures rendered to SVG text for inlining into HTML.

Figures are built with ``matplotlib.figure.Figure`` (never pyplot), so no backend and no
global figure registry are involved: nothing to close, nothing leaks between charts, and
importing this module does not change matplotlib's backend for other code. Settings go
through ``rc_context``. Text stays text (``svg.fonttype = none``), the output has no date,
and each chart's ids are made unique on the page (``svg.hashsalt`` per chart, then every id
prefixed with the chart's name), so several inline SVGs never clash.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from markupsafe import Markup, escape
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from audit.scoring import SUBINDICES
from reports.data import CRITERION_COLUMNS, SEVERITY_ES, SUBINDEX_COLUMNS

# Low → high; a run with another number of bands samples it evenly.
BAND_PALETTE = ("#b2182b", "#e0702f", "#c99700", "#5aa14a", "#1b7837")
SEVERITY_COLORS = {
    "critical": "#7f0000", "high": "#c0392b", "medium": "#e0702f", "low": "#c99700",
    "info": "#8c8c8c",
}
PRIMARY = "#2c5f8a"
LIGHT = "#7fa7c9"
MISSING_COLOR = "#c0392b"
OUTDATED_COLOR = "#e69f00"
TEXT = "#222222"

_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#666666",
    "axes.labelcolor": TEXT,
    "axes.titlesize": 10.5,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "text.color": TEXT,
    "legend.frameon": False,
    "figure.dpi": 72,
}
_PT_TO_PX = 96 / 72


@dataclass(frozen=True)
class Chart:
    """An inline SVG chart: ``name`` prefixes its ids; ``title`` labels it for assistive
    technology; ``caption`` goes into the page's <figcaption>."""

    name: str
    title: str
    caption: str
    svg: Markup


def band_color(level: int, levels: int) -> str:
    """The colour of band number ``level`` (0 = lowest) out of ``levels``."""
    if levels <= 1:
        return BAND_PALETTE[-1]
    position = round(level * (len(BAND_PALETTE) - 1) / (levels - 1))
    return BAND_PALETTE[max(0, min(len(BAND_PALETTE) - 1, position))]


def color_for_index(value: float | None, bands: Sequence[dict]) -> str:
    """The colour of the band ``value`` falls in (``bands`` rows from data.bands)."""
    if value is None:
        return LIGHT
    reached = [b for b in bands if value >= b["min_index"]]
    if not reached:
        return LIGHT
    best = max(reached, key=lambda b: b["min_index"])
    return band_color(best["level"], best["levels"])


def plain(text: Any) -> str:
    """Text from the warehouse as literal chart text: "$" would start matplotlib mathtext."""
    return str(text).replace("$", r"\$")


def wrap_label(text: str, width: int = 34, lines: int = 2) -> str:
    """``text`` on at most ``lines`` lines of ``width`` characters (an ellipsis if cut),
    as literal chart text."""
    parts = textwrap.wrap(" ".join(str(text).split()), width) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: max(1, width - 1)].rstrip() + "…"
    return plain("\n".join(parts))


def _fmt(value: float) -> str:
    return f"{value:.1f}"


# --- SVG plumbing --------------------------------------------------------------------------

_PROLOG = re.compile(r"\A.*?(?=<svg[\s>])", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_STYLE = re.compile(r"\s*<style type=\"text/css\">.*?</style>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_ROOT = re.compile(r"<svg\b[^>]*>")
_SIZE = re.compile(r'\s(width|height)="([\d.]+)pt"')


def _render(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def inline_svg(svg: str, name: str, title: str) -> Markup:
    """Make matplotlib's SVG document embeddable: no XML prolog/DOCTYPE/metadata, every id
    (and reference to it) prefixed with ``name``, a <title>, role and aria-label, and the
    fixed size replaced by a maximum width so it scales down with the page."""
    svg = _PROLOG.sub("", svg, count=1)
    svg = _METADATA.sub("", svg)
    svg = _STYLE.sub("", svg)  # the page's CSS carries matplotlib's stroke defaults
    svg = re.sub(r"<defs>\s*</defs>\s*", "", svg)
    ids = set(_ID.findall(svg))
    if ids:
        def prefix(match: re.Match) -> str:
            target = match.group(2)
            if target not in ids:
                return match.group(0)
            return f"{match.group(1)}{name}-{target}"

        svg = re.sub(r'(\bid=")([^"]+)(?=")', prefix, svg)
        svg = re.sub(r"(url\(#)([^)]+)(?=\))", prefix, svg)
        svg = re.sub(r'(\bhref="#)([^"]+)(?=")', prefix, svg)
    root = _ROOT.search(svg)
    if root is None:
        raise ValueError(f"chart {name}: matplotlib produced no <svg> element")
    tag = root.group(0)
    sizes = dict((k, float(v)) for k, v in _SIZE.findall(tag))
    new_tag = _SIZE.sub("", tag)
    width = sizes.get("width")
    style = f' style="max-width:{math.ceil(width * _PT_TO_PX)}px"' if width else ""
    label = escape(title)
    new_tag = (new_tag[:-1].rstrip() +
               f' class="chart" role="img" aria-label="{label}"{style}>'
               f'<title id="{name}-title">{label}</title>')
    svg = svg[:root.start()] + new_tag + svg[root.end():]
    return Markup(svg.strip())


def _chart(name: str, title: str, caption: str, draw) -> Chart:
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"lupa-{name}"}):
        fig = draw()
        svg = _render(fig)
    fig.clear()
    return Chart(name=name, title=title, caption=caption, svg=inline_svg(svg, name, title))


def _hbar_height(count: int, per_bar: float = 0.34, extra: float = 0.9) -> float:
    return max(1.6, extra + per_bar * count)


# --- overview charts -----------------------------------------------------------------------

def index_histogram(values: Sequence[float], bands: Sequence[dict],
                    name: str = "histograma") -> Chart:
    """Subjects per 5-point bin of the index, each bin coloured by its band."""
    def draw() -> Figure:
        fig = Figure(figsize=(7.5, 3.2), layout="constrained")
        ax = fig.add_subplot()
        edges = list(range(0, 101, 5))
        counts = [0] * (len(edges) - 1)
        for v in values:
            counts[min(int(v // 5), len(counts) - 1)] += 1
        colors = [color_for_index(left, bands) for left in edges[:-1]]
        ax.bar(edges[:-1], counts, width=5, align="edge", color=colors,
               edgecolor="white", linewidth=0.8)
        for b in bands:
            if 0 < b["min_index"] < 100:
                ax.axvline(b["min_index"], color="#555555", linewidth=0.6, linestyle=":")
        handles = [Patch(color=band_color(b["level"], b["levels"]),
                                            label=plain(f"{b['band']} (≥ {b['min_index']:g})"))
                   for b in sorted(bands, key=lambda b: -b["min_index"])]
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      fontsize=8.5, title="Banda", title_fontsize=8.5)
        ax.set_xlim(0, 100)
        ax.set_xticks(range(0, 101, 10))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Índice Lupa (0–100)")
        ax.set_ylabel("Sujetos obligados")
        return fig

    return _chart(name, "Distribución del índice", "Distribución del índice: número de "
                  "sujetos obligados por tramo de 5 puntos, coloreado por banda.", draw)


def mean_index_bars(rows: Sequence[dict], bands: Sequence[dict], *, name: str, title: str,
                    caption: str) -> Chart:
    """Horizontal bars of ``rows`` ({label, mean_index, subjects}), in the given order."""
    def draw() -> Figure:
        fig = Figure(figsize=(7.5, _hbar_height(len(rows), 0.3)), layout="constrained")
        ax = fig.add_subplot()
        labels = [wrap_label(r["label"], 38, 1) for r in rows]
        means = [r["mean_index"] for r in rows]
        y = list(range(len(rows)))
        ax.barh(y, means, color=[color_for_index(m, bands) for m in means], height=0.7)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        for yi, r in zip(y, rows, strict=True):
            ax.text(r["mean_index"] + 1, yi, f"{_fmt(r['mean_index'])}  (n={r['subjects']:,})",
                    va="center", fontsize=8.5)
        ax.set_xlim(0, 118)
        ax.set_xticks(range(0, 101, 20))
        ax.set_xlabel("Índice promedio (0–100)")
        ax.tick_params(axis="y", length=0)
        return fig

    return _chart(name, title, caption, draw)


def findings_by_code(rows: Sequence[dict], name: str = "hallazgos") -> Chart:
    """Horizontal bars: findings per code (Spanish labels), coloured by severity."""
    def draw() -> Figure:
        fig = Figure(figsize=(7.5, _hbar_height(len(rows), 0.42)), layout="constrained")
        ax = fig.add_subplot()
        y = list(range(len(rows)))
        counts = [r["findings"] for r in rows]
        ax.barh(y, counts, color=[SEVERITY_COLORS.get(r["severity"], LIGHT) for r in rows],
                height=0.7)
        ax.set_yticks(y, [wrap_label(r["label"], 40, 2) for r in rows])
        ax.invert_yaxis()
        top = max(counts, default=0) or 1
        for yi, c in zip(y, counts, strict=True):
            ax.text(c + top * 0.01, yi, f"{c:,}", va="center", fontsize=8.5)
        ax.set_xlim(0, top * 1.12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Hallazgos")
        ax.tick_params(axis="y", length=0)
        seen = []
        for r in rows:
            if r["severity"] not in seen:
                seen.append(r["severity"])
        order = list(SEVERITY_COLORS)
        handles = [Patch(color=SEVERITY_COLORS[s],
                                            label=f"Severidad {SEVERITY_ES.get(s, s)}")
                   for s in sorted(seen, key=lambda s: order.index(s) if s in order else 99)
                   if s in SEVERITY_COLORS]
        if handles:
            ax.legend(handles=handles, loc="lower right", fontsize=8.5)
        return fig

    return _chart(name, "Hallazgos por tipo", "Hallazgos por tipo (sin los informativos), "
                  "coloreados por severidad.", draw)


def obligation_gaps(rows: Sequence[dict], name: str = "faltantes") -> Chart:
    """Grouped horizontal bars per obligation: subjects where it is missing / outdated."""
    def draw() -> Figure:
        fig = Figure(figsize=(7.5, _hbar_height(len(rows), 0.5)), layout="constrained")
        ax = fig.add_subplot()
        y = list(range(len(rows)))
        h = 0.38
        missing = [r["missing"] for r in rows]
        outdated = [r["outdated"] for r in rows]
        ax.barh([v - h / 2 for v in y], missing, height=h, color=MISSING_COLOR,
                label="No publicada")
        ax.barh([v + h / 2 for v in y], outdated, height=h, color=OUTDATED_COLOR,
                label="Desactualizada")
        ax.set_yticks(y, [wrap_label(f"{r['obligation_id']} · {r['title']}", 44, 2)
                          for r in rows])
        ax.invert_yaxis()
        top = max(missing + outdated, default=0) or 1
        for yi, m, o in zip(y, missing, outdated, strict=True):
            if m:
                ax.text(m + top * 0.01, yi - h / 2, f"{m:,}", va="center", fontsize=8)
            if o:
                ax.text(o + top * 0.01, yi + h / 2, f"{o:,}", va="center", fontsize=8)
        ax.set_xlim(0, top * 1.12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Sujetos obligados")
        ax.tick_params(axis="y", length=0)
        ax.legend(loc="lower right", fontsize=8.5)
        return fig

    return _chart(name, "Obligaciones más veces no publicadas o desactualizadas",
                  f"Las {len(rows)} obligaciones con más sujetos que no las publican (rojo) o "
                  "las publican desactualizadas (naranja).", draw)


def national_trend(rows: Sequence[dict], name: str = "tendencia") -> Chart:
    """The national mean index per run (x: fecha de corte), with the subjects of each run."""
    def draw() -> Figure:
        fig = Figure(figsize=(7.5, 2.8), layout="constrained")
        ax = fig.add_subplot()
        x = list(range(len(rows)))
        means = [r["mean_index"] for r in rows]
        ax.plot(x, means, marker="o", color=PRIMARY, linewidth=2)
        for xi, r in zip(x, rows, strict=True):
            ax.annotate(f"{_fmt(r['mean_index'])}\n(n={r['subjects']:,})",
                        (xi, r["mean_index"]), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=8.5)
        ax.set_xticks(x, [plain(r["as_of"] or r["run_id"]) for r in rows])
        ax.set_xlim(-0.5, len(rows) - 0.5)
        ax.set_ylim(0, 112)
        ax.set_yticks(range(0, 101, 20))
        ax.set_ylabel("Índice promedio")
        ax.set_xlabel("Fecha de corte")
        return fig

    return _chart(name, "Evolución del índice nacional",
                  "Índice promedio nacional por corrida (fecha de corte); n = sujetos "
                  "auditados en cada corrida, que pueden no ser los mismos.", draw)


# --- subject page --------------------------------------------------------------------------

class CriteriaChart:
    """The subject page's chart: the two sub-indices and the seven criteria (0–100) of one
    subject as horizontal bars grouped by sub-index.

    One figure serves every subject of a run (``criteria`` rows come from
    data.methodology): building and laying out a figure costs several times more than
    saving it, so the layout is computed once and each ``render`` only changes the bar
    lengths and value labels. The output for a subject does not depend on which subjects
    were rendered before."""

    def __init__(self, criteria: Sequence[dict], name: str = "criterios") -> None:
        self.name = name
        self.items: list[tuple[str, str, bool]] = []  # (label, scores column, is sub-index)
        for subindex, column in SUBINDEX_COLUMNS.items():
            self.items.append((SUBINDICES.get(subindex, subindex), column, True))
            self.items += [(c["label"], CRITERION_COLUMNS[c["criterion"]], False)
                           for c in criteria
                           if c["subindex"] == subindex and c["criterion"] in CRITERION_COLUMNS]
        with matplotlib.rc_context(self._rc()):
            fig = Figure(figsize=(5.0, 0.4 + 0.25 * len(self.items)), layout="constrained")
            ax = fig.add_subplot()
            y = list(range(len(self.items)))
            self.bars = ax.barh(y, [100.0] * len(y), height=0.68,
                                color=[PRIMARY if head else LIGHT for *_, head in self.items])
            ax.set_yticks(y, [plain(label if head else f"   {label}")
                              for label, _, head in self.items])
            for tick, (*_, head) in zip(ax.get_yticklabels(), self.items, strict=True):
                if head:
                    tick.set_fontweight("bold")
            ax.invert_yaxis()
            self.labels = [ax.text(101.2, yi, "100.0", va="center", fontsize=8.5) for yi in y]
            ax.set_xlim(0, 109)
            ax.set_xticks(range(0, 101, 25))
            ax.tick_params(axis="y", length=0)
            _render(fig)  # lay out once with the widest labels, then freeze the layout
            fig.set_layout_engine(None)
        self.fig = fig

    def _rc(self) -> dict[str, Any]:
        return {**_RC, "svg.hashsalt": f"lupa-{self.name}"}

    def render(self, subject: dict) -> Chart:
        values = [subject.get(column) or 0.0 for _, column, _ in self.items]
        for bar, label, value in zip(self.bars, self.labels, values, strict=True):
            bar.set_width(value)
            label.set_x(value + 1.2)
            label.set_text(_fmt(value))
        with matplotlib.rc_context(self._rc()):
            svg = _render(self.fig)
        title = "Subíndices y criterios"
        return Chart(name=self.name, title=title,
                     caption="Subíndices (oscuro) y sus criterios (claro), de 0 a 100.",
                     svg=inline_svg(svg, self.name, title))


def subject_criteria(subject: dict, criteria: Sequence[dict], name: str = "criterios") -> Chart:
    """One subject's CriteriaChart (build a CriteriaChart to render many)."""
    return CriteriaChart(criteria, name).render(subject)
