"""Document-level defects (scanned PDFs, format mismatches, empty and justified datasets,
missing columns, bad data, dead hyperlinks, stale files, mojibake CSVs) and clean files that
pass every document rule: unit tests per kind, and a reading of the served files of a small
network, as a perfect audit would do it on ``AS_OF``, that reproduces the ground truth."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from urllib.parse import unquote, urlsplit

import pytest

from audit.catalog import UPDATE_PERIODS
from audit.findings import Code
from audit.formats import load_formats, match_headers
from audit.freshness import assess, latest_due_period_end
from audit.hyperlinks import LinkCheck, dead_hyperlinks_message, hyperlink_columns, sample_links
from audit.presence import classify
from audit.usefulness import MISSING_COLUMNS_MIN_SCORE, TABULAR_KINDS, document_findings
from scrapers.readers import read_document
from testbed import generate_network
from testbed.defects import DEFECTS, VARIANTS, DocumentKind, has_suite
from testbed.model import AS_OF, PUBLISHED, FilePlan, Period
from testbed.plan import due_period, periods
from testbed.resources import (
    DEAD_LINK_PATH,
    formats,
    missing_column_sets,
    render_file,
)
from testbed.server import Responder
from testbed.truth import DOCUMENT_CODES, gate_of

SEED, SIZE = 5, 30
RUN = "testbed-documents"
NEW_KINDS = ("scanned_pdf", "format_mismatch", "empty_dataset", "justified_file",
             "missing_columns", "bad_data", "dead_hyperlinks", "stale", "csv_mojibake")
# Codes a file raises by itself (compared per file URL).
PER_FILE = {Code.NOT_MACHINE_READABLE, Code.SCANNED_DOCUMENT, Code.FORMAT_MISMATCH,
            Code.EMPTY_DATASET, Code.JUSTIFIED_ABSENCE, Code.MISSING_COLUMNS,
            Code.ENCODING_ERROR}


@pytest.fixture(scope="module")
def net(catalog):
    return generate_network(SEED, SIZE, catalog=catalog)


@pytest.fixture(scope="module")
def fc():
    return load_formats()


def _ob(catalog, oid):
    return next(o for o in catalog.obligations if o.obligation_id == oid)


def _read(portal, plan: FilePlan):
    body, content_type = render_file(portal, plan)
    return read_document(body, filename=f"archivo.{plan.ext}", declared_type=content_type)


def _match(doc, fc, oid=None):
    if not doc.columns:
        return None
    return match_headers(doc.columns, fc, oid) or match_headers(doc.columns, fc)


def _codes(doc, fc, oid=None) -> list[Code]:
    return [f.code for f in document_findings(doc, _match(doc, fc, oid))]


def _validate(datasets):
    from expectations.runner import data_quality_findings, validate_datasets

    results = validate_datasets(datasets, RUN, as_of=AS_OF)
    assert not results.errors, results.errors[:3]
    return {f.evidence_url for f in data_quality_findings(results)}


def _dataset(subject_id, oid, url, doc, match):
    from expectations.runner import Dataset

    return Dataset(subject_id, oid, url, doc.frame(), format_id=match.format_id if match else None)


# --------------------------------------------------------------------------- AS_OF


def test_as_of_is_written_with_the_ground_truth(net, tmp_path):
    paths = net.write(tmp_path)
    assert paths["as_of"].read_text(encoding="utf-8").strip() == "2025-11-15" == str(AS_OF)
    assert paths["as_of"].parent.name == "ground_truth"


def test_portals_publish_every_period_due_on_as_of_and_no_later():
    assert due_period("trimestral") == Period(2025, "trimestre", 3)
    assert due_period("semestral") == Period(2025, "semestre", 1)
    assert due_period("anual") == Period(2024, "anual")
    assert periods("anual", (2024, 2025)) == [Period(2024, "anual")]
    for kind, months in (("trimestral", 3), ("semestral", 6), ("anual", 12)):
        assert dt.date(*due_period(kind).bounds()[1]) == latest_due_period_end(AS_OF, months)


def test_clean_entries_are_up_to_date(net, catalog):
    for portal in net.portals[:10]:
        for entry in net.build(portal)[1]:
            if "document" in entry.marks or not entry.files:
                continue
            for ob in entry.obligations:
                mine = [p for p in entry.files if p.obligation == ob]
                months = UPDATE_PERIODS.get(ob.update_period)
                if not months or not mine:
                    continue
                last = max(p.period.bounds()[1] for p in mine)
                assert dt.date(*last) == latest_due_period_end(AS_OF, months)
                # a PDF never hides the latest period: a spreadsheet/CSV of it is there too
                assert any(p.tabular for p in mine if p.period.bounds()[1] == last)


# --------------------------------------------------------------------------- clean files


def test_clean_files_of_every_format_raise_no_document_finding(net, catalog, fc):
    """Every official format (and the generic one), as xlsx and csv in both encodings, for
    quarterly, whole-year and annual files: no finding from the usefulness rules, the format
    found with no missing column, and the period read."""
    portals = [next(p for p in net.portals if p.options["csv_encoding"] == enc)
               for enc in ("utf-8", "windows-1252")]
    obligations = {o.obligation_id: o for o in catalog.obligations}
    keys = [*formats(), "70-III"]
    plans = [Period(2025, "trimestre", 3), Period(2024, "anual")]
    for n, key in enumerate(keys):
        ob = obligations.get(key) or next(o for o in catalog.obligations
                                         if o.obligation_id.startswith(key + "-"))
        for ext in ("xlsx", "csv"):
            portal = portals[n % 2]
            period = plans[n % 2]
            plan = FilePlan(ob, period, ext, 0, whole_year=n % 3 == 0)
            doc = _read(portal, plan)
            assert doc.kind in TABULAR_KINDS and doc.rows >= 3, (key, ext)
            assert _codes(doc, fc, ob.obligation_id) == [], (key, ext, doc.warnings)
            assert doc.period.end == dt.date(*period.bounds()[1]), (key, ext)
            match = _match(doc, fc, ob.obligation_id)
            if key != "70-III":
                assert match is not None and not match.missing_columns, (key, ext)


def test_clean_files_pass_every_expectation_suite(net, catalog, fc):
    """The obligations with suites of their own (dates compared, catalogs, amounts, URLs)
    and a few others, as xlsx and csv: no DATA_QUALITY."""
    portal = next(p for p in net.portals if p.options["csv_encoding"] == "windows-1252")
    oids = ["70-VIII", "70-IX-A", "70-IX-B", "70-XVII", "70-XXVIII-A", "70-XXVIII-B",
            "70-III", "71-I-A", "70-XXX"]
    datasets = []
    for n, oid in enumerate(oids):
        ob = _ob(catalog, oid)
        for ext, period in (("xlsx", Period(2025, "trimestre", 3)), ("csv", Period(2024,
                                                                                   "anual"))):
            plan = FilePlan(ob, period, ext, n, whole_year=ext == "xlsx" and n % 2 == 0)
            doc = _read(portal, plan)
            url = f"{portal.base_url}/{oid}.{ext}"
            datasets.append(_dataset(portal.subject.subject_id, oid, url, doc,
                                     _match(doc, fc, oid)))
    assert _validate(datasets) == set()


# --------------------------------------------------------------------------- each kind


def _variant(net, catalog, oid, variant, ext, portal_index=0, **kw):
    ob = _ob(catalog, oid)
    plan = FilePlan(ob, Period(2025, "trimestre", 3), ext, 0, variant=variant, **kw)
    return net.portals[portal_index], plan


def test_registry_declares_the_document_kinds():
    for name in NEW_KINDS:
        kind = DEFECTS[name]
        assert kind.scope == "obligation" and kind.codes and 0 < kind.share < 1
        assert kind.guaranteed >= 1
    drawn = {v for v, k in VARIANTS.items() if k.drawn}
    assert drawn == {"scanned", "format_mismatch", "empty", "justified",
                     "missing_columns", "bad_data", "dead_links", "mojibake"}
    # the fault catalog's hostile files are never drawn into a random network
    assert set(VARIANTS) - drawn == {"huge", "gzip_bomb", "deflate_bomb", "xlsx_zip_bomb",
                                     "malformed_xlsx", "malformed_pdf"}
    assert all(isinstance(k, DocumentKind) for k in VARIANTS.values())


def test_scanned_pdf_has_no_text_layer(net, catalog, fc):
    portal, plan = _variant(net, catalog, "70-IX-A", "scanned", "pdf")
    doc = _read(portal, plan)
    assert doc.media_type == "application/pdf" and doc.pages == 1
    assert doc.has_text_layer is False
    assert _codes(doc, fc) == [Code.NOT_MACHINE_READABLE, Code.SCANNED_DOCUMENT]
    clean = _read(portal, dataclasses.replace(plan, variant=""))
    assert clean.has_text_layer and _codes(clean, fc) == [Code.NOT_MACHINE_READABLE]
    assert render_file(portal, plan) == render_file(portal, plan)  # same bytes every time


def test_format_mismatch_is_csv_behind_an_xlsx_name_and_type(net, catalog, fc):
    portal, plan = _variant(net, catalog, "70-VIII", "format_mismatch", "xlsx")
    body, content_type = render_file(portal, plan)
    assert content_type.startswith("application/vnd.openxmlformats")
    doc = read_document(body, filename="LGT_70_VIII_2025_T3.xlsx", declared_type=content_type)
    assert any(w.startswith("format_mismatch:") for w in doc.warnings)
    assert doc.kind in TABULAR_KINDS and doc.rows >= 3
    assert _codes(doc, fc, "70-VIII") == [Code.FORMAT_MISMATCH]


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
def test_empty_dataset_has_headers_and_no_record(net, catalog, fc, ext):
    portal, plan = _variant(net, catalog, "70-XXX", "empty", ext)
    doc = _read(portal, plan)
    assert doc.kind in TABULAR_KINDS and doc.rows == 0 and len(doc.columns) > 10
    assert doc.period.end is None  # nothing to read the period from
    assert _codes(doc, fc, "70-XXX") == [Code.EMPTY_DATASET]


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
def test_justified_file_is_one_note_record(net, catalog, fc, ext):
    portal, plan = _variant(net, catalog, "70-IX-A", "justified", ext)
    doc = _read(portal, plan)
    assert doc.rows == 1 and doc.notes and doc.notes[0].startswith(
        "No se generó información en el periodo que se informa, de conformidad con")
    assert doc.period.end == dt.date(2025, 9, 30) and doc.period.years == [2025]
    assert _codes(doc, fc, "70-IX-A") == [Code.JUSTIFIED_ABSENCE]
    roles = fc.common_roles(doc.columns)
    row = dict(zip(doc.columns, doc.table[0], strict=True))
    for role in ("ejercicio", "periodo_inicio", "periodo_fin", "area_responsable",
                 "fecha_actualizacion", "fecha_validacion"):
        assert row[roles[role]], role
    filled = {c for c, v in row.items() if v} - set(roles.values())
    assert filled <= set(doc.columns[:3])  # ID, FECHA CREACION, FECHA MODIFICACION


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
def test_missing_columns_keep_the_format_recognisable(net, catalog, fc, ext):
    for oid in ("70-VIII", "70-IX-A", "70-XXVIII-A", "70-XXX", "71-I-A"):
        ob = _ob(catalog, oid)
        options = missing_column_sets(ob)
        assert options, oid
        for drop in options:
            assert 2 <= len(drop) <= 4
            portal, plan = _variant(net, catalog, oid, "missing_columns", ext, detail=drop)
            doc = _read(portal, plan)
            anyone = match_headers(doc.columns, fc)
            own = match_headers(doc.columns, fc, oid)
            for match in (anyone, own):
                assert match.score >= MISSING_COLUMNS_MIN_SCORE
                assert len(match.missing_columns) == len(drop), (oid, drop)
            assert _codes(doc, fc, oid) == [Code.MISSING_COLUMNS]
            roles = fc.common_roles(doc.columns)
            assert {"ejercicio", "periodo_inicio", "periodo_fin", "area_responsable",
                    "fecha_actualizacion", "nota"} <= set(roles)
    assert missing_column_sets(_ob(catalog, "70-III")) == ()  # generic format: never


def test_missing_columns_spare_what_the_suites_read(catalog):
    from expectations.suites import load_suites

    read = {label for suite in load_suites().values() for spec in suite.expectations
            for ref in spec.columns for label in ref.labels.values()}
    for ob in catalog.obligations:
        for drop in missing_column_sets(ob):
            assert not set(drop) & read, (ob.obligation_id, drop)


def test_bad_data_starts_every_period_after_its_end(net, catalog, fc):
    portal, plan = _variant(net, catalog, "70-XVII", "bad_data", "csv")
    doc = _read(portal, plan)
    roles = fc.common_roles(doc.columns)
    frame = doc.frame()
    starts = frame[roles["periodo_inicio"]].map(lambda v: dt.datetime.strptime(v, "%d/%m/%Y"))
    ends = frame[roles["periodo_fin"]].map(lambda v: dt.datetime.strptime(v, "%d/%m/%Y"))
    assert (starts > ends).all() and set(ends) == {dt.datetime(2025, 9, 30)}
    assert doc.period.end == dt.date(2025, 9, 30)
    assert _codes(doc, fc, "70-XVII") == []  # only the expectations see it


def test_dead_hyperlinks_point_where_the_server_answers_404(net, catalog, fc):
    portal, plan = _variant(net, catalog, "70-XXVIII-B", "dead_links", "xlsx")
    doc = _read(portal, plan)
    match = _match(doc, fc, "70-XXVIII-B")
    columns = hyperlink_columns(doc.frame(), match, fc)
    assert columns
    links = sample_links(doc.frame(), columns, per_dataset=3, per_host=2)
    assert links and all(DEAD_LINK_PATH in url for url in links)
    responder = Responder(net)
    for url in links:
        assert responder.respond(portal, urlsplit(url).path).status == 404
    clean = _read(portal, dataclasses.replace(plan, variant=""))
    for url in sample_links(clean.frame(), columns, per_dataset=3, per_host=2):
        assert responder.respond(portal, urlsplit(url).path).status == 200
    assert _codes(doc, fc, "70-XXVIII-B") == []


def test_csv_mojibake_garbles_values_not_the_header(net, catalog, fc):
    portal, plan = _variant(net, catalog, "70-XXX", "mojibake", "csv", portal_index=1)
    body, content_type = render_file(portal, plan)
    assert content_type == "text/csv; charset=utf-8"
    text = body.decode("utf-8")
    assert "Ã" in text and "Área(s) responsable(s)" in text.splitlines()[0]
    doc = _read(portal, plan)
    assert _codes(doc, fc, "70-XXX") == [Code.ENCODING_ERROR]
    assert doc.period.end == dt.date(2025, 9, 30)
    assert has_suite("70-IX-A") and not has_suite("70-XXX")


def test_stale_entries_stop_one_to_four_periods_early(net):
    seen = 0
    for portal in net.portals:
        if not portal.has_defect("stale"):
            continue
        assert set(portal.options["formats"]) <= {"xlsx", "csv"}
        for entry in net.build(portal)[1]:
            behind = entry.marks.get("stale")
            if not behind:
                continue
            seen += 1
            assert 1 <= behind <= 4 and entry.files and not entry.shared
            ob = entry.obligations[0]
            due = latest_due_period_end(AS_OF, UPDATE_PERIODS[ob.update_period])
            last = max(dt.date(*p.period.bounds()[1]) for p in entry.files)
            assert last < due
            verdict = assess(ob.update_period, "", AS_OF, last)
            assert verdict.periods_behind == behind
    assert seen


def test_document_kinds_touch_distinct_healthy_entries(net):
    for portal in net.portals:
        for entry in net.build(portal)[1]:
            variants = {p.variant for p in entry.files} - {""}
            assert len(variants) <= 1
            if variants or entry.marks.get("stale"):
                assert entry.state == PUBLISHED and not entry.shared and not entry.deep
                assert not entry.broken and not entry.marks.get("blocked")
                assert entry.marks["document"] in NEW_KINDS
            for plan in entry.files:
                if plan.variant in ("format_mismatch",):
                    assert plan.ext == "xlsx"
                elif plan.variant == "scanned":
                    assert plan.ext == "pdf"
                elif plan.variant:
                    assert plan.tabular
                if plan.variant == "mojibake":
                    assert plan.ext == "csv" and not has_suite(plan.obligation.obligation_id)


@pytest.mark.parametrize(("seed", "size"), [(SEED, SIZE), (2026, 50), (7, 50), (11, 30)])
def test_every_new_kind_and_code_in_small_networks(catalog, seed, size):
    net = generate_network(seed, size, catalog=catalog)
    kinds = collections.Counter(d.kind for p in net.portals for d in p.defects)
    assert all(kinds[k] >= 1 for k in NEW_KINDS), kinds
    codes = collections.Counter(f.code for _, found in net.iter_expected() for f in found)
    for code in DOCUMENT_CODES | {Code.JUSTIFIED_ABSENCE, Code.ENCODING_ERROR}:
        assert codes[code.value] >= 1, (seed, code)
    assert not any(p.has_defect("soft_404") and p.has_defect("dead_hyperlinks")
                   for p in net.portals)


# --------------------------------------------------------------------------- a perfect audit


@dataclasses.dataclass
class _Read:
    """One served file of an obligation as a perfect audit reads it."""

    url: str
    plan: FilePlan
    doc: object
    match: object
    codes: list

    @property
    def dataset(self) -> bool:
        """A table with records that is not a justification (what the suites validate)."""
        return (self.doc.kind in TABULAR_KINDS and self.doc.rows > 0
                and Code.JUSTIFIED_ABSENCE not in self.codes)


def _fetch(responder, portal, url):
    """The server's answer to ``url`` and the file name a client would see."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    response = responder.respond(portal, target)
    name = unquote(parts.path.rsplit("/", 1)[-1])
    for header, value in response.headers:
        if header == "Content-Disposition":
            name = unquote(value.split("''", 1)[1])
    return response, name


