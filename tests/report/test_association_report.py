"""The association report: DIR/report.html, its confidence intervals (recomputed here from
all_results.tsv with scipy's t and normal quantiles), evidence labels by the stated rule,
flagged fits in plain words, and no external assets."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.data import Cohort, ProfileTable
from gutaxis.report import write_association_report
from gutaxis.report.association_words import (
    coefficient_meaning,
    flag_reason,
    outcome_notes,
    outcome_scale,
)
from gutaxis.stats import associate
from gutaxis.stats.association_results import read_results
from gutaxis.stats.results import wald_interval

runner = CliRunner()


class _Page(HTMLParser):
    """The cells of the report's table body, and every src/href attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


def _expected_label(q: float) -> str:
    """The rule the page states: q < 0.05 stronger, otherwise (up to the threshold) weak."""
    return "stronger" if q < 0.05 else "weak — hypothesis only"


def _expected_ci(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """coef ± quantile × stderr: t with the row's df, or z for the logistic rows (df NA)."""
    quantile = np.array([stats.norm.ppf(0.975) if np.isnan(df) else stats.t.ppf(0.975, df)
                         for df in rows["df"]])
    return rows["coef"] - quantile * rows["stderr"], rows["coef"] + quantile * rows["stderr"]


def _assert_self_contained(text: str, page: _Page) -> None:
    assert page.links, "the page embeds its figures"
    assert all(link.startswith(("data:", "#")) for link in page.links), page.links
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text)
    assert "<link" not in text and "<script" not in text


# ----------------------------------------------------------------------- unit pieces
def test_confidence_interval_takes_t_with_df_and_z_without():
    # Published quantiles: t(0.975; 10) = 2.228139, t(0.975; 3) = 3.182446, z = 1.959964.
    low, high = wald_interval(np.array([1.0, 1.0, -2.0]), np.array([0.5, 2.0, 1.0]),
                                    np.array([10.0, 3.0, np.nan]))
    np.testing.assert_allclose(high, [1 + 2.228139 * 0.5, 1 + 3.182446 * 2, -2 + 1.959964],
                               atol=2e-6)
    np.testing.assert_allclose(low, [1 - 2.228139 * 0.5, 1 - 3.182446 * 2, -2 - 1.959964],
                               atol=2e-6)


@pytest.mark.parametrize(("error", "label"), [
    ("singular fit: a random-effect variance is estimated at 0 (estimates kept)",
     "singular fit"),
    ("boundary (singular) fit: a variance component is 0", "singular fit"),
    ("separation: presence is predicted exactly by (Intercept), groupb (augmented estimate, "
     "likelihood unbounded)", "separated term"),
    ("present in all 101 samples used: prevalence model undefined", "always or never present"),
    ("degenerate: absent from all 40 samples", "always or never present"),
    ("constant feature: zero variance on the 40 samples used", "constant feature"),
    ("response is constant or fitted exactly by the fixed effects", "constant feature"),
    ("5 samples for 6 parameters: no residual degrees of freedom", "too few samples"),
    ("design matrix is rank-deficient on this feature's samples", "collinear covariates"),
    ("mixed model did not converge", "did not converge"),
    ("mixed model not fitted: no convergence in 200 Newton iterations", "did not converge"),
    ("logistic model did not converge (IRLS did not converge in 50 iterations)",
     "did not converge"),
    ("mixed model failed: something odd", "other problem"),
])
def test_every_error_the_scan_writes_has_plain_words(error, label):
    short, words = flag_reason(error)
    assert short == label
    assert "degenerate" not in words


