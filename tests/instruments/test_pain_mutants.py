"""The single-item pain scales of ``instruments/pain.py`` (NRS, VAS), written to kill
mutmut mutants (re-measure with ``python scripts/mutation.py gutaxis.instruments.pain``).

The documented missing rule is "single item: unanswered means no score"; the score's
notes say which item was left unanswered.
"""

from __future__ import annotations

import pytest

from gutaxis.instruments import get_instrument


@pytest.mark.parametrize(("key", "item", "score"), [("nrs", "pain", "pain"),
                                                    ("vas", "pain_mm", "pain")])
def test_an_unanswered_single_item_scale_says_why_it_has_no_score(key, item, score):
    result = get_instrument(key).score({item: None})
    assert result.values == {score: None}
    assert result.notes == (f"{item} unanswered: no score",)
