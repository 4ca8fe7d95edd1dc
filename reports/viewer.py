"""The report viewer: a FastAPI app serving the built reports (mounted in the Airflow UI by
``plugins/lupa_reports.py``, usable on its own with any ASGI server).

It serves the report directory read-only (``LUPA_REPORTS_DIR``, default
``$LUPA_HOME/reports``), which ``lupa report`` and the ``lupa_reports`` DAG replace
atomically, and ``/evidencia/<finding id>``: the archived response behind a finding (WARC,
digest checked) as a download, from the warehouse the report was built from. Pages carry
text from hostile portals: a strict Content-Security-Policy forbids scripts, and files are
served with their type, never sniffed.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from lupa.config import Settings
from reports.build import report_info

SITE = "informe"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; "
                               "style-src 'unsafe-inline'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    # not for the report pages alone: evidence is the portals' own content
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
}

NO_EVIDENCE = """<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<title>Evidencia no disponible</title></head><body><h1>Evidencia no disponible</h1>
<p>{detail}</p></body></html>"""

EMPTY_PAGE = """<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<title>Informes Lupa</title></head><body>
<h1>Informes Lupa</h1>
<p>Aún no hay un informe en <code>{where}</code>. Se genera al terminar cada auditoría
(DAG <code>lupa_reports</code>) o con <code>lupa report</code>.</p></body></html>"""


def create_app(reports_dir: Path | str | None = None) -> FastAPI:
    """The viewer for ``reports_dir`` (default: read from the settings at each request, so
    the app can be created at Airflow's plugin-load time)."""
    app = FastAPI(title="Informes Lupa", docs_url=None, redoc_url=None, openapi_url=None)

    def directory() -> Path:
        return Path(reports_dir) if reports_dir else Settings.from_env().reports_dir

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/", include_in_schema=False)
    def home(request: Request):
        if (directory() / "index.html").is_file():
            return RedirectResponse(str(request.url_for(SITE, path="index.html")), 307)
        return HTMLResponse(EMPTY_PAGE.format(where=escape(str(directory()))), 404)

    @app.get("/api/report")
    def current_report():
        info = report_info(directory())
        if info is None:
            return JSONResponse({"detail": "no report yet"}, 404)
        return {k: info.get(k) for k in ("run_id", "generated_at", "subjects")}

    @app.get("/evidencia/{finding_id}")
    def evidence(finding_id: str):
        """The archived response behind a finding, as a download (never rendered: it is
        the portal's content), after checking its digest."""
        from lupa.evidence import NoEvidence, default_name, find_evidence
        from warehouse.schema import WarehouseError

        info = report_info(directory()) or {}
        warehouse = info.get("warehouse") or str(Settings.from_env().warehouse)
        try:
            found = find_evidence(warehouse, finding_id)
        except (NoEvidence, WarehouseError) as exc:
            return HTMLResponse(NO_EVIDENCE.format(detail=escape(str(exc))), 404)
        if not found.verified:
            return HTMLResponse(NO_EVIDENCE.format(detail=escape(
                "la respuesta archivada no coincide con su huella SHA-256; no se entrega")), 409)
        return Response(found.evidence.payload, media_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{default_name(found)}"',
            "X-Lupa-Evidence-SHA256": found.evidence.sha256,
            "X-Lupa-Evidence-URL": found.evidence.target_uri,
            "X-Lupa-Evidence-Date": found.evidence.date,
        })

    app.mount(f"/{SITE}", _ReportFiles(directory), name=SITE)
    return app


class _ReportFiles(StaticFiles):
    """StaticFiles over a directory resolved per request (it is swapped, not edited)."""

    def __init__(self, directory) -> None:
        self._directory = directory  # before __init__, which asks get_directories
        super().__init__(directory=None, html=True, check_dir=False)

    def get_directories(self, directory=None, packages=None):
        return [str(self._directory())]

    async def get_response(self, path: str, scope):
        self.all_directories = self.get_directories()
        return await super().get_response(path, scope)
