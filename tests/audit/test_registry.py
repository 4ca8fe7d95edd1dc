from pathlib import Path

import pytest

from audit.registry import RegistryError, load_registry, parse_registry

HEADER = "subject_id,name,acronym,level,state,subject_type,portal_url,transparency_url\n"
GOOD = "100,Municipio de Zapopan,,municipal,Jalisco,ejecutivo,https://www.zapopan.gob.mx/,\n"


def test_good_rows_become_subjects():
    result = parse_registry(HEADER + GOOD + "200,Congreso de Yucatán,CY,estatal,YUC,legislativo,"
                            "http://congresoyucatan.gob.mx,http://congresoyucatan.gob.mx/t\n")
    assert result.issues == []
    assert [s.subject_id for s in result.subjects] == ["100", "200"]
    congress = result.subjects[1]
    assert congress.state == "Yucatán"  # PNT code normalised to the state's name
    assert congress.transparency_url == "http://congresoyucatan.gob.mx/t"
    assert result.subjects[0].transparency_url is None


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("1,X,,municipal,Jalisco,ayuntamiento,https://a.mx,", "subject_type", "must be one of"),
        ("1,X,,munisipal,Jalisco,ejecutivo,https://a.mx,", "level", "did you mean 'municipal'"),
        ("1,X,,municipal,Atlantis,ejecutivo,https://a.mx,", "state", "entidad federativa"),
        ("1,X,,estatal,,ejecutivo,https://a.mx,", "state", "required"),
        ("1,X,,federal,,ejecutivo,ftp://a.mx,", "portal_url", "http"),
        ("1,X,,federal,,ejecutivo,https://u:p@a.mx/,", "portal_url", "credentials"),
        ("1,X,,federal,,ejecutivo,https:///nohost,", "portal_url", "no host"),
        ("1,X,,federal,,ejecutivo,https://a.mx,javascript:alert(1)", "transparency_url", "http"),
        (",X,,federal,,ejecutivo,https://a.mx,", "subject_id", "empty"),
        ("1,,,federal,,ejecutivo,https://a.mx,", "name", "empty"),
    ],
)
def test_bad_row_is_reported_with_line_and_skipped(row, column, fragment):
    result = parse_registry(HEADER + GOOD + row + "\n" + GOOD.replace("100", "101"))
    assert [s.subject_id for s in result.subjects] == ["100", "101"]
    assert len(result.issues) >= 1
    issue = next(i for i in result.issues if i.column == column)
    assert issue.line == 3
    assert fragment in issue.message


def test_duplicate_id_names_first_line():
    result = parse_registry(HEADER + GOOD + GOOD)
    assert len(result.subjects) == 1
    (issue,) = result.issues
    assert (issue.line, issue.column) == (3, "subject_id")
    assert "line 2" in issue.message


def test_multiline_quoted_field_keeps_line_numbers_right():
    text = HEADER + '1,"Nombre\nen dos líneas",,federal,,ejecutivo,https://a.mx,\n' + \
        "2,Y,,federal,,partido,https://b.mx,\n"
    result = parse_registry(text)
    assert [s.subject_id for s in result.subjects] == ["1"]
    assert result.issues[0].line == 4


def test_missing_column_is_a_file_error():
    with pytest.raises(RegistryError, match="line 1: missing required column.*portal_url"):
        parse_registry("subject_id,name,acronym,level,state,subject_type\n1,X,,federal,,ejecutivo\n")


def test_bom_and_optional_column_absent(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xef\xbb\xbfsubject_id,name,acronym,level,state,subject_type,portal_url\n"
                     b"7,Secretar\xc3\xada,,federal,,ejecutivo,https://a.mx\n")
    result = load_registry(path)
    assert result.issues == []
    assert result.subjects[0].name == "Secretaría"


def test_invalid_utf8_row_is_reported_others_kept(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_bytes(HEADER.encode() + b"1,Secretar\xeda,,federal,,ejecutivo,https://a.mx,\n"
                     + GOOD.encode())
    result = load_registry(path)
    assert [s.subject_id for s in result.subjects] == ["100"]
    assert result.issues[0].line == 2 and "UTF-8" in result.issues[0].message


def test_extra_fields_reported():
    result = parse_registry(HEADER + "1,X,,federal,,ejecutivo,https://a.mx,,extra\n" + GOOD)
    assert [s.subject_id for s in result.subjects] == ["100"]
    assert result.issues[0].line == 2 and "more fields" in result.issues[0].message


def test_unreadable_file(tmp_path: Path):
    with pytest.raises(RegistryError, match="cannot read registry"):
        load_registry(tmp_path / "absent.csv")


def test_blank_lines_do_not_shift_line_numbers():
    text = HEADER + "\n" + GOOD + "\n\n" + "1,X,,federal,,partido,https://a.mx,\n"
    result = parse_registry(text)
    assert [s.subject_id for s in result.subjects] == ["100"]
    assert [i.line for i in result.issues] == [6]
    assert result.rows == 2


def test_huge_field_is_reported_truncated_and_the_rest_still_audited():
    huge = "x" * 300_000
    result = parse_registry(HEADER + f"1,{huge},,federal,,ejecutivo,https://a.mx,\n" + GOOD)
    assert [s.subject_id for s in result.subjects] == ["100"]
    (issue,) = result.issues
    assert issue.line == 2 and issue.column == "name"
    assert len(issue.value) < 100


def test_rejected_rows_count_rows_not_issues():
    result = parse_registry(HEADER + "1,X,,nivel,,tipo,https://a.mx,\n" + GOOD)
    assert len(result.issues) == 2
    assert result.rejected_rows == 1
    assert result.rows == 2