def _read_served(responder, fc, portal, entry, ob, layout) -> list[_Read]:
    """Every file of ``ob`` the server answers with a document (not a 404, a soft 404's
    redirect or page, nor a block page)."""
    reads = []
    for i, plan in enumerate(entry.files):
        if plan.obligation != ob:
            continue
        url = layout.file_urls.get(i) or layout.removed_urls[i]  # a removed one answers 404
        response, name = _fetch(responder, portal, url)
        if response.status != 200:
            continue
        doc = read_document(response.body, filename=name, declared_type=response.content_type)
        if doc.media_type == "text/html":
            continue
        match = _match(doc, fc, ob.obligation_id)
        reads.append(_Read(url, plan, doc, match,
                           [f.code for f in document_findings(doc, match)]))
    return reads


def _obligation_findings(responder, fc, portal, ob, reads: list[_Read]) -> set[tuple]:
    """(code, url) of one obligation: per-file rules, OUTDATED on AS_OF from the latest
    period read, DEAD_HYPERLINKS from a bounded link sample of its latest dataset."""
    found = {(code.value, r.url) for r in reads for code in r.codes}
    dated = [r for r in reads if r.doc.kind in TABULAR_KINDS and r.doc.rows and r.doc.period.end]
    if dated:
        latest = max(dated, key=lambda r: r.doc.period.end)
        verdict = assess(ob.update_period, ob.conservation_period, AS_OF, latest.doc.period.end)
        if verdict.outdated:
            found.add(("OUTDATED", latest.url))
    datasets = [r for r in dated if r.dataset]
    if datasets:
        latest = max(datasets, key=lambda r: r.doc.period.end)
        frame = latest.doc.frame()
        checks = []
        for link in sample_links(frame, hyperlink_columns(frame, latest.match, fc),
                                 per_dataset=3, per_host=2):
            answer, _ = _fetch(responder, portal, link)
            checks.append(LinkCheck(link, answer.status, None, classify(answer.status, None)))
        if checks and dead_hyperlinks_message(checks):
            found.add(("DEAD_HYPERLINKS", latest.url))
    return found


