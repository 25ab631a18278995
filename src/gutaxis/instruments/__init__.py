"""Questionnaires and clinical indices: validated scoring with recorded conventions.

Look instruments up with :func:`get_instrument` (``"odi"`` or ``"odi@2.1a"``) and score a
set of answers with :meth:`Instrument.score`; score a CSV with
:func:`gutaxis.instruments.responses.read_responses` and
:func:`~gutaxis.instruments.responses.score_responses`, or a wide DataFrame with
:func:`~gutaxis.instruments.responses.score_frame`.

>>> from gutaxis.instruments import get_instrument
>>> get_instrument("peg").score({"p_average_pain": 6, "e_enjoyment_of_life": 5,
...                               "g_general_activity": 7}).values
{'peg': 6.0}
"""

from gutaxis.instruments.base import (
    Band,
    BandSet,
    Choice,
    Instrument,
    Item,
    Score,
    ScoreSpec,
)
from gutaxis.instruments.registry import get_instrument, list_instruments, register

__all__ = [
    "Band",
    "BandSet",
    "Choice",
    "Instrument",
    "Item",
    "Score",
    "ScoreSpec",
    "get_instrument",
    "list_instruments",
    "register",
]
