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


@pytest.fixture(scope="module", params=["example", "demo", "fibromyalgia", "functional"])
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the packaged example cohort (binary outcome: all five figures), of
    ``gutaxis demo`` and of ``gutaxis analyze`` on the fibromyalgia cohort (severity band)."""
    pytest.importorskip("sklearn")
    out = tmp_path_factory.mktemp(request.param) / "out"
    if request.param == "example":
        paths = example_paths()
        config = merge_config(DEFAULTS, {
            "input": {"table": str(paths["table"]), "taxonomy": str(paths["taxonomy"]),
                      "tree": str(paths["tree"]), "metadata": str(paths["metadata"])},
            "design": {"outcome": "group", "outcome_type": "binary",
                       "positive": ["chronic_pain"], "subject": "subject", "exposure": "age",
                       "mediators": ["crp_mg_l"]},
            "checks": {"min_depth": 1}, "community": {"permutations": 99},
            "classify": {"repeats": 1, "permutations": 0, "folds": 3},
            "mediation": {"boot": 50}})
        run_analysis(config).to_dir(out)
        return out / "report.html"
    from typer.testing import CliRunner

    from gutaxis.cli.main import app

    if request.param == "demo":
        args = ["demo", "--out", str(out), "--seed", "1"]
    elif request.param == "functional":  # real KO profiles, simulated pain and CRP
        pytest.importorskip("gutaxis.gut.modules")
        study = request.getfixturevalue("ko_study")
        study.metadata.to_csv(out.parent / "meta.tsv", sep="\t")
        (out.parent / "fast.toml").write_text("[community]\npermutations = 99\n[mediation]\n"
                                              "boot = 100\n", encoding="utf-8")
        args = ["analyze", str(study.ko_path), "--metadata", str(out.parent / "meta.tsv"),
                "--outcome", "pain", "--covariates", "series", "--config",
                str(out.parent / "fast.toml"), "--out", str(out)]
    else:
        d = request.getfixturevalue("fibromyalgia_dir")
        args = ["analyze", str(d / "feature-table.tsv.gz"), "--taxonomy",
                str(d / "taxonomy.tsv.gz"), "--metadata", str(d / "metadata.tsv"),
                "--outcome", "group", "--outcome-type", "ordinal", "--covariates",
                "covariate_age,covariate_imc,covariate_sii", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
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
    # diversity, PCoA, taxa (+ ROC for a binary outcome, + mediation with an exposure)
    assert images.count() >= 3 and images.count() == page.locator("figure").count()
    if "example" in report.parent.parent.name:
        assert images.count() == 5
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


@pytest.mark.parametrize("report", ["functional"], indirect=True)
def test_mechanism_section_reads_with_module_names(browser: Any, report: Path,
                                                   tmp_path: Path) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    section = page.locator("#mechanism")
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(tmp_path / "mechanism.png"))
    text = section.inner_text()
    assert "what the gut makes and lets through" in text
    assert "Acetate degradation (MGB047)" in text and "\u2192 crp \u2192 pain" in text
    assert "version 1.0" in text and "Read with care" in text
    figures = section.locator("figure img")
    assert figures.count() == 2  # one forest plot per module set
    for k in range(figures.count()):
        assert figures.nth(k).evaluate("e => e.complete && e.naturalWidth > 100"), k
    assert section.locator("table.mechanism-paths tr").count() == 4  # header + 3 paths
    page.close()
