"""Layout families: how a portal lays out its transparency section, modelled on real styles.

Each family turns a portal's entry plan into a ``Site``: its own URL scheme, its own HTML,
its own click depth. Depth is counted from the home page (home 0, transparency section 1);
a family registers every page with its depth and records in each entry's layout the
shallowest page listing one of its files, which the ground truth reads (HARD_TO_FIND when
that depth exceeds three).

=====================  ==========================================================  =======
family                 modelled on                                                 files at
=====================  ==========================================================  =======
lista_fracciones       one page listing every fraction with its files (a municipal  2 (4)
                       /transparencia/ley-general page)
tabla_trimestral       index of fractions -> per-fraction table of years × periods  2 (4)
                       (/transparencia/fracc-viii)
pagina_por_fraccion    state-law article -> one page per fraction, same numbering   3 (4)
                       (/index.php/pot/art81_fracc7)
menu_anidado           Transparencia -> Artículo 121 -> Fracción (shifted numbers)  3 (5)
                       -> Ejercicio -> Trimestre (/entrada/NNNNN)
repositorio_sipot      Apache listings /SIPOT/LGTA70FVIII/2025/ with PNT export     3 (4)
                       file names ("8 LGT_Art_70_Fr_VIII_3er trimestre_4523467.xlsx")
consulta_parametros    query-string pages (consulta.php?articulo=70&fraccion=VIII)  3 (4)
                       and downloads without extension (descarga.php?id=…)
=====================  ==========================================================  =======

(n) is the depth of entries the plan marks ``deep``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from html import escape
from itertools import groupby
from urllib.parse import quote

from testbed import spelling
from testbed.html import JUSTIFICATION, garble, link
from testbed.model import (
    JUSTIFIED,
    LINK_BROKEN,
    UNLISTED,
    Entry,
    FilePlan,
    PortalSpec,
)
from testbed.site import SAFE, Site, home_and_clutter, stable_number
from testbed.spelling import roman_to_int, strip_accents

PERIOD_TEXT = {"trimestral": "Trimestral", "semestral": "Semestral", "anual": "Anual"}
ARTICLE_NAMES = {
    70: "Obligaciones comunes", 71: "Poder Ejecutivo", 72: "Poder Legislativo",
    73: "Poder Judicial", 74: "Órganos autónomos", 75: "Instituciones de educación superior",
    76: "Partidos políticos", 77: "Fideicomisos y fondos públicos",
    78: "Autoridades laborales", 79: "Sindicatos",
}


# ---- helpers shared by families --------------------------------------------------------
def visible(entries: Iterable[Entry]) -> list[Entry]:
    """Entries that show on the portal at all (unlisted ones leave no trace)."""
    return [e for e in entries if e.state != UNLISTED]


def by_article(entries: list[Entry]) -> list[tuple[int, list[Entry]]]:
    return [(art, list(group)) for art, group in groupby(entries, key=lambda e: e.article)]


def label(portal: PortalSpec, entry: Entry, number: str | None = None) -> str:
    roman = number or entry.fraction
    return spelling.entry_label(portal.spelling, roman, entry.subformat)


def title(portal: PortalSpec, entry: Entry) -> str:
    return spelling.title_text(portal.spelling, entry.title)


def period_text(entry: Entry) -> str:
    return f"Periodo de actualización: {PERIOD_TEXT.get(entry.update_period, 'Trimestral')}"


def file_text(portal: PortalSpec, entry: Entry, plan: FilePlan) -> str:
    when = (f"Ejercicio {plan.period.year}" if plan.whole_year
            else f"{plan.period.label} {plan.period.year}")
    text = f"{when} ({plan.ext.upper()})"
    if entry.shared:
        text = f"{spelling.title_text(portal.spelling, plan.obligation.title)} – {text}"
    return text


def listed(entry: Entry) -> list[tuple[int, FilePlan]]:
    """(index, plan) of the files the entry lists: all but those a later generation removed
    (``testbed.history``)."""
    gone = entry.marks.get("removed", {})
    return [(i, plan) for i, plan in enumerate(entry.files) if i not in gone]


def years_desc(entry: Entry, everything: bool = False
               ) -> list[tuple[int, list[tuple[int, FilePlan]]]]:
    """The entry's listed files (``everything``: removed ones too) grouped by year, newest
    year first (as portals list them)."""
    files = list(enumerate(entry.files)) if everything else listed(entry)
    indexed = sorted(files, key=lambda item: -item[1].period.year)
    return [(year, list(group)) for year, group in
            groupby(indexed, key=lambda item: item[1].period.year)]


def by_period(items: list[tuple[int, FilePlan]]) -> list[tuple[str, list[tuple[int, FilePlan]]]]:
    """A year's files grouped by period code, in order of first appearance. An entry that
    publishes a whole fraction lists each sub-format's files in turn (A's T1-T4, then
    B's), so one period's files are not contiguous: each period page must list them all."""
    groups: dict[str, list[tuple[int, FilePlan]]] = {}
    for item in items:
        groups.setdefault(item[1].period.code, []).append(item)
    return list(groups.items())


@lru_cache(maxsize=65536)
def slug(text: str, words: int = 4) -> str:
    plain = strip_accents(text).replace("/", " ")
    kept = [w for w in "".join(c if c.isalnum() else " " for c in plain).split()][:words]
    return "-".join(kept) or "documento"


def sub_suffix(plan: FilePlan) -> str:
    return plan.obligation.subformat or ""


def note_html() -> str:
    return (f'<div class="alert">{escape(JUSTIFICATION)}. Lo anterior, de conformidad con los '
            "Lineamientos Técnicos Generales.</div>")


def stored_text(entry: Entry, text: str) -> str:
    """An entry's own text as the portal's database returns it: garbled for entries the
    ``mojibake`` defect marked (stored with the wrong encoding)."""
    return garble(text) if entry.marks.get("mojibake") else text


def ul(items: list[str], css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<ul{cls}>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def law_article(portal: PortalSpec, article: int) -> int:
    """The article number the portal's own law gives (state laws renumber Art. 70)."""
    return portal.options.get("law_article", 70) + (article - 70)


