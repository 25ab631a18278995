"""The lab analytes gutaxis knows: canonical unit, LOINC code, assay caveats and reference
intervals, each with its source.

Inflammation (CRP, hs-CRP, ESR, IL-6, TNF-alpha), gut inflammation (faecal calprotectin) and
the gut barrier (zonulin, endotoxin/LPS, LPS-binding protein, soluble CD14, I-FABP, the
urinary lactulose/mannitol ratio). A caveat is what a reader must see next to the value
(for instance that the widely used "zonulin" ELISAs were shown not to measure zonulin); it
travels with the analyte into the FHIR Observation, the clinic's labs page and the
command line. A reference interval is given only with its source, its population and what
kind of limit it is: a laboratory's *reference interval*, a *decision limit* (faecal
calprotectin 50 ug/g) or a *risk category* (hs-CRP < 1, 1-3, > 3 mg/L are cardiovascular
risk categories, not a reference interval). Intervals are assay-specific: one laboratory's
interval does not apply to another laboratory's result.

Endotoxin is two analytes, because its two kinds of measurement do not convert:
``lps`` is endotoxin *activity* in endotoxin units (``{EU}/mL``, Limulus amebocyte lysate
assay) and ``lps_mass`` a *mass* concentration (ELISA or mass spectrometry). A result in
the other kind of unit is refused with a message naming the analyte to use.

LOINC codes and their sources
-----------------------------
==============  ==========  ================================================================
analyte         LOINC       source
==============  ==========  ================================================================
crp             1988-5      docs/research/instruments.md, "Lab codes" (public code listings)
hs_crp          30522-7     same
esr             4537-7      same (Westergren)
il6             26881-3     same; also Northwell Health lab catalogue, Interleukin-6 (LAB332,
                            performed by Labcorp), labs.northwell.edu/epic/test/1774
calprotectin    38445-3     docs/research/instruments.md, "Lab codes"
tnf_alpha       3074-2      Mayo Clinic Laboratories test catalog, TNFA (order and result
                            LOINC 3074-2); also ARUP TNFA2 and Beaumont (Mayo TNFA) listings
zonulin         none        none found (LOINC has a stool zonulin term; its code and any
                            serum term were not confirmed)
lps, lps_mass   none        none found
lbp             none        none found
scd14           none        none found
ifabp           none        none found
lm_ratio        none        none found
==============  ==========  ================================================================

Every code above should be confirmed on loinc.org before clinical use. Analytes without
a code are exported to FHIR under gutaxis's own code system only.

References
----------
.. [1] Scheffler L, et al. Widely used commercial ELISA does not detect precursor of
   haptoglobin2, but recognizes properdin as a potential second member of the zonulin
   family. Front Endocrinol 2018;9:22.
.. [2] Ajamian M, et al. Serum zonulin as a marker of intestinal mucosal barrier function:
   may not be what it seems. PLoS One 2019;14:e0210728.
.. [3] Power N, et al. Serum zonulin measured by commercial kit fails to correlate with
   physiologic measures of altered gut permeability in first degree relatives of Crohn's
   disease patients. Front Physiol 2021;12:645303.
.. [4] Tripathi A, et al. Identification of human zonulin, a physiological modulator of
   tight junctions, as prehaptoglobin-2. PNAS 2009;106:16799.
.. [5] Gnauck A, Lentle RG, Kruger MC. The Limulus Amebocyte Lysate assay may be
   unsuitable for detecting endotoxin in blood of healthy female subjects. J Immunol
   Methods 2015;416:146-156 (doi:10.1016/j.jim.2014.11.010).
.. [6] Hurley JC. Diagnosis of endotoxemia with gram-negative bacteremia is bacterial
   species dependent: a meta-analysis of clinical studies. J Clin Microbiol
   2009;47:3826-3831.
.. [7] Munford RS. Endotoxemia - menace, marker, or mistake? J Leukoc Biol 2016.
.. [8] Prucha M, et al. Significance of lipopolysaccharide-binding protein (an acute phase
   protein) in monitoring critically ill patients. Crit Care 2003 (doi:10.1186/cc2386).
.. [9] Yaegashi Y, et al. Evaluation of a newly identified soluble CD14 subtype as a marker
   for sepsis. J Infect Chemother 2005;11:234-238.
.. [10] Camilleri M. Leaky gut: mechanisms, measurement and clinical implications in
   humans. Gut 2019;68:1516-1526 (doi:10.1136/gutjnl-2019-318427).
.. [11] Vanuytsel T, Tack J, Farre R. The role of intestinal permeability in
   gastrointestinal disorders and current methods of evaluation. Front Nutr
   2021;8:717925.
.. [12] Ho SSC, Keenan JI, Day AS. The role of gastrointestinal-related fatty acid-binding
   proteins as biomarkers in gastrointestinal diseases. Dig Dis Sci
   (doi:10.1007/s10620-019-05841-x).
.. [13] Pearson TA, et al. Markers of inflammation and cardiovascular disease: application
   to clinical and public health practice (AHA/CDC statement). Circulation
   2003;107:499-511.
.. [14] NICE. Faecal calprotectin diagnostic tests for inflammatory diseases of the bowel.
   Diagnostics guidance DG11, October 2013.
.. [15] Mayo Clinic Laboratories test catalog: TNFA (Tumor Necrosis Factor, Plasma) and
   IL6DX (Interleukin-6, Serum); Labcorp test 140673 (Tumor Necrosis Factor-alpha).
.. [16] Sandler NG, et al. Plasma levels of soluble CD14 independently predict mortality
   in HIV infection. J Infect Dis 2011;203:780-790.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gutaxis.data.units import UNITS, Quantity, Unit

IntervalKind = Literal["reference interval", "decision limit", "risk category"]


@dataclass(frozen=True)
class Caveat:
    """What a reader of a result must know about the assay, with its source.

    Examples
    --------
    >>> Caveat("Assay X detects Y.", "Author 2020").line()
    'Assay X detects Y. [Author 2020]'
    """

    text: str
    source: str

    def line(self) -> str:
        """The caveat and its source on one line."""
        return f"{self.text} [{self.source}]"


@dataclass(frozen=True)
class ReferenceInterval:
    """An interval (or one-sided limit) for an analyte, never without its source.

    Parameters
    ----------
    low, high
        Bounds in ``unit``; ``None`` when open on that side.
    unit
        UCUM unit of the bounds.
    population
        Who and which assay the interval is for.
    source
        Where it comes from.
    kind
        ``"reference interval"`` (a laboratory's interval of healthy people),
        ``"decision limit"`` (a cut-off for a clinical decision) or ``"risk category"``.
    label
        Name of the category (``"average risk"``), if any.

    Examples
    --------
    >>> ReferenceInterval(None, 50, "ug/g", "adults", "NICE DG11", "decision limit").describe()
    'decision limit < 50 ug/g (adults) [NICE DG11]'
    """

    low: float | None
    high: float | None
    unit: str
    population: str
    source: str
    kind: IntervalKind = "reference interval"
    label: str | None = None

    def bounds(self) -> str:
        """``< 6.4 pg/mL``, ``1-3 mg/L`` or ``> 3 mg/L``."""
        if self.low is None:
            return f"< {self.high:g} {self.unit}"
        if self.high is None:
            return f"> {self.low:g} {self.unit}"
        return f"{self.low:g}-{self.high:g} {self.unit}"

    def describe(self) -> str:
        """One line: kind, label, bounds, population and source."""
        label = f" ({self.label})" if self.label else ""
        return f"{self.kind}{label} {self.bounds()} ({self.population}) [{self.source}]"


@dataclass(frozen=True)
class Analyte:
    """A lab analyte.

    Parameters
    ----------
    id
        gutaxis id (``crp``).
    name
        Human name.
    loinc
        LOINC code of the result, or ``None`` when none is known (see the module
        docstring for the source of each code).
    unit
        Canonical UCUM unit: results are converted to it.
    specimen
        What is measured (``serum/plasma``, ``blood``, ``stool``, ``urine``).
    caveats
        What a reader must know about the assay, each with its source.
    reference_intervals
        Sourced intervals, decision limits or risk categories; empty when none is sourced.
    other_kinds
        ``(quantity, explanation)`` for units of another kind of quantity that people
        report this analyte in, but that measure something else (faecal zonulin in ng/g;
        LPS by mass): the explanation replaces the bare "cannot convert" message.
    """

    id: str
    name: str
    loinc: str | None
    unit: str
    specimen: str
    caveats: tuple[Caveat, ...] = ()
    reference_intervals: tuple[ReferenceInterval, ...] = ()
    other_kinds: tuple[tuple[Quantity, str], ...] = ()

    @property
    def canonical(self) -> Unit:
        return UNITS[self.unit]

    def other_kind(self, quantity: str) -> str | None:
        """Why a unit of ``quantity`` is not this analyte, when that is known."""
        return next((why for kind, why in self.other_kinds if kind == quantity), None)

    def notes(self) -> list[str]:
        """Caveats and intervals as lines for a reader."""
        return ([c.line() for c in self.caveats]
                + [r.describe() for r in self.reference_intervals])


_MAYO_TNFA = "Mayo Clinic Laboratories test catalog, TNFA"
_LABCORP_TNF = "Labcorp test 140673, Tumor Necrosis Factor-alpha"
_MAYO_IL6 = "Mayo Clinic Laboratories test catalog, IL6DX"
_PEARSON = "Pearson et al. 2003, Circulation 107:499"
_CAMILLERI = "Camilleri 2019, Gut 68:1516"
_LPS_KINDS = ("Endotoxin activity (EU/mL, Limulus amebocyte lysate assay) and LPS mass "
              "(ELISA, mass spectrometry) are not interconvertible: LPS molecules differ in "
              "structure and in how they react in each assay")

#: The analytes gutaxis knows, by id. CRP in mg/L (the unit DAS28-CRP needs; SDAI
#: takes mg/dL: convert with :func:`gutaxis.data.units.convert`).
ANALYTES: dict[str, Analyte] = {a.id: a for a in (
    Analyte("crp", "C-reactive protein", "1988-5", "mg/L", "serum/plasma"),
    Analyte(
        "hs_crp", "C-reactive protein, high sensitivity", "30522-7", "mg/L", "serum/plasma",
        caveats=(
            Caveat("hs-CRP is the same protein as CRP measured by an assay with a lower "
                   "limit of quantitation; the cardiovascular risk categories apply to "
                   "hs-CRP in people without acute illness, and a value above 10 mg/L "
                   "should be repeated and looked into for infection or inflammation "
                   "rather than read as risk", _PEARSON),),
        reference_intervals=(
            ReferenceInterval(None, 1.0, "mg/L", "adults, cardiovascular risk (AHA/CDC)",
                              _PEARSON, "risk category", "lower risk"),
            ReferenceInterval(1.0, 3.0, "mg/L", "adults, cardiovascular risk (AHA/CDC)",
                              _PEARSON, "risk category", "average risk"),
            ReferenceInterval(3.0, None, "mg/L", "adults, cardiovascular risk (AHA/CDC)",
                              _PEARSON, "risk category", "higher risk"),
        )),
    Analyte("esr", "Erythrocyte sedimentation rate (Westergren)", "4537-7", "mm/h", "blood"),
    Analyte(
        "il6", "Interleukin 6", "26881-3", "pg/mL", "serum/plasma",
        caveats=(
            Caveat("IL-6 is a non-specific marker of inflammation; concentrations rise "
                   "under IL-6 receptor blockade (tocilizumab), so they do not show the "
                   "response to it", _MAYO_IL6),
            Caveat("Pre-analytics change cytokine results: clotting time, time to "
                   "centrifugation and freezing, time of day (diurnal variation); compare "
                   "results only within one protocol and one assay",
                   f"{_MAYO_IL6}; ARUP TNFA2 clinical information"),
        ),
        reference_intervals=(
            ReferenceInterval(None, 6.4, "pg/mL", "adults; serum, immunoenzymatic assay "
                              "(Mayo Clinic Laboratories)", _MAYO_IL6),
        )),
    Analyte(
        "tnf_alpha", "Tumor necrosis factor alpha", "3074-2", "pg/mL", "serum/plasma",
        caveats=(
            Caveat("Serum left on the clot for more than 30 minutes may give higher "
                   "TNF-alpha; EDTA plasma is to be kept on ice and frozen within 30 "
                   "minutes", f"{_LABCORP_TNF}; {_MAYO_TNFA}"),
            Caveat("Intervals differ several-fold between assays (ELISA, "
                   "electrochemiluminescence, multiplex beads): read a result only "
                   "against its own laboratory's interval",
                   f"{_MAYO_TNFA}; {_LABCORP_TNF}; ARUP TNFA2"),
        ),
        reference_intervals=(
            ReferenceInterval(None, 2.8, "pg/mL", "EDTA plasma, electrochemiluminescence "
                              "(Mayo Clinic Laboratories)", _MAYO_TNFA),
            ReferenceInterval(0.0, 2.2, "pg/mL", "serum, ELISA (Labcorp)", _LABCORP_TNF),
        )),
    Analyte(
        "calprotectin", "Calprotectin, faecal", "38445-3", "ug/g", "stool",
        caveats=(
            Caveat("50 ug/g is a decision limit for telling inflammatory bowel disease "
                   "from irritable bowel syndrome in adults with recent lower "
                   "gastrointestinal symptoms, not a reference interval; other assays, "
                   "ages and uses have other cut-offs",
                   "NICE DG11 (2013); assay dependence: unconfirmed in DG11's text"),),
        reference_intervals=(
            ReferenceInterval(None, 50.0, "ug/g", "adults with recent-onset lower "
                              "gastrointestinal symptoms (IBD vs IBS)", "NICE DG11 (2013)",
                              "decision limit"),
        )),
    Analyte(
        "zonulin", "Zonulin (serum)", None, "ng/mL", "serum/plasma",
        caveats=(
            Caveat("The widely used commercial 'zonulin' ELISA does not detect "
                   "pre-haptoglobin 2 (zonulin) but other proteins, properdin among them",
                   "Scheffler et al. 2018, Front Endocrinol 9:22"),
            Caveat("Commercial 'zonulin' ELISAs detect proteins other than zonulin "
                   "(complement C3 among them); results are not a measure of zonulin",
                   "Ajamian et al. 2019, PLoS One 14:e0210728"),
            Caveat("Serum 'zonulin' measured by a commercial kit did not correlate with "
                   "physiological measures of gut permeability",
                   "Power et al. 2021, Front Physiol 12:645303"),
            Caveat("Zonulin is pre-haptoglobin 2: people of haptoglobin genotype 1-1 do "
                   "not make it", "Tripathi et al. 2009, PNAS 106:16799"),
        ),
        other_kinds=(("mass fraction", "faecal zonulin (per gram of stool) is another "
                      "measurement than serum zonulin; gutaxis holds serum zonulin only"),)),
    Analyte(
        "lps", "Endotoxin (LPS) activity", None, "{EU}/mL", "serum/plasma",
        caveats=(
            Caveat("Serum proteins sequester endotoxin and slow the LAL reaction, and "
                   "blood collection tubes can contain endotoxin: LAL results in blood may "
                   "reflect the sample's capacity to sequester endotoxin more than its "
                   "endotoxin content", "Gnauck et al. 2015, J Immunol Methods 416:146"),
            Caveat("Whether the LAL assay detects endotoxaemia in Gram-negative "
                   "bacteraemia depends on the bacterial species",
                   "Hurley 2009, J Clin Microbiol 47:3826"),
            Caveat(_LPS_KINDS, "Munford 2016, J Leukoc Biol"),
        ),
        other_kinds=(("mass concentration", "LPS measured by mass (ELISA, mass "
                      "spectrometry) is analyte lps_mass. " + _LPS_KINDS),)),
    Analyte(
        "lps_mass", "Lipopolysaccharide (LPS), mass", None, "pg/mL", "serum/plasma",
        caveats=(Caveat(_LPS_KINDS, "Munford 2016, J Leukoc Biol"),),
        other_kinds=(("endotoxin activity", "endotoxin activity in EU/mL (LAL assay) is "
                      "analyte lps. " + _LPS_KINDS),)),
    Analyte(
        "lbp", "Lipopolysaccharide-binding protein", None, "ug/mL", "serum/plasma",
        caveats=(
            Caveat("LBP is an acute-phase protein: it rises with any acute-phase "
                   "response, so it is an indirect and non-specific marker of LPS exposure",
                   "Prucha et al. 2003, Crit Care (doi:10.1186/cc2386)"),),
        other_kinds=(("endotoxin activity", "LBP is a protein measured by mass (ug/mL); "
                      "EU/mL is endotoxin activity, analyte lps"),)),
    Analyte(
        "scd14", "Soluble CD14", None, "ug/mL", "serum/plasma",
        caveats=(
            Caveat("sCD14 marks the monocyte response to LPS: an indirect marker that "
                   "also tracks general inflammation (it correlated with IL-6, CRP, serum "
                   "amyloid A and D-dimer)",
                   "Sandler et al. 2011, J Infect Dis 203:780"),
            Caveat("sCD14-ST (presepsin) is another, smaller form measured by other "
                   "assays (pg/mL range); it is not this analyte",
                   "Yaegashi et al. 2005, J Infect Chemother 11:234"),
        )),
    Analyte(
        "ifabp", "Intestinal fatty acid-binding protein (I-FABP, FABP2)", None, "pg/mL",
        "serum/plasma",
        caveats=(
            Caveat("I-FABP leaks from damaged enterocytes: a marker of epithelial injury, "
                   "not of permeability itself",
                   "Ho, Keenan, Day, Dig Dis Sci (doi:10.1007/s10620-019-05841-x)"),
            Caveat("Blood markers of the barrier (I-FABP, zonulin) are widely used despite "
                   "limitations; no interval is sourced here",
                   "Vanuytsel et al. 2021, Front Nutr 8:717925"),
        )),
    Analyte(
        "lm_ratio", "Lactulose/mannitol ratio (urinary recovery)", None, "{ratio}", "urine",
        caveats=(
            Caveat("The ratio of fractional urinary recoveries depends on the protocol "
                   "(sugar doses, urine collection window, fasting, analytical method): "
                   "compare ratios only within one protocol; there is no universal "
                   "cut-off", _CAMILLERI),
            Caveat("Results depend on following the test preparation and on normal renal "
                   "function", "BioHealth Laboratory, intestinal permeability test "
                   "description"),
        )),
)}

#: Markers of the gut barrier and of bacterial products in the blood (ids of ANALYTES).
BARRIER_MARKERS: tuple[str, ...] = ("zonulin", "lps", "lps_mass", "lbp", "scd14", "ifabp",
                                    "lm_ratio")
#: Markers of inflammation, systemic and in the gut (ids of ANALYTES).
INFLAMMATION_MARKERS: tuple[str, ...] = ("crp", "hs_crp", "esr", "il6", "tnf_alpha",
                                         "calprotectin")

#: Spellings labs use, lower case, after :func:`alias_key`.
ALIASES: dict[str, str] = {
    "c-reactive protein": "crp", "hs-crp": "hs_crp", "hscrp": "hs_crp", "hs crp": "hs_crp",
    "il-6": "il6", "il_6": "il6", "interleukin 6": "il6", "interleukin-6": "il6",
    "fecal calprotectin": "calprotectin", "faecal calprotectin": "calprotectin",
    "fcp": "calprotectin",
    "tnf": "tnf_alpha", "tnf-alpha": "tnf_alpha", "tnf alpha": "tnf_alpha",
    "tnfalpha": "tnf_alpha", "tnf-a": "tnf_alpha", "tnfa": "tnf_alpha",
    "tumor necrosis factor alpha": "tnf_alpha", "tumour necrosis factor alpha": "tnf_alpha",
    "tumor necrosis factor-alpha": "tnf_alpha", "tumour necrosis factor-alpha": "tnf_alpha",
    "serum zonulin": "zonulin", "zonulin family protein": "zonulin",
    "lipopolysaccharide": "lps", "endotoxin": "lps", "lps activity": "lps",
    "lps mass": "lps_mass", "lps-mass": "lps_mass",
    "lipopolysaccharide binding protein": "lbp", "lipopolysaccharide-binding protein": "lbp",
    "lps-binding protein": "lbp", "lps binding protein": "lbp",
    "scd14": "scd14", "soluble cd14": "scd14", "s-cd14": "scd14", "cd14, soluble": "scd14",
    "i-fabp": "ifabp", "i fabp": "ifabp", "fabp2": "ifabp", "fabp-2": "ifabp",
    "intestinal fatty acid binding protein": "ifabp",
    "intestinal fatty acid-binding protein": "ifabp",
    "l:m": "lm_ratio", "l/m": "lm_ratio", "l/m ratio": "lm_ratio", "l:m ratio": "lm_ratio",
    "lmr": "lm_ratio", "lactulose/mannitol": "lm_ratio", "lactulose/mannitol ratio": "lm_ratio",
    "lactulose:mannitol": "lm_ratio", "lactulose:mannitol ratio": "lm_ratio",
    "lactulose mannitol ratio": "lm_ratio", "lactulose-mannitol ratio": "lm_ratio",
}


def alias_key(name: str) -> str:
    """A name as :data:`ALIASES` holds it: lower case, single spaces, Greek alpha spelled.

    Examples
    --------
    >>> alias_key("  TNF-α ")
    'tnf-alpha'
    """
    key = " ".join(str(name).split()).lower()
    return key.replace("α", "alpha").replace("\u237a", "alpha")
