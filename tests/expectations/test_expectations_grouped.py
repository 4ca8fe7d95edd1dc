"""The grouped (fast) path of ``validate_datasets`` gives the same rows as the per-dataset path.

Without ``docs_dir`` the runner validates datasets of the same layout as ONE concatenated frame
and rebuilds each dataset's result from the failing rows GX reports; with ``docs_dir`` (or via
``_validate_each``) every dataset is validated on its own, as before. Both are run here on a
mix of datasets — clean, with failures, the same format with different header spellings,
integer and decimal amounts in one group, odd indexes and dtypes, no rows, a missing column,
one that Lupa cannot validate — and must agree row for row, error for error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from audit.formats import load_formats
from expectations import runner
from expectations.runner import Dataset, _validate_each, validate_datasets
from scrapers.readers import read_document

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_sipot"
AS_OF = dt.date(2025, 11, 20)
RUN = "manual__2025-11-20T00:00:00+00:00"
GROSS = "MONTO DE LA REMUNERACIÓN MENSUAL BRUTA  DE CONFORMIDAD AL TABULADOR DE SUELDOS Y " \
        "SALARIOS QUE CORRESPONDA"
NET = "MONTO DE LA REMUNERACIÓN MENSUAL NETA  DE CONFORMIDAD AL TABULADOR DE SUELDOS Y " \
      "SALARIOS QUE CORRESPONDA"
AREA = "ÁREA(S) RESPONSABLE(S) QUE GENERA(N)  POSEE(N)  PUBLICA(N) Y ACTUALIZAN LA INFORMACIÓN"
START = "FECHA DE INICIO DEL PERIODO QUE SE INFORMA"
END = "FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA"
SEX = "SEXO (CATÁLOGO )"


def frame_of(name: str) -> pd.DataFrame:
    return read_document((REAL / name).read_bytes()).frame()


def defects(frame: pd.DataFrame) -> pd.DataFrame:
    """Ten real Fr. VIII rows with defects of every kind of check."""
    bad = frame.head(10).reset_index(drop=True)
    bad.loc[[0, 1], GROSS] = ["-1500.50", "-20"]
    bad.loc[2, NET] = "No aplica"
    bad.loc[3, SEX] = "No binario"
    bad.loc[4, SEX] = None
    bad.loc[5, START] = "2025-10-15"                      # after the period end
    bad.loc[6, "EJERCICIO"] = "1900"
    bad.loc[7, END] = "2025-02-31"                        # ISO-shaped, not a date
    bad.loc[8, END] = "30/09/2025"                        # day/month/year
    bad.loc[9, AREA] = "   "                              # blank
    return bad


def integer_amounts(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole amounts, one negative: its '[número]' column is int64 where the others' are
    float64 — the failing sample must still read -20, not -20.0."""
    ints = frame.iloc[20:26].copy()
    ints[GROSS] = ["12000", "-20", "9000", "8000", "7000", "6000"]
    ints[NET] = ["10000", "9000", "8000", "7000", "6000", "5000"]
    return ints                                           # index 20..25: not a RangeIndex


def respelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The same format with its headers in title case (another state's spelling)."""
    other = frame.iloc[100:107].reset_index(drop=True)
    other.loc[0, GROSS] = "$1,250.00"
    other.loc[1, GROSS] = "mil pesos"
    return other.rename(columns=lambda c: c.title())


def links_xvii() -> pd.DataFrame:
    labels = load_formats().get("70-XVII:2018:53477").labels
    rows = []
    for index, link in enumerate(["https://sujeto.gob.mx/cv/1.pdf", "No disponible",
                                  "www.sujeto.gob.mx/cv/4.pdf"]):
        row = dict.fromkeys(labels, "x")
        row.update({"Ejercicio": 2025 - index,
                    "Fecha de inicio del periodo que se informa": "01/07/2025",
                    "Fecha de término del periodo que se informa": "30/09/2025",
                    "Hipervínculo al documento que contenga la trayectoria": link,
                    "Fecha de validación": None, "Fecha de actualización": "2025-10-15"})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=labels)
    frame["Ejercicio"] = frame["Ejercicio"].astype("int64")           # not text
    frame["Fecha de validación"] = frame["Fecha de validación"].astype("str")  # all empty
    return frame