def law_name(portal: PortalSpec) -> str:
    return portal.options.get("law_name", "Ley General de Transparencia y Acceso a la "
                                          "Información Pública")


class Family:
    """Base class; ``build`` returns the portal's site map."""

    name = ""
    transparency_path = "/transparencia"
    # Depth of a normal entry's files and of a 'deep' one's (documented in the table above).
    depths = (2, 4)

    def build(self, portal: PortalSpec, entries: list[Entry], section: bool) -> Site:
        site = Site(portal, self.transparency_path if section else None)
        home_and_clutter(site, section)
        if section:
            self.build_section(site, portal, entries)
        return site

    def build_section(self, site: Site, portal: PortalSpec, entries: list[Entry]) -> None:
        raise NotImplementedError

    @staticmethod
    def entry_head(site: Site, portal: PortalSpec, entry: Entry, epath: str, depth: int,
                   local: str | None = None) -> str | None:
        """Record where the entry's link points and return the heading of its page; None when
        there is nothing more to build (a broken link, or a justified page, built here)."""
        layout = site.layout(entry)
        layout.link_url = site.url(epath)
        if entry.state == LINK_BROKEN:
            return None
        name = label(portal, entry, local)
        head = stored_text(entry, f"<h2>{escape(name)}</h2><p>{escape(title(portal, entry))}"
                                  f"</p><p>{period_text(entry)}</p>")
        if entry.state == JUSTIFIED:
            layout.note_url = site.url(epath)
            site.page(epath, depth, name, lambda: head + note_html())
            return None
        return head

    @staticmethod
    def note_removed(site: Site, portal: PortalSpec, entry: Entry, path_of) -> None:
        """Record the URLs the files a later generation removed had (no route, no link)."""
        gone = entry.marks.get("removed", {})
        if gone:
            layout = site.layout(entry)
            for i in sorted(gone):
                layout.removed_urls[i] = portal.base_url + quote(path_of(entry.files[i]),
                                                                 safe=SAFE)

    @staticmethod
    def files_list(site: Site, portal: PortalSpec, entry: Entry,
                   items: list[tuple[int, FilePlan]], path_of, depth: int,
                   page_path: str) -> str:
        """Register the listed files and return their links as an HTML list."""
        files = [(i, plan, path_of(plan)) for i, plan in items]
        site.publish_files(entry, files, depth, page_path)
        layout = site.layout(entry)
        links = []
        for i, plan, path in files:
            href = quote(path, safe=SAFE)
            layout.file_urls.setdefault(i, portal.base_url + href)
            links.append(f'<a href="{escape(href)}">{escape(file_text(portal, entry, plan))}</a>')
        return ul(links, "archivos")


