"""A stored gut-health panel read for display: the contract's shape as given, and whatever
is missing or malformed left out rather than failing the patient page."""

from __future__ import annotations

import datetime as dt

from gutaxis.app.clinic.panels import panel_view

WHEN = dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC)


def test_the_contract_shape_becomes_rows_with_the_reference_named() -> None:
    view = panel_view(3, "S-3", WHEN, {
        "reference": {"name": "FGFP", "n": 1106, "source": "Falony 2016", "method": "16S"},
        "metrics": [{"name": "shannon", "label": "Shannon diversity", "value": 3.9123,
                     "unit": "nats", "percentile": 104.0, "interpretation": "high",
                     "note": "rarefied"}],
        "notes": ["n.b."], "computed_with": "gutaxis 2.0"})
    assert view.reference == "FGFP, n = 1106, Falony 2016, 16S"
    (row,) = view.rows
    assert (row.label, row.value, row.unit, row.percentile, row.note) == (
        "Shannon diversity", "3.91", "nats", 100.0, "rarefied")  # percentile kept in 0-100
    assert view.notes == ("n.b.",) and view.computed_with == "gutaxis 2.0"


def test_missing_and_malformed_parts_are_left_out() -> None:
    empty = panel_view(1, "S-1", WHEN, {})
    assert (empty.reference, empty.rows, empty.notes, empty.computed_with) == (
        None, (), (), None)
    odd = panel_view(2, "S-2", WHEN, {"reference": "not a dict", "metrics": [
        "junk", {"name": "x", "value": float("nan"), "percentile": "high"}]})
    assert odd.reference is None
    (row,) = odd.rows
    assert (row.label, row.value, row.percentile) == ("x", "—", None)
