"""The n-of-1 pipeline the doors call: a diary file or the record in, effects (and, when
asked, randomisation tests and the everyday-factor scan) out."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from gutaxis.errors import InputError
from gutaxis.stats.nof1.analysis import analyze_phases
from gutaxis.stats.nof1.design import MIN_POINTS_PER_PHASE, prepare_series
from gutaxis.stats.nof1.factors import FactorScan, everyday_factors
from gutaxis.stats.nof1.randomised import (
    RandomisationTest,
    paired_block_effect,
    randomisation_test,
)
from gutaxis.stats.nof1.results import Nof1Results


@dataclass(frozen=True, eq=False)
class Nof1Run:
    """Everything one ``gutaxis nof1`` run computed.

    Attributes
    ----------
    results
        The effects (segmented regression rows, and with randomised pairs the paired
        last-days rows) with the fitted series.
    randomisation
        One randomisation test per outcome (randomised designs only).
    factors
        The everyday-factor scan, when factors were given.
    settings
        The settings, for ``nof1.json``.
    """

    results: Nof1Results
    randomisation: tuple[RandomisationTest, ...]
    factors: FactorScan | None
    settings: dict[str, object]

    def summary(self) -> str:
        """The effects, the randomisation tests and the factor scan, in words."""
        parts = [self.results.summary(), *[r.summary() for r in self.randomisation]]
        if self.factors is not None:
            parts.append(self.factors.summary())
        return "\n".join(parts)

    def to_dir(self, folder: Path, *, inputs: dict[str, Path] | None = None) -> None:
        """Write ``effects.tsv``, ``randomisation.tsv``, ``factors.tsv`` (when computed)
        and ``nof1.json`` (settings, notes, input files with their SHA-256) into ``folder``.

        Parameters
        ----------
        folder
            An existing folder.
        inputs
            The input files by role (``series``, ``record``), recorded with their digest.
        """
        self.results.to_tsv(folder / "effects.tsv")
        if self.randomisation:
            pd.DataFrame([asdict(r) for r in self.randomisation]).to_csv(
                folder / "randomisation.tsv", sep="\t", index=False, float_format="%.17g")
        if self.factors is not None:
            self.factors.to_frame().to_csv(folder / "factors.tsv", sep="\t", index=False,
                                           float_format="%.17g")
        from gutaxis.version import package_version

        files = {name: {"path": str(path),
                        "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}
                 for name, path in (inputs or {}).items()}
        meta = {"gutaxis": package_version(), "inputs": files, "settings": self.settings,
                "notes": list(self.results.notes)}
        (folder / "nof1.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")


def read_series(path: Path) -> pd.DataFrame:
    """A diary CSV or TSV as text cells with a ``source_row`` column (file lines).

    Parameters
    ----------
    path
        The file (the separator is read from the header line).
    """
    from gutaxis.instruments.record_tsv import read_text_table
    from gutaxis.io._files import existing_file

    frame, lines = read_text_table(existing_file(path), sep=None)
    if frame.empty:
        raise InputError("no data rows", source=str(path), expected="one row per day")
    return frame.assign(source_row=lines)


def run_nof1(series: pd.DataFrame, *, outcomes: list[str], time: str, phase: str,
             control: str = "A", mcid_points: float = 2.0, mcid_percent: float = 30.0,
             washout: float = 0.0, min_points: int = MIN_POINTS_PER_PHASE,
             block: str | None = None, randomised_pairs: bool = False,
             randomised_blocks: bool = False, last: int = 7,
             factors: list[str] | None = None, co_interventions: pd.DataFrame | None = None,
             higher_is_better: tuple[str, ...] = (), seed: int = 0,
             source: str | None = None) -> Nof1Run:
    """Analyse one subject's series: segmented regression of every outcome, with the
    randomised-pairs analyses and the everyday-factor scan when asked.

    Parameters
    ----------
    series
        The diary (:func:`read_series`, or
        :func:`~gutaxis.stats.nof1.record.series_from_record`).
    outcomes, time, phase, control, mcid_points, mcid_percent, washout, min_points
        As :func:`~gutaxis.stats.nof1.analysis.analyze_nof1`.
    block
        Column numbering the planned periods (see
        :func:`~gutaxis.stats.nof1.design.prepare_series`).
    randomised_pairs
        The design randomised the order inside pairs of periods (AB BA AB...): add the
        paired last-days comparison (:func:`~gutaxis.stats.nof1.randomised.paired_block_effect`)
        and the randomisation test; a design that is not one is an
        :class:`~gutaxis.errors.InputError`.
    randomised_blocks
        The treatment periods were drawn at random among all periods (e.g. ABBA or BAAB
        by lot): add the randomisation test over every such placement (its p-value goes
        into ``randomisation_pval`` of the segmented-regression rows).
    last
        Days at the end of each period the paired comparison uses.
    factors
        Diary factor columns for :func:`~gutaxis.stats.nof1.factors.everyday_factors`
        (against the first outcome).
    co_interventions
        Other interventions (``type``/``product``, ``start``).
    higher_is_better
        Outcomes whose improvement is a rise.
    seed
        Seed of sampled randomisation assignments (only when there are too many to list).
    source
        The file, for messages.
    """
    if randomised_pairs and randomised_blocks:
        raise InputError("a design is randomised one way", field="--randomised-blocks",
                         expected="either --randomised-pairs or --randomised-blocks")
    prepared = prepare_series(series, outcomes=outcomes, time=time, phase=phase,
                              control=control, block=block, source=source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notes travel in the results
        results = analyze_phases(prepared, mcid_points=mcid_points, mcid_percent=mcid_percent,
                                 washout=washout, min_points=min_points,
                                 co_interventions=co_interventions,
                                 higher_is_better=higher_is_better)
    tests: list[RandomisationTest] = []
    if randomised_pairs:
        used = ~prepared.washout_mask(washout)
        extra = []
        for outcome in outcomes:
            test = randomisation_test(prepared, outcome=outcome, scheme="pairs", used=used,
                                      last=last, seed=seed)
            tests.append(test)
            days, means = paired_block_effect(prepared, outcome=outcome, last=last, used=used,
                                              mcid_points=mcid_points,
                                              mcid_percent=mcid_percent,
                                              rise=outcome in higher_is_better)
            extra += [days, replace(means, randomisation_pval=test.pval)]
        results = replace(results, effects=results.effects + tuple(extra))
    elif randomised_blocks:
        used = ~prepared.washout_mask(washout)
        tests = [randomisation_test(prepared, outcome=o, scheme="blocks", used=used, seed=seed)
                 for o in outcomes]
        p_of = {t.outcome: t.pval for t in tests}
        results = replace(results, effects=tuple(
            replace(e, randomisation_pval=p_of[e.outcome]) for e in results.effects))
    else:
        results = replace(results, notes=(*results.notes, (
            "the phases were not declared randomised: a change at a switch coincides with "
            "the intervention in time but other causes cannot be ruled out; a design with "
            "randomised pairs of periods (--randomised-pairs) tests the intervention itself")))
    scan = None
    if factors:
        scan = everyday_factors(series, outcome=outcomes[0], factors=factors, time=time,
                                phase=phase, control=control, source=source)
    settings = {"outcomes": outcomes, "time": time, "phase": phase, "control": control,
                "mcid_points": mcid_points, "mcid_percent": mcid_percent, "washout": washout,
                "min_points": min_points, "block": block, "randomised_pairs": randomised_pairs,
                "randomised_blocks": randomised_blocks,
                "last": last, "factors": factors, "higher_is_better": list(higher_is_better),
                "seed": seed}
    return Nof1Run(results=results, randomisation=tuple(tests), factors=scan,
                   settings=settings)
