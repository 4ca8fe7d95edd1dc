"""Lupa's reports inside the Airflow UI: the viewer app (reports.viewer) mounted on the API
server at /lupa, and a "Informes Lupa" entry in the Browse menu that shows it."""

from airflow.plugins_manager import AirflowPlugin

from reports.viewer import create_app

URL_PREFIX = "/lupa"


class LupaReportsPlugin(AirflowPlugin):
    name = "lupa_reports"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Informes Lupa"}]
    external_views = [{
        "name": "Informes Lupa",
        "href": f"{URL_PREFIX}/",
        "url_route": "lupa-informes",
        "destination": "nav",
        "category": "browse",
    }]
