"""Property-based tests (hypothesis): discovery, period parsing, format-header matching and
URL normalisation hold their contracts for inputs nobody wrote down, and never raise on
hostile text. Examples are bounded (``PROFILE``) so the suite stays fast; a failing input
is shrunk and printed by hypothesis."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from audit.obligations import int_to_roman
from scrapers.discovery import normalize_text, normalize_url, origin, parse_obligation_ref
from scrapers.readers.periods import MONTHS, parse_date, parse_period_label

PROFILE = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])
# Any text a portal may send, control characters and astral planes included.
HOSTILE_TEXT = st.text(st.characters(codec="utf-8"), max_size=200)
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))
MONTH_NAMES = {number: name for name, number in MONTHS.items() if len(name) > 4 or
               name == "mayo"}


# -- URL normalisation ----------------------------------------------------------------------

@PROFILE
@given(urls())
def test_normalising_a_url_is_idempotent(url):
    once = normalize_url(url)
    assert normalize_url(once) == once
    assert "#" not in once


@PROFILE
@given(urls())
def test_normalising_keeps_the_origin(url):
    assert origin(normalize_url(url)) == origin(url)


@PROFILE
@given(st.sampled_from(["http", "HTTP", "https", "HtTpS"]),
       st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
       st.sampled_from(["", "/", "/a/b", "/Transparencia/Art70?x=1"]))
def test_case_default_ports_and_fragments_do_not_change_identity(scheme, host, path):
    default = 80 if scheme.lower() == "http" else 443
    plain = normalize_url(f"{scheme.lower()}://{host}{path}")
    assert normalize_url(f"{scheme}://{host.upper()}:{default}{path}#frag") == plain
    assert plain.startswith(f"{scheme.lower()}://{host}/")


@PROFILE
@given(HOSTILE_TEXT)
def test_hostile_urls_never_raise(text):
    assert isinstance(normalize_url(text), str)
    assert isinstance(origin(text), str)


# -- discovery ------------------------------------------------------------------------------

@PROFILE
@given(st.integers(1, 48), st.sampled_from(["Fracción", "fracción", "FRACCION", "Fr."]),
       st.sampled_from(["Artículo 70", "Art. 70", "ARTICULO 70", "artículo 70"]))
def test_a_cited_fraction_is_read_back(number, fraction_word, article):
    ref = parse_obligation_ref(f"{article} {fraction_word} {int_to_roman(number)}")
    assert ref is not None
    assert (ref.article, ref.fraction) == (70, int_to_roman(number))


@PROFILE
@given(st.integers(1, 48), st.sampled_from("ABCD"))
def test_a_fraction_with_its_subformat_is_read_in_a_fractions_list(number, letter):
    ref = parse_obligation_ref(f"{int_to_roman(number)} {letter.lower()})",
                               fraction_context=True)
    assert ref is not None
    assert ref.fraction == int_to_roman(number)
    assert ref.subformat == letter


@PROFILE
@given(HOSTILE_TEXT)
def test_hostile_text_never_breaks_discovery(text):
    ref = parse_obligation_ref(text)
    assert ref is None or ref.article > 0
    folded = normalize_text(text)
    assert normalize_text(folded) == folded  # folding is idempotent


# -- period parsing -------------------------------------------------------------------------

@PROFILE
@given(DATES)
def test_iso_dates_round_trip(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"  {day.isoformat()} ") == day


@PROFILE
@given(DATES)
def test_day_first_dates_round_trip_with_their_column_format(day):
    assert parse_date(day.strftime("%d/%m/%Y"), "dd/mm/yyyy") == day
    if day.day > 12:  # unambiguous without the column's format
        assert parse_date(day.strftime("%d/%m/%Y")) == day


@PROFILE
@given(DATES)
def test_month_first_dates_round_trip_with_their_column_format(day):
    assert parse_date(day.strftime("%m/%d/%Y"), "mm/dd/yyyy") == day


@PROFILE
@given(st.integers(2000, 2030), st.integers(1, 12), st.integers(1, 12))
def test_a_month_span_covers_from_its_first_day_to_its_last(year, first, last):
    assume(first <= last)
    label = f"{MONTH_NAMES[first]}-{MONTH_NAMES[last]}"
    start, end = parse_period_label(label, year)
    assert start == date(year, first, 1)
    assert end == date(year, last, calendar.monthrange(year, last)[1])


@PROFILE
@given(st.integers(2000, 2030), st.integers(1, 4))
def test_a_quarter_covers_three_months(year, quarter):
    start, end = parse_period_label(f"T{quarter}", year)
    assert (start, end) == (date(year, 3 * quarter - 2, 1),
                            date(year, 3 * quarter, calendar.monthrange(year, 3 * quarter)[1]))


@PROFILE
@given(HOSTILE_TEXT, st.one_of(st.none(), st.integers(1900, 2100)))
def test_hostile_period_text_never_raises_and_never_inverts(text, year):
    parse_date(text)  # must not raise
    period = parse_period_label(text, year)
    if period is not None:
        assert period[0] <= period[1]


# -- format-header matching -----------------------------------------------------------------

@pytest.fixture(scope="module")
def formats():
    from audit.formats import load_formats

    return load_formats()


def _substantive(fmt) -> bool:
    return sum(1 for c in fmt.columns if not c.role) >= 4


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_official_header_row_matches_its_format_in_any_order_and_case(formats, data):
    from audit.formats import match_headers

    fmt = data.draw(st.sampled_from([f for f in formats.formats if _substantive(f)]))
    headers = data.draw(st.permutations([c.label for c in fmt.columns]))
    headers = [data.draw(st.sampled_from([h, h.upper(), f"  {h} "])) for h in headers]
    match = match_headers(headers, formats)
    assert match is not None
    same = {match.format_id, *match.ambiguous_with}
    assert fmt.format_id in same or any(
        [c.key for c in formats._by_id[other].columns] == [c.key for c in fmt.columns]
        for other in same)
    assert match_headers(headers, formats, fmt.obligation_id) is not None


@settings(max_examples=80, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), HOSTILE_TEXT), max_size=30))
def test_hostile_header_rows_never_raise(formats, headers):
    from audit.formats import match_headers

    match = match_headers(headers, formats)
    assert match is None or 0.0 <= match.score <= 1.0
