"""Synthetic cohorts with planted, known links (microbiome, pain, diet, CRP, visits, diaries)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import signal
from scipy import stats as sps

from gutaxis.data.cohort import Cohort
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.io import write_taxonomy, write_tsv
from gutaxis.io._files import PathLike
from gutaxis.simulate.template import DEPTH_LEVELS, SimulationTemplate, load_template

#: Metadata columns of a simulated cohort, in order (index ``sample_id``).
METADATA_COLUMNS = ("subject", "visit", "pain", "pain_band", "fm", "fibre", "crp", "log_crp",
                    "age", "sex", "bmi")
#: Columns of the daily diary.
DIARY_COLUMNS = ("subject", "day", "phase", "pain", "fibre", "sleep")
#: Files :meth:`SimulatedCohort.write` writes.
FILES = ("table.tsv", "taxonomy.tsv", "metadata.tsv", "diary.csv", "truth.tsv", "truth.json")

# the structural model (documented in simulate_cohort)
_PAIN_CENTRE = 5.0
_FIBRE_CENTRE = 4.0
_SUBJECT_SHARE = 0.5        # share of the copula latent that is the subject's (visits)
_PRESENCE_PER_FIBRE = 0.1  # shift of the presence latent per serving/day
_RICHNESS_UNIT = 10.0       # diversity is counted in tens of taxa present
_CRP_PER_DIVERSITY = -0.3   # log CRP per 10 taxa present
_PAIN_PER_DIVERSITY = -0.6  # pain per 10 taxa present, direct
_PAIN_PER_LOG_CRP = 0.8     # pain per unit log CRP
_PAIN_PER_FIBRE = -0.15     # pain per serving/day, direct (not through the gut or CRP)
_PAIN_SUBJECT_SD = 0.8
_PAIN_NOISE_SD = 1.0
_INTERVENTION_EFFECT = -1.5  # diary pain in intervention (B) days vs control (A)
_DIARY_AR = 0.5
_DIARY_SD = 1.0
_DIARY_PHASE_DAYS = 14


@dataclass(frozen=True, eq=False)
class SimulatedCohort:
    """A synthetic cohort and the truth planted in it.

    Parameters
    ----------
    cohort
        Counts (features = template genera, with taxonomy) and metadata
        (:data:`METADATA_COLUMNS`, index ``sample_id``; subject column ``subject``, time
        column ``visit``).
    truth
        One row per feature: ``feature``, ``effect`` (planted log2 fold change of the
        feature's abundance where present, before the composition is closed to 1, per
        point of ``pain``; 0 for null features). The relative abundance of a dominant
        taxon moves less than that (closure), as a real absolute change would.
    mediation_truth
        ``quantity``, ``value``, ``description``: the planted paths of fibre ->
        richness -> log CRP -> pain and the mediation effects they imply (ACME, ADE,
        total, proportion mediated) for exposure ``fibre`` (per serving/day).
    diversity_effect
        Total effect on pain of 10 more taxa present (direct and through log CRP).
    diary
        Daily series (:data:`DIARY_COLUMNS`) with control (``A``) and intervention
        (``B``) phases.
    parameters
        Settings and planted values (written to ``truth.json``).
    """

    cohort: Cohort
    truth: pd.DataFrame
    mediation_truth: pd.DataFrame
    diversity_effect: float
    diary: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines: size, planted taxa, mediation and diary truth."""
        p = self.parameters
        planted = int((self.truth["effect"] != 0).sum())
        med = self.mediation_truth.set_index("quantity")["value"]
        return "\n".join([
            f"simulated cohort: {p['n_subjects']} subjects x {p['visits']} visit(s), "
            f"{self.cohort.table.n_features} taxa, seed {p['seed']}",
            f"planted: {planted} taxa with |log2 FC| {p['effect_size']:g} per pain point; "
            f"richness -> pain {self.diversity_effect:+.3f} per 10 taxa",
            f"fibre -> pain: ACME {med['acme']:+.3f}, ADE {med['ade']:+.3f}, "
            f"total {med['total']:+.3f} per serving/day",
            f"diary: {self.diary['subject'].nunique()} subject(s), intervention effect "
            f"{p['intervention_effect']:+g} NRS",
        ])

    def to_frame(self) -> pd.DataFrame:
        """The per-feature truth (``feature``, ``effect``)."""
        return self.truth.copy()

    def write(self, folder: PathLike) -> None:
        """Write the cohort as study files, all or nothing.

        Files (:data:`FILES`): ``table.tsv`` (features x samples counts),
        ``taxonomy.tsv``, ``metadata.tsv``, ``diary.csv``, ``truth.tsv`` (``feature``,
        ``effect``) and ``truth.json`` (every planted value). They are written into a
        staging folder renamed onto ``folder`` at the end.

        Parameters
        ----------
        folder
            A new folder, or an existing empty one.

        Raises
        ------
        InputError
            ``folder`` is a file or a folder that is not empty.
        """
        target = Path(folder)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise InputError("output folder exists and is not empty", field="folder",
                             found=str(target), expected="a new or empty folder")
        target.resolve().parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part",
                                      dir=target.resolve().parent))
        try:
            table = self.cohort.table
            write_tsv(table, stage / "table.tsv")
            assert table.taxonomy is not None
            write_taxonomy(table.taxonomy, stage / "taxonomy.tsv")
            self.cohort.metadata.to_csv(stage / "metadata.tsv", sep="\t")
            self.diary.to_csv(stage / "diary.csv", index=False)
            self.truth.to_csv(stage / "truth.tsv", sep="\t", index=False)
            doc = dict(self.parameters)
            doc["diversity_effect"] = self.diversity_effect
            doc["mediation"] = {str(q): float(v) for q, v in zip(
                self.mediation_truth["quantity"], self.mediation_truth["value"], strict=True)}
            doc["planted"] = {str(f): float(e) for f, e in zip(
                self.truth["feature"], self.truth["effect"], strict=True) if e != 0}
            (stage / "truth.json").write_text(json.dumps(doc, indent=2) + "\n",
                                              encoding="utf-8")
            mode = 0o777 & ~_umask()
            os.chmod(stage, mode)
            if target.exists():
                target.rmdir()
            os.replace(stage, target)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def simulate_cohort(
    template: SimulationTemplate | None = None,
    *,
    n_subjects: int = 120,
    visits: int = 1,
    n_features: int | None = None,
    effect_size: float = 1.0,
    n_planted: int = 10,
    min_planted_prevalence: float = 0.3,
    n_diary: int = 1,
    diary_days: int = 56,
    seed: int = 0,
) -> SimulatedCohort:
    r"""Draw a synthetic cohort with planted links, from a fitted template.

    Microbiome (in the spirit of SparseDOSSA 2): two Gaussian copula latents per sample,
    :math:`z, y \sim N(0, R)`, each shared within a subject
    (:math:`z_{iv} = \sqrt{s}\,u_i + \sqrt{1-s}\,e_{iv}`, :math:`s = 0.5`). Taxon
    :math:`j` is present when :math:`z_{ij} + 0.1 (F_i - 4) > \Phi^{-1}(1 - \pi_j)` (fibre
    :math:`F`, servings/day, raises richness) and then
    :math:`\log a_{ij} = \mu_j + \sigma_j y_{ij}`. Diversity :math:`D_i` is the richness
    (taxa present, in tens), centred; then
    :math:`\log \mathrm{CRP} = 0.5 - 0.3 D + 0.04 (\mathrm{BMI} - 26) + N(0, 0.5^2)`,
    :math:`\mathrm{pain} = 5 - 0.15 (F - 4) - 0.6 D + 0.8 (\log\mathrm{CRP} - 0.5)
    + 0.02 (\mathrm{age} - 45) + 0.5\,[\mathrm{female}] + 0.05 (\mathrm{BMI} - 26) + b_i +
    \varepsilon`, :math:`b_i \sim N(0, 0.8^2)`, :math:`\varepsilon \sim N(0, 1)`
    (not clipped, so the linear truth holds exactly). Planted taxa (``n_planted``
    among those with prevalence :math:`\ge` ``min_planted_prevalence``) get
    :math:`\log_2 a_{ij} \mathrel{+}= \beta_j (\mathrm{pain}_i - 5)`,
    :math:`|\beta_j| =` ``effect_size``, random signs. Relative abundances are closed to
    1 over the template's taxa; depth is drawn from the template's depth quantiles;
    reads are multinomial. Null taxa: abundance where present does not depend on pain
    (beyond closure, which a median comparison removes); their presence does, through
    richness (a prevalence-model effect, not in ``truth``).

    The mediation truth is computed from the same draws: the average change in
    :math:`D` when fibre rises by one serving, :math:`\delta`, gives
    ACME :math:`= \delta(-0.6 + (-0.3)(0.8))`, ADE :math:`= -0.15`. Richness is that of
    the true composition; the richness observed in the reads is lower (depth).

    Diary (``n_diary`` subjects, ``diary_days`` days, phases ABAB... of 14 days): the
    subject's pain at visit 1, plus :math:`-1.5` in ``B`` days, plus AR(1) noise
    (:math:`\phi = 0.5`, innovation sd 1), rounded to 0.1; daily ``fibre`` and ``sleep``
    are unrelated to pain (null factors).

    Parameters
    ----------
    template
        A fitted template; ``None`` for the shipped fibromyalgia genus template.
    n_subjects
        Subjects (each with ``visits`` samples).
    visits
        Samples per subject; ``subject`` and ``visit`` columns say which.
    n_features
        Taxa (the template's most prevalent); ``None`` for all of them.
    effect_size
        :math:`|\beta|`, log2 fold change of a planted taxon per point of pain.
    n_planted
        Taxa planted.
    min_planted_prevalence
        Planted taxa are chosen among those at least this prevalent in the template.
    n_diary
        Subjects with a daily diary (the first ones).
    diary_days
        Days of each diary.
    seed
        Seed of every draw.

    Returns
    -------
    SimulatedCohort

    References
    ----------
    Ma S, Ren B, Mallick H, et al. A statistical model for describing and simulating
    microbial community profiles. PLoS Comput Biol 17(9):e1008913 (2021).

    Examples
    --------
    >>> from gutaxis.simulate import simulate_cohort
    >>> sim = simulate_cohort(n_subjects=30, seed=1)
    >>> sim.cohort.table.shape, int((sim.truth["effect"] != 0).sum())
    ((30, 150), 10)
    """
    tmpl = load_template() if template is None else template
    if n_features is not None:
        tmpl = tmpl.head(n_features)
    _check(n_subjects >= 2, "n_subjects", n_subjects, "an integer >= 2")
    _check(visits >= 1, "visits", visits, "an integer >= 1")
    _check(n_diary >= 0 and n_diary <= n_subjects, "n_diary", n_diary,
           f"0 to n_subjects ({n_subjects})")
    _check(diary_days >= 2, "diary_days", diary_days, "an integer >= 2")
    _check(np.isfinite(effect_size), "effect_size", effect_size, "a finite number")
    eligible = np.flatnonzero(tmpl.prevalence >= min_planted_prevalence)
    _check(0 <= n_planted <= len(eligible), "n_planted", n_planted,
           f"0 to {len(eligible)} (taxa with prevalence >= {min_planted_prevalence:g})")
    rng = np.random.default_rng(seed)
    p = tmpl.n_features
    n = n_subjects * visits
    subj = np.repeat(np.arange(n_subjects), visits)

    # subjects and visits
    age = np.round(np.clip(rng.normal(45, 12, n_subjects), 18, 80))[subj]
    female = (rng.random(n_subjects) < 0.6)[subj]
    bmi = np.round(np.clip(rng.normal(26, 4, n_subjects), 16, 45), 1)[subj]
    fibre = np.clip(rng.gamma(4.0, 1.0, n_subjects)[subj] + rng.normal(0, 0.5, n), 0, None)
    fibre = np.round(fibre, 2)

    # copula latents: presence (shifted by fibre) and abundance where present
    chol = np.linalg.cholesky(tmpl.correlation)

    def latent() -> np.ndarray:
        shared = rng.standard_normal((n_subjects, p)) @ chol.T
        own = rng.standard_normal((n, p)) @ chol.T
        return np.asarray(np.sqrt(_SUBJECT_SHARE) * shared[subj]
                          + np.sqrt(1 - _SUBJECT_SHARE) * own)

    z_presence = latent()
    z_abundance = latent()
    threshold = sps.norm.ppf(1.0 - tmpl.prevalence)
    fibre_shift = fibre - _FIBRE_CENTRE

    def richness(shift: np.ndarray) -> np.ndarray:
        return np.asarray((z_presence + _PRESENCE_PER_FIBRE * shift[:, None] > threshold)
                          .sum(axis=1), dtype=float)

    rich = richness(fibre_shift)
    present = z_presence + _PRESENCE_PER_FIBRE * fibre_shift[:, None] > threshold
    delta = float(np.mean(richness(fibre_shift + 1.0) - rich)) / _RICHNESS_UNIT
    d_c = (rich - rich.mean()) / _RICHNESS_UNIT

    # CRP and pain
    log_crp = 0.5 + _CRP_PER_DIVERSITY * d_c + 0.04 * (bmi - 26) + rng.normal(0, 0.5, n)
    pain = (_PAIN_CENTRE + _PAIN_PER_FIBRE * fibre_shift + _PAIN_PER_DIVERSITY * d_c
            + _PAIN_PER_LOG_CRP * (log_crp - 0.5) + 0.02 * (age - 45) + 0.5 * female
            + 0.05 * (bmi - 26) + rng.normal(0, _PAIN_SUBJECT_SD, n_subjects)[subj]
            + rng.normal(0, _PAIN_NOISE_SD, n))

    # planted taxa
    planted = np.sort(rng.choice(eligible, size=n_planted, replace=False))
    beta = np.zeros(p)
    beta[planted] = effect_size * rng.choice([-1.0, 1.0], size=n_planted)
    log_a = (tmpl.mu + tmpl.sigma * z_abundance
             + np.log(2.0) * np.outer(pain - _PAIN_CENTRE, beta))
    rel = _closed(log_a, present)

    # depth and reads
    depth = np.round(np.interp(rng.random(n), DEPTH_LEVELS, tmpl.depth_quantiles)).astype(int)
    counts = rng.multinomial(depth, rel)

    ids = np.array([f"S{s + 1:03d}_V{v}" for s in range(n_subjects)
                    for v in range(1, visits + 1)])
    meta = pd.DataFrame({
        "subject": [f"S{s + 1:03d}" for s in subj],
        "visit": np.tile(np.arange(1, visits + 1), n_subjects),
        "pain": pain,
        "pain_band": pd.cut(pain, [-np.inf, 4, 7, np.inf], right=False,
                            labels=["mild", "moderate", "severe"]).astype(str),
        "fm": np.where(pain >= 6, "yes", "no"),
        "fibre": fibre,
        "crp": np.exp(log_crp),
        "log_crp": log_crp,
        "age": age.astype(int),
        "sex": np.where(female, "F", "M"),
        "bmi": bmi,
    }, index=pd.Index(ids, name="sample_id"))
    table = ProfileTable(sp.csr_array(counts.astype(float)), ids, tmpl.features,
                         kind="counts", taxonomy=tmpl.taxonomy)
    cohort = Cohort(table, meta, subject_column="subject", time_column="visit",
                    source="simulated")
    truth = pd.DataFrame({"feature": tmpl.features, "effect": beta})
    indirect_h = delta * _PAIN_PER_DIVERSITY
    indirect_crp = delta * _CRP_PER_DIVERSITY * _PAIN_PER_LOG_CRP
    acme = indirect_h + indirect_crp
    total = acme + _PAIN_PER_FIBRE
    mediation = pd.DataFrame([
        ("fibre_to_richness", delta, "mean change in richness (tens of taxa present) "
         "per serving/day"),
        ("richness_to_log_crp", _CRP_PER_DIVERSITY, "log CRP per 10 taxa present"),
        ("richness_to_pain", _PAIN_PER_DIVERSITY, "pain per 10 taxa present, holding log CRP"),
        ("log_crp_to_pain", _PAIN_PER_LOG_CRP, "pain per unit of log CRP"),
        ("indirect_richness", indirect_h, "fibre -> richness -> pain"),
        ("indirect_richness_crp", indirect_crp, "fibre -> richness -> log CRP -> pain"),
        ("acme", acme, "average causal mediation effect of fibre via richness (and log CRP)"),
        ("ade", _PAIN_PER_FIBRE, "average direct effect of fibre on pain"),
        ("total", total, "total effect of fibre on pain per serving/day"),
        ("proportion_mediated", acme / total, "acme / total"),
    ], columns=["quantity", "value", "description"])
    diary = _diary(rng, pain[::visits][:n_diary], n_diary, diary_days)
    parameters: dict[str, Any] = {
        "seed": seed, "n_subjects": n_subjects, "visits": visits, "n_features": p,
        "effect_size": effect_size, "n_planted": n_planted,
        "effect_unit": ("log2 fold change of abundance where present, before closure, "
                        "per pain point"),
        "template": tmpl.source, "intervention_effect": _INTERVENTION_EFFECT,
        "diary_ar1": _DIARY_AR, "diary_noise_sd": _DIARY_SD,
        "pain_model": {"intercept": _PAIN_CENTRE, "fibre": _PAIN_PER_FIBRE,
                       "richness_per_10_taxa": _PAIN_PER_DIVERSITY, "log_crp": _PAIN_PER_LOG_CRP,
                       "age": 0.02, "sex_F": 0.5, "bmi": 0.05,
                       "subject_sd": _PAIN_SUBJECT_SD, "residual_sd": _PAIN_NOISE_SD},
    }
    return SimulatedCohort(cohort, truth, mediation,
                           _PAIN_PER_DIVERSITY + _CRP_PER_DIVERSITY * _PAIN_PER_LOG_CRP,
                           diary, parameters)


