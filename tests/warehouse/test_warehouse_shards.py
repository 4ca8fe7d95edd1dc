"""Shard writer: explicit schemas, row validation, atomic files."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warehouse_helpers import obligation_rows, subject_rows

from audit.findings import Code, Finding
from scrapers.results import FetchResult
from warehouse import shards


def test_every_shard_table_has_a_schema_and_key() -> None:
    assert set(shards.TABLES) == {
        "subjects",
        "fetches",
        "obligation_checks",
        "resources",
        "findings",
        "expectation_results",
    }
    for table in shards.SHARD_FILES:
        assert shards.arrow_schema(table).names == [c.name for c in shards.SCHEMAS[table]]
        assert set(shards.KEYS[table]) <= set(shards.arrow_schema(table).names)


def test_rows_from_the_producers_are_written_with_the_table_schema(tmp_path: Path) -> None:
    mexico_city = timezone(timedelta(hours=-6))
    fetch = FetchResult(
        url="https://a.example/",
        final_url="https://a.example/",
        status_code=200,
        content=b"x",
        fetched_at=datetime(2026, 11, 1, 4, 0, tzinfo=mexico_city),
    )
    finding = Finding("r1", "100", None, Code.PORTAL_UNREACHABLE, "Sin respuesta")
    fetch_path = shards.write_table(
        tmp_path, "fetches", [{**fetch.fetch_row(), "run_id": "r1", "subject_id": "100"}]
    )
    findings_path = shards.write_table(tmp_path, "findings", [finding.as_row()])

    assert fetch_path == tmp_path / "fetches.parquet"
    assert pq.read_schema(fetch_path).remove_metadata() == shards.arrow_schema("fetches")
    assert pq.read_schema(findings_path).remove_metadata() == shards.arrow_schema("findings")
    [row] = shards.read_table(tmp_path, "fetches")
    assert row["fetched_at"] == datetime(2026, 11, 1, 10, 0)  # stored as naive UTC
    assert row["bytes"] == 1 and row["redirects"] == 0
    [stored] = shards.read_table(tmp_path, "findings")
    assert stored == finding.as_row() | {"code": "PORTAL_UNREACHABLE", "severity": "critical"}


def test_empty_rows_still_write_a_file_with_the_schema(tmp_path: Path) -> None:
    path = shards.write_table(tmp_path / "shard-0", "resources", [])
    table = pq.read_table(path)
    assert table.num_rows == 0
    assert table.schema.remove_metadata() == shards.arrow_schema("resources")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {
                "run_id": "r",
                "subject_id": "s",
                "obligation_id": "70-I",
                "status": "present",
                "colour": "red",
            },
            "unknown column 'colour'",
        ),
        (
            {
                "run_id": "r",
                "subject_id": "s",
                "obligation_id": "70-I",
                "status": "present",
                "depth": "2",
            },
            "column 'depth': expected an integer, got str",
        ),
        (
            {
                "run_id": "r",
                "subject_id": "s",
                "obligation_id": "70-I",
                "status": "present",
                "depth": True,
            },
            "column 'depth': expected an integer, got bool",
        ),
        (
            {
                "run_id": "r",
                "subject_id": "s",
                "obligation_id": "70-I",
                "status": "present",
                "depth": 2**40,
            },
            "out of range",
        ),
        ({"run_id": "r", "subject_id": "s", "status": "present"}, "'obligation_id' is required"),
        (
            {"run_id": "r", "subject_id": 7, "obligation_id": "70-I", "status": "present"},
            "column 'subject_id': expected a string, got int",
        ),
    ],
)
def test_invalid_rows_name_table_row_and_column(tmp_path: Path, row: dict, message: str) -> None:
    good = {"run_id": "r", "subject_id": "s", "obligation_id": "70-II", "status": "missing"}
    with pytest.raises(ValueError, match=r"obligation_checks: row 1: .*" + message):
        shards.write_table(tmp_path, "obligation_checks", [good, row])
    assert not list(tmp_path.iterdir())


def test_dates_timestamps_and_lists_are_normalised() -> None:
    resources = shards.to_arrow(
        "resources",
        [
            {
                "run_id": "r",
                "subject_id": "s",
                "url": "u",
                "period_end": "2026-09-30",
                "updated_at": date(2026, 10, 2),
            }
        ],
    ).to_pylist()
    assert resources[0]["period_end"] == date(2026, 9, 30)
    with pytest.raises(ValueError, match="column 'period_end': expected a date, got a datetime"):
        shards.to_arrow(
            "resources",
            [{"run_id": "r", "subject_id": "s", "url": "u", "period_end": datetime(2026, 9, 30)}],
        )
    fetches = (
        shards.to_arrow(
            "fetches",
            [
                {
                    "run_id": "r",
                    "subject_id": "s",
                    "url": "u",
                    "fetched_at": "2026-11-01T06:00:00-06:00",
                },
                {
                    "run_id": "r",
                    "subject_id": "s",
                    "url": "v",
                    "fetched_at": datetime(2026, 11, 1, 12),
                },
                {
                    "run_id": "r",
                    "subject_id": "s",
                    "url": "w",
                    "fetched_at": datetime(2026, 11, 1, 12, tzinfo=UTC),
                },
            ],
        )
        .column("fetched_at")
        .to_pylist()
    )
    assert fetches == [datetime(2026, 11, 1, 12)] * 3
    [obligation] = shards.to_arrow("obligations", obligation_rows()[2:]).to_pylist()
    assert obligation["levels"] == ["estatal", "federal"]  # sets sorted: stable rows
    assert obligation["applies_to"] == ["legislativo"]


def test_json_columns_accept_objects_and_valid_text_only() -> None:
    [run] = shards.to_arrow("runs", [{"run_id": "r", "params": {"b": 1, "a": [2]}}]).to_pylist()
    assert run["params"] == '{"a": [2], "b": 1}'
    with pytest.raises(ValueError, match="runs: row 0: column 'params'"):
        shards.to_arrow("runs", [{"run_id": "r", "params": "{not json"}])


def test_unknown_or_non_shard_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown warehouse table 'findingz'"):
        shards.to_arrow("findingz", [])
    with pytest.raises(ValueError, match="not a shard table"):
        shards.write_table(tmp_path, "runs", [{"run_id": "r"}])


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shards.write_table(tmp_path, "subjects", subject_rows(["100"]))

    def crash_mid_write(table: pa.Table, where, **kwargs) -> None:
        where.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(shards.pq, "write_table", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        shards.write_table(tmp_path, "subjects", subject_rows())
    # The earlier complete file is untouched and no temporary file is left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["subjects.parquet"]
    assert [r["subject_id"] for r in shards.read_table(tmp_path, "subjects")] == ["100"]