# ---- (a) lista_fracciones ---------------------------------------------------------------
class ListaFracciones(Family):
    name = "lista_fracciones"
    depths = (2, 4)

    def build_section(self, site: Site, portal: PortalSpec, entries: list[Entry]) -> None:
        root = self.transparency_path
        article_links = []
        for article, group in by_article(visible(entries)):
            apath = f"{root}/ley-general" if article == 70 else f"{root}/articulo-{article}"
            heading = (f"{spelling.article_label(portal.spelling, article)} de la Ley General de "
                       f"Transparencia – {ARTICLE_NAMES.get(article, '')}")
            article_links.append(link(apath, heading))
            blocks = [self.block(site, portal, e, apath) for e in group]
            body = (f"<h2>{escape(heading)}</h2>" + "".join(blocks))
            site.page(apath, 2, heading, lambda body=body: body,
                      [("/", "Inicio"), (root, "Transparencia"), ("", heading)])
        intro = ("<h2>Transparencia</h2><p>En cumplimiento de la Ley General de Transparencia y "
                 "Acceso a la Información Pública, se publican las obligaciones de "
                 "transparencia.</p>" + ul(article_links)
                 + "<h3>Unidad de Transparencia</h3><p>Responsable: Titular de la Unidad de "
                 "Transparencia. Horario: 9:00 a 15:00 horas.</p>")
        site.page(root, 1, "Transparencia", lambda: intro, [("/", "Inicio"), ("", "Transparencia")])

    def block(self, site: Site, portal: PortalSpec, entry: Entry, apath: str) -> str:
        head = (f'<div class="fraccion"><h3>{escape(label(portal, entry))}</h3>'
                f"<p>{escape(title(portal, entry))}</p><p><em>{period_text(entry)}</em></p>")
        epath = f"{apath}/fraccion-{entry.fraction.lower()}" + (
            f"-{entry.subformat.lower()}" if entry.subformat else "")
        layout = site.layout(entry)
        if entry.state == JUSTIFIED:
            layout.note_url = site.url(apath)
            return head + note_html() + "</div>"
        if entry.state == LINK_BROKEN:
            layout.link_url = site.url(epath)
            return head + f"<p>{link(epath, 'Ver información')}</p></div>"

        def path_of(plan: FilePlan) -> str:
            suffix = "" if plan.whole_year else f"_{plan.period.code}"
            return (f"/transparencia/archivos/{entry.article}/{entry.fraction.lower()}"
                    f"{sub_suffix(plan).lower()}/{plan.period.year}/LGT_{entry.article}_"
                    f"{entry.fraction}{sub_suffix(plan)}_{plan.period.year}{suffix}"
                    f".{plan.ext}")

        self.note_removed(site, portal, entry, path_of)
        if not entry.deep:
            files = self.files_list(site, portal, entry, listed(entry), path_of, 2, apath)
            return head + files + "</div>"
        layout.link_url = site.url(epath)
        year_links = []
        for year, items in years_desc(entry):
            ypath = f"{epath}/{year}"
            year_links.append(link(ypath, f"Ejercicio {year}"))
            files = self.files_list(site, portal, entry, items, path_of, 4, ypath)
            text = f"<h2>{escape(label(portal, entry))} – Ejercicio {year}</h2>{files}"
            site.page(ypath, 4, f"Ejercicio {year}", lambda text=text: text)
        text = (f"<h2>{escape(label(portal, entry))}</h2><p>{escape(title(portal, entry))}</p>"
                + ul(year_links))
        site.page(epath, 3, label(portal, entry), lambda: text)
        return head + f"<p>{link(epath, 'Consultar información')}</p></div>"


