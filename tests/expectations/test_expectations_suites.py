"""Suites generated from the SIPOT format catalog: committed files, structure, resolution.

No Great Expectations import here: these tests stay fast.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from audit.formats import load_formats
from expectations.runner import Dataset, plan_dataset
from expectations.suites import (
    CHECKS,
    COMMON,
    SUITE_OBLIGATIONS,
    SUITES_DIR,
    Suite,
    SuiteError,
    check_suites,
    fold,
    generate_suites,
    load_suites,
    main,
    render,
    suite_for,
    write_suites,
)


def test_committed_suite_files_equal_the_generator_output():
    assert check_suites() == [], "run: python -m expectations.suites"
    expected = {"common", *SUITE_OBLIGATIONS}
    assert {p.stem for p in SUITES_DIR.glob("*.json")} == expected


def test_regenerating_into_a_directory_writes_the_same_bytes(tmp_path):
    written = write_suites(tmp_path)
    for path in written:
        assert path.read_bytes() == (SUITES_DIR / path.name).read_bytes()
    (tmp_path / "70-XIV.json").write_text("{}", encoding="utf-8")   # a suite no longer made
    assert check_suites(tmp_path) == ["70-XIV"]
    assert main(["--check", "--out", str(tmp_path)]) == 1
    assert main(["--out", str(tmp_path)]) == 0
    assert not (tmp_path / "70-XIV.json").exists()
    assert main(["--check", "--out", str(tmp_path)]) == 0


def test_suite_files_round_trip_and_name_known_formats_and_checks():
    fc = load_formats()
    for name, suite in load_suites().items():
        assert render(Suite.from_dict(json.loads(render(suite)))) == render(suite)
        assert len(set(suite.ids)) == len(suite.ids)
        for spec in suite.expectations:
            assert spec.check in CHECKS
            assert spec.id.startswith(f"{name}.")
            assert spec.description.endswith(".")
            for ref in spec.columns:
                assert ref.roles or ref.labels
                for format_id, label in ref.labels.items():
                    assert label in fc.get(format_id).labels
            for format_id, values in spec.values.items():
                column = next(c for c in fc.get(format_id).columns
                              if c.label == spec.columns[0].labels[format_id])
                assert values == column.catalog


def test_common_suite_covers_the_common_roles():
    common = load_suites()[COMMON]
    for expectation_id in ("common.ejercicio_plausible_year", "common.period_start_before_end",
                           "common.update_not_before_period_end", "common.period_end_parses",
                           "common.update_date_parses", "common.area_responsable_present",
                           "common.period_column_present"):
        assert expectation_id in common.ids
    pair = common.get("common.period_start_before_end")
    assert [c.roles for c in pair.columns] == [("periodo_inicio",), ("periodo_fin",)]
    assert common.get("common.area_responsable_column_present").structural
    assert common.get("common.ejercicio_plausible_year").params["min_year"] == 2015


def test_one_expectation_per_criterion_across_editions():
    viii = load_suites()["70-VIII"]
    gross = viii.get("70-VIII.monto_remuneracion_mensual_bruta.non_negative")
    # 2016 'Remuneración mensual bruta' joins the 2018/2023 amount, not 'Tipo de moneda…'.
    assert gross.columns[0].labels == {
        "70-VIII:2023:yuc2025": "Monto de la remuneración mensual bruta, de conformidad al "
                                "Tabulador de sueldos y salarios que corresponda",
        "70-VIII:2018:53405": "Monto de la remuneración bruta, de conformidad al Tabulador de "
                              "sueldos y salarios que corresponda",
        "70-VIII:2016:34931": "Remuneración mensual bruta",
    }
    sexo = viii.get("70-VIII.sexo.in_catalog")
    assert sexo.values["70-VIII:2023:yuc2025"] == ("Hombre", "Mujer")
    assert sexo.values["70-VIII:2016:34931"] == ("Masculino", "Femenino")
    ix = load_suites()["70-IX"]
    trip = ix.get("70-IX.fecha_salida_encargo_comision.not_after_end")
    assert trip.check == "dates_ordered" and len(trip.columns) == 2
    assert any(s.check == "is_url" for s in load_suites()["70-XXVIII-B"].expectations)


def test_suite_for_an_obligation_its_subformat_or_its_format():
    suites = load_suites()
    assert suite_for("70-VIII").name == "70-VIII"
    assert suite_for("70-IX-A").name == "70-IX"            # fraction suite covers sub-formats
    assert suite_for("70-XXVIII", "70-XXVIII-B:2018:53499").name == "70-XXVIII-B"
    assert suite_for("70-I") is None and suite_for(None) is None
    assert suite_for("not-an-id", suites=suites) is None


def test_fold_ignores_case_accents_and_punctuation():
    assert fold("Servidor(a) público(a)") == fold("SERVIDOR (A) PUBLICO (A)")
    assert fold(" Viáticos ") == "viaticos"


def test_bad_suite_files_fail_loudly(tmp_path):
    suites = generate_suites(obligations=())
    data = suites[COMMON].to_dict()
    data["expectations"][0]["check"] = "be_nice"
    (tmp_path / "common.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SuiteError, match="unknown check 'be_nice'"):
        load_suites(str(tmp_path))


def _headers(format_id: str, transform) -> list[str]:
    return [transform(label) for label in load_formats().get(format_id).labels]


@pytest.mark.parametrize("transform", [str, str.upper, lambda s: s.replace(",", "  ")])
def test_columns_are_resolved_whatever_the_case_or_punctuation(transform):
    headers = _headers("70-XXVIII-B:2018:53499", transform)
    frame = pd.DataFrame([["x"] * len(headers)], columns=headers, dtype="str")
    plans, prep, format_id = plan_dataset(Dataset("s", "70-XXVIII-B", "u", frame))
    assert format_id == "70-XXVIII-B:2018:53499"
    by_id = {p.spec.id: p for p in plans}
    url = by_id["70-XXVIII-B.hipervinculo_finiquito.is_url"]
    assert url.headers == (transform("Hipervínculo al finiquito"),)
    assert "common.period_start_before_end" in by_id
    assert by_id["70-XXVIII-B.tipo_procedimiento.in_catalog"].kwargs["value_set"] == [
        "adjudicacion directa", "otra especificar"]


def test_fraction_level_obligation_finds_its_subformat_suite_by_header():
    headers = _headers("70-XXVIII-B:2018:53499", str)
    frame = pd.DataFrame([["x"] * len(headers)], columns=headers, dtype="str")
    plans, _, format_id = plan_dataset(Dataset("s", "70-XXVIII", "u", frame))
    assert format_id == "70-XXVIII-B:2018:53499"
    assert any(p.suite == "70-XXVIII-B" for p in plans)


def test_unresolved_columns_are_skipped_but_absent_common_columns_are_reported():
    frame = pd.DataFrame({"Ejercicio": ["2025"], "Otra cosa": ["x"]}, dtype="str")
    plans, _, format_id = plan_dataset(Dataset("s", "70-VIII", "u", frame))
    assert format_id is None
    ids = {p.spec.id: p for p in plans}
    assert "common.ejercicio_plausible_year" in ids
    assert "common.period_start_before_end" not in ids
    absent = ids["common.area_responsable_column_present"]
    assert absent.kwargs["column"] not in frame.columns   # GX reports it missing
    assert not any(p.suite == "70-VIII" for p in plans)
