"""assess_obligation: the usefulness rules over every readable file of one obligation."""

from datetime import date

import pytest

from audit.catalog import load_catalog
from audit.findings import Code
from audit.formats import load_formats
from audit.usefulness import PublishedFile, assess_obligation
from lupa.documents import DocumentReader
from scrapers.results import FetchResult

AS_OF = date(2025, 11, 15)
HEADER = ("Ejercicio,Fecha de inicio del periodo que se informa,"
          "Fecha de término del periodo que se informa,Denominación del documento,"
          "Hipervínculo al documento,Área(s) responsable(s) que genera(n)  posee(n)  "
          "publica(n) y actualizan la información,Fecha de actualización,Nota\n")


def _csv(rows: list[str]) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def _row(start: str, end: str, note: str = "") -> str:
    return (f"2025,{start},{end},Acuerdo,http://p.example/hv/1.pdf,Tesorería,"
            f"15/10/2025,{note}")


def _pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    reader = DocumentReader(tmp_path_factory.mktemp("shard"), load_formats())

    def summary(url: str, body: bytes, ctype: str = "text/csv") -> PublishedFile:
        result = FetchResult(url=url, final_url=url, status_code=200, declared_type=ctype,
                             content=body)
        return PublishedFile(url, reader(result))
    return summary


def _assess(files, oid="70-I"):
    return assess_obligation(load_catalog().get(oid), files, load_formats(), AS_OF, "r1", "s1")


def test_current_files_raise_nothing_and_fill_their_facts(read):
    files = [read("http://p.example/t3.csv", _csv([_row("01/07/2025", "30/09/2025")]))]
    verdict = _assess(files)
    assert verdict.findings == []
    assert verdict.freshness.periods_behind == 0
    facts = verdict.resource_facts["http://p.example/t3.csv"]
    assert facts["period_end"] == date(2025, 9, 30) and facts["rows"] == 1
    assert facts["detected_format"] == "csv" and facts["stars"] == 3
    assert facts["updated_at"] == "2025-10-15"
    assert [url for url, _, _ in verdict.datasets] == ["http://p.example/t3.csv"]


def test_the_latest_period_of_any_file_decides_outdated(read):
    files = [read("http://p.example/t1.csv", _csv([_row("01/01/2025", "31/03/2025")])),
             read("http://p.example/t2.csv", _csv([_row("01/04/2025", "30/06/2025")]))]
    verdict = _assess(files)
    (finding,) = verdict.findings
    assert finding.code is Code.OUTDATED and finding.evidence_url == "http://p.example/t2.csv"
    assert "1 trimestre(s) de atraso" in finding.message
    assert verdict.freshness.due_period_end == date(2025, 9, 30)


def test_an_obligation_whose_every_file_justifies_is_justified(read):
    note = "No se generó información en el periodo que se informa."
    files = [read(f"http://p.example/j{n}.csv", _csv([_row("01/07/2025", "30/09/2025", note)]))
             for n in (1, 2)]
    verdict = _assess(files)
    assert {f.code for f in verdict.findings} == {Code.JUSTIFIED_ABSENCE}
    assert verdict.justified_note and "No se generó" in verdict.justified_note
    assert verdict.datasets == []  # a note is not a dataset to validate


def test_a_pdf_is_not_machine_readable_and_dead_links_are_reported(read):
    pdf = read("http://p.example/t3.pdf", _pdf("Informe del tercer trimestre"),
               "application/pdf")
    data = read("http://p.example/t3.csv", _csv([_row("01/07/2025", "30/09/2025")]))
    data.summary["links"] = [{"url": "http://p.example/hv/1.pdf", "status_code": 404,
                              "error": None, "outcome": "broken"}]
    verdict = _assess([pdf, data])
    codes = {(f.code, f.evidence_url) for f in verdict.findings}
    assert (Code.NOT_MACHINE_READABLE, "http://p.example/t3.pdf") in codes
    assert (Code.DEAD_HYPERLINKS, "http://p.example/t3.csv") in codes
    assert verdict.justified_note is None


def test_files_without_a_summary_are_left_out(read):
    verdict = _assess([PublishedFile("http://p.example/x.csv", {"error": "boom"})])
    assert verdict.findings == [] and verdict.freshness is None


def test_a_single_row_with_a_plain_note_is_data_not_a_justification(read):
    files = [read("http://p.example/t3.csv",
                  _csv([_row("01/07/2025", "30/09/2025", "Sin nota.")]))]
    verdict = _assess(files)
    assert verdict.findings == [] and verdict.justified_note is None
