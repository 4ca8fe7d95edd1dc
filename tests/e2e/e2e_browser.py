"""Opening a report page in the browser, recording what it requests and what fails."""

from __future__ import annotations

from pathlib import Path


def open_page(browser, path: Path):
    """A page of the report, recording every request and console error it causes."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page
