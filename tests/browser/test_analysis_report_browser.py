"""The analyze report in headless Chromium: it loads with the network cut, logs no console
error, every figure is drawn, and the first screen holds the findings.

Needs Playwright and Debian's chromium (``/usr/bin/chromium``; ``playwright install`` is
not used). Without them the test skips, except under ``GUTAXIS_REQUIRE_DATA=1`` (CI),
where it fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from gutaxis.analyze import DEFAULTS, merge_config, run_analysis
from gutaxis.cli.metrics import example_paths

CHROMIUM = os.environ.get("GUTAXIS_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}


def _require(reason: str) -> None:
    if os.environ.get("GUTAXIS_REQUIRE_DATA") == "1":
        pytest.fail(reason + " (GUTAXIS_REQUIRE_DATA=1: the browser test must run; "
                    "apt-get install -y chromium, pip install playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("playwright is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _require(f"chromium not found at {CHROMIUM}")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sklearn")
    paths = example_paths()
    config = merge_config(DEFAULTS, {
        "input": {"table": str(paths["table"]), "taxonomy": str(paths["taxonomy"]),
                  "tree": str(paths["tree"]), "metadata": str(paths["metadata"])},
        "design": {"outcome": "group", "outcome_type": "binary", "positive": ["chronic_pain"],
                   "subject": "subject", "exposure": "age", "mediators": ["crp_mg_l"]},
        "checks": {"min_depth": 1}, "community": {"permutations": 99},
        "classify": {"repeats": 1, "permutations": 0, "folds": 3},
        "mediation": {"boot": 50}})
    out = tmp_path_factory.mktemp("report")
    run_analysis(config).to_dir(out)
    return out / "report.html"


def test_report_renders_offline_with_findings_first(browser: Any, report: Path,
                                                    tmp_path: Path) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    requests: list[str] = []
    errors: list[str] = []
    page.route("**/*", lambda route: (requests.append(route.request.url), route.abort())
               if not route.request.url.startswith(("file:", "data:")) else route.continue_())
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(tmp_path / "first-screen.png"))
    assert requests == [], f"the report asked the network for {requests}"
    assert errors == [], errors
    images = page.locator("figure img")
    assert images.count() == 5  # diversity, PCoA, taxa, ROC, mediation
    for k in range(images.count()):
        img = images.nth(k)
        img.scroll_into_view_if_needed()
        assert img.evaluate("e => e.complete && e.naturalWidth > 100"), k
        assert img.bounding_box()["width"] > 300, k
    page.evaluate("window.scrollTo(0, 0)")
    findings = page.locator("#findings")
    box = findings.bounding_box()
    assert box is not None and box["y"] < VIEWPORT["height"] / 3
    assert page.locator("#findings .finding").count() >= 3
    first = page.locator("#findings .finding").first.bounding_box()
    assert first is not None and first["y"] + first["height"] < VIEWPORT["height"]
    assert "95% CI" in findings.inner_text()
    page.close()