# ---- (b) tabla_trimestral ---------------------------------------------------------------
class TablaTrimestral(Family):
    name = "tabla_trimestral"
    depths = (2, 4)

    @staticmethod
    def entry_path(entry: Entry) -> str:
        tail = f"fracc-{entry.fraction.lower()}" + (
            f"-{entry.subformat.lower()}" if entry.subformat else "")
        return f"/transparencia/{tail}" if entry.article == 70 else (
            f"/transparencia/art{entry.article}/{tail}")

    def build_section(self, site: Site, portal: PortalSpec, entries: list[Entry]) -> None:
        sections = []
        for article, group in by_article(visible(entries)):
            items = []
            for entry in group:
                epath = self.entry_path(entry)
                text = f"{label(portal, entry)}.- {title(portal, entry)}"
                items.append(link(epath, text))
                self.entry_pages(site, portal, entry, epath)
            heading = (f"{spelling.article_label(portal.spelling, article)} – "
                       f"{ARTICLE_NAMES.get(article, '')}")
            sections.append(f"<h3>{escape(heading)}</h3>" + ul(items, "fracciones"))
        body = ("<h2>Obligaciones de transparencia</h2><p>Seleccione la fracción que desea "
                "consultar.</p>" + "".join(sections))
        site.page(self.transparency_path, 1, "Transparencia", lambda: body)

    def entry_pages(self, site: Site, portal: PortalSpec, entry: Entry, epath: str) -> None:
        head = self.entry_head(site, portal, entry, epath, 2)
        if head is None:
            return

        stem = epath.removeprefix("/transparencia/").replace("/", "-")

        def path_of(plan: FilePlan) -> str:
            name = f"{plan.period.year}" if plan.whole_year else (
                f"{plan.period.code.lower()}-{plan.period.year}")
            sub = f"-{plan.obligation.subformat.lower()}" if (
                entry.shared and plan.obligation.subformat) else ""
            return (f"/transparencia/docs/{stem}{sub}/{plan.period.year}/{stem}{sub}-{name}"
                    f".{plan.ext}")

        self.note_removed(site, portal, entry, path_of)
        if not entry.deep:
            rows = []
            for year, items in years_desc(entry):
                cells = [self.files_list(site, portal, entry, [item], path_of, 2, epath)
                         for item in items]
                rows.append(f"<tr><th>{year}</th>" + "".join(f"<td>{c}</td>" for c in cells)
                            + "</tr>")
            table = ('<table class="tabla-periodos"><tr><th>Ejercicio</th><th colspan="4">'
                     "Periodo</th></tr>" + "".join(rows) + "</table>")
            site.page(epath, 2, label(portal, entry), lambda: head + table)
            return
        year_links = []
        for year, items in years_desc(entry):
            ypath = f"{epath}/{year}"
            year_links.append(link(ypath, str(year)))
            period_links = []
            for code, group in by_period(items):
                ppath = f"{ypath}/{code.lower()}"
                period_links.append(link(ppath, group_label(list(group))))
            site.page(ypath, 3, f"Ejercicio {year}",
                      lambda links=period_links, y=year: f"<h2>Ejercicio {y}</h2>" + ul(links))
            for code, group in by_period(items):
                ppath = f"{ypath}/{code.lower()}"
                files = self.files_list(site, portal, entry, list(group), path_of, 4, ppath)
                site.page(ppath, 4, f"{year} {code}", lambda f=files: f"<h2>Archivos</h2>{f}")
        site.page(epath, 2, label(portal, entry),
                  lambda: head + "<h3>Ejercicios</h3>" + ul(year_links))


def group_label(items: list[tuple[int, FilePlan]]) -> str:
    plan = items[0][1]
    return "Ejercicio completo" if plan.whole_year else plan.period.label.capitalize()


