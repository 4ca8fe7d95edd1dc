from datetime import date

import pytest

from audit.freshness import (
    assess,
    latest_due_period_end,
    outdated_message,
    periods_between,
    required_years,
)


@pytest.mark.parametrize(("as_of", "months", "expected"), [
    (date(2026, 11, 24), 3, date(2026, 9, 30)),   # Q3 due on 30 Oct
    (date(2026, 10, 29), 3, date(2026, 6, 30)),   # Q3 not due yet
    (date(2026, 10, 30), 3, date(2026, 9, 30)),   # exactly 30 days after
    (date(2026, 1, 15), 3, date(2025, 9, 30)),    # Q4 2025 due on 30 Jan
    (date(2026, 11, 24), 6, date(2026, 6, 30)),
    (date(2026, 1, 29), 12, date(2024, 12, 31)),
    (date(2026, 1, 30), 12, date(2025, 12, 31)),
    (date(2026, 3, 2), 1, date(2026, 1, 31)),
])
def test_latest_due_period(as_of, months, expected):
    assert latest_due_period_end(as_of, months) == expected


def test_periods_behind():
    assert periods_between(date(2026, 9, 30), date(2026, 9, 30), 3) == 0
    assert periods_between(date(2025, 12, 31), date(2026, 9, 30), 3) == 3
    assert periods_between(date(2026, 10, 31), date(2026, 9, 30), 3) == 0  # ahead is fine


@pytest.mark.parametrize(("text", "years"), [
    ("Ejercicio en curso y ejercicio anterior", (2025, 2026)),
    ("Ejercicio en curso y la correspondiente al ejercicio anterior", (2025, 2026)),
    ("Ejercicio en curso y dos ejercicios anteriores", (2024, 2025, 2026)),
    ("Ejercicio en curso y seis ejercicios anteriores", tuple(range(2020, 2027))),
    ("Información vigente", ()),
])
def test_required_years(text, years):
    assert required_years(text, date(2026, 11, 24)) == years


def test_assess_outdated_and_missing_years():
    result = assess("trimestral", "Ejercicio en curso y ejercicio anterior", date(2026, 11, 24),
                    date(2025, 12, 31), {2025})
    assert result.outdated and result.periods_behind == 3
    assert result.missing_years == (2026,)
    message = outdated_message(result, "70-VIII")
    assert "31/12/2025" in message and "30/09/2026" in message and "3 trimestre(s)" in message


def test_assess_current_and_not_periodic():
    fresh = assess("trimestral", "Información vigente", date(2026, 11, 24), date(2026, 9, 30),
                   {2026})
    assert not fresh.outdated and fresh.missing_years == ()
    sessions = assess("por_periodo_sesiones", "", date(2026, 11, 24), date(2020, 1, 1))
    assert sessions.due_period_end is None and not sessions.outdated


def test_current_year_not_required_before_its_first_period_is_due():
    result = assess("anual", "Ejercicio en curso y ejercicio anterior", date(2026, 3, 1),
                    date(2025, 12, 31), {2025})
    assert 2026 not in result.required_years and result.missing_years == ()
