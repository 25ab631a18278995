"""ModuleProfile: module abundance and coverage per sample, with what they came from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import preview
from gutaxis.gut.modules.definitions import ModuleSetInfo

__all__ = ["OUTPUT_FILES", "TIDY_COLUMNS", "ModuleProfile"]

#: Columns of :meth:`ModuleProfile.to_frame` (and of ``modules.tsv``).
TIDY_COLUMNS = ("sample_id", "module_id", "module_name", "abundance", "coverage", "present")
#: The files :meth:`ModuleProfile.to_dir` writes.
OUTPUT_FILES = ("module-abundance.tsv", "module-coverage.tsv", "modules.tsv",
                "module-definitions.tsv", "summary.json")
#: Unknown ids listed in the summary (all are counted).
_SHOWN_UNKNOWN = 10


@dataclass(frozen=True)
class ModuleProfile:
    """Module abundance and coverage in every sample (see
    :func:`gutaxis.gut.modules.module_profile`).

    Parameters
    ----------
    abundance
        Samples x modules, feature type ``module``, the kind and unit of the KO table;
        0 where the module's coverage is below :attr:`cutoff`.
    coverage
        Samples x modules: fraction of each module's steps observed (unit ``coverage``).
    modules
        One row per module (index ``module_id``): ``name``, ``n_steps``, ``ko_steps``
        (steps a KO table can observe), ``n_alternatives``, ``n_samples_present``.
    unknown_ids
        Feature ids of the input that are neither KEGG orthologs nor named by the set
        (``UNMAPPED``, ``UNGROUPED``, ...): left out.
    info
        The module set: name, version, source, licence, citation.
    cutoff
        Coverage cutoff: present means coverage ``>=`` cutoff.
    n_ko_features, n_ko_used
        KO ids in the input, and how many of them some module step names.
    """

    abundance: ProfileTable
    coverage: ProfileTable
    modules: pd.DataFrame
    unknown_ids: tuple[str, ...]
    info: ModuleSetInfo
    cutoff: float
    n_ko_features: int
    n_ko_used: int

    @property
    def set_name(self) -> str:
        return self.info.name

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def present(self) -> pd.DataFrame:
        """Samples x modules, ``True`` where coverage >= the cutoff."""
        return pd.DataFrame(self.coverage.dense() >= self.cutoff,
                            index=pd.Index(self.coverage.sample_ids, name="sample_id"),
                            columns=pd.Index(self.coverage.feature_ids, name="module_id"))

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per sample and module, columns :data:`TIDY_COLUMNS`; per-taxon
        results (from a stratified table) have a ``taxon`` column after ``module_id``
        and one row per sample, module and taxon where the coverage is > 0."""
        strata = self.coverage.strata
        module_ids = self.coverage.feature_ids if strata is None else \
            strata["function"].to_numpy()
        frame = pd.DataFrame({
            "sample_id": np.repeat(self.coverage.sample_ids, self.coverage.n_features),
            "module_id": np.tile(module_ids, self.coverage.n_samples),
            "module_name": np.tile(self.modules["name"].reindex(module_ids).to_numpy(),
                                   self.coverage.n_samples),
            "abundance": self.abundance.dense().ravel(),
            "coverage": self.coverage.dense().ravel(),
        })
        frame["present"] = frame["coverage"] >= self.cutoff
        if strata is None:
            return frame.loc[:, list(TIDY_COLUMNS)]
        frame.insert(2, "taxon", np.tile(strata["taxon"].to_numpy(), self.coverage.n_samples))
        return frame[frame["coverage"] > 0].reset_index(drop=True)

    def to_dict(self) -> dict[str, object]:
        """What ``summary.json`` holds: the set, its source and licence, the cutoff and
        what was found."""
        present = self.present.to_numpy()
        return {
            "set": self.info.name,
            "version": self.info.version,
            "title": self.info.title,
            "source": self.info.source,
            "licence": self.info.licence,
            "citation": self.info.citation,
            "method": "Omixer-RPM best path (median estimator; Darzi et al. 2016, "
                      "doi:10.1038/ismej.2015.188)",
            "cutoff": self.cutoff,
            "n_samples": int(self.coverage.n_samples),
            "n_modules": int(self.coverage.n_features),
            "n_modules_present": int(present.any(axis=0).sum()),
            "median_modules_present_per_sample": float(np.median(present.sum(axis=1)))
            if present.size else 0.0,
            "unit": self.abundance.unit,
            "kind": self.abundance.kind,
            "n_ko_features": self.n_ko_features,
            "n_ko_used": self.n_ko_used,
            "n_unknown_ids": len(self.unknown_ids),
            "unknown_ids_first": list(self.unknown_ids[:_SHOWN_UNKNOWN]),
        }

    def summary(self) -> str:
        """A few lines for people: set, cutoff, what was present, what was left out."""
        d = self.to_dict()
        lines = [
            f"{self.info.title}, version {self.info.version} ({d['n_modules']} modules), "
            f"coverage cutoff {self.cutoff:g}",
            f"{d['n_samples']} samples; {d['n_modules_present']} modules present in at least "
            f"one sample, median {d['median_modules_present_per_sample']:g} per sample",
            f"{self.n_ko_features} KO ids in the table, {self.n_ko_used} named by a module",
        ]
        if self.unknown_ids:
            lines.append(self.unknown_note())
        lines.append(f"licence: {self.info.licence}")
        return "\n".join(lines)

    def unknown_note(self) -> str:
        """``left out N feature id(s) that ...: a, b, ...``; empty when none was left out."""
        n = len(self.unknown_ids)
        if not n:
            return ""
        ids, are = ("id", "is") if n == 1 else ("ids", "are")
        return (f"left out {n} feature {ids} that {are} neither a KEGG ortholog nor named by "
                f"a module: {preview(self.unknown_ids)}")

    def to_dir(self, folder: Path, *, inputs: Mapping[str, Path | None] | None = None) -> None:
        """Write :data:`OUTPUT_FILES` into ``folder`` (which must exist).

        ``module-abundance.tsv`` and ``module-coverage.tsv`` have one line per module
        (first header cell ``feature_id``), as every gutaxis command reads a TABLE.

        Parameters
        ----------
        folder
            The output folder.
        inputs
            Files read, by role (``table``, ``definitions``): recorded in
            ``summary.json`` with their SHA-256.
        """
        from gutaxis.gut.pipeline import file_sha256
        from gutaxis.io import write_tsv
        from gutaxis.version import package_version

        write_tsv(self.abundance, folder / "module-abundance.tsv")
        write_tsv(self.coverage, folder / "module-coverage.tsv")
        self.to_frame().to_csv(folder / "modules.tsv", sep="\t", index=False)
        self.modules.drop(columns="n_samples_present").to_csv(
            folder / "module-definitions.tsv", sep="\t")
        files = {role: {"path": str(path), "sha256": file_sha256(path)}
                 for role, path in (inputs or {}).items() if path is not None}
        summary = {**self.to_dict(), "gutaxis_version": package_version(), "inputs": files}
        (folder / "summary.json").write_text(json.dumps(summary, indent=1) + "\n",
                                             encoding="utf-8")
