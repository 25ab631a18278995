"""MaAsLin 3 all_results fixtures (tests/reference/maaslin3/), read for comparison (not a
test module)."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd


def read_all_results(path: Path) -> pd.DataFrame:
    """A fixture's rows; an error text MaAsLin 3 wrapped over two lines is joined."""
    with gzip.open(path, "rt") as handle:
        text = re.sub(r"\n\s*by stronger", " by stronger", handle.read())
    return pd.read_csv(io.StringIO(text), sep="\t")


def r_name(feature: str) -> str:
    """R's ``make.names`` of a feature id, as MaAsLin 3 renames features."""
    name = re.sub(r"[^A-Za-z0-9._]", ".", feature)
    return "X" + name if re.match(r"^([0-9]|\.[0-9])", name) else name


def joined(table: pd.DataFrame, fixture: pd.DataFrame) -> pd.DataFrame:
    """gutaxis rows beside MaAsLin 3's (suffix ``_m3``), matched on feature, term and model."""
    ours = table.assign(feature=table["feature"].map(r_name), name=np.where(
        table["metadata"] == table["value"], table["metadata"],
        table["metadata"] + table["value"]))
    both = ours.merge(fixture, on=["feature", "name", "model"], suffixes=("", "_m3"))
    assert len(both) == len(ours) == len(fixture), "rows do not pair up"
    return both