# ---- (c) pagina_por_fraccion ------------------------------------------------------------
class PaginaPorFraccion(Family):
    name = "pagina_por_fraccion"
    transparency_path = "/index.php/transparencia"
    depths = (3, 4)

    def build_section(self, site: Site, portal: PortalSpec, entries: list[Entry]) -> None:
        article_links = []
        for article, group in by_article(visible(entries)):
            number = law_article(portal, article)
            apath = f"/index.php/pot/art{number}"
            heading = f"{spelling.article_label(portal.spelling, number)}. " + ARTICLE_NAMES.get(
                article, "")
            article_links.append(link(apath, heading))
            items = []
            for entry in group:
                epath = f"{apath}_fracc{roman_to_int(entry.fraction)}" + (
                    entry.subformat.lower() if entry.subformat else "")
                items.append(link(epath, f"{label(portal, entry)}. {title(portal, entry)}"))
                self.entry_pages(site, portal, entry, epath, number)
            body = f"<h2>{escape(heading)}</h2><p>{escape(law_name(portal))}</p>" + ul(items)
            site.page(apath, 2, heading, lambda body=body: body)
        intro = ("<h2>Portal de Obligaciones de Transparencia</h2><p>Información publicada "
                 f"conforme a la {escape(law_name(portal))}.</p>" + ul(article_links))
        site.page(self.transparency_path, 1, "Transparencia", lambda: intro)

    def entry_pages(self, site: Site, portal: PortalSpec, entry: Entry, epath: str,
                    number: int) -> None:
        head = self.entry_head(site, portal, entry, epath, 3)
        if head is None:
            return
        stem = epath.rsplit("/", 1)[-1]

        def path_of(plan: FilePlan) -> str:
            suffix = "" if plan.whole_year else f"_{plan.period.code}"
            sub = sub_suffix(plan).lower() if entry.shared else ""
            return (f"/images/pot/art{number}/{stem}/{stem}{sub}_"
                    f"{plan.period.year}{suffix}.{plan.ext}")

        self.note_removed(site, portal, entry, path_of)
        sections = []
        for year, items in years_desc(entry):
            if entry.deep:
                ypath = f"{epath}/ejercicio{year}"
                files = self.files_list(site, portal, entry, items, path_of, 4, ypath)
                site.page(ypath, 4, f"Ejercicio {year}",
                          lambda f=files, y=year: f"<h2>Ejercicio {y}</h2>{f}")
                sections.append(f"<p>{link(ypath, f'Ejercicio {year}')}</p>")
            else:
                files = self.files_list(site, portal, entry, items, path_of, 3, epath)
                sections.append(f"<h3>Ejercicio {year}</h3>{files}")
        site.page(epath, 3, label(portal, entry), lambda: head + "".join(sections))


# ---- (d) menu_anidado -------------------------------------------------------------------
LOCAL_FRACTIONS = (
    "Los programas de trabajo de las unidades administrativas y su avance",
    "Los dictámenes de las cuentas públicas",
    "La relación de solicitudes de acceso a la información y sus respuestas",
    "Los mecanismos de participación ciudadana en el ámbito local",
    "Los indicadores de gestión de los servicios públicos",
    "La gaceta oficial y los acuerdos del órgano de gobierno",
)


