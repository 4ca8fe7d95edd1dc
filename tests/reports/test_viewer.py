"""The report viewer app, alone and mounted by the Airflow plugin."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reports.build import MARKER
from reports.viewer import create_app


@pytest.fixture
def site(tmp_path):
    out = tmp_path / "informes"
    (out / "sujetos").mkdir(parents=True)
    (out / "index.html").write_text("<h1>Informe nacional</h1>", encoding="utf-8")
    (out / "sujetos" / "a.html").write_text("<h1>Sujeto A</h1>", encoding="utf-8")
    (out / MARKER).write_text(json.dumps({"run_id": "r1", "generated_at": "2026-01-01",
                                          "subjects": 1, "warehouse": "/secret/path"}))
    (tmp_path / "fuera.txt").write_text("no")
    return out


def test_serves_the_report_with_a_strict_policy(site):
    client = TestClient(create_app(site))
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 307 and home.headers["location"].endswith("/informe/index.html")
    page = client.get("/informe/sujetos/a.html")
    assert page.status_code == 200 and "Sujeto A" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # none allowed
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/informe/").text == "<h1>Informe nacional</h1>"
    assert client.get("/api/report").json() == {"run_id": "r1", "generated_at": "2026-01-01",
                                                "subjects": 1}  # no server paths


def test_nothing_outside_the_report_directory_is_served(site):
    client = TestClient(create_app(site))
    for path in ("/informe/../fuera.txt", "/informe/%2e%2e/fuera.txt",
                 "/informe/..%2ffuera.txt"):
        assert client.get(path).status_code == 404, path


def test_says_in_spanish_when_there_is_no_report_yet(tmp_path):
    client = TestClient(create_app(tmp_path / "vacio"))
    home = client.get("/")
    assert home.status_code == 404 and "Aún no hay un informe" in home.text
    assert client.get("/api/report").status_code == 404


def test_the_directory_follows_the_settings(site, monkeypatch):
    monkeypatch.setenv("LUPA_REPORTS_DIR", str(site))
    client = TestClient(create_app())
    assert "Informe nacional" in client.get("/informe/index.html").text


def test_airflow_loads_the_plugin_and_mounts_the_viewer(site, monkeypatch):
    from airflow import plugins_manager
    from airflow.api_fastapi.app import init_plugins

    monkeypatch.setenv("LUPA_REPORTS_DIR", str(site))
    apps, _ = plugins_manager.get_fastapi_plugins()
    assert [a["url_prefix"] for a in apps if a["name"] == "Informes Lupa"] == ["/lupa"]
    views, _ = plugins_manager._get_ui_plugins()
    assert [v["href"] for v in views if v["name"] == "Informes Lupa"] == ["/lupa/"]
    api = FastAPI()
    init_plugins(api)
    client = TestClient(api)
    assert client.get("/lupa/", follow_redirects=False).headers["location"].endswith(
        "/lupa/informe/index.html")
    assert "Sujeto A" in client.get("/lupa/informe/sujetos/a.html").text
