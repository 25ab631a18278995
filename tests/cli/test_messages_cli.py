"""Messages for people: options the messages point to exist (--kind, --drop-empty-samples,
--strict), and no Python advice, numpy reprs or internal field names reach the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.cli.metrics import example_paths
from gutaxis.errors import InputError

runner = CliRunner()


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def flat(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.output.split())


def assert_for_people(text: str) -> None:
    for python in ("()", "np.float64", "Traceback", "field 'dm'", "ValidationError"):
        assert python not in text, text


@pytest.fixture
def example_table() -> pd.DataFrame:
    """The example cohort's counts, features x samples."""
    return pd.read_csv(example_paths()["table"], sep="\t", index_col=0)


@pytest.fixture
def table_with_empty_samples(example_table: pd.DataFrame, tmp_path: Path) -> Path:
    table = example_table.copy()
    table[["S02_v1", "S03_v2"]] = 0
    path = tmp_path / "empty.tsv"
    table.to_csv(path, sep="\t")
    return path


def test_empty_samples_point_to_the_option_that_drops_them(table_with_empty_samples: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "out"
    refused = invoke("metrics", table_with_empty_samples, "--out", out)
    assert refused.exit_code == 2
    text = flat(refused)
    assert "2 of the 40 samples have no reads" in text and "S02_v1, S03_v2" in text
    assert "--drop-empty-samples" in text and "drop_empty_samples" not in text
    assert_for_people(text)
    assert not out.exists()
    result = invoke("metrics", table_with_empty_samples, "--out", out, "--drop-empty-samples")
    assert result.exit_code == 0, result.output
    assert "left out 2 of the 40 samples (all values zero): S02_v1, S03_v2" in flat(result)
    alpha = pd.read_csv(out / "alpha.tsv", sep="\t", index_col=0)
    assert len(alpha) == 38 and "S02_v1" not in alpha.index


def test_kind_relative_reads_whole_number_percentages_as_relative(tmp_path: Path) -> None:
    # whole numbers summing to 100 per sample look like counts; --kind says what they are
    percent = pd.DataFrame({"s1": [50, 30, 20], "s2": [10, 60, 30], "s3": [25, 25, 50]},
                           index=pd.Index(["f1", "f2", "f3"], name="feature_id"))
    path = tmp_path / "percent.tsv"
    percent.to_csv(path, sep="\t")
    as_counts = invoke("metrics", path, "--out", tmp_path / "counts")
    assert as_counts.exit_code == 0, as_counts.output
    chao1 = pd.read_csv(tmp_path / "counts" / "alpha.tsv", sep="\t", index_col=0)["chao1"]
    assert chao1.notna().all()
    as_relative = invoke("metrics", path, "--kind", "relative", "--out", tmp_path / "rel")
    assert as_relative.exit_code == 0, as_relative.output
    assert "chao1 needs read counts; the table holds relative values" in flat(as_relative)
    alpha = pd.read_csv(tmp_path / "rel" / "alpha.tsv", sep="\t", index_col=0)
    assert alpha["chao1"].isna().all()
    # Shannon entropy of (0.5, 0.3, 0.2) in bits (the CLI's default base), by hand
    assert alpha.loc["s1", "shannon_entropy"] == pytest.approx(
        -(0.5 * np.log2(0.5) + 0.3 * np.log2(0.3) + 0.2 * np.log2(0.2)))


def test_kind_takes_only_counts_or_relative(tmp_path: Path) -> None:
    result = invoke("metrics", "--example", "--kind", "clr", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "counts" in result.output and "relative" in result.output


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    """Six samples, three features; metadata for five of them."""
    counts = pd.DataFrame(np.arange(1, 19, dtype=float).reshape(3, 6) % 7 + 1,
                          index=pd.Index(["f1", "f2", "f3"], name="feature_id"),
                          columns=[f"s{i}" for i in range(6)])
    table = tmp_path / "table.tsv"
    counts.to_csv(table, sep="\t")
    meta = pd.DataFrame({"sample_id": counts.columns[1:], "age": [30, 41, 52, 63, 74]})
    metadata = tmp_path / "meta.tsv"
    meta.to_csv(metadata, sep="\t", index=False)
    return table, metadata


def test_associate_leaves_out_samples_without_metadata_unless_strict(
        tiny: tuple[Path, Path], tmp_path: Path) -> None:
    table, metadata = tiny
    args = ["associate", table, "--metadata", metadata, "--fixed", "age", "--no-plots",
            "--min-prevalence", "0"]
    result = invoke(*args, "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert "left out 1 of the 6 samples of" in flat(result) and ": s0" in flat(result)
    results = pd.read_csv(tmp_path / "a" / "all_results.tsv", sep="\t")
    assert set(results["n"]) == {5}
    strict = invoke(*args, "--out", tmp_path / "b", "--strict")
    assert strict.exit_code == 2
    assert "1 of the 6 samples" in flat(strict) and "s0" in flat(strict)
    assert not (tmp_path / "b").exists()


def test_engine_parameter_names_become_the_commands_options(tiny: tuple[Path, Path],
                                                            tmp_path: Path) -> None:
    table, metadata = tiny
    result = invoke("associate", table, "--metadata", metadata, "--fixed", "age",
                    "--normalization", "NONE", "--transform", "LOGIT", "--out", tmp_path / "a")
    assert result.exit_code == 2
    assert "field '--transform'" in flat(result)


def test_an_internal_field_name_is_not_shown(example_table: pd.DataFrame,
                                             tmp_path: Path) -> None:
    one = tmp_path / "one.tsv"
    example_table.iloc[:, :1].to_csv(one, sep="\t")
    result = invoke("metrics", one, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "PCoA needs at least two samples" in flat(result)
    assert_for_people(flat(result))


def test_out_of_range_fraction_is_refused_as_the_option() -> None:
    result = invoke("associate", "t.tsv", "--metadata", "m.tsv", "--fixed", "age",
                    "--min-prevalence", "2", "--out", "o")
    assert result.exit_code == 2
    assert "--min-prevalence" in result.output and "min_prevalence" not in result.output


@pytest.mark.parametrize(("found", "shown"), [
    (np.float64("inf"), "found inf"), (np.int64(3), "found 3"),
    ([np.float64(0.5), np.float64("nan")], "found [0.5, nan]"),
    (np.array([1.5, 2.0]), "found [1.5, 2.0]"),
])
def test_numpy_values_read_as_plain_numbers(found: object, shown: str) -> None:
    text = str(InputError("value out of range", found=found))
    assert text.endswith(shown), text
    assert "np." not in text and "array(" not in text


def test_a_negative_biom_cell_names_the_sample_without_a_numpy_repr(tmp_path: Path) -> None:
    from gutaxis.data import ProfileTable
    from gutaxis.io import read_biom, write_biom

    frame = pd.DataFrame([[1.0, -2.0], [3.0, 4.0]], index=["A", "B"], columns=["f1", "f2"])
    path = tmp_path / "t.biom"
    write_biom(ProfileTable.from_dataframe(frame, kind="clr"), path)
    with pytest.raises(InputError) as caught:
        read_biom(path, kind="counts")
    assert "row sample 'A'" in str(caught.value) and "np." not in str(caught.value)


def test_an_asymmetric_distance_matrix_shows_plain_numbers() -> None:
    from gutaxis.data.distance import DistanceMatrix

    frame = pd.DataFrame([[0.0, 0.25], [0.5, 0.0]], index=["a", "b"], columns=["a", "b"])
    with pytest.raises(InputError) as caught:
        DistanceMatrix.from_dataframe(frame)
    assert "found '0.25 vs 0.5'" in str(caught.value) or "found '0.5 vs 0.25'" in str(
        caught.value), str(caught.value)


def _command(table: Annotated[Path, typer.Argument()],
             min_prevalence: Annotated[float, typer.Option("--min-prevalence")] = 0.1,
             min_variance: float = typer.Option(0.0, "--min-variance", "-v")) -> None:
    """A command whose parameters the engine's errors may name."""


@pytest.mark.parametrize(("field", "shown"), [
    ("table", "t.tsv: too few samples"),
    ("min_prevalence/min_variance",
     "field '--min-prevalence/--min-variance': too few samples"),
    ("dm", "too few samples"),
    ("--reference", "field '--reference': too few samples"),
])
def test_engine_fields_are_put_in_the_commands_words(field: str, shown: str) -> None:
    from gutaxis.cli.common import message_for_people

    error = InputError("too few samples", field=field)
    assert message_for_people(error, _command, {"table": Path("t.tsv")}) == shown
    placed = InputError("too few samples", source="m.tsv", field="age")
    assert message_for_people(placed, _command, {}) == "m.tsv, field 'age': too few samples"
