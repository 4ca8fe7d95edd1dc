"""The SVG charts: embeddable, unique ids, text kept as (escaped) text, reproducible, and
matplotlib's global settings left alone."""

from __future__ import annotations

import re

import matplotlib

from reports import charts

BANDS = [  # as data.bands returns them
    {"band": "Alto", "min_index": 75.0, "level": 2, "levels": 3},
    {"band": "Medio", "min_index": 50.0, "level": 1, "levels": 3},
    {"band": "Crítico", "min_index": 0.0, "level": 0, "levels": 3},
]
CRITERIA = [
    {"criterion": c, "label": label, "subindex": sub}
    for c, label, sub in [
        ("presencia", "Presencia", "cumplimiento"), ("actualizacion", "Actualización",
                                                     "cumplimiento"),
        ("confiabilidad", "Confiabilidad", "cumplimiento"), ("formato", "Formato",
                                                             "cumplimiento"),
        ("apertura", "Apertura", "utilidad"), ("validez", "Validez", "utilidad"),
        ("enlaces", "Enlaces", "utilidad")]
]
SUBJECT = {"compliance": 61.76, "usefulness": 63.08, "presence": 71.43, "actualizacion": 40.66,
           "confiabilidad": 71.43, "formato": 45.05, "apertura": 58.24, "validez": 64.29,
           "enlaces": 70.33}


def _ids(svg: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', svg)


def _all_charts() -> list[charts.Chart]:
    rows = [{"label": "<script>alert(1)</script> $x$", "mean_index": 42.0, "subjects": 3},
            {"label": "Federal", "mean_index": 80.0, "subjects": 1200}]
    return [
        charts.index_histogram([0.0, 12.5, 55.0, 75.0, 100.0], BANDS),
        charts.mean_index_bars(rows, BANDS, name="por-entidad", title="t", caption="c"),
        charts.findings_by_code([{"code": "OUTDATED", "label": "Información desactualizada",
                                  "severity": "medium", "findings": 12}]),
        charts.obligation_gaps([{"obligation_id": "70-I", "title": "Marco normativo " * 8,
                                 "missing": 3, "outdated": 1}]),
        charts.national_trend([{"run_id": "a", "as_of": "2025-11-15", "mean_index": 55.7,
                                "subjects": 30},
                               {"run_id": "b", "as_of": "2026-02-15", "mean_index": 44.2,
                                "subjects": 12}]),
        charts.subject_criteria(SUBJECT, CRITERIA),
    ]


def test_charts_are_embeddable_svg_with_page_unique_ids() -> None:
    built = _all_charts()
    seen: set[str] = set()
    for chart in built:
        svg = str(chart.svg)
        assert svg.startswith("<svg ") and svg.endswith("</svg>")
        assert "<?xml" not in svg and "DOCTYPE" not in svg and "<metadata>" not in svg
        assert "<script" not in svg.lower()
        assert 'role="img"' in svg and f'-title">{chart.title}</title>' in svg
        assert not re.search(r'<svg[^>]*\swidth="', svg)  # scales with the page
        ids = _ids(svg)
        assert ids and all(i.startswith(f"{chart.name}-") for i in ids)
        assert len(ids) == len(set(ids))
        for target in re.findall(r'(?:href="#|url\(#)([^")]+)', svg):
            assert target in ids
        assert not seen & set(ids)
        seen |= set(ids)


def test_text_stays_text_and_is_escaped() -> None:
    svg = str(_all_charts()[1].svg)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; $x$" in svg  # literal, not mathtext
    assert "80.0  (n=1,200)" in svg
    assert "<path" in svg and "<text" in svg


def test_output_is_reproducible_and_leaves_rc_params_alone() -> None:
    before = dict(matplotlib.rcParams)
    first = [str(c.svg) for c in _all_charts()]
    assert [str(c.svg) for c in _all_charts()] == first
    assert dict(matplotlib.rcParams) == before


def test_reused_criteria_chart_renders_like_a_fresh_one() -> None:
    chart = charts.CriteriaChart(CRITERIA)
    zero = {k: 0.0 for k in SUBJECT}
    chart.render(zero)
    assert chart.render(SUBJECT).svg == charts.subject_criteria(SUBJECT, CRITERIA).svg
    svg = str(chart.render(zero).svg)
    assert svg.count(">0.0<") == 9 and "Cumplimiento" in svg and "Enlaces" in svg


def test_labels_and_colours() -> None:
    assert charts.wrap_label("uno dos tres cuatro cinco", 9, 2) == "uno dos\ntres…"
    assert charts.wrap_label("costó $5", 20) == r"costó \$5"
    assert charts.color_for_index(80, BANDS) == charts.band_color(2, 3) == charts.BAND_PALETTE[-1]
    assert charts.color_for_index(10, BANDS) == charts.BAND_PALETTE[0]
    assert charts.band_color(0, 1) == charts.BAND_PALETTE[-1]
