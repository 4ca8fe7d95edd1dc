"""A small stand-in for ``audit.catalog.Catalog``: the duck-typed interface discovery and
the crawl rely on (``obligations``, ``articles()``, ``by_fraction()``, ``get()``,
``fraction_title()``), with a handful of real LGTAIP-2015 obligations and key phrases."""

from __future__ import annotations

from audit.obligations import Obligation, ObligationRef

_ROWS = (
    (
        "70-I",
        "El marco normativo aplicable al sujeto obligado (leyes, códigos, reglamentos, "
        "decretos de creación, manuales administrativos)",
        ("marco normativo", "normatividad"),
    ),
    ("70-II-A", "Estructura orgánica", ("estructura organica",)),
    ("70-II-B", "Organigrama", ("organigrama",)),
    ("70-III", "Las facultades de cada Área", ("facultades",)),
    ("70-VII", "El directorio de todos los Servidores Públicos", ("directorio",)),
    (
        "70-VIII",
        "La remuneración bruta y neta de todos los Servidores Públicos de base o de "
        "confianza, de todas las percepciones (sueldos, prestaciones, gratificaciones, primas, "
        "comisiones, dietas, bonos, estímulos)",
        ("remuneracion", "sueldos", "salarios"),
    ),
    (
        "70-IX",
        "Los gastos de representación y viáticos, así como el objeto e informe de "
        "comisión correspondiente",
        ("viaticos", "gastos de representacion"),
    ),
    ("70-XI", "Las contrataciones de servicios profesionales por honorarios", ("honorarios",)),
    ("70-XV-A", "Programas sociales desarrollados", ("programas sociales",)),
    ("70-XV-B", "Padrón de beneficiarios de programas sociales", ("padron de beneficiarios",)),
    (
        "70-XXI",
        "La información financiera sobre el presupuesto asignado y los informes del "
        "ejercicio trimestral del gasto",
        ("presupuesto", "ejercicio del gasto"),
    ),
    (
        "70-XXVIII-A",
        "Resultados de procedimientos de licitación pública e invitación a cuando "
        "menos tres personas",
        ("licitacion publica", "invitacion a cuando menos tres"),
    ),
    (
        "70-XXVIII-B",
        "Resultados de procedimientos de adjudicación directa",
        ("adjudicacion directa",),
    ),
    (
        "70-XLVII",
        "Listado de solicitudes a concesionarias de telecomunicaciones para la "
        "intervención de comunicaciones privadas",
        ("intervencion de comunicaciones",),
    ),
    ("71-I-A", "Plan Nacional de Desarrollo, Estatal o Municipal", ("plan de desarrollo",)),
    ("71-II-A", "Gacetas municipales", ("gaceta municipal",)),
    (
        "71-II-B",
        "Actas de sesiones de cabildo, controles de asistencia y sentido de votación",
        ("actas de cabildo", "sesiones de cabildo"),
    ),
    ("72-I", "Agenda legislativa", ("agenda legislativa",)),
)


# Titles of the fractions split into sub-formats (``Catalog.fraction_title``).
_FRACTION_TITLES = {
    (70, "II"): "Su estructura orgánica completa, en un formato que permita vincular cada "
    "parte de la estructura, las atribuciones y responsabilidades",
    (70, "XV"): "La información de los programas de subsidios, estímulos y apoyos",
    (70, "XXVIII"): "La información sobre los resultados sobre procedimientos de adjudicación "
    "directa, invitación restringida y licitación de cualquier naturaleza",
    (71, "I"): "Poderes Ejecutivos Federal, de las entidades federativas y municipales",
    (71, "II"): "Adicionalmente, en el caso de los municipios",
}


def _obligation(obligation_id: str, title: str, keywords: tuple[str, ...]) -> Obligation:
    ref = ObligationRef.parse(obligation_id)
    return Obligation(
        law="LGTAIP-2015",
        obligation_id=obligation_id,
        article=ref.article,
        fraction=ref.fraction,
        subformat=ref.subformat,
        title=title,
        applies_to=frozenset({"*"}),
        keywords=keywords,
    )


class FixtureCatalog:
    law = "LGTAIP-2015"

    def __init__(self) -> None:
        self.obligations = tuple(_obligation(*row) for row in _ROWS)

    def articles(self) -> list[int]:
        return sorted({o.article for o in self.obligations})

    def get(self, obligation_id: str) -> Obligation:
        return next(o for o in self.obligations if o.obligation_id == obligation_id)

    def fraction_title(self, article: int, fraction: str) -> str:
        if (article, fraction) in _FRACTION_TITLES:
            return _FRACTION_TITLES[(article, fraction)]
        return next(
            o.title for o in self.obligations if (o.article, o.fraction) == (article, fraction)
        )

    def by_fraction(self) -> dict[tuple[int, str], list[Obligation]]:
        grouped: dict[tuple[int, str], list[Obligation]] = {}
        for obligation in self.obligations:
            grouped.setdefault((obligation.article, obligation.fraction), []).append(obligation)
        return grouped
