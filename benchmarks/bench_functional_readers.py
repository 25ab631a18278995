"""HUMAnN reader speed: ``read_humann`` against a bare ``pandas.read_csv`` of the same file.

Prints, for each table, the best of ``--repeat`` wall times of

* ``pandas.read_csv(path, sep="\\t", index_col=0)``: parsing only (no checks, dense, no
  strata), the floor any reader built on pandas' C parser stands on;
* ``gutaxis.io.read_humann(path)`` (community rows) and, for the stratified table,
  ``read_humann(path, stratified=True)``: parse in blocks, check every cell, split ids
  into function and taxon, build the sparse ProfileTable;

and the ratio pandas time / gutaxis time (as every benchmark here: above 1 means gutaxis
is faster; a reader that checks every cell and builds the sparse table from pandas' parse
cannot go above 1, so the ratio says what the checks and the strata cost).

Tables:

1. the real HUMAnN2 KO table of 109 stool metagenomes (Dhakan et al. 2019) that the
   PICRUSt2 authors published (github.com/gavinmdouglas/picrust2_manuscript, commit
   dd4e2daa0b7058fa0ef46bc8f02c052f226c34ed, data/mgs_validation/indian/humann2_ko_unstrat.tsv;
   5,526 rows), taken from a local git mirror with ``--manuscript-git DIR`` when present,
   else the 427-row subset committed in tests/reference/omixer/indian_ko_modules.tsv.gz;
2. a stratified gene-family table in HUMAnN's layout made from it: every KO row becomes a
   community row plus ``--taxa`` ``function|taxon`` rows splitting it (synthetic layout,
   real values), to show the cost of the strata.

Usage: ``python benchmarks/bench_functional_readers.py [--repeat 3] [--taxa 4]
[--manuscript-git /work/.mirror/gavinmdouglas+picrust2_manuscript/repo]``
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gutaxis.io import read_humann

ROOT = Path(__file__).resolve().parents[1]
SUBSET = ROOT / "tests" / "reference" / "omixer" / "indian_ko_modules.tsv.gz"
MANUSCRIPT_PATH = "data/mgs_validation/indian/humann2_ko_unstrat.tsv"


def best_of(repeat: int, func: Callable[[], Any]) -> float:
    """Smallest wall time of ``repeat`` calls."""
    best = np.inf
    for _ in range(repeat):  # timing loop
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def real_ko_table(folder: Path, git_dir: str | None) -> Path:
    """The full manuscript table from a git mirror, else the committed subset."""
    if git_dir and Path(git_dir).exists():
        text = subprocess.run(["git", "-C", git_dir, "show", f"HEAD:{MANUSCRIPT_PATH}"],
                              check=True, capture_output=True).stdout
        path = folder / "humann2_ko_unstrat.tsv"
        path.write_bytes(text)
        return path
    return SUBSET


def stratified_copy(path: Path, folder: Path, n_taxa: int) -> Path:
    """The KO table in HUMAnN's stratified layout: each row, then ``n_taxa`` rows that
    split it in equal parts (``K00001|g__Genus_1.s__Species_1``, ...)."""
    frame = pd.read_csv(path, sep="\t", index_col=0)
    frame = frame.drop(index=[i for i in ("UNMAPPED", "UNGROUPED") if i in frame.index])
    frame.index = frame.index.astype(str)
    blocks = [frame]
    for t in range(n_taxa):
        part = frame / n_taxa
        part.index = frame.index + f"|g__Genus_{t}.s__Species_{t}"
        blocks.append(part)
    order = np.argsort(np.tile(np.arange(len(frame)), n_taxa + 1), kind="stable")
    table = pd.concat(blocks).iloc[order]
    table.columns = [f"{c}_Abundance-RPKs" for c in table.columns]
    out = folder / "genefamilies_stratified.tsv"
    table.to_csv(out, sep="\t", index_label="# Gene Family")
    return out


def report(name: str, path: Path, repeat: int, stratified: bool) -> None:
    frame = pd.read_csv(path, sep="\t", index_col=0)
    pandas_time = best_of(repeat, lambda: pd.read_csv(path, sep="\t", index_col=0))
    ours = best_of(repeat, lambda: read_humann(path))
    print(f"{name}: {frame.shape[0]:,} rows x {frame.shape[1]} samples, "
          f"{path.stat().st_size / 1e6:.1f} MB")
    print(f"  pandas.read_csv        {pandas_time * 1e3:9.1f} ms")
    print(f"  read_humann            {ours * 1e3:9.1f} ms   ratio {pandas_time / ours:.2f}")
    if stratified:
        strata = best_of(repeat, lambda: read_humann(path, stratified=True))
        print(f"  read_humann(strata)    {strata * 1e3:9.1f} ms   "
              f"ratio {pandas_time / strata:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--taxa", type=int, default=4)
    parser.add_argument("--manuscript-git",
                        default="/work/.mirror/gavinmdouglas+picrust2_manuscript/repo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ko = real_ko_table(folder, args.manuscript_git)
        report(f"HUMAnN2 KO table ({ko.name})", ko, args.repeat, stratified=False)
        strat = stratified_copy(ko, folder, args.taxa)
        report(f"stratified layout, {args.taxa} taxa per KO", strat, args.repeat,
               stratified=True)


if __name__ == "__main__":
    main()