class MenuAnidado(Family):
    name = "menu_anidado"
    depths = (3, 5)

    def build_section(self, site: Site, portal: PortalSpec, entries: list[Entry]) -> None:
        rng = portal.rng("menu")
        counter = iter(range(rng.randint(20_000, 60_000), 10**6))
        shift = self.shift_map(portal)
        article_links = []
        for article, group in by_article(visible(entries)):
            number = law_article(portal, article)
            apath = f"/entrada/{next(counter)}"
            heading = f"{spelling.article_label(portal.spelling, number)} – " + ARTICLE_NAMES.get(
                article, "")
            article_links.append(link(apath, heading))
            items = []
            for entry in group:
                local = shift.get(entry.fraction, entry.fraction) if article == 70 and shift else (
                    entry.fraction)
                epath = f"/entrada/{next(counter)}"
                items.append((roman_to_int(local), link(
                    epath, f"{label(portal, entry, local)}. {title(portal, entry)}")))
                self.entry_pages(site, portal, entry, epath, local, counter, number)
            if article == 70 and shift:
                for local_number, text in self.local_only(portal):
                    lpath = f"/entrada/{next(counter)}"
                    local_label = spelling.fraction_label(portal.spelling,
                                                          spelling_roman(local_number))
                    text = spelling.title_text(portal.spelling, text)
                    items.append((local_number, link(lpath, f"{local_label}. {text}")))
                    site.page(lpath, 3, local_label,
                              lambda t=text: f"<h2>{escape(t)}</h2><p>Información en "
                                             "actualización permanente; consulte la Gaceta "
                                             "Oficial.</p>")
            items.sort(key=lambda item: item[0])
            body = (f"<h2>{escape(heading)}</h2><p>{escape(law_name(portal))}</p>"
                    + ul([text for _, text in items], "menu-fracciones"))
            site.page(apath, 2, heading, lambda body=body: body)
        intro = ('<h2>Portal de Transparencia</h2><p>Seleccione el artículo y la fracción.</p>'
                 + ul(article_links))
        site.page(self.transparency_path, 1, "Transparencia", lambda: intro)

    @staticmethod
    def inserted(portal: PortalSpec) -> list[int]:
        """General-law fraction numbers before which the state law inserts its own ones."""
        if "insertions" in portal.options:
            return list(portal.options["insertions"])
        rng = portal.rng("shift")
        return sorted(rng.sample(range(2, 49), rng.randint(3, 6)))

    def shift_map(self, portal: PortalSpec) -> dict[str, str]:
        """General-law roman numeral -> the state law's (shifted) numeral ({} if unshifted)."""
        if not portal.options.get("shifted"):
            return {}
        inserted = self.inserted(portal)
        return {spelling_roman(n): spelling_roman(n + sum(1 for i in inserted if i <= n))
                for n in range(1, 60)}

    def local_only(self, portal: PortalSpec) -> list[tuple[int, str]]:
        """The state-only fractions, at the numbers the insertions left free."""
        inserted = self.inserted(portal)
        out = []
        for position, before in enumerate(inserted):
            number = before + position
            out.append((number, LOCAL_FRACTIONS[position % len(LOCAL_FRACTIONS)]))
        return out

    def entry_pages(self, site: Site, portal: PortalSpec, entry: Entry, epath: str,
                    local: str, counter, number: int) -> None:
        head = self.entry_head(site, portal, entry, epath, 3, local)
        if head is None:
            return
        folder = f"{stable_number(portal.seed, entry.key, low=0, span=16**8):08x}"

        def path_of(plan: FilePlan) -> str:
            stem = (f"A{number}Fr{roman_to_int(local):02d}{sub_suffix(plan)}_"
                    f"{slug(plan.obligation.title, 3)}_{plan.period.year}")
            suffix = "" if plan.whole_year else f"_{plan.period.code}"
            return f"/uploads/public/{folder}/{stem}{suffix}.{plan.ext}"

        self.note_removed(site, portal, entry, path_of)
        sections = []
        for year, items in years_desc(entry):
            if not entry.deep:
                files = self.files_list(site, portal, entry, items, path_of, 3, epath)
                sections.append(f"<h3>Ejercicio {year}</h3>{files}")
                continue
            ypath = f"/entrada/{next(counter)}"
            sections.append(f"<p>{link(ypath, f'Ejercicio {year}')}</p>")
            period_links = []
            for _code, group in by_period(items):
                group = list(group)
                ppath = f"/entrada/{next(counter)}"
                period_links.append(link(ppath, group_label(group)))
                files = self.files_list(site, portal, entry, group, path_of, 5, ppath)
                site.page(ppath, 5, group_label(group), lambda f=files: f"<h2>Formatos</h2>{f}")
            site.page(ypath, 4, f"Ejercicio {year}",
                      lambda links=period_links, y=year: f"<h2>Ejercicio {y}</h2>" + ul(links))
        site.page(epath, 3, label(portal, entry, local), lambda: head + "".join(sections))


def spelling_roman(number: int) -> str:
    from audit.obligations import int_to_roman
    return int_to_roman(number)


