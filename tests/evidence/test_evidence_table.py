"""The curated evidence table: it loads, every number has a source, nothing is estimated."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from gutaxis.errors import InputError
from gutaxis.evidence import CONDITIONS, EVIDENCE_VERSION, OUTCOMES, EvidenceTable, load_evidence
from gutaxis.evidence.table import LISTING_COLUMNS, STATUSES


def test_shipped_table_loads_with_its_version(evidence: EvidenceTable) -> None:
    assert evidence.version == EVIDENCE_VERSION
    assert evidence.contrasts["trial_id"].nunique() == 34
    assert set(evidence.contrasts["condition"]) == set(CONDITIONS)
    assert set(evidence.contrasts["outcome"]) <= set(OUTCOMES)


def test_version_is_the_first_heading_of_the_changelog() -> None:
    text = (resources.files("gutaxis.evidence") / "data" / "CHANGELOG.md").read_text("utf-8")
    versions = re.findall(r"^## (\S+)", text, flags=re.MULTILINE)
    assert versions[0] == EVIDENCE_VERSION


def test_every_shown_number_has_its_source_place_and_printed_text(
        evidence: EvidenceTable) -> None:
    shown = evidence.numbers[evidence.numbers["status"].isin(("reported", "disputed"))]
    assert len(shown) > 150
    assert shown["source_url"].str.match(r"https?://").all()
    for column in ("location", "as_printed", "unit"):
        assert (shown[column].str.strip() != "").all(), column
    assert shown["value"].notna().all()


def test_no_number_is_estimated_derived_or_imputed(evidence: EvidenceTable) -> None:
    numbers = evidence.numbers
    assert set(numbers["status"]) <= set(STATUSES)
    assert "estimated" not in STATUSES
    words = ("estimat", "imput", "derived", "back-calculat")
    for text in numbers["conversion"]:
        assert not any(word in text.lower() for word in words), text
    hidden = numbers[numbers["status"].isin(("not_seen", "ambiguous"))]
    assert hidden["value"].isna().all()


def test_needed_numbers_no_source_showed_are_marked_not_seen(evidence: EvidenceTable) -> None:
    lei = evidence.numbers_of("lei2017-lcs-vs-placebo-pain")
    missing = lei[lei["status"] == "not_seen"]
    assert {("intervention", "change_mean"), ("control", "change_sd"),
            ("control", "n_analysed")} <= set(zip(missing["arm"], missing["quantity"],
                                                  strict=True))


def test_differences_are_intervention_minus_control_inside_their_ci(
        evidence: EvidenceTable) -> None:
    shown = evidence.numbers[(evidence.numbers["arm"] == "contrast")
                             & (evidence.numbers["status"] == "reported")]
    wide = shown.pivot(index="contrast_id", columns="quantity", values="value")
    assert len(wide) == 3  # Taye 2020, Jensen 2019, Sisson 2014
    assert (wide["md_ci_low"] <= wide["md"]).all() and (wide["md"] <= wide["md_ci_high"]).all()
    assert (wide["md"] < 0).all()  # each printed as favouring the probiotic


def test_sizes_are_whole_and_sds_positive(evidence: EvidenceTable) -> None:
    shown = evidence.numbers[evidence.numbers["status"].isin(("reported", "disputed"))]
    sizes = shown[shown["quantity"].str.startswith("n_")]["value"]
    assert (sizes >= 1).all() and (sizes == sizes.round()).all()
    sds = shown[shown["quantity"].str.endswith("_sd")]["value"]
    assert (sds > 0).all()


def test_disputed_numbers_keep_both_readings(evidence: EvidenceTable) -> None:
    dolatkhah = evidence.numbers_of("dolatkhah2024-sb-vs-placebo-pain")
    disputed = dolatkhah[(dolatkhah["status"] == "disputed")
                         & (dolatkhah["arm"] == "intervention")]
    assert {-2.11, -1.31} <= set(disputed["value"])
    assert disputed["source_url"].nunique() == 2


def test_one_trial_reported_twice_is_one_row() -> None:
    contrasts = load_evidence().contrasts
    alipour = contrasts[contrasts["study"].str.contains("Vaghef-Mehrabany")]
    assert list(alipour["trial_id"]) == ["alipour2014"]


def test_meta_analyses_are_listed_apart_from_trials(evidence: EvidenceTable) -> None:
    assert len(evidence.meta_analyses) == 14
    assert not set(evidence.meta_analyses["meta_id"]) & set(evidence.contrasts["trial_id"])
    keys = {k for text in evidence.meta_analyses["condition_keys"] for k in text.split(",")}
    assert keys <= set(CONDITIONS)


def test_listing_has_one_row_per_contrast_with_the_sources_of_its_numbers(
        evidence: EvidenceTable) -> None:
    frame = evidence.to_frame()
    assert tuple(frame.columns) == LISTING_COLUMNS
    assert len(frame) == len(evidence.contrasts)
    with_numbers = frame[frame["numbers_reported"] > 0]
    assert (with_numbers["number_sources"] != "").all()
    zamani = frame.set_index("contrast_id").loc["zamani2017-synbiotic-vs-placebo-pain"]
    assert zamani["change_intervention"] == "-30.4 (18.7)"
    assert zamani["n_intervention"] == "27 (n_allocated)"


def test_select_keeps_ibs_as_its_own_stratum(evidence: EvidenceTable) -> None:
    ibs = evidence.select(condition="ibs")
    assert set(ibs.contrasts["condition"]) == {"ibs"}
    assert set(ibs.numbers["contrast_id"]) <= set(ibs.contrasts["contrast_id"])
    assert set(ibs.meta_analyses["condition_keys"]) == {"ibs"}


def test_unknown_condition_names_the_choices(evidence: EvidenceTable) -> None:
    with pytest.raises(InputError, match=r"unknown condition.*found 'gout'.*osteoarthritis"):
        evidence.select(condition="gout")


@pytest.mark.parametrize(("file", "where", "column", "value", "message"), [
    ("numbers.tsv", ("status", "reported"), "conversion", "SD estimated from the p-value",
     "no estimated or derived numbers"),
    ("numbers.tsv", ("status", "reported"), "source_url", "", "needs its source_url"),
    ("numbers.tsv", ("status", "not_seen"), "value", "12", "not_seen number has a value"),
    ("numbers.tsv", ("status", "reported"), "status", "estimated", "unknown status"),
    ("numbers.tsv", ("status", "reported"), "value", "about 5", "numeric value"),
    ("contrasts.tsv", ("trial_id", "hong2009"), "condition", "gout", "unknown condition"),
    ("contrasts.tsv", ("trial_id", "hong2009"), "sources", "", "empty cell"),
    ("meta_analyses.tsv", ("meta_id", "li-et-al-2020"), "condition_keys", "ibs,gut",
     "unknown condition key"),
])
def test_a_broken_table_is_refused_naming_file_row_and_column(
        table_copy: Path, edit_cell: Callable[..., int], file: str, where: tuple[str, str],
        column: str, value: str, message: str) -> None:
    row = edit_cell(table_copy / file, row_where=where, column=column, value=value)
    with pytest.raises(InputError, match=message) as caught:
        load_evidence(table_copy)
    text = str(caught.value)
    assert file in text and f"row {row}" in text and repr(column) in text


def test_an_edited_copy_is_read_instead_of_the_shipped_table(
        table_copy: Path, edit_cell: Callable[..., int]) -> None:
    edit_cell(table_copy / "contrasts.tsv", row_where=("trial_id", "hong2009"),
              column="risk_of_bias_note", value="checked by hand")
    copy = load_evidence(table_copy)
    assert "checked by hand" in set(copy.contrasts["risk_of_bias_note"])
    pd.testing.assert_frame_equal(copy.numbers, load_evidence().numbers)
