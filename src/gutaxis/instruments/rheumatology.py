"""Rheumatoid arthritis activity: DAS28-ESR, DAS28-CRP (4 and 3 variables), CDAI, SDAI,
and the EULAR response criteria.

Notes
-----
With TJC, SJC the tender and swollen counts of 28 joints, ESR in mm/h, CRP in mg/L and GH
the patient's global health on a 0-100 mm VAS (natural logarithms):

.. math::

    \\text{DAS28-ESR(4)} &= 0.56\\sqrt{TJC} + 0.28\\sqrt{SJC} + 0.70\\ln ESR + 0.014\\,GH \\\\
    \\text{DAS28-ESR(3)} &= [0.56\\sqrt{TJC} + 0.28\\sqrt{SJC} + 0.70\\ln ESR]\\times 1.08
                            + 0.16 \\\\
    \\text{DAS28-CRP(4)} &= 0.56\\sqrt{TJC} + 0.28\\sqrt{SJC} + 0.36\\ln(CRP + 1)
                            + 0.014\\,GH + 0.96 \\\\
    \\text{DAS28-CRP(3)} &= [0.56\\sqrt{TJC} + 0.28\\sqrt{SJC} + 0.36\\ln(CRP + 1)]
                            \\times 1.10 + 1.15

CDAI = TJC + SJC + PtGA + EvGA (global assessments on 0-10 cm scales);
SDAI = CDAI + CRP in **mg/dL** (a DAS28 CRP in mg/L is divided by 10).

DAS28 bands (EULAR): remission < 2.6, low [2.6, 3.2], moderate (3.2, 5.1], high > 5.1.
CDAI: remission <= 2.8, low (2.8, 10], moderate (10, 22], high > 22.
SDAI: remission <= 3.3, low (3.3, 11], moderate (11, 26], high > 26.

Bands classify the unrounded value (a gutaxis convention; the sources are silent). DAS28
values are floats and count as on a cut-off when within 1e-9 of it; CDAI and SDAI are
exact.

References
----------
.. [1] Prevoo MLL et al. Modified disease activity scores that include twenty-eight-joint
   counts. Arthritis Rheum 1995;38:44-48; das-score.nl "alternative validated formulae".
.. [2] van Gestel AM et al. Arthritis Rheum 1996;39:34-40 (EULAR response criteria).
.. [3] Aletaha D et al. Arthritis Res Ther 2005;7:R796-R806 (CDAI).
.. [4] Smolen JS et al. Rheumatology 2003;42:244-257 (SDAI).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Literal

from gutaxis.errors import InstrumentError
from gutaxis.instruments.base import (
    Answer,
    Computed,
    Instrument,
    Item,
    Scorer,
    ScoreSpec,
    bands,
    numbers,
)
from gutaxis.instruments.registry import register

#: How close a DAS28 float must be to a cut-off to count as on it.
DAS28_TOLERANCE = Fraction(1, 10**9)

DAS28_BANDS = bands(
    "eular", "EULAR (Ann Rheum Dis tables): < 2.6 remission, <= 3.2 low, <= 5.1 moderate, "
    "> 5.1 high",
    ("remission", None, "2.6", "[)"), ("low", "2.6", "3.2", "[]"),
    ("moderate", "3.2", "5.1", "(]"), ("high", "5.1", None, "(]"),
)
CDAI_BANDS = bands(
    "aletaha-smolen", "Aletaha & Smolen; ACR/EULAR remission <= 2.8",
    ("remission", 0, "2.8", "[]"), ("low", "2.8", 10, "(]"), ("moderate", 10, 22, "(]"),
    ("high", 22, None, "(]"),
)
SDAI_BANDS = bands(
    "aletaha-smolen", "Aletaha & Smolen; ACR/EULAR remission <= 3.3",
    ("remission", 0, "3.3", "[]"), ("low", "3.3", 11, "(]"), ("moderate", 11, 26, "(]"),
    ("high", 26, None, "(]"),
)

_COUNTS = (Item("tjc28", "tender joint count, 28 joints", "integer", 0, 28),
           Item("sjc28", "swollen joint count, 28 joints", "integer", 0, 28))
_GH = Item("gh_mm", "patient global health / disease activity VAS", "number", 0, 100,
           unit="mm")
_ESR = Item("esr_mm_h", "erythrocyte sedimentation rate", "number", 1, None, unit="mm/h")
_CRP_MG_L = Item("crp_mg_l", "C-reactive protein", "number", 0, None, unit="mg/L")
_GLOBALS = (Item("ptga_cm", "patient global assessment of disease activity", "number", 0, 10,
                 unit="cm"),
            Item("evga_cm", "evaluator global assessment of disease activity", "number", 0,
                 10, unit="cm"))
_CRP_MG_DL = Item("crp_mg_dl", "C-reactive protein", "number", 0, None, unit="mg/dL")


def das28(tjc: float, sjc: float, marker: float, *, marker_kind: Literal["esr", "crp"],
          gh: float | None = None) -> float:
    """DAS28 from its inputs (4-variable when ``gh`` is given, else 3-variable).

    Parameters
    ----------
    tjc, sjc
        Tender and swollen joint counts, 0-28.
    marker
        ESR in mm/h (>= 1) or CRP in mg/L (>= 0).
    marker_kind
        ``"esr"`` or ``"crp"``.
    gh
        Patient global health, 0-100 mm; None for the 3-variable formula.

    Examples
    --------
    >>> round(das28(4, 4, 16, marker_kind="esr", gh=25), 6)
    3.970812
    >>> round(das28(9, 4, 15, marker_kind="crp"), 6)
    4.711945
    """
    for name, value, top in (("tjc28", tjc, 28), ("sjc28", sjc, 28)):
        if not 0 <= value <= top:
            raise InstrumentError("joint count out of range", field=name, found=value,
                                  expected="0 to 28")
    if gh is not None and not 0 <= gh <= 100:
        raise InstrumentError("global health out of range", field="gh_mm", found=gh,
                              expected="0 to 100 mm")
    joints = 0.56 * math.sqrt(tjc) + 0.28 * math.sqrt(sjc)
    if marker_kind == "esr":
        if not marker >= 1:
            raise InstrumentError("ESR must be >= 1 mm/h (ln ESR)", field="esr_mm_h",
                                  found=marker, expected=">= 1 mm/h")
        core = joints + 0.70 * math.log(marker)
        return core + 0.014 * gh if gh is not None else core * 1.08 + 0.16
    if not marker >= 0:
        raise InstrumentError("CRP must be >= 0 mg/L", field="crp_mg_l", found=marker,
                              expected=">= 0 mg/L")
    core = joints + 0.36 * math.log(marker + 1)
    return core + 0.014 * gh + 0.96 if gh is not None else core * 1.10 + 1.15


def _das28_scorer(kind: Literal["esr", "crp"], marker_id: str) -> Scorer:
    four, three = f"das28_{kind}4", f"das28_{kind}3"

    def scorer(answers: Mapping[str, Answer]) -> Computed:
        tjc, sjc, marker, gh = numbers(answers, ("tjc28", "sjc28", marker_id, "gh_mm"))
        if tjc is None or sjc is None or marker is None:
            return Computed({four: None, three: None},
                            notes=["joint counts and the lab value are all required"])
        out = Computed({three: das28(float(tjc), float(sjc), float(marker),
                                     marker_kind=kind)})
        if gh is None:
            out.values[four] = None
            out.notes.append("global health missing: only the 3-variable DAS28 is reported")
        else:
            out.values[four] = das28(float(tjc), float(sjc), float(marker), marker_kind=kind,
                                     gh=float(gh))
        return out

    return scorer


def _das28_floor(kind: Literal["esr", "crp"], variables: int) -> float:
    """The smallest value of a DAS28 form (its declared minimum).

    It is reached with no tender or swollen joint, ESR 1 mm/h (ln ESR = 0) or CRP 0, and
    global health 0 in the 4-variable form: 0 (ESR, 4), 0.16 (ESR, 3), 0.96 (CRP, 4) and
    1.15 (CRP, 3).
    """
    return das28(0, 0, 1 if kind == "esr" else 0, marker_kind=kind,
                 gh=0 if variables == 4 else None)


def _das28(kind: Literal["esr", "crp"]) -> Instrument:
    marker = _ESR if kind == "esr" else _CRP_MG_L
    label = kind.upper()
    return Instrument(
        id=f"das28-{kind}", version="1995",
        name=f"Disease Activity Score, 28 joints, with {label} (4 and 3 variables)",
        items=(*_COUNTS, marker, _GH),
        scores=tuple(ScoreSpec(f"das28_{kind}{n}", _das28_floor(kind, n), math.inf,
                               bands=DAS28_BANDS, tolerance=DAS28_TOLERANCE,
                               description=f"DAS28-{label}({n})") for n in (4, 3)),
        missing_rule="No missing inputs allowed; without global health only the 3-variable "
                     "form is reported (explicitly labelled).",
        citation="Prevoo MLL et al. Arthritis Rheum 1995;38:44-48; das-score.nl alternative "
                 "validated formulae.",
        licence="Published formula, free to use.", wording_may_ship=True,
        scorer=_das28_scorer(kind, marker.id),
        conventions=("Bands classify the unrounded value; within 1e-9 of a cut-off counts "
                     "as on it.",
                     "Low activity includes 3.2 (EULAR tables), not '< 3.2' (das-score.nl "
                     "formula page).",
                     *(("CRP in mg/L; convert mg/dL x 10 before scoring.",
                        "DAS28-ESR cut-offs are applied to DAS28-CRP as published; CRP-"
                        "specific thresholds (Fleischmann: remission ~2.4) are not used.")
                       if kind == "crp" else ("ESR in mm/h; ESR 0 is rejected (ln 0).",))),
    )


def _composite_scorer(name: str, *, with_crp: bool) -> Scorer:
    ids = ("tjc28", "sjc28", "ptga_cm", "evga_cm", *(("crp_mg_dl",) if with_crp else ()))

    def scorer(answers: Mapping[str, Answer]) -> Computed:
        parts = numbers(answers, ids)
        if any(p is None for p in parts):
            return Computed({name: None}, notes=[f"{name.upper()} needs every component"])
        out = Computed({name: sum((p for p in parts if p is not None), Fraction(0))})
        crp = parts[-1]
        if with_crp and crp is not None and crp > 10:
            out.notes.append(f"CRP {float(crp):g} mg/dL > 10: outside the usual 0-86 SDAI "
                             "range (not capped); check the unit is mg/dL, not mg/L")
        return out

    return scorer


DAS28_ESR = register(_das28("esr"))
DAS28_CRP = register(_das28("crp"))

CDAI = register(Instrument(
    id="cdai", version="2005", name="Clinical Disease Activity Index",
    items=(*_COUNTS, *_GLOBALS),
    scores=(ScoreSpec("cdai", 0, 76, bands=CDAI_BANDS, description="TJC + SJC + PtGA + EvGA"),),
    missing_rule="All four components required.",
    citation="Aletaha D et al. Arthritis Res Ther 2005;7:R796-R806.",
    licence="Published index, free to implement.", wording_may_ship=True,
    scorer=_composite_scorer("cdai", with_crp=False),
    conventions=("Bands classify the exact, unrounded sum; 22.0 is moderate (<= 22).",),
))

SDAI = register(Instrument(
    id="sdai", version="2003", name="Simplified Disease Activity Index",
    items=(*_COUNTS, *_GLOBALS, _CRP_MG_DL),
    scores=(ScoreSpec("sdai", 0, math.inf, bands=SDAI_BANDS,
                      description="TJC + SJC + PtGA + EvGA + CRP (mg/dL); 0-86 while "
                                  "CRP <= 10 mg/dL, unbounded because CRP is not capped"),),
    missing_rule="All five components required.",
    citation="Smolen JS et al. Rheumatology 2003;42:244-257.",
    licence="Published index, free to implement.", wording_may_ship=True,
    scorer=_composite_scorer("sdai", with_crp=True),
    conventions=("CRP in mg/dL (mg/L / 10). CRP > 10 mg/dL is not capped but flagged.",
                 "Bands classify the exact, unrounded sum."),
))

EularResponse = Literal["good", "moderate", "none"]


def eular_response(baseline: float, current: float) -> EularResponse:
    """EULAR response from a baseline and a current DAS28.

    Improvement ``d = baseline - current``. Good: ``d > 1.2`` and current <= 3.2.
    None: ``d <= 0.6``, or ``d <= 1.2`` with current > 5.1. Otherwise moderate. Cut-offs
    compare unrounded values with a 1e-9 tolerance (on a cut-off counts as equal to it).

    Examples
    --------
    >>> eular_response(5.321, 3.971)
    'moderate'
    >>> eular_response(5.321, 3.0)
    'good'
    """
    for name, value in (("baseline", baseline), ("current", current)):
        if not (math.isfinite(value) and value >= 0):
            raise InstrumentError("DAS28 out of range", field=name, found=value,
                                  expected="a finite DAS28 value >= 0")
    tol = float(DAS28_TOLERANCE)
    change = baseline - current
    if change <= 0.6 + tol:
        return "none"
    big = change > 1.2 + tol
    if current > 5.1 + tol:
        return "moderate" if big else "none"
    if current <= 3.2 + tol and big:
        return "good"
    return "moderate"
