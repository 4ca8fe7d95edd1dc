"""The LGTAIP-2015 catalog: its content against the reference, applicability, and validation.

The content tests pin the judgment calls (sub-format splits, verified flags, keyword
collisions) so that changing one is a visible, reviewed decision.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from audit.catalog import (
    CATALOGS_DIR,
    DEFAULT_LAW,
    UPDATE_PERIODS,
    Catalog,
    CatalogError,
    keyword_in,
    list_laws,
    load_catalog,
    load_catalog_dir,
    normalize_text,
)
from audit.obligations import int_to_roman
from audit.subjects import SUBJECT_TYPES, Subject


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog(DEFAULT_LAW)


def subject(subject_type: str, level: str = "estatal", name: str = "Sujeto", acronym: str = ""
            ) -> Subject:
    return Subject("s1", name, acronym, level, "Jalisco", subject_type, "https://example.org/")


def ids(obligations) -> list[str]:
    return [o.obligation_id for o in obligations]


# --------------------------------------------------------------------------- loading


def test_default_law_is_listed_and_cached(cat: Catalog) -> None:
    assert DEFAULT_LAW == "LGTAIP-2015"
    assert DEFAULT_LAW in list_laws()
    assert load_catalog() is cat
    assert (cat.law, cat.version) == ("LGTAIP-2015", "1.1.0")
    assert cat.common_article == 70
    assert cat.name.startswith("Ley General de Transparencia")


def test_unknown_law_names_the_known_ones() -> None:
    with pytest.raises(CatalogError, match="LGTAIP-2015"):
        load_catalog("LGTAIP-1999")


def test_get_and_unknown_id(cat: Catalog) -> None:
    assert cat.get("70-XXVIII-B").title == "Procedimientos de adjudicación directa"
    assert "70-VIII" in cat
    with pytest.raises(KeyError):
        cat.get("70-II")  # split into sub-formats: no whole-fraction row


# --------------------------------------------------------------------------- content


def test_row_counts_per_article(cat: Catalog) -> None:
    counts = {article: 0 for article in cat.articles()}
    for obligation in cat.obligations:
        counts[obligation.article] += 1
    assert counts == {70: 84, 71: 9, 72: 15, 73: 5, 74: 3, 75: 9, 76: 30, 77: 8, 78: 8, 79: 4}


def test_every_fraction_of_article_70_is_covered(cat: Catalog) -> None:
    fractions = {f for (article, f) in cat.by_fraction() if article == 70}
    assert fractions == {int_to_roman(n) for n in range(1, 49)}


def test_obligations_are_in_article_fraction_subformat_order(cat: Catalog) -> None:
    keys = [(o.article, o.fraction_number, o.subformat or "") for o in cat.obligations]
    assert keys == sorted(keys)
    assert ids(cat.obligations[:4]) == ["70-I", "70-II-A", "70-II-B", "70-III"]


@pytest.mark.parametrize(("fraction", "letters"), [
    ("II", "AB"), ("IX", "AB"), ("X", "AB"), ("XXI", "ABC"), ("XXIII", "ABCD"),
    ("XXVIII", "AB"), ("XXXIV", "ABCDEFG"), ("XXXIX", "ABCD"), ("XLI", "ABCD"),
    ("XLVIII", "ABC"), ("VIII", None), ("XII", None),
])
def test_subformats_split_as_the_reference_says(cat: Catalog, fraction: str, letters) -> None:
    rows = cat.by_fraction()[(70, fraction)]
    expected = [None] if letters is None else list(letters)
    assert [o.subformat for o in rows] == expected


def test_subformat_rows_keep_the_fraction_title(cat: Catalog) -> None:
    assert cat.get("70-II-B").title == "Organigrama"
    assert cat.fraction_title(70, "II").startswith("Su estructura orgánica completa")
    assert cat.fraction_title(70, "VIII") == cat.get("70-VIII").title


def test_specific_obligation_ids(cat: Catalog) -> None:
    assert ids(o for o in cat.obligations if o.article == 71) == [
        "71-I-A", "71-I-B", "71-I-C", "71-I-D", "71-I-E", "71-I-F", "71-I-G",
        "71-II-A", "71-II-B"]
    assert ids(o for o in cat.obligations if o.article == 79) == [
        "79-I", "79-II", "79-III", "79-IV"]


def test_verified_only_where_the_reference_verifies_the_period(cat: Catalog) -> None:
    # VII: VERIFIED (secondary). VIII: PARTLY VERIFIED, and the recorded current value
    # (trimestral since 2021) is the verified part. Everything else is recollection.
    assert {o.obligation_id for o in cat.obligations if o.verified} == {"70-VII", "70-VIII"}


@pytest.mark.parametrize(("obligation_id", "period"), [
    ("70-VIII", "trimestral"), ("70-IV", "anual"), ("70-XXV", "anual"),
    ("70-XXI-A", "anual"), ("70-XXI-B", "trimestral"), ("70-XXI-C", "anual"),
    ("70-XXXIV-E", "semestral"), ("70-XXXIX-C", "trimestral"), ("70-XXXIX-D", "anual"),
    ("70-XLIV-A", "semestral"), ("72-I", "por_periodo_sesiones"), ("72-XIII", "semestral"),
    ("76-XXX", "trimestral"),
])
def test_update_periods(cat: Catalog, obligation_id: str, period: str) -> None:
    assert cat.get(obligation_id).update_period == period


def test_period_texts_keep_the_original_wording(cat: Catalog) -> None:
    assert cat.get("70-VIII").update_period_text.startswith("Semestral en LTG 2016-2020")
    assert cat.get("70-XVI-B").conservation_period.startswith("Ejercicio en curso y dos")
    assert all(o.update_period in UPDATE_PERIODS for o in cat.obligations)


# --------------------------------------------------------------------------- applicability


def test_articles_for_each_subject_type(cat: Catalog) -> None:
    assert cat.articles_for("ejecutivo") == [70, 71]
    assert cat.articles_for("universidad") == [70, 75]
    assert cat.articles_for("sindicato") == [70, 79]
    assert cat.articles_for("persona_fisica_moral") == []
    assert "Art. 81" in cat.excluded_subject_types["persona_fisica_moral"]
    with pytest.raises(ValueError):
        cat.articles_for("ayuntamiento")


def test_municipal_executive_owes_municipal_fractions(cat: Catalog) -> None:
    rows = dict((o.obligation_id, ok) for o, ok in cat.applicability(subject("ejecutivo",
                                                                              "municipal")))
    assert rows["71-II-A"] and rows["71-II-B"] and rows["71-I-A"] and rows["70-VIII"]


def test_state_executive_gets_municipal_fractions_as_not_applicable(cat: Catalog) -> None:
    rows = dict((o.obligation_id, ok) for o, ok in cat.applicability(subject("ejecutivo")))
    assert rows["71-II-A"] is False and rows["71-I-A"] is True
    assert not cat.applies(cat.get("71-II-A"), subject("ejecutivo", "federal"))


def test_university_gets_70_and_75_only(cat: Catalog) -> None:
    rows = cat.applicability(subject("universidad"))
    assert {o.article for o, _ in rows} == {70, 75}
    assert all(ok for _, ok in rows)
    assert len(rows) == 84 + 9


def test_persona_fisica_moral_gets_nothing(cat: Catalog) -> None:
    assert cat.applicability(subject("persona_fisica_moral")) == []
    assert not cat.applies(cat.get("70-I"), subject("persona_fisica_moral"))


@pytest.mark.parametrize(("name", "acronym", "level", "expected"), [
    ("Instituto Nacional Electoral", "INE", "federal", {"74-I"}),
    ("Instituto Electoral de la Ciudad de México", "IECM", "estatal", {"74-I"}),
    ("Organismo Público Local Electoral del Estado de Veracruz", "OPLE", "estatal", {"74-I"}),
    ("Instituto Tlaxcalteca de Elecciones", "ITE", "estatal", {"74-I"}),
    ("Tribunal Electoral del Estado de Jalisco", "", "estatal", set()),
    ("Comisión Nacional de los Derechos Humanos", "CNDH", "federal", {"74-II"}),
    ("Defensoría de los Derechos Humanos de Querétaro", "", "estatal", {"74-II"}),
    ("Comisión Municipal de Derechos Humanos de Tepic", "", "municipal", set()),
    ("Instituto Nacional de Transparencia, Acceso a la Información y Protección de Datos "
     "Personales", "INAI", "federal", {"74-III"}),
    ("Instituto de Transparencia, Información Pública y Protección de Datos Personales del "
     "Estado de Jalisco", "ITEI", "estatal", {"74-III"}),
    ("COMISIÓN ESTATAL DE GARANTÍA DE ACCESO A LA INFORMACIÓN PÚBLICA", "CEGAIP", "estatal",
     {"74-III"}),
    ("Banco de México", "BANXICO", "federal", set()),
])
def test_article_74_is_narrowed_by_name(cat: Catalog, name, acronym, level, expected) -> None:
    rows = cat.applicability(subject("autonomo", level, name, acronym))
    assert {o.obligation_id for o, ok in rows if o.article == 74 and ok} == expected
    assert {o.obligation_id for o, _ in rows if o.article == 74} == {"74-I", "74-II", "74-III"}
    assert all(ok for o, ok in rows if o.article == 70)


# --------------------------------------------------------------------------- warehouse rows


def test_obligation_rows(cat: Catalog) -> None:
    rows = {row["obligation_id"]: row for row in cat.obligation_rows()}
    assert len(rows) == len(cat.obligations)
    viii = rows["70-VIII"]
    assert (viii["law"], viii["article"], viii["fraction"], viii["subformat"]) == (
        "LGTAIP-2015", 70, "VIII", None)
    assert viii["applies_to"] == [t for t in SUBJECT_TYPES if t != "persona_fisica_moral"]
    assert viii["levels"] == [] and viii["verified"] is True and viii["name_pattern"] is None
    assert "tabulador" in viii["keywords"]
    assert rows["71-II-A"]["levels"] == ["municipal"]
    assert rows["70-XXVIII-B"]["subformat"] == "B"
    assert rows["74-I"]["name_pattern"]


def test_obligation_rows_fit_the_warehouse_table(cat: Catalog) -> None:
    # The loader is the consumer of these rows: keep the two sides from drifting apart.
    shards = pytest.importorskip("warehouse.shards")
    columns = [c.name for c in shards.SCHEMAS["obligations"]]
    rows = cat.obligation_rows()
    assert list(rows[0]) == columns
    assert shards.to_arrow("obligations", rows).num_rows == len(rows)


# --------------------------------------------------------------------------- state laws


def test_state_laws(cat: Catalog) -> None:
    laws = {row["state"]: row for row in cat.state_laws()}
    assert {k: laws[k]["article"] for k in laws} == {
        "CMX": 121, "VER": 15, "DUR": 65, "YUC": 72, "GUA": 26}
    assert laws["CMX"]["fraction_shift"] == "shifted"
    assert laws["CMX"]["known_mappings"]["IX"] == "70-VIII"
    assert laws["DUR"]["verified"] is False
    laws["CMX"]["known_mappings"]["IX"] = "tampered"
    assert cat.state_laws()[0]["known_mappings"]["IX"] == "70-VIII"


# --------------------------------------------------------------------------- keywords

# Collisions that cannot be avoided: the same words name different fractions that one
# subject may owe (a party's Art. 76 directory and tabulator, a trust's own beneficiary
# roll, the labour authority's collective contracts). Add to this list only on purpose.
ACCEPTED_COLLISIONS = {
    ("normatividad aplicable", "70-I", "70-XXII"),
    ("directorio", "70-VII", "76-XV"),
    ("directorio", "70-VII", "79-II"),
    ("remuneracion", "70-VIII", "75-III"),
    ("remuneracion", "70-VIII", "76-XVI"),
    ("tabulador", "70-VIII", "76-XVI"),
    ("tabulador", "70-VIII", "78-VII"),
    ("padron de beneficiarios", "70-XV-B", "77-VI"),
    ("padron de beneficiarios", "77-VI", "70-XV-A"),
    ("padron de beneficiarios", "77-VI", "70-XV-B"),
    ("condiciones generales de trabajo", "70-XVI-A", "78-VII"),
    ("contratos colectivos", "78-VII", "78-VIII"),
}


def test_keyword_collisions_are_limited(cat: Catalog) -> None:
    found = {(c.keyword, c.obligation_id, c.other_id) for c in cat.keyword_collisions()}
    assert found == ACCEPTED_COLLISIONS


def test_keywords_are_folded_and_present(cat: Catalog) -> None:
    for obligation in cat.obligations:
        assert obligation.keywords
        assert all(k == normalize_text(k) for k in obligation.keywords)


def test_keyword_matching_is_folded_and_prefix_based() -> None:
    assert normalize_text("Remuneración  bruta (Fr. VIII)") == "remuneracion bruta fr viii"
    assert keyword_in("remuneracion", "REMUNERACIONES")
    assert not keyword_in("remuneracion", "Irremuneracion")


# Format names of the 2018 LTG upload templates, as a portal's link would show them.
@pytest.mark.parametrize(("text", "expected"), [
    ("Normatividad aplicable", ["70-I"]),
    ("Organigrama", ["70-II-B"]),
    ("Remuneración bruta y neta", ["70-VIII"]),
    ("Gastos por concepto de viáticos y representación", ["70-IX-A", "70-IX-B"]),
    ("Total de plazas vacantes y ocupadas del personal de base y confianza", ["70-X-B"]),
    ("Personal contratado por honorarios", ["70-XI"]),
    ("Sanciones administrativas a los(as) servidores(as)", ["70-XVIII"]),
    ("Padrón de beneficiarios de programas sociales", ["70-XV-B"]),
    ("Cuenta pública", ["70-XXI-C"]),
    ("Utilización de los tiempos oficiales en radio y tv", ["70-XXIII-C"]),
    ("Procedimientos de licitación pública e invitación a cuando menos tres personas",
     ["70-XXVIII-A"]),
    ("Procedimientos de adjudicación directa", ["70-XXVIII-B"]),
    ("Inventario de bienes muebles e inmuebles donados", ["70-XXXIV-G"]),
    ("Recomendaciones de organismos garantes de derechos humanos", ["70-XXXV-A"]),
    ("Calendario de sesiones ordinarias del Comité de Transparencia", ["70-XXXIX-D"]),
    ("Estudios financiados con recursos públicos",
     ["70-XLI-A", "70-XLI-B", "70-XLI-C", "70-XLI-D"]),
    ("Donaciones en especie realizadas", ["70-XLIV-B"]),
    ("Preguntas frecuentes", ["70-XLVIII-B"]),
    ("Licencias de uso de suelo", ["71-I-F"]),
    ("Sesiones celebradas de Cabildo", ["71-II-B"]),
    ("Calendario de sesiones del Cabildo", ["71-II-B"]),
    ("Obligaciones aplicables", []),
])
def test_match_text_on_official_format_names(cat: Catalog, text: str, expected) -> None:
    assert ids(cat.match_text(text, "ejecutivo")) == expected


def test_match_text_respects_the_subject_type(cat: Catalog) -> None:
    assert ids(cat.match_text("Padrón de cabilderos", "legislativo")) == ["72-XV"]
    assert cat.match_text("Padrón de cabilderos", "ejecutivo") == []


# --------------------------------------------------------------------------- validation


@pytest.fixture()
def law_dir(tmp_path: Path) -> Path:
    target = tmp_path / DEFAULT_LAW
    shutil.copytree(CATALOGS_DIR / DEFAULT_LAW, target)
    return target


def edit_row(path: Path, key: str, column: str, value: str) -> int:
    """Set ``column`` of the row whose first field is ``key``; returns its line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    for index, line in enumerate(lines):
        fields = line.split("\t")
        if fields[0] == key:
            fields[header.index(column)] = value
            lines[index] = "\t".join(fields)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return index + 1
    raise AssertionError(f"no row {key}")