def _selection(entries):
    """Entries to read on one portal: every one a document kind touched, every one with
    broken or blocked files, every one a later generation changed, every one of an
    obligation with its own suite, and the first two others that publish files."""
    picked, others = [], 0
    for entry in entries:
        if entry.state != PUBLISHED or not entry.files:
            continue
        touched = ("document" in entry.marks or entry.broken or entry.marks.get("blocked")
                   or entry.marks.get("removed") or any(p.revision for p in entry.files)
                   or any(has_suite(ob.obligation_id) for ob in entry.obligations))
        if touched or others < 2:
            picked.append(entry)
            others += not touched
    return picked


# Datasets validated with Great Expectations (~0.2 s each): every bad-data file, and this
# many of every other variant, of each obligation with a suite of its own, and per portal.
SAMPLE = {"variant": 3, "suite": 2, "portal": 1}


def _worth_validating(plan: FilePlan, sid: str, oid: str, budget: collections.Counter) -> bool:
    if plan.variant == "bad_data" or plan.revision:
        return True
    if plan.variant:
        key, limit = ("variant", plan.variant), SAMPLE["variant"]
    elif has_suite(oid):
        key, limit = ("suite", oid), SAMPLE["suite"]
    else:
        key, limit = ("portal", sid), SAMPLE["portal"]
    budget[key] += 1
    return budget[key] <= limit