# ---- (e) repositorio_sipot --------------------------------------------------------------
class RepositorioSipot(Family):
    name = "repositorio_sipot"
    transparency_path = "/transparencia/obligaciones"
    depths = (3, 4)

    @staticmethod
    def folder(entry: Entry) -> str:
        return f"/SIPOT/LGTA{entry.article}F{entry.fraction}{entry.subformat or ''}/"

    def build_section(self, site: Site, portal: PortalSpec, entries: list[Entry]) -> None:
        rows, folders = [], []
        for entry in visible(entries):
            folder = self.folder(entry)
            rows.append(f"<tr><td>{escape(label(portal, entry))}</td>"
                        f"<td>{escape(title(portal, entry))}</td>"
                        f"<td>{PERIOD_TEXT.get(entry.update_period, 'Trimestral')}</td>"
                        f"<td>{link(folder, 'Consultar')}</td></tr>")
            if self.entry_pages(site, portal, entry, folder):
                folders.append(folder)
        repository = link("/SIPOT/", "Ver repositorio")
        table = ("<h2>Obligaciones de Transparencia</h2><p>Formatos publicados en el Sistema "
                 f"de Portales de Obligaciones de Transparencia. {repository}"
                 '</p><table class="obligaciones"><tr><th>Fracción</th><th>Descripción</th>'
                 "<th>Actualización</th><th></th></tr>" + "".join(rows) + "</table>")
        site.page(self.transparency_path, 1, "Transparencia", lambda: table)
        site.page("/SIPOT/", 2, "", lambda: listing(portal, "/SIPOT/", [
            f.rstrip("/").rsplit("/", 1)[-1] + "/" for f in folders]), raw=True)

    def entry_pages(self, site: Site, portal: PortalSpec, entry: Entry, folder: str) -> bool:
        layout = site.layout(entry)
        layout.link_url = site.url(folder)
        if entry.state == LINK_BROKEN:
            return False
        if entry.state == JUSTIFIED:
            layout.note_url = site.url(folder)
            site.page(folder, 2, "", lambda: listing(portal, folder, [], note=JUSTIFICATION),
                      raw=True)
            return True
        number = roman_to_int(entry.fraction)

        def path_of(plan: FilePlan) -> str:
            sub = sub_suffix(plan)
            when = str(plan.period.year) if plan.whole_year else plan.period.label
            ident = stable_number(portal.seed, entry.key, plan.index)
            base = f"{folder}{plan.period.year}/"
            if entry.deep:
                base += f"{'ANUAL' if plan.whole_year else plan.period.code}/"
            return (f"{base}{number}{sub.lower()} LGT_Art_{entry.article}_Fr_{entry.fraction}"
                    f"{sub}_{when}_{ident}.{plan.ext}")

        self.note_removed(site, portal, entry, path_of)
        years = []
        for year, items in years_desc(entry):
            ypath = f"{folder}{year}/"
            years.append(f"{year}/")
            if not entry.deep:
                self.files_list(site, portal, entry, items, path_of, 3, ypath)
                site.page(ypath, 3, "", lambda p=ypath, it=items: listing(
                    portal, p, [path_of(f).rsplit("/", 1)[-1] for _, f in it]), raw=True)
                continue
            subdirs = []
            for code, group in by_period(items):
                group = list(group)
                sub = f"{'ANUAL' if group[0][1].whole_year else code}/"
                spath = f"{ypath}{sub}"
                subdirs.append(sub)
                self.files_list(site, portal, entry, group, path_of, 4, spath)
                site.page(spath, 4, "", lambda p=spath, g=group: listing(
                    portal, p, [path_of(f).rsplit("/", 1)[-1] for _, f in g]), raw=True)
            site.page(ypath, 3, "", lambda p=ypath, s=subdirs: listing(portal, p, s), raw=True)
        site.page(folder, 2, "", lambda: listing(portal, folder, years), raw=True)
        return True