def _small_scan(*, names: list[str] | None = None, **options: object):
    rng = np.random.default_rng(3)
    n = 48
    group = np.repeat(["ctl", "case"], n // 2)
    age = rng.normal(50, 8, n)
    counts = rng.poisson(40, size=(n, 8)).astype(float)
    counts[:, 0] *= np.where(group == "case", 6, 1)  # a planted group effect
    counts[:, 1] *= np.exp((age - 50) / 6)           # a planted age effect
    counts[rng.random((n, 8)) < 0.2] = 0.0
    meta = pd.DataFrame({"group": group, "age": age,
                         "subject": np.tile([f"p{i}" for i in range(12)], 4)},
                        index=[f"s{i}" for i in range(n)])
    table = ProfileTable.from_dataframe(pd.DataFrame(
        counts, index=meta.index, columns=names or [f"k__B;g__Genus{i}" for i in range(8)]))
    options.setdefault("median_comparison_abundance", False)  # eight features: too few
    return associate(Cohort(table, meta), fixed=["group", "age"],
                     reference={"group": "ctl"}, **options)


@pytest.mark.parametrize(("options", "words"), [
    ({}, "log2 relative abundance"),
    ({"transform": "AST"}, "arcsine-square-root (AST) units of relative abundance"),
    ({"normalization": "CLR", "transform": "NONE"}, "centred log-ratio (CLR) units"),
])
def test_the_coefficient_scale_is_named(options, words):
    spec = _small_scan(**options).spec
    assert outcome_scale(spec) == words
    meaning = coefficient_meaning(spec)
    assert words in meaning[0]
    assert meaning[1] == ("group: the difference between each level and the reference level "
                          "\u201cctl\u201d.")
    assert meaning[2] == "age: the change per unit of age."


def test_zeros_are_said_to_be_absences_with_the_prevalence_model():
    """MaAsLin 3's abundance model leaves zeros out; MaAsLin 2's LOG replaces them."""
    assert any("zeros are replaced" in n for n in outcome_notes(_small_scan().spec))
    notes = outcome_notes(_small_scan(prevalence_model=True).spec)
    assert "zeros are absences: the abundance model uses the nonzero values only" in notes
    assert not any("replaced" in n for n in notes)


def test_report_of_a_mixed_model_scan_names_singular_fits(tmp_path):
    """A random intercept per subject on data without subject effects: singular fits,
    Satterthwaite df in the intervals."""
    results = _small_scan(random=["subject"], max_significance=0.5)
    path = write_association_report(results, tmp_path / "report.html")
    text, page = _parse(path)
    errors = results.table.drop_duplicates("feature")["error"]
    n_singular = int(errors.str.contains("singular", na=False).sum())
    assert n_singular > 0
    assert (f"{n_singular} feature(s), abundance model:</strong> random-effect variance "
            "estimated at zero (singular fit): the model is equivalent to one without that random "
            "intercept") in text
    assert "degenerate" not in text.lower()
    hits = results.table[results.table["qval"] <= 0.5].reset_index(drop=True)
    assert len(page.rows) == len(hits) > 0
    low, high = _expected_ci(hits)
    for k, cells in enumerate(page.rows):
        assert cells[3] == f"{low[k]:.3g} to {high[k]:.3g}"
        assert cells[7] == _expected_label(hits["qval"][k])
        assert (cells[8] == "singular fit") == ("singular" in str(hits["error"][k]))
    assert {cells[7] for cells in page.rows} == {"stronger", "weak — hypothesis only"}
    _assert_self_contained(text, page)


def test_a_scan_without_hits_says_so_and_draws_no_forest(tmp_path):
    results = _small_scan(max_significance=1e-300)
    assert results.significant().empty
    text, page = _parse(write_association_report(results, tmp_path / "report.html"))
    assert "No association reached q &le; 1e-300." in text
    assert not page.rows and "forest plot" not in text and "volcano plot" in text
    _assert_self_contained(text, page)


def test_a_small_prevalence_filter_is_not_rounded_away(tmp_path):
    results = _small_scan(min_prevalence=0.005)
    text, _ = _parse(write_association_report(results, tmp_path / "report.html",
                                              figures=False))
    assert "kept if present (value &gt; 0) in more than 0.5% of samples" in text


def test_feature_names_are_escaped(tmp_path):
    names = ["g__<b>Planted</b> & co"] + [f"g__Genus{i}" for i in range(1, 8)]
    results = _small_scan(names=names)
    assert results.significant()["feature"].eq(names[0]).any()
    text, _ = _parse(write_association_report(results, tmp_path / "report.html",
                                              figures=False))
    assert "<b>Planted" not in text and "g__&lt;b&gt;Planted&lt;/b&gt; &amp; co" in text


# ------------------------------------------------------------------ the command, real data
def _fm_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["associate", str(data / "feature-table.tsv.gz"), "--metadata",
            str(data / "metadata.tsv"), "--taxonomy", str(data / "taxonomy.tsv.gz"),
            "--rank", "genus", "--fixed", "group,covariate_age,covariate_imc,covariate_sii",
            "--reference", "group=ctl", "--out", str(out), *extra]


@pytest.mark.realdata
def test_associate_writes_a_readable_report_beside_the_results(fibromyalgia_dir, tmp_path):
    out = tmp_path / "assoc"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--prevalence-model",
                                         "--max-significance", "0.6", "--top", "1"))
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.html'}" in result.stderr
    assert not (out / "figures" / "report.html").exists()
    text, page = _parse(out / "report.html")
    table = read_results(out / "all_results.tsv")
    # MaAsLin 3's rule (utility_scripts.R, write_results): joint q <= threshold, or own q <=
    # threshold without a warning; the label goes by the q that qualifies the row
    own = table["qval"].where(~table["induced_by_abundance"])
    qualifying = np.fmin(own, table["qval_joint"])
    hits = table.assign(q_label=qualifying)[qualifying <= 0.6].reset_index(drop=True)
    shown = hits.head(50)
    assert {"abundance", "prevalence"} <= set(shown["model"])  # t and z intervals both shown
    assert len(page.rows) == len(shown)
    low, high = _expected_ci(shown)
    for k, cells in enumerate(page.rows):  # feature, model, term, coef, CI, q, joint q, N, ...
        assert cells[1] == shown["model"][k]
        assert cells[3] == f"{shown['coef'][k]:.3g}"
        assert cells[4] == f"{low[k]:.3g} to {high[k]:.3g}"
        assert cells[5:7] == [f"{shown['qval'][k]:.2g}", f"{shown['qval_joint'][k]:.2g}"]
        assert cells[7:9] == [str(shown["n"][k]), str(shown["n_nonzero"][k])]
        assert cells[9] == _expected_label(shown["q_label"][k])
    assert "q &lt; 0.05: \u201cstronger\u201d evidence; 0.05 \u2264 q \u2264 0.6:" in text
    assert "The coefficient (coef) is in log2 relative abundance." in text
    assert "covariate_age: the change per unit of covariate_age." in text
    flagged = table.dropna(subset=["error"]).drop_duplicates(["feature", "model"])
    aliased = int(flagged["error"].str.contains("aliased").sum())
    everywhere = int(flagged["error"].str.contains("present in all|absent from all").sum())
    assert aliased and everywhere
    assert (f"{aliased} feature(s), abundance model:</strong> on this feature&#39;s samples a "
            "level of a categorical variable coincides" in text)
    assert (f"{everywhere} feature(s), prevalence model:</strong> present in every sample or "
            "in none" in text)
    assert "cross-sectional associations" in text
    _assert_self_contained(text, page)


@pytest.mark.realdata
def test_no_plots_still_writes_the_report_without_figures(fibromyalgia_dir, tmp_path):
    out = tmp_path / "assoc"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--no-plots"))
    assert result.exit_code == 0, result.output
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<img" not in text and "Significant associations" in text
    assert not (out / "figures").exists()
