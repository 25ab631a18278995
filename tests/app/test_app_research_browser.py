"""The research page in headless Chromium: a researcher queues an analysis with the form,
the progress bar follows the job as the worker reports progress (static research.js, no
inline script), and the finished job's report link appears. Screenshots are kept in
``GUTAXIS_SCREENSHOTS`` when set.

Needs Playwright and Debian's chromium (``/usr/bin/chromium``); without them the test
skips, except under ``GUTAXIS_REQUIRE_DATA=1`` (CI), where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clinic_fixtures import PASSWORD, Clinic, make_clinic

from gutaxis.app.jobs import queue

CHROMIUM = os.environ.get("GUTAXIS_CHROMIUM", "/usr/bin/chromium")


def _require(reason: str) -> None:
    if os.environ.get("GUTAXIS_REQUIRE_DATA") == "1":
        pytest.fail(reason + " (GUTAXIS_REQUIRE_DATA=1: the browser test must run)")
    pytest.skip(reason)


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Clinic, str]]:
    """The app on SQLite behind a real HTTP server on 127.0.0.1 (cookies over HTTP)."""
    import uvicorn

    clinic = make_clinic("sqlite", tmp_path, request, cookie_secure=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(clinic.app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield clinic, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    clinic.state.db.dispose()


@pytest.fixture
def page() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("playwright is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _require(f"chromium not found at {CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])
        yield browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        browser.close()


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("GUTAXIS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"research-{name}.png"), full_page=True)


def test_research_page_queues_an_analysis_and_follows_its_progress(
        served: tuple[Clinic, str], page: Any) -> None:
    from playwright.sync_api import expect

    clinic, base = served
    clinic.add_user("res", "researcher")
    errors: list[str] = []
    missing: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the app has none
    page.goto(base + "/login")
    page.fill("input[name=username]", "res")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/research")
    page.fill("input[name=covariates]", "fibre_servings_mean_14d")
    page.fill("input[name=permutations]", "99")
    page.click("#analysis-form button[type=submit]")
    page.wait_for_url(base + "/research")
    bar = page.locator("progress.job-progress")
    assert bar.count() == 1
    job_id = int(bar.get_attribute("data-job"))
    _shot(page, "queued")
    db = clinic.state.db
    claimed = queue.claim(db, "browser-test")
    assert claimed is not None and claimed.id == job_id
    queue.progress(db, job_id, "browser-test", 0.5, "step 3/7: alpha")
    expect(bar).to_have_js_property("value", 0.5, timeout=10_000)
    expect(page.locator(f".job-message[data-job='{job_id}']")).to_have_text("step 3/7: alpha")
    _shot(page, "running")
    queue.finish(db, job_id, "browser-test", result={"n": 0}, report_html="<h1>Report</h1>")
    link = page.locator(f"a[href='/api/v1/analyses/{job_id}/report']")
    link.wait_for(timeout=10_000)  # the poller reloads the page when the job ends
    assert page.locator("progress").count() == 0
    _shot(page, "done")
    link.click()
    assert page.locator("h1").inner_text() == "Report"
    assert missing == [] and errors == [], (missing, errors)
