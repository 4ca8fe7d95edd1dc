from pathlib import Path

import pandas as pd
import pytest

from audit.formats import load_formats, match_headers
from audit.hyperlinks import (
    check_links,
    dead_hyperlinks_message,
    hyperlink_columns,
    sample_links,
)
from audit.presence import Outcome
from scrapers.readers import read_document
from scrapers.recorded import RecordedSource

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_sipot"


def frame():
    return pd.DataFrame({
        "Nombre": ["a", "b", "c", "d"],
        "Hipervínculo al contrato": ["https://a.example/1.pdf", "https://a.example/2.pdf",
                                     "https://b.example/x", "no disponible"],
        "Notas": ["", "ver https://c.example/ abajo", "", ""],
    })


def test_columns_by_content_when_no_format():
    assert hyperlink_columns(frame()) == ["Hipervínculo al contrato"]


def test_sampling_is_bounded_and_deterministic():
    f = frame()
    assert sample_links(f, ["Hipervínculo al contrato"], per_dataset=10, per_host=1) == [
        "https://a.example/1.pdf", "https://b.example/x"]
    assert sample_links(f, ["Hipervínculo al contrato"], per_dataset=2, per_host=5) == [
        "https://a.example/1.pdf", "https://a.example/2.pdf"]


def test_check_and_message():
    source = RecordedSource({
        "https://a.example/1.pdf": (200, {"Content-Type": "application/pdf"}, b"%PDF"),
        "https://b.example/x": (404, {}, b"no"),
    }, errors={"https://c.example/": "dns"})
    checks = check_links(["https://a.example/1.pdf", "https://b.example/x",
                          "https://c.example/"], source)
    assert [c.outcome for c in checks] == [Outcome.OK, Outcome.BROKEN, Outcome.UNREACHABLE]
    message = dead_hyperlinks_message(checks)
    assert message.startswith("2 de 3 hipervínculos") and "https://b.example/x (404)" in message
    assert dead_hyperlinks_message(checks[:1]) is None


@pytest.mark.skipif(not REAL.exists(), reason="real SIPOT fixtures absent")
def test_official_hyperlink_columns_of_a_real_export():
    doc = read_document((REAL / "export_2017_state_agency_IX_-_09_A.xls").read_bytes(),
                        filename="ix.xls")
    formats = load_formats()
    match = match_headers(doc.columns, formats)
    columns = hyperlink_columns(doc.frame(), match, formats)
    assert columns and all("hiperv" in c.lower() for c in columns)
