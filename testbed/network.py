"""Generate a deterministic network of simulated transparency portals, with ground truth.

``generate_network(seed, size)`` picks ``size`` subjects from the 8,646 institutions of the
PNT list (a stratified sample, so that small networks still mix kinds and levels), gives
each one a loopback address, a layout family, a spelling style, an encoding and zero or
more defects. That spec is cheap; sites, files and the ground truth are derived from it
on demand. ``Network.write(out_dir)`` writes the registry (DESIGN section 4), the ground
truth (``ground_truth/as_of.txt`` holds the audit date it is true on, ``AS_OF``:
2025-11-15) and ``network.json``.

``generate_network(seed, size, generation=2)`` is the same network re-published later
(``testbed.history``): same subjects, addresses, layouts and URLs, most documents
byte-identical, some updated, silently edited or removed. Its ``write`` adds
``ground_truth/generation.txt`` and ``ground_truth/changes.csv``; generation 1 writes
exactly what it always did.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import random
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from audit.obligations import Obligation
from audit.subjects import Subject
from testbed.defects import DEFECTS, MIN_SIZE, OBLIGATION_KINDS, PORTAL_KINDS
from testbed.families import FAMILIES
from testbed.history import CHANGES, assign_history, check_generation, entry_changes
from testbed.html import TRANSPARENCY_LINK_TEXTS
from testbed.institutions import Institution, load_institutions
from testbed.model import AS_OF, DefectSpec, Entry, ExpectedFinding, PortalSpec
from testbed.plan import build_entries
from testbed.site import Site
from testbed.spelling import STYLES
from testbed.truth import expected_for_portal, gate_of

LAW = "LGTAIP-2015"
REGISTRY_COLUMNS = ("subject_id", "name", "acronym", "level", "state", "subject_type",
                    "portal_url", "transparency_url")

FAMILY_WEIGHTS = {"lista_fracciones": 0.2, "tabla_trimestral": 0.2, "pagina_por_fraccion": 0.15,
                  "menu_anidado": 0.15, "repositorio_sipot": 0.15, "consulta_parametros": 0.15}
ENCODING_WEIGHTS = {"utf-8": 0.8, "windows-1252": 0.14, "windows-1252-undeclared": 0.06}
# Families that cite the state's own law (and its article numbers) for state subjects.
STATE_LAW_FAMILIES = ("pagina_por_fraccion", "menu_anidado")
# Families whose structure itself nests some fractions deeper than three clicks.
INHERENT_DEFECTS = {"menu_anidado": ("deep_nesting",)}
# State laws used when the catalog does not list them (``Catalog.state_laws()``): states
# without a known law are simulated as mirroring Art. 70 under their own law's name, with a
# numbering the audit cannot trust ("unknown").
FALLBACK_STATE_LAWS = {
    "Ciudad de México": (121, "Ley de Transparencia, Acceso a la Información Pública y "
                              "Rendición de Cuentas de la Ciudad de México", "shifted"),
}
# Insertions before these Art. 70 fractions reproduce the known CDMX Art. 121 numbering
# (+1 at VIII and XII, +4 at XLIII).
CDMX_INSERTIONS = (5, 20, 30, 40)
# Kinds of subject a small network must contain, in this order of priority.
PRIORITY_STRATA = (
    ("ejecutivo", "municipal"), ("ejecutivo", "estatal"), ("ejecutivo", "federal"),
    ("legislativo", "estatal"), ("judicial", "estatal"), ("autonomo", "estatal"),
    ("universidad", "estatal"), ("partido_politico", "estatal"), ("fideicomiso", "federal"),
    ("sindicato", "estatal"), ("autoridad_laboral", "estatal"), ("legislativo", "federal"),
    ("judicial", "federal"), ("autonomo", "federal"), ("partido_politico", "federal"),
    ("fideicomiso", "estatal"), ("sindicato", "federal"), ("universidad", "federal"),
)
SITE_CACHE = 128  # ~0.3 MB per site map


# ---- addresses --------------------------------------------------------------------------
def addresses(base: str, count: int) -> list[str]:
    """``count`` loopback addresses from ``base`` on, skipping .0 and .255 last octets."""
    start = ipaddress.IPv4Address(base)
    loopback = ipaddress.IPv4Network("127.0.0.0/8")
    if start not in loopback:
        raise ValueError(f"base address {base} is not in 127.0.0.0/8")
    out, value = [], int(start)
    while len(out) < count:
        if value & 0xFF not in (0, 255):
            address = ipaddress.IPv4Address(value)
            if address not in loopback:
                raise ValueError(f"{count} addresses from {base} leave 127.0.0.0/8")
            out.append(str(address))
        value += 1
    return out


# ---- sampling ---------------------------------------------------------------------------
def quotas(weights: dict, total: int, minimum: int = 0) -> dict:
    """Largest-remainder split of ``total`` by ``weights``, each at least ``minimum``
    while the total allows it."""
    keys = list(weights)
    floor = min(minimum, total // max(len(keys), 1))
    spare = total - floor * len(keys)
    norm = sum(weights.values()) or 1.0
    raw = {k: spare * weights[k] / norm for k in keys}
    out = {k: floor + int(raw[k]) for k in keys}
    rest = total - sum(out.values())
    for k in sorted(keys, key=lambda k: (-(raw[k] - int(raw[k])), keys.index(k)))[:rest]:
        out[k] += 1
    return out


def stratified_sample(institutions: tuple[Institution, ...], size: int,
                      rng: random.Random) -> list[Institution]:
    """``size`` institutions: one of each priority stratum first, the rest in proportion."""
    if size >= len(institutions):
        return list(institutions)
    strata: dict[tuple[str, str], list[int]] = OrderedDict()
    for index, inst in enumerate(institutions):
        strata.setdefault((inst.subject_type, inst.level), []).append(index)
    take = {key: 0 for key in strata}
    for key in PRIORITY_STRATA:
        if sum(take.values()) < size and key in strata:
            take[key] = 1
    left = size - sum(take.values())
    room = {k: len(v) - take[k] for k, v in strata.items()}
    extra = quotas({k: float(room[k]) for k in strata}, left)
    chosen: list[int] = []
    overflow = 0
    for key, members in strata.items():
        count = take[key] + extra[key]
        overflow += max(0, count - len(members))
        chosen += rng.sample(members, min(count, len(members)))
    if overflow:
        rest = sorted(set(range(len(institutions))) - set(chosen))
        chosen += rng.sample(rest, overflow)
    return [institutions[i] for i in sorted(chosen)]


def spread(rng: random.Random, weights: dict[str, float], count: int,
           minimum: int = 1) -> list[str]:
    """A shuffled list of ``count`` labels in proportion to ``weights``."""
    labels = [k for k, n in quotas(weights, count, minimum).items() for _ in range(n)]
    rng.shuffle(labels)
    return labels


# ---- the network ------------------------------------------------------------------------
@dataclass
class Network:
    seed: int
    size: int
    base: str
    port: int
    portals: list[PortalSpec]
    catalog: object
    generation: int = 1
    _sites: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _generations: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.by_address = {p.address: p for p in self.portals}
        self.by_subject = {p.subject.subject_id: p for p in self.portals}

    # -- derived, on demand ----------------------------------------------------------------
    def applicability(self, portal: PortalSpec) -> list[tuple[Obligation, bool]]:
        return list(self.catalog.applicability(portal.subject))

    def build(self, portal: PortalSpec) -> tuple[list[tuple[Obligation, bool]], list[Entry],
                                                 Site]:
        """Applicability, entry plan and site map of one portal (uncached)."""
        applicability = self.applicability(portal)
        entries = build_entries(portal, applicability, self.catalog)
        section = all(DEFECTS[d.kind].home_links_transparency(portal) for d in portal.defects)
        site = FAMILIES[portal.family].build(portal, entries, section)
        return applicability, entries, site

    def site(self, portal: PortalSpec) -> Site:
        """The portal's site map, kept in a small LRU cache while serving."""
        key = portal.index
        if key in self._sites:
            self._sites.move_to_end(key)
            return self._sites[key]
        site = self.build(portal)[2]
        self._sites[key] = site
        if len(self._sites) > SITE_CACHE:
            self._sites.popitem(last=False)
        return site

    def expected(self, portal: PortalSpec, documents: bool = True
                 ) -> tuple[list[tuple[str, str, str]], list[ExpectedFinding]]:
        """Expected statuses and findings of one portal (``documents=False``: presence rules
        only, as if no file were read)."""
        applicability, entries, site = self.build(portal)
        return expected_for_portal(portal, applicability, entries, site, documents)

    def iter_expected(self) -> Iterator[tuple[list[tuple[str, str, str]],
                                              list[ExpectedFinding]]]:
        for portal in self.portals:
            yield self.expected(portal)

    def changes(self, portal: PortalSpec, built: tuple | None = None
                ) -> list[tuple[str, str, str, str]]:
        """(subject_id, obligation_id, url, change) of every document of the portal that
        changed since generation 1 (none in generation 1); ``built``: ``build(portal)``."""
        if portal.generation < 2:
            return []
        _, entries, site = built or self.build(portal)
        return [(portal.subject.subject_id, oid, url, change) for entry in entries
                for oid, url, change in entry_changes(entry, site.layouts.get(entry.key))]

    def at_generation(self, generation: int) -> Network:
        """The same network (seed, size, base, port, catalog) at another generation; kept,
        so that asking twice costs nothing."""
        if generation == self.generation:
            return self
        if generation not in self._generations:
            other = generate_network(self.seed, self.size, self.base, self.port, self.catalog,
                                     generation)
            other._generations[self.generation] = self
            self._generations[generation] = other
        return self._generations[generation]

    def subjects(self) -> list[Subject]:
        return [p.subject for p in self.portals]

    def bound_portals(self) -> list[PortalSpec]:
        """Portals whose address listens and answers (the others refuse connections, or
        are jammed)."""
        return [p for p in self.portals
                if all(DEFECTS[d.kind].binds(p) for d in p.defects)]

    def jammed_portals(self) -> list[PortalSpec]:
        """Portals whose address listens but never completes a connection (it times out)."""
        return [p for p in self.portals if any(DEFECTS[d.kind].jams(p) for d in p.defects)]

    # -- output ----------------------------------------------------------------------------
    def to_dict(self, changes: dict[int, list[tuple[str, str, str, str]]] | None = None
                ) -> dict:
        """The spec as network.json holds it; from generation 2 on also the generation and
        the changes (``changes``: per portal index, as ``changes()`` gives them)."""
        out = {"seed": self.seed, "size": self.size, "base": self.base, "port": self.port,
               "law": LAW, "as_of": AS_OF.isoformat(),
               "portals": [p.to_dict() for p in self.portals]}
        if self.generation > 1:
            if changes is None:
                changes = {p.index: self.changes(p) for p in self.portals}
            counts = {kind: sum(1 for rows in changes.values() for row in rows
                                if row[3] == kind) for kind in CHANGES}
            out = {**{k: v for k, v in out.items() if k != "portals"},
                   "generation": self.generation, "changes": counts,
                   "portals": out["portals"]}
            for portal in out["portals"]:
                portal["changes"] = [{"obligation_id": oid, "url": url, "change": change}
                                     for _, oid, url, change in changes[portal["index"]]]
        return out

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write registry.csv, ground_truth/*.csv, ground_truth/as_of.txt (the audit date the
        ground truth holds on) and network.json; from generation 2 on also
        ground_truth/generation.txt and ground_truth/changes.csv. Return their paths."""
        out = Path(out_dir)
        (out / "ground_truth").mkdir(parents=True, exist_ok=True)
        paths = {"registry": out / "registry.csv",
                 "expected_checks": out / "ground_truth" / "expected_checks.csv",
                 "expected_findings": out / "ground_truth" / "expected_findings.csv",
                 "as_of": out / "ground_truth" / "as_of.txt",
                 "network": out / "network.json"}
        later = self.generation > 1
        if later:
            paths["generation"] = out / "ground_truth" / "generation.txt"
            paths["changes"] = out / "ground_truth" / "changes.csv"
            paths["generation"].write_text(f"{self.generation}\n", encoding="utf-8")
        paths["as_of"].write_text(AS_OF.isoformat() + "\n", encoding="utf-8")
        with paths["registry"].open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(REGISTRY_COLUMNS)
            for s in self.subjects():
                writer.writerow([s.subject_id, s.name, s.acronym, s.level, s.state,
                                 s.subject_type, s.portal_url, s.transparency_url or ""])
        with paths["expected_checks"].open("w", encoding="utf-8", newline="") as checks_file, \
                paths["expected_findings"].open("w", encoding="utf-8",
                                                 newline="") as findings_file:
            checks = csv.writer(checks_file, lineterminator="\n")
            findings = csv.writer(findings_file, lineterminator="\n")
            checks.writerow(["subject_id", "obligation_id", "status"])
            findings.writerow(["subject_id", "obligation_id", "code", "url"])
            changes: dict[int, list[tuple[str, str, str, str]]] = {}
            for portal in self.portals:
                built = self.build(portal)
                rows, expected = expected_for_portal(portal, *built)
                checks.writerows(rows)
                findings.writerows(f.as_row() for f in expected)
                if later:
                    changes[portal.index] = self.changes(portal, built)
        if later:
            with paths["changes"].open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(["subject_id", "obligation_id", "url", "change"])
                for portal in self.portals:
                    writer.writerows(changes[portal.index])
        paths["network"].write_text(json.dumps(self.to_dict(changes if later else None),
                                                ensure_ascii=False, indent=1)
                                    + "\n", encoding="utf-8")
        return paths


def default_catalog():
    """The law's obligation catalog (``audit.catalog``), loaded on first use."""
    from audit.catalog import load_catalog

    return load_catalog(LAW)


# ---- generation -------------------------------------------------------------------------
def state_laws(catalog: object) -> dict[str, tuple[int, str, str]]:
    """State name -> (common-obligations article, law name, fraction shift)."""
    laws = dict(FALLBACK_STATE_LAWS)
    rows = catalog.state_laws() if hasattr(catalog, "state_laws") else []
    for row in rows:
        name = row.get("state_name") or row.get("state")
        laws[name] = (int(row["article"]), row["law_name"], row.get("fraction_shift", "unknown"))
    return laws


def _options(portal_rng: random.Random, family: str, inst: Institution,
             laws: dict[str, tuple[int, str, str]]) -> dict:
    rng = portal_rng
    options = {
        "link_text": rng.choice(TRANSPARENCY_LINK_TEXTS),
        "subformats": "incisos" if rng.random() < 0.6 else "fraction",
        "years": 2 if rng.random() < 0.2 else 1,
        "granularity": "year" if rng.random() < 0.4 else "period",
        "formats": rng.choice([("xlsx",), ("xlsx",), ("xlsx",), ("xlsx", "pdf"), ("csv",),
                               ("xlsx", "csv"), ("pdf", "xlsx")]),
        "csv_encoding": rng.choice(["utf-8", "utf-8", "windows-1252"]),
        "csv_delimiter": rng.choice([",", ",", ";"]),
    }
    if family in STATE_LAW_FAMILIES and inst.level != "federal":
        article, name, shift = laws.get(inst.state, (
            70, f"Ley de Transparencia y Acceso a la Información Pública de {inst.state}",
            "unknown"))
        if family == "menu_anidado":
            options.update(law_article=article, law_name=name)
            if shift != "none":
                options["shifted"] = True
                if shift == "shifted" and inst.state in FALLBACK_STATE_LAWS:
                    options["insertions"] = list(CDMX_INSERTIONS)
        elif shift != "shifted":  # one page per fraction, numbered as Art. 70
            options.update(law_article=article, law_name=name)
    return options


def _assign_defects(rng: random.Random, portals: list[PortalSpec]) -> None:
    """Portal-level kinds on disjoint portals, then obligation-level kinds on the rest."""
    size = len(portals)
    chosen: dict[int, list[DefectSpec]] = {p.index: [] for p in portals}
    gated: set[int] = set()

    def count_for(kind, pool: int) -> int:
        want = round(kind.share * pool)
        if size >= MIN_SIZE:
            want = max(want, kind.guaranteed)
        return min(want, pool)

    for kind in PORTAL_KINDS:
        pool = [p for p in portals if p.index not in gated and kind.eligible(p)]
        for portal in rng.sample(pool, count_for(kind, len(pool))):
            gated.add(portal.index)
            chosen[portal.index].append(
                DefectSpec(kind.name, kind.draw_params(portal.rng("params", kind.name))))
    healthy = [p for p in portals if p.index not in gated]
    for kind in OBLIGATION_KINDS:
        pool = [p for p in healthy if kind.eligible(p)]
        inherent = [p for p in pool if kind.name in INHERENT_DEFECTS.get(p.family, ())]
        taken = {p.index for p in inherent}
        others = [p for p in pool if p.index not in taken]
        extra = max(0, count_for(kind, len(pool)) - len(inherent))
        picked = inherent + rng.sample(others, min(extra, len(others)))
        for portal in picked:
            chosen[portal.index].append(
                DefectSpec(kind.name, kind.draw_params(portal.rng("params", kind.name))))
            # later kinds' ``eligible`` may look at what a portal already carries
            portal.defects = tuple(chosen[portal.index])
    order = list(DEFECTS)
    for portal in portals:
        portal.defects = tuple(sorted(chosen[portal.index], key=lambda d: order.index(d.kind)))


def generate_network(seed: int, size: int, base: str = "127.20.0.1", port: int = 8080,
                     catalog: object | None = None, generation: int = 1) -> Network:
    """A deterministic network of ``size`` portals (see the module docstring) as published
    in ``generation`` (1: first publication; 2: re-published later, ``testbed.history``)."""
    check_generation(generation)
    institutions = load_institutions()
    if not 1 <= size <= len(institutions):
        raise ValueError(f"size must be between 1 and {len(institutions)}")
    catalog = catalog if catalog is not None else default_catalog()
    laws = state_laws(catalog)
    rng = random.Random(f"lupa-testbed:{seed}:{size}")
    sample = stratified_sample(institutions, size, random.Random(f"sample:{seed}:{size}"))
    hosts = addresses(base, size)
    families = spread(rng, FAMILY_WEIGHTS, size)
    encodings = spread(rng, ENCODING_WEIGHTS, size)
    styles = list(STYLES)
    portals = []
    for index, (inst, address) in enumerate(zip(sample, hosts, strict=True)):
        subject = Subject(inst.pnt_id, inst.name, inst.acronym, inst.level, inst.state,
                          inst.subject_type, f"http://{address}:{port}/")
        portal = PortalSpec(index=index, subject=subject, address=address, port=port,
                            family=families[index], spelling=styles[index % len(styles)],
                            encoding=encodings[index], seed=f"{seed}:{inst.pnt_id}")
        portal_rng = portal.rng("options")
        portal.spelling = portal_rng.choice(styles)
        portal.options = _options(portal_rng, portal.family, inst, laws)
        portals.append(portal)
    _assign_defects(rng, portals)
    for portal in portals:
        schemes = {DEFECTS[d.kind].scheme(portal) for d in portal.defects} - {"http"}
        if schemes:  # an https portal (a self-signed certificate)
            portal.options["scheme"] = schemes.pop()
            portal.subject = replace(portal.subject, portal_url=portal.portal_url)
    for portal in portals:
        if gate_of(portal) is None and portal.rng("registry").random() < 0.1:
            path = FAMILIES[portal.family].transparency_path
            portal.subject = replace(portal.subject,
                                     transparency_url=f"{portal.base_url}{path}")
    network = Network(seed, size, base, port, portals, catalog, generation)
    healthy = [p for p in portals if gate_of(p) is None]
    assign_history(random.Random(f"lupa-testbed-history:{seed}:{size}:{generation}"), portals,
                   healthy, generation,
                   lambda p: build_entries(p, network.applicability(p), catalog))
    return network