@pytest.fixture(scope="module")
def datasets() -> list[Dataset]:
    real = frame_of("export_2025_state_university_art70_frVIII.xlsx")
    old = frame_of("export_2017_state_agency_VIII_-_08.xls")
    broken = pd.DataFrame([["2025", "2024"]], columns=["Ejercicio", "Ejercicio"], dtype="str")
    url = "https://sujeto.example.mx/{}.xlsx".format
    return [
        Dataset("uady", "70-VIII", url("limpio"), real.head(40)),
        Dataset("malo", "70-VIII", url("defectos"), defects(real)),
        Dataset("enteros", "70-VIII", url("enteros"), integer_amounts(real)),
        Dataset("titulo", "70-VIII", url("titulo"), respelled(real)),
        Dataset("roto", None, url("roto"), broken),
        Dataset("vacio", "70-VIII", url("vacio"), real.head(0)),
        Dataset("sinarea", "70-VIII", url("sinarea"), real.head(5).drop(columns=[AREA])),
        Dataset("conalep", "70-VIII", url("2016"), old),
        Dataset("conalep", "70-VIII", url("2016-b"), old.iloc[40:60]),
        Dataset("viaticos", "70-IX", url("ix"), frame_of("export_2017_state_agency_IX_-_09_A.xls")),
        Dataset("obra", "70-XXVIII", url("xxviii"),
                frame_of("export_2017_state_agency_XXVIII_-_28.xls")),
        Dataset("ligas", "70-XVII", url("xvii"), links_xvii(), format_id="70-XVII:2018:53477"),
        Dataset("sinobligacion", None, url("comun"), real.head(4)),
        Dataset("malo", "70-VIII", url("defectos-2"), defects(real.iloc[200:])),
    ]


def same(fast, each) -> None:
    assert list(fast) == list(each)
    assert fast.errors == each.errors
    assert {k: v for k, v in fast.stats.items() if k != "seconds"} == {
        k: v for k, v in each.stats.items() if k != "seconds"}


@pytest.fixture(scope="module")
def reference(datasets):
    return _validate_each(datasets, RUN, None, as_of=AS_OF)


def test_grouped_rows_equal_the_per_dataset_rows(datasets, reference, monkeypatch):
    runs = []
    grouped_run = runner._Grouped._run

    def counting(self, layout, members):
        runs.append(len(members))
        return grouped_run(self, layout, members)

    monkeypatch.setattr(runner._Grouped, "_run", counting)
    fast = validate_datasets(datasets, RUN, as_of=AS_OF)
    same(fast, reference)
    # The mix exercises what it should: failures, GX's samples, a Lupa error, real grouping.
    assert [e["resource_url"] for e in fast.errors] == ["https://sujeto.example.mx/roto.xlsx"]
    assert sum(not r["success"] for r in fast) >= 12
    assert '"unexpected_sample": [-20]' in next(
        r["details"] for r in fast if r["resource_url"].endswith("enteros.xlsx")
        and r["expectation"].endswith("bruta.non_negative"))
    assert sum(runs) == len(datasets) - 1 and max(runs) >= 4     # 13 datasets, few GX runs
    assert len(runs) < sum(runs)


def test_cut_to_max_rows_equal(datasets):
    subset = datasets[:4] + datasets[7:9]
    same(validate_datasets(subset, RUN, as_of=AS_OF, max_rows=5),
         _validate_each(subset, RUN, None, as_of=AS_OF, max_rows=5))


def test_a_group_gx_fails_on_is_validated_one_by_one(datasets, reference, monkeypatch):
    def failing(self, layout, members):
        raise RuntimeError("simulated GX failure")

    monkeypatch.setattr(runner._Grouped, "_run", failing)
    same(validate_datasets(datasets, RUN, as_of=AS_OF), reference)
