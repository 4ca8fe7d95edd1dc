"""The fault catalog: one portal per fault (``testbed.faults``), plus a healthy control.

``generate_fault_catalog(port)`` builds a ``Network`` like ``generate_network`` does, but
every portal is placed by hand: the subject (a stratified sample of the PNT list, fixed),
a layout family, UTF-8 pages (windows-1252 declared as UTF-8 on the ``wrong_charset``
portal), the formats the fault needs, and exactly one fault. The ground truth comes from
the same rules as the random network's (``testbed.truth``), so ``Network.write`` writes the
registry and the expected statuses and findings, and ``testbed.server`` serves it.
``python -m testbed serve --faults`` serves it on 127.31.0.1 on (by default).
"""

from __future__ import annotations

import random
from dataclasses import replace

from audit.subjects import Subject
from testbed.defects import DEFECTS
from testbed.institutions import load_institutions
from testbed.model import DefectSpec, PortalSpec
from testbed.network import (
    Network,
    _options,
    addresses,
    default_catalog,
    state_laws,
    stratified_sample,
)
from testbed.spelling import STYLES

BASE = "127.31.0.1"
CONTROL = "control"
# (fault, layout family, published formats), in the order the report lists them. No
# ``menu_anidado``: its structure nests fractions deeper by itself (HARD_TO_FIND), which
# would blur what each fault does.
FAULTS = (
    (CONTROL, "lista_fracciones", ("xlsx",)),
    ("connection_refused", "tabla_trimestral", ("xlsx",)),
    ("connect_timeout", "pagina_por_fraccion", ("xlsx",)),
    ("read_timeout", "repositorio_sipot", ("xlsx",)),
    ("connection_reset", "consulta_parametros", ("xlsx",)),
    ("slow_drip", "lista_fracciones", ("xlsx",)),
    ("tls_invalid", "tabla_trimestral", ("xlsx",)),
    ("server_error_burst", "pagina_por_fraccion", ("xlsx",)),
    ("redirect_loop", "tabla_trimestral", ("xlsx",)),
    ("redirect_chain", "pagina_por_fraccion", ("xlsx",)),
    ("private_redirect", "lista_fracciones", ("xlsx",)),
    ("huge_response", "tabla_trimestral", ("xlsx",)),
    ("gzip_bomb", "lista_fracciones", ("xlsx",)),
    ("deflate_bomb", "pagina_por_fraccion", ("xlsx",)),
    ("xlsx_zip_bomb", "tabla_trimestral", ("xlsx",)),
    ("malformed_xlsx", "lista_fracciones", ("xlsx",)),
    ("malformed_pdf", "tabla_trimestral", ("pdf", "xlsx")),
    ("wrong_charset", "lista_fracciones", ("xlsx",)),
    ("script_injection", "tabla_trimestral", ("xlsx",)),
    ("infinite_calendar", "lista_fracciones", ("xlsx",)),
    ("session_id_trap", "pagina_por_fraccion", ("xlsx",)),
    ("recursive_path_trap", "tabla_trimestral", ("xlsx",)),
)
FAULT_NAMES = tuple(name for name, _, _ in FAULTS)
SEED = "lupa-faults"


# What the audit must make of the faults that are not ``testbed.faults`` kinds.
EXPECTED = {
    CONTROL: "healthy portal: the ground truth holds",
    "connection_refused": "connections refused: PORTAL_UNREACHABLE",
    "tls_invalid": "self-signed certificate: TLS_INVALID",
}


def expected_outcome(fault: str) -> str:
    """What the audit must make of ``fault``, in a line."""
    return EXPECTED.get(fault) or DEFECTS[fault].expected


def generate_fault_catalog(port: int = 8080, base: str = BASE,
                           catalog: object | None = None) -> Network:
    """The catalog's network on ``base`` and the addresses after it (see the docstring)."""
    catalog = catalog if catalog is not None else default_catalog()
    laws = state_laws(catalog)
    sample = stratified_sample(load_institutions(), len(FAULTS), random.Random(SEED))
    hosts = addresses(base, len(FAULTS))
    portals = []
    for index, ((fault, family, formats), inst, address) in enumerate(
            zip(FAULTS, sample, hosts, strict=True)):
        subject = Subject(inst.pnt_id, inst.name, inst.acronym, inst.level, inst.state,
                          inst.subject_type, f"http://{address}:{port}/")
        encoding = "windows-1252-mislabelled" if fault == "wrong_charset" else "utf-8"
        portal = PortalSpec(index=index, subject=subject, address=address, port=port,
                            family=family, spelling=next(iter(STYLES)), encoding=encoding,
                            seed=f"{SEED}:{inst.pnt_id}")
        portal.options = _options(portal.rng("options"), family, inst, laws)
        portal.options["formats"] = formats
        if fault != CONTROL:
            kind = DEFECTS[fault]
            portal.defects = (DefectSpec(fault, kind.draw_params(portal.rng("params", fault))),)
            if kind.scheme(portal) != "http":
                portal.options["scheme"] = kind.scheme(portal)
                portal.subject = replace(portal.subject, portal_url=portal.portal_url)
        portals.append(portal)
    return Network(0, len(portals), base, port, portals, catalog)


def fault_of(portal: PortalSpec) -> str:
    """The fault a catalog portal carries (``CONTROL`` for the healthy one)."""
    return portal.defects[0].kind if portal.defects else CONTROL
