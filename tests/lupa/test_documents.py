from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from audit.formats import load_formats
from lupa.documents import DocumentReader, check_harvest_links, latest_date
from scrapers.crawl import ResourceCheck
from scrapers.readers import Document
from scrapers.recorded import RecordedSource

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_sipot"
IX = REAL / "export_2017_state_agency_IX_-_09_A.xls"
XLS = {"Content-Type": "application/vnd.ms-excel"}


@pytest.mark.skipif(not IX.exists(), reason="real SIPOT fixtures absent")
def test_reads_a_file_writes_its_dataset_and_samples_its_links(tmp_path):
    source = RecordedSource({"http://portal.example/ix.xls": (200, XLS, IX.read_bytes())})
    reader = DocumentReader(tmp_path, load_formats(), links_per_dataset=3, links_per_host=2)
    summary = reader(source.fetch("http://portal.example/ix.xls"))
    doc = Document.from_dict(summary["document"])
    assert doc.kind == "sipot_export" and doc.rows == 39
    assert summary["format"]["obligation_id"] == "70-IX-A"
    frame = pd.read_parquet(tmp_path / summary["dataset"])
    assert len(frame) == 39 and list(frame.columns)[1] == doc.columns[1]
    assert summary["updated_at"] is not None and summary["updated_at"] >= "2017-01-01"
    sample = summary["link_sample"]
    assert 1 <= len(sample) <= 3 and all(url.startswith("http") for url in sample)
    assert summary["links"] is None  # checked later, per obligation page
    assert reader(source.fetch("http://portal.example/other.xls")) is None  # 404: nothing read


def _resource(url: str, end: str, sample: list[str]) -> ResourceCheck:
    check = ResourceCheck(url=url, text="", depth=2, found_on="http://p.example/ix")
    check.document = {"document": {"period": {"end": end}}, "link_sample": sample,
                      "links": None}
    return check


def test_links_are_checked_once_per_page_on_the_latest_dataset():
    source = RecordedSource({"http://p.example/hv/1.pdf": (200, {}, b"%PDF-1.4")})
    older = _resource("http://p.example/t1.xlsx", "2025-03-31", ["http://p.example/hv/9.pdf"])
    latest = _resource("http://p.example/t3.xlsx", "2025-09-30",
                       ["http://p.example/hv/1.pdf", "http://p.example/hv/2.pdf"])
    harvest = SimpleNamespace(hits=[SimpleNamespace(resources=[older, latest])])
    assert check_harvest_links(harvest, source) == 2
    assert older.document["links"] is None
    assert [link["outcome"] for link in latest.document["links"]] == ["ok", "broken"]


def test_latest_date_reads_iso_and_day_first_dates():
    assert str(latest_date(["2025-01-31", "2025-10-15", "", None])) == "2025-10-15"
    assert str(latest_date(["15/10/2025", "03/11/2025"])) == "2025-11-03"
    assert latest_date(["sin fecha"]) is None


@pytest.mark.skipif(not IX.exists(), reason="real SIPOT fixtures absent")
def test_an_unchanged_file_is_carried_forward_not_read_again(tmp_path):
    import json
    from dataclasses import replace

    from lupa.documents import carried_documents

    url = "http://portal.example/ix.xls"
    source = RecordedSource({url: (200, XLS, IX.read_bytes())})
    first = source.fetch(url)
    previous = tmp_path / "runs" / "r1" / "shards" / "0000"
    (previous.parent.parent / "manifest.json").parent.mkdir(parents=True, exist_ok=True)
    (previous.parent.parent / "manifest.json").write_text(json.dumps({"run_id": "r1"}))
    summary = DocumentReader(previous, load_formats())(first)
    harvest = {"subject_id": "S", "hits": [{"resources": [
        {"url": url, "final_url": url, "sha256": first.sha256, "document": summary,
         "declared_type": first.declared_type}]}]}
    (previous / "harvest.jsonl").write_text(json.dumps(harvest) + "\n")

    carried = carried_documents([previous], {"S"})
    assert list(carried) == [(url, first.sha256)]
    assert carried_documents([previous], {"T"}) == {}
    current = tmp_path / "runs" / "r2" / "shards" / "0000"
    reader = DocumentReader(current, load_formats(), carried=carried)
    again = reader(replace(first, not_modified=True))
    assert (reader.read, reader.reused) == (0, 1)
    assert again["carried_from"] == again["observed_run"] == "r1"
    assert again["document"] == summary["document"] and again["links"] is None
    assert (current / again["dataset"]).is_file()  # the dataset came along
    same_bytes = reader(first)  # downloaded again (no validators), same hash and type
    assert (reader.read, reader.reused) == (0, 2) and same_bytes["carried_from"] == "r1"
    other_type = reader(replace(first, declared_type="text/plain"))
    assert reader.read == 1 and "carried_from" not in other_type  # read as usual


def test_carried_documents_skip_other_subjects_without_parsing_them(tmp_path, monkeypatch):
    import json

    import lupa.documents as documents
    from lupa.documents import carried_documents

    shard = tmp_path / "runs" / "r1" / "shards" / "0000"
    shard.mkdir(parents=True)
    (shard.parent.parent / "manifest.json").write_text(json.dumps({"run_id": "r1"}))

    def line(subject_id, url):
        return json.dumps({"subject_id": subject_id, "hits": [{"resources": [
            {"url": url, "sha256": "ab", "document": {"kind": "csv"}}]}]},
            ensure_ascii=False) + "\n"

    (shard / "harvest.jsonl").write_text(
        line('ñ"1', "http://p/a.csv") + line("2", "http://p/b.csv")
        + json.dumps({"hits": [], "subject_id": "3"}) + "\n", encoding="utf-8")
    parsed = []
    real = json.loads

    def counting(text, *args, **kwargs):
        parsed.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(documents.json, "loads", counting)
    found = carried_documents([shard], {'ñ"1', "3"})
    assert [(key, doc.run_id) for key, doc in found.items()] == [
        (("http://p/a.csv", "ab"), "r1")]
    # the second subject's line is skipped on its leading id; the third line, whose id is
    # not first, is parsed whole
    whole = [text for text in parsed if '"hits"' in text]
    assert [json.loads(text).get("subject_id") for text in whole] == ['ñ"1', "3"]


def test_a_download_cut_at_the_size_cap_is_not_read(tmp_path):
    from scrapers.results import FetchResult

    cut = FetchResult(url="http://p.example/a.csv", final_url="http://p.example/a.csv",
                      status_code=200, declared_type="text/csv", error="too_large",
                      content=b"a,b\n1,2\n3,")
    summary = DocumentReader(tmp_path, load_formats())(cut)
    doc = Document.from_dict(summary["document"])
    assert doc.kind == "unreadable" and doc.warning_codes() == ["too_large"]
    assert summary["dataset"] is None and doc.rows == 0