def listing(portal: PortalSpec, path: str, names: list[str], note: str | None = None) -> str:
    """An Apache mod_autoindex page (what a bare file repository shows): ``names`` are
    relative to ``path`` ('2025/', '8 LGT_Art_70_Fr_VIII_….xlsx'), and so are the links."""
    from urllib.parse import quote

    from testbed.html import meta_charset
    rng = portal.rng("listing", path)
    parent = path.rstrip("/").rsplit("/", 1)[0] + "/"
    rows = [f'<tr><td><a href="{quote(parent)}">Parent Directory</a></td><td>&nbsp;</td>'
            '<td align="right">  - </td></tr>']
    for name in names:
        size = "  - " if name.endswith("/") else f"{rng.randint(12, 900)}K"
        month, day = rng.randint(7, 10), rng.randint(1, 28)
        stamp = f"2025-{month:02d}-{day:02d} {rng.randint(8, 19):02d}:{rng.randint(0, 59):02d}"
        rows.append(f'<tr><td><a href="{quote(name)}">{escape(name)}</a></td>'
                    f'<td align="right">{stamp}  </td><td align="right">{size}</td></tr>')
    readme = f"<pre>{escape(note)}</pre>" if note else ""
    return ("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n"
            f"  {meta_charset(portal)}\n  <title>Index of {escape(path.rstrip('/'))}</title>\n"
            f" </head>\n <body>\n<h1>Index of {escape(path.rstrip('/'))}</h1>\n{readme}"
            "<table>\n<tr><th>Name</th><th>Last modified</th><th>Size</th></tr>\n"
            + "\n".join(rows) + "\n</table>\n<address>Apache Server</address>\n</body></html>\n")


# ---- (f) consulta_parametros ------------------------------------------------------------
class ConsultaParametros(Family):
    name = "consulta_parametros"
    transparency_path = "/transparencia/"
    depths = (3, 4)

    def build_section(self, site: Site, portal: PortalSpec, entries: list[Entry]) -> None:
        article_links = []
        for article, group in by_article(visible(entries)):
            apath = f"/transparencia/consulta.php?articulo={article}"
            heading = spelling.article_label(portal.spelling, article)
            article_links.append(link(apath, f"{heading} – {ARTICLE_NAMES.get(article, '')}"))
            rows = []
            for entry in group:
                epath = f"{apath}&fraccion={entry.fraction}" + (
                    f"&inciso={entry.subformat.lower()}" if entry.subformat else "")
                rows.append(f"<tr><td>{link(epath, label(portal, entry))}</td>"
                            f"<td>{escape(title(portal, entry))}</td></tr>")
                self.entry_pages(site, portal, entry, epath)
            body = (f"<h2>{escape(heading)}</h2><table><tr><th>Fracción</th><th>Obligación</th>"
                    "</tr>" + "".join(rows) + "</table>")
            site.page(apath, 2, heading, lambda body=body: body)
        intro = ("<h2>Consulta de obligaciones de transparencia</h2><p>Elija el artículo.</p>"
                 + ul(article_links))
        site.page(self.transparency_path, 1, "Transparencia", lambda: intro)

    def entry_pages(self, site: Site, portal: PortalSpec, entry: Entry, epath: str) -> None:
        head = self.entry_head(site, portal, entry, epath, 3)
        if head is None:
            return

        def path_of(plan: FilePlan) -> str:
            return f"/transparencia/descarga.php?id={site.serial(f'{entry.key}:{plan.index}')}"

        # download ids follow the order files are listed in: number every file first, the
        # removed ones too, so that a later generation keeps every other file's id
        for _year, items in years_desc(entry, everything=True):
            for _i, plan in items:
                path_of(plan)
        self.note_removed(site, portal, entry, path_of)
        sections = []
        for year, items in years_desc(entry):
            if entry.deep:
                ypath = f"{epath}&ejercicio={year}"
                files = self.files_list(site, portal, entry, items, path_of, 4, ypath)
                site.page(ypath, 4, f"Ejercicio {year}",
                          lambda f=files, y=year: f"<h2>Ejercicio {y}</h2>{f}")
                sections.append(f"<p>{link(ypath, f'Ejercicio {year}')}</p>")
            else:
                files = self.files_list(site, portal, entry, items, path_of, 3, epath)
                sections.append(f"<h3>Ejercicio {year}</h3>{files}")
        site.page(epath, 3, label(portal, entry), lambda: head + "".join(sections))
        # downloads carry their real name only in Content-Disposition
        for plan in entry.files:
            route = site.routes.get(path_of(plan))
            if route is not None:
                route.download_name = (f"{entry.key}_{plan.period.year}_{plan.period.code}."
                                       f"{plan.ext}")


FAMILIES: dict[str, Family] = {f.name: f for f in (
    ListaFracciones(), TablaTrimestral(), PaginaPorFraccion(), MenuAnidado(),
    RepositorioSipot(), ConsultaParametros(),
)}
