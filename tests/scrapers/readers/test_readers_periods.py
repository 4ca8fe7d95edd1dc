"""Dates, period texts and label folding, value by value."""

from __future__ import annotations

from datetime import date

import pytest

from scrapers.readers import Document, normalize_label
from scrapers.readers.labels import header_score, is_sipot_header
from scrapers.readers.model import unique_names
from scrapers.readers.notes import is_justification
from scrapers.readers.periods import (
    column_format,
    covered_period,
    parse_date,
    parse_period_label,
    serial_to_date,
)


@pytest.mark.parametrize(
    ("label", "year", "expected"),
    [
        ("enero-marzo", 2017, (date(2017, 1, 1), date(2017, 3, 31))),
        ("Enero a Junio", 2018, (date(2018, 1, 1), date(2018, 6, 30))),
        ("febrero", 2016, (date(2016, 2, 1), date(2016, 2, 29))),
        ("3er trimestre", 2025, (date(2025, 7, 1), date(2025, 9, 30))),
        ("Cuarto Trimestre", 2024, (date(2024, 10, 1), date(2024, 12, 31))),
        ("1er semestre", 2019, (date(2019, 1, 1), date(2019, 6, 30))),
        ("Segundo semestre", 2019, (date(2019, 7, 1), date(2019, 12, 31))),
        ("trimestre 2", 2020, (date(2020, 4, 1), date(2020, 6, 30))),
        ("T4", 2020, (date(2020, 10, 1), date(2020, 12, 31))),
        ("6to bimestre", 2021, (date(2021, 11, 1), date(2021, 12, 31))),
        ("Anual", 2022, (date(2022, 1, 1), date(2022, 12, 31))),
        ("2015", None, (date(2015, 1, 1), date(2015, 12, 31))),
        ("octubre 2016 - enero 2017", None, (date(2016, 10, 1), date(2017, 1, 31))),
        ("del 01/04/2023 al 30/06/2023", None, (date(2023, 4, 1), date(2023, 6, 30))),
        ("marzo", None, None),  # no year anywhere
        ("5to trimestre", 2020, None),
        ("Dirección General", 2020, None),
        ("", 2020, None),
    ],
)
def test_period_labels(label: str, year: int | None, expected: tuple[date, date] | None) -> None:
    assert parse_period_label(label, year) == expected


@pytest.mark.parametrize(
    ("values", "typed", "expected"),
    [
        (["2025-07-01", "2025-09-30"], 2, "excel_serial"),
        (["2025-07-01", "01/07/2025"], 1, "mixed"),
        (["31/03/2017", "01/04/2017"], 0, "dd/mm/yyyy"),
        (["01/04/2017", "02/05/2017"], 0, "dd/mm/yyyy"),  # undecided: Mexican convention
        (["06/30/19", "07/01/19"], 0, "mm/dd/yy"),
        (["07/01/19"], 0, "mm/dd/yy"),  # undecided two-digit year: PNT re-save convention
        (["03/31/2017"], 0, "mm/dd/yyyy"),
        (["31/03/17"], 0, "dd/mm/yy"),
        (["31/03/2017", "03/31/2017"], 0, "mixed"),
        (["45839", "45930"], 0, "number_as_excel_serial"),
        (["2024-01-31"], 0, "yyyy-mm-dd"),
        (["no aplica", "N/D"], 0, "text"),
        (["31/03/2017", "no aplica"], 0, "dd/mm/yyyy"),
        (["", "  "], 0, None),
    ],
)
def test_column_formats(values: list[str], typed: int, expected: str | None) -> None:
    assert column_format(values, typed) == expected


def test_dates() -> None:
    assert serial_to_date(45839) == date(2025, 7, 1)
    assert serial_to_date(12) is None
    assert parse_date("45839") == date(2025, 7, 1)
    assert parse_date("06/30/19", "mm/dd/yy") == date(2019, 6, 30)
    assert parse_date("01/07/2024", "dd/mm/yyyy") == date(2024, 7, 1)
    assert parse_date("01/07/2024", "mm/dd/yyyy") == date(2024, 1, 7)
    assert parse_date("31/02/2024") is None
    assert parse_date("2024-03-05 00:00:00") == date(2024, 3, 5)
    assert parse_date("15/04/2023 10:30") == date(2023, 4, 15)


def test_covered_period_prefers_the_date_columns() -> None:
    columns = ["ejercicio", "periodo que se informa", "fecha de inicio del periodo que se informa"]
    rows = [("2020", "enero-marzo", "01/04/2020"), ("2020", "abril-junio", None)]
    period = covered_period(columns, rows, {2: "dd/mm/yyyy"}, "2do trimestre")
    assert (period.start, period.end, period.source) == (date(2020, 4, 1), None, "dates")
    assert period.label == "2do trimestre"


def test_covered_period_from_the_metadata_label() -> None:
    period = covered_period(["ejercicio", "nota"], [("2019", None)], {}, "1er semestre")
    assert (period.start, period.end, period.source) == (
        date(2019, 1, 1),
        date(2019, 6, 30),
        "metadata",
    )
    ambiguous = covered_period(["ejercicio"], [("2018",), ("2019",)], {}, "1er semestre")
    assert (ambiguous.start, ambiguous.years, ambiguous.source) == (None, [2018, 2019], None)


@pytest.mark.parametrize(
    ("label", "commas", "expected"),
    [
        (
            "FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA",
            False,
            "fecha de termino del periodo que se informa",
        ),
        (" Fecha de Validación", False, "fecha de validacion"),
        ("SEXO (CATÁLOGO )", False, "sexo (catalogo)"),
        ("GENERA(N)  POSEE(N)  PUBLICA(N)", True, "genera(n), posee(n), publica(n)"),
        ("GENERA(N)  POSEE(N)", False, "genera(n) posee(n)"),
        ("FracciÃ³n", False, "fraccion"),
        ("  ", False, ""),
    ],
)
def test_normalize_label(label: str, commas: bool, expected: str) -> None:
    assert normalize_label(label, commas_as_double_spaces=commas) == expected


def test_header_recognition() -> None:
    assert header_score(["ID", "FECHA CREACION", "EJERCICIO", "Monto", "NOTA"]) == 4
    assert header_score(["Nombre del Sujeto Obligado:", "Municipio"]) == 0
    assert is_sipot_header(["ejercicio", "fecha de actualizacion", "nota"])
    assert not is_sipot_header(["ejercicio", "monto", "nota"])
    assert not is_sipot_header(["fecha de actualizacion", "nota", "id"])


def test_justifications() -> None:
    assert is_justification("No se generó información en el periodo que se informa.")
    assert is_justification("En este trimestre NO SE REALIZARON licitaciones")
    assert is_justification("No aplica para este sujeto obligado")
    assert not is_justification("Se realizó un contrato anual en Dirección Estatal")


def test_frame_names_and_serialisation_of_an_empty_document() -> None:
    assert unique_names(["", "Monto", "Monto", "Monto__2", ""]) == [
        "column_1",
        "Monto",
        "Monto__2",
        "Monto__2__2",
        "column_5",
    ]
    doc = Document(media_type="application/x-empty")
    assert doc.to_dict()["period"] == {
        "start": None,
        "end": None,
        "years": [],
        "label": None,
        "source": None,
    }
