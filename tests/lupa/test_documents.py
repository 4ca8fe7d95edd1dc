from pathlib import Path

import pandas as pd
import pytest

from audit.formats import load_formats
from lupa.documents import DocumentReader
from scrapers.readers import Document
from scrapers.recorded import RecordedSource

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_sipot"
IX = REAL / "export_2017_state_agency_IX_-_09_A.xls"


@pytest.mark.skipif(not IX.exists(), reason="real SIPOT fixtures absent")
def test_reads_writes_dataset_and_checks_a_bounded_link_sample(tmp_path):
    pages = {"http://portal.example/ix.xls": (200, {"Content-Type": "application/vnd.ms-excel"},
                                              IX.read_bytes())}
    source = RecordedSource(pages)
    reader = DocumentReader(tmp_path, source, load_formats(), links_per_dataset=3,
                            links_per_host=2, link_budget=2)
    summary = reader(source.fetch("http://portal.example/ix.xls"))
    doc = Document.from_dict(summary["document"])
    assert doc.kind == "sipot_export" and doc.rows == 39
    assert summary["format"]["obligation_id"] == "70-IX-A"
    frame = pd.read_parquet(tmp_path / summary["dataset"])
    assert len(frame) == 39 and list(frame.columns)[1] == doc.columns[1]
    # the shard budget (2) caps the sample (3); unknown URLs answer 404 in a recorded source
    assert [link["outcome"] for link in summary["links"]] == ["broken", "broken"]
    assert reader(source.fetch("http://portal.example/other.xls")) is None  # 404: nothing read
