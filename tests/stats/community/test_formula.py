"""Formulas read and coded as R's terms() and model.matrix()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gutaxis.errors import InputError
from gutaxis.stats.community.formula import model_frame, parse_formula


def labels(text: str) -> list[str]:
    return [t.label for t in parse_formula(text)]


def test_star_expands_and_interactions_follow_main_effects() -> None:
    assert labels("a * b + c") == ["a", "b", "c", "a:b"]
    assert labels("~ a*b*c") == ["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"]
    assert labels("dist ~ b:a + a") == ["a", "b:a"]  # R: attr(terms(~ b:a + a), ...)
    assert labels("b + a + b:a") == ["b", "a", "b:a"]


def test_repeated_terms_count_once_and_variables_keep_first_order() -> None:
    assert labels("a + b + a + a:b + b:a") == ["a", "b", "a:b"]
    assert labels("x:y + y + x") == ["y", "x", "x:y"]


@pytest.mark.parametrize("text", ["", "~ ", "log(a)", "a + (b)", "a + 1", "a + + b", "a-b"])
def test_unreadable_formulas_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_formula(text)


def test_treatment_contrasts_and_interaction_columns_as_model_matrix() -> None:
    meta = pd.DataFrame({"g": ["b", "a", "c", "a", "b", "c"], "x": [1.0, 2, 3, 4, 5, 6],
                         "s": ["m", "f", "f", "m", "m", "f"]})
    frame = model_frame(meta, parse_formula("g * x + s"))
    assert frame.column_names == (("gb", "gc"), ("x",), ("sm",), ("gb:x", "gc:x"))
    np.testing.assert_array_equal(frame.blocks[0], [[1, 0], [0, 0], [0, 1], [0, 0], [1, 0],
                                                    [0, 1]])
    np.testing.assert_array_equal(frame.blocks[3], frame.blocks[0] * meta[["x"]].to_numpy())


def test_factor_without_its_margin_is_coded_by_every_level() -> None:
    meta = pd.DataFrame({"g": ["a", "b", "a", "b"], "s": ["m", "m", "f", "f"]})
    frame = model_frame(meta, parse_formula("g + g:s"))
    # R: colnames(model.matrix(~ g + g:s)) ends in ga:sm, gb:sm (g by every level)
    assert frame.column_names[1] == ("ga:sm", "gb:sm")


def test_a_factor_with_one_level_is_refused() -> None:
    meta = pd.DataFrame({"g": ["a"] * 4, "x": [1.0, 2, 3, 4]})
    with pytest.raises(InputError, match="fewer than two levels"):
        model_frame(meta, parse_formula("g + x"))