@pytest.mark.parametrize("generation", [1, 2])
def test_served_files_reproduce_the_document_ground_truth(net, catalog, fc, generation):
    """Read every file the server answers for the selected obligations (every entry a
    document kind touched or a later generation changed, plus clean ones), apply the
    usefulness rules, freshness on AS_OF, the hyperlink sample and (for every bad-data or
    revised file and a sample of the others) the expectation suites, and compare with the
    ground truth: the same findings per file and per obligation, and 'justified' exactly
    where every served file is a justification. Generation 2's changes (updated, silently
    edited, removed files) change none of them."""
    net = net.at_generation(generation)
    responder = Responder(net)
    expected, observed = set(), set()
    statuses_expected, statuses_observed = {}, {}
    validate, budget = [], collections.Counter()
    variants_read = collections.Counter()
    for portal in net.portals:
        if gate_of(portal) is not None:
            continue
        sid = portal.subject.subject_id
        _, entries, site = net.build(portal)
        checks, findings = net.expected(portal)
        status_of = {oid: st for _, oid, st in checks}
        for entry in _selection(entries):
            layout = site.layouts[entry.key]
            for ob in entry.obligations:
                oid = ob.obligation_id
                urls = {layout.file_urls.get(i) or layout.removed_urls[i]
                        for i, p in enumerate(entry.files) if p.obligation == ob}
                expected |= {(sid, oid, f.code, f.url) for f in findings
                             if f.obligation_id == oid and f.url in urls
                             and Code(f.code) in PER_FILE | DOCUMENT_CODES}
                reads = _read_served(responder, fc, portal, entry, ob, layout)
                if not reads:
                    continue
                variants_read.update(r.plan.variant or f"clean {r.plan.ext}" for r in reads)
                variants_read.update(f"revised {r.plan.revision}" for r in reads
                                     if r.plan.revision)
                observed |= {(sid, oid, code, url) for code, url in
                             _obligation_findings(responder, fc, portal, ob, reads)}
                justified = all(Code.JUSTIFIED_ABSENCE in r.codes for r in reads)
                statuses_observed[(sid, oid)] = "justified" if justified else "present"
                statuses_expected[(sid, oid)] = status_of[oid]
                for r in reads:
                    if r.plan.variant == "missing_columns":  # also without the obligation
                        anyone = match_headers(r.doc.columns, fc)
                        assert anyone.score >= MISSING_COLUMNS_MIN_SCORE
                        assert anyone.missing_columns
                    if r.dataset and _worth_validating(r.plan, sid, oid, budget):
                        validate.append(_dataset(sid, oid, r.url, r.doc, r.match))
    quality = _validate(validate)
    observed |= {(d.subject_id, d.obligation_id, "DATA_QUALITY", d.resource_url)
                 for d in validate if d.resource_url in quality}
    validated = {d.resource_url for d in validate}
    assert {f[3] for f in expected if f[2] == "DATA_QUALITY"} <= validated
    assert observed == expected, (sorted(observed - expected)[:10],
                                  sorted(expected - observed)[:10])
    assert statuses_observed == statuses_expected
    assert "justified" in statuses_observed.values()
    drawn = [v for v, k in VARIANTS.items() if k.drawn]  # the fault catalog tests the rest
    for variant in (*drawn, "clean xlsx", "clean csv", "clean pdf"):
        assert variants_read[variant] >= 1, variant
    if generation > 1:
        assert {"revised updated", "revised silent_edit"} <= set(variants_read)
    assert {f[2] for f in expected} == {
        c.value for c in DOCUMENT_CODES | {Code.ENCODING_ERROR, Code.JUSTIFIED_ABSENCE}}