def _closed(log_a: np.ndarray, present: np.ndarray) -> np.ndarray:
    a = np.where(present, np.exp(log_a - log_a.max(axis=1, keepdims=True)), 0.0)
    total = a.sum(axis=1, keepdims=True)
    return np.asarray(a / np.where(total > 0, total, 1.0))


def _diary(rng: np.random.Generator, baseline: np.ndarray, n_diary: int,
           days: int) -> pd.DataFrame:
    day = np.arange(1, days + 1)
    phase = np.where(((day - 1) // _DIARY_PHASE_DAYS) % 2 == 0, "A", "B")
    innov = rng.normal(0, _DIARY_SD, (n_diary, days))
    noise = signal.lfilter([1.0], [1.0, -_DIARY_AR], innov, axis=1)
    pain = baseline[:, None] + _INTERVENTION_EFFECT * (phase == "B") + noise
    fibre_d = np.clip(rng.normal(4, 1.5, (n_diary, days)), 0, None)
    sleep = np.clip(rng.normal(7, 1, (n_diary, days)), 3, 11)
    return pd.DataFrame({
        "subject": np.repeat([f"S{s + 1:03d}" for s in range(n_diary)], days),
        "day": np.tile(day, n_diary),
        "phase": np.tile(phase, n_diary),
        "pain": np.round(pain, 1).ravel(),
        "fibre": np.round(fibre_d, 1).ravel(),
        "sleep": np.round(sleep, 1).ravel(),
    }, columns=list(DIARY_COLUMNS))


def _check(ok: bool, name: str, found: object, expected: str) -> None:
    if not ok:
        raise InputError(f"{name} out of range", field=name, found=found, expected=expected)
