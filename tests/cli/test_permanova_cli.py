"""``gutaxis permanova``: outputs and columns; bad input exits 2 and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_metrics_cli import assert_bad_input
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.cli.metrics import example_paths

runner = CliRunner()
VEGAN = Path(__file__).resolve().parents[1] / "reference" / "vegan"
DUNE = str(VEGAN / "dune_braycurtis.tsv")
DUNE_ENV = str(VEGAN / "dune_env.tsv")


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_writes_the_adonis2_table_permdisp_pairwise_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "perm"
    result = invoke("permanova", DUNE, "--metadata", DUNE_ENV, "--formula",
                    "Management + A1 + Use", "--by", "margin", "--permutations", "99",
                    "--seed", "3", "--permdisp", "Management", "--pairwise", "Management",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "permanova.tsv", sep="\t")
    assert table.columns.tolist() == ["term", "df", "sum_of_squares", "r2", "f", "pval"]
    assert table["term"].tolist() == ["Management", "A1", "Use", "Residual", "Total"]
    expected = pd.read_csv(VEGAN / "adonis2_dune_margin.tsv", sep="\t")
    np.testing.assert_allclose(table["f"], expected["f"], rtol=1e-10)
    assert table["pval"].iloc[:3].between(0.01, 1).all() and table["pval"].iloc[3:].isna().all()
    disp = pd.read_csv(out / "permdisp.tsv", sep="\t")
    assert disp.columns.tolist() == ["term", "df", "sum_of_squares", "mean_square", "f",
                                     "pval_f", "pval"]
    assert len(pd.read_csv(out / "pairwise.tsv", sep="\t")) == 6
    assert (out / "pcoa.png").stat().st_size > 1000
    assert (out / "permdisp_distances.tsv").exists() and (out / "permanova.json").exists()
    assert "PERMANOVA (marginal sums of squares, 99 permutations)" in result.output


def test_same_seed_same_output_and_force_replaces(tmp_path: Path) -> None:
    out = tmp_path / "perm"
    args = ["permanova", DUNE, "--metadata", DUNE_ENV, "--formula", "A1", "--strata", "Use",
            "--permutations", "49", "--no-plot", "--out", str(out)]
    assert invoke(*args).exit_code == 0
    first = (out / "permanova.tsv").read_text()
    assert invoke(*args).exit_code == 2  # exists
    assert invoke(*args, "--force").exit_code == 0
    assert (out / "permanova.tsv").read_text() == first
    assert not (out / "pcoa.png").exists()


def test_a_table_with_metric_is_accepted(tmp_path: Path) -> None:
    paths = example_paths()
    out = tmp_path / "perm"
    result = invoke("permanova", str(paths["table"]), "--metric", "unweighted_unifrac",
                    "--tree", str(paths["tree"]), "--metadata", str(paths["metadata"]),
                    "--formula", "group", "--permutations", "19", "--no-plot",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out / "permanova.tsv", sep="\t")["term"][0] == "group"


@pytest.fixture()
def bad_matrices(tmp_path: Path) -> dict[str, Path]:
    frame = pd.read_csv(DUNE, sep="\t", index_col=0)
    asym = frame.copy()
    asym.iloc[0, 1] += 0.1
    diag = frame.copy()
    diag.iloc[2, 2] = 0.5
    paths = {"asymmetric": tmp_path / "asym.tsv", "diagonal": tmp_path / "diag.tsv"}
    asym.to_csv(paths["asymmetric"], sep="\t")
    diag.to_csv(paths["diagonal"], sep="\t")
    return paths


@pytest.mark.parametrize(("which", "patterns"), [
    ("asymmetric", ["asym.tsv", "distance matrix is not symmetric", "expected d[i, j] == d[j, i]"]),
    ("diagonal", ["diag.tsv", "diagonal is not zero", "row 3, column '3'"]),
])
def test_broken_matrices_are_refused(tmp_path: Path, bad_matrices: dict[str, Path],
                                     which: str, patterns: list[str]) -> None:
    out = tmp_path / "out"
    result = invoke("permanova", str(bad_matrices[which]), "--metadata", DUNE_ENV,
                    "--formula", "A1", "--out", str(out))
    assert_bad_input(result, out, *patterns)


def test_formula_term_not_in_metadata_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("permanova", DUNE, "--metadata", DUNE_ENV, "--formula", "Management + pH",
                    "--out", str(out))
    assert_bad_input(result, out, "dune_env.tsv", "pH: not a metadata column",
                     "expected one of A1, Moisture")


def test_stratum_column_with_one_level_is_refused(tmp_path: Path) -> None:
    env = pd.read_csv(DUNE_ENV, sep="\t").assign(site="north")
    meta = tmp_path / "env.tsv"
    env.to_csv(meta, sep="\t", index=False)
    out = tmp_path / "out"
    result = invoke("permanova", DUNE, "--metadata", str(meta), "--formula", "A1",
                    "--strata", "site", "--out", str(out))
    assert_bad_input(result, out, "column 'site'", "one level", "expected two or more levels")


def test_ids_missing_from_metadata_are_refused(tmp_path: Path) -> None:
    env = pd.read_csv(DUNE_ENV, sep="\t")
    meta = tmp_path / "env.tsv"
    env.iloc[2:].to_csv(meta, sep="\t", index=False)
    out = tmp_path / "out"
    result = invoke("permanova", DUNE, "--metadata", str(meta), "--formula", "A1",
                    "--out", str(out))
    assert_bad_input(result, out, "env.tsv", "2 sample(s) of the distance matrix have no "
                     "metadata row", "found '1, 2'")


def test_unreadable_formula_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("permanova", DUNE, "--metadata", DUNE_ENV, "--formula", "log(A1)",
                    "--out", str(out))
    assert_bad_input(result, out, "--formula", "cannot read the formula term")


def test_help_shows_the_flags_and_examples() -> None:
    result = invoke("permanova", "--help")
    assert result.exit_code == 0
    for flag in ("--metadata", "--formula", "--by", "--strata", "--blocks", "--permutations",
                 "--seed", "--permdisp", "--pairwise", "--metric", "--tree", "--out",
                 "--force", "Examples:"):
        assert flag in result.output


def test_choices_are_the_engines_literals() -> None:
    from typing import get_args

    from gutaxis.cli import community
    from gutaxis.stats.community.permanova import SumsOfSquares
    from gutaxis.stats.community.permdisp import Centre

    assert get_args(community.By) == get_args(SumsOfSquares)
    assert get_args(community.CentreName) == get_args(Centre)
