"""Questionnaires and clinical indices: validated scoring with recorded conventions.

Look instruments up with :func:`get_instrument` (``"odi"`` or ``"odi@2.1a"``) and score a
set of answers with :meth:`Instrument.score`; score a CSV with
:func:`gutaxis.instruments.responses.read_responses` and
:func:`~gutaxis.instruments.responses.score_responses`, or a wide DataFrame with
:func:`~gutaxis.instruments.responses.score_frame`. The formats that need the registry
live here too: the record TSV (:func:`read_record`, :func:`write_record`,
:func:`read_responses_wide`), REDCap exports (:func:`read_redcap`) and FHIR R4 Bundles
(:func:`write_fhir`, :func:`read_fhir`).

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
from gutaxis.instruments.fhir import to_fhir_bundle, write_fhir
from gutaxis.instruments.fhir_read import read_fhir
from gutaxis.instruments.record_tsv import read_record, read_responses_wide, write_record
from gutaxis.instruments.redcap import RedcapForm, RedcapMapping, RedcapTable, read_redcap
from gutaxis.instruments.registry import get_instrument, list_instruments, register

__all__ = [
    "Band",
    "BandSet",
    "Choice",
    "Instrument",
    "Item",
    "RedcapForm",
    "RedcapMapping",
    "RedcapTable",
    "Score",
    "ScoreSpec",
    "get_instrument",
    "list_instruments",
    "read_fhir",
    "read_record",
    "read_redcap",
    "read_responses_wide",
    "register",
    "to_fhir_bundle",
    "write_fhir",
    "write_record",
]