def test_a_copy_loads_like_the_original(law_dir: Path, cat: Catalog) -> None:
    copy = load_catalog_dir(law_dir)
    assert copy.obligations == cat.obligations
    assert copy.state_laws() == cat.state_laws()


@pytest.mark.parametrize(("file", "key", "column", "value", "message"), [
    ("articles.tsv", "71", "applies_to", "ejecutivo,gobernador", "unknown subject type"),
    ("obligations.tsv", "70-VIII", "obligation_id", "70-VIIII", "bad obligation_id"),
    ("obligations.tsv", "70-VIII", "obligation_id", "70-VII", "duplicate obligation_id"),
    ("obligations.tsv", "70-VIII", "obligation_id", "70-viii", "write obligation_id"),
    ("obligations.tsv", "70-VIII", "update_period", "quincenal", "unknown update_period"),
    ("obligations.tsv", "70-VIII", "title", "", "missing title"),
    ("obligations.tsv", "70-VIII", "verified", "yes", "verified must be"),
    ("obligations.tsv", "70-VIII", "levels", "estatal,regional", "unknown level"),
    ("obligations.tsv", "70-VIII", "keywords", "Remuneración", "must be folded"),
    ("obligations.tsv", "74-I", "name_pattern", "electoral(", "not a valid regular"),
    ("obligations.tsv", "74-I", "name_pattern", "elección", "without accents"),
    ("obligations.tsv", "70-II-B", "obligation_id", "70-II", "both a whole-fraction row"),
    ("obligations.tsv", "79-IV", "obligation_id", "79-V", "beyond the 4 fractions"),
    ("obligations.tsv", "70-VIII", "obligation_id", "81-I", "not declared in articles.tsv"),
    ("state_laws.tsv", "DUR", "state", "XYZ", "unknown state code"),
    ("state_laws.tsv", "CMX", "known_mappings", "IX=70-XCIX", "not in this catalog"),
    ("state_laws.tsv", "CMX", "known_mappings", "IIII=70-VIII", "not a local fraction"),
])
def test_bad_rows_name_file_and_line(law_dir: Path, file, key, column, value, message) -> None:
    line = edit_row(law_dir / file, key, column, value)
    with pytest.raises(CatalogError, match=message) as caught:
        load_catalog_dir(law_dir)
    assert caught.value.path == str(law_dir / file)
    assert caught.value.line == line
    assert f"{file}:{line}:" in str(caught.value)


def test_missing_fraction_is_reported(law_dir: Path) -> None:
    path = law_dir / "obligations.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(x for x in lines if not x.startswith("70-XLV\t")) + "\n",
                    encoding="utf-8")
    with pytest.raises(CatalogError, match="article 70 has no rows for fractions XLV"):
        load_catalog_dir(law_dir)


def test_bad_header_is_reported_on_line_1(law_dir: Path) -> None:
    path = law_dir / "obligations.tsv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("update_period\t", "period\t", 1), encoding="utf-8")
    with pytest.raises(CatalogError, match="bad header") as caught:
        load_catalog_dir(law_dir)
    assert caught.value.line == 1


def test_bad_excluded_type_in_law_toml(law_dir: Path) -> None:
    path = law_dir / "law.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "persona_fisica_moral =", "persona_fisica =", 1), encoding="utf-8")
    with pytest.raises(CatalogError, match="law.toml:[0-9]+: unknown subject type"):
        load_catalog_dir(law_dir)


def test_state_laws_file_is_optional(law_dir: Path) -> None:
    (law_dir / "state_laws.tsv").unlink()
    assert load_catalog_dir(law_dir).state_laws() == []
