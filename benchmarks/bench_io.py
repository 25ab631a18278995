"""Read/write speed of gutaxis.io against the peer readers, on a large synthetic table.

Prints seconds and the ratio peer / gutaxis (> 1 means gutaxis is faster). The table
is shaped like a 16S cohort: mostly zeros, a few percent of cells nonzero counts.

    python benchmarks/bench_io.py [n_samples] [n_features]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import biom
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.io import read_biom, read_delimited, write_biom, write_tsv


def best_of(func: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def synthetic(n_samples: int, n_features: int, seed: int = 1) -> ProfileTable:
    rng = np.random.default_rng(seed)
    density = 0.03
    matrix = sp.random_array((n_samples, n_features), density=density, rng=rng, format="csr")
    matrix.data = np.ceil(matrix.data * 500)
    return ProfileTable(matrix, [f"S{i}" for i in range(n_samples)],
                        [f"ASV{j}" for j in range(n_features)])


def report(name: str, ours: float, peer: float, peer_name: str) -> None:
    print(f"{name:<34} gutaxis {ours:7.3f} s   {peer_name:<28} {peer:7.3f} s   "
          f"ratio {peer / ours:5.2f}")


def main() -> None:
    n_samples = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    n_features = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    table = synthetic(n_samples, n_features)
    print(f"table: {n_samples} samples x {n_features} features, {table.nnz} nonzero")
    with tempfile.TemporaryDirectory() as folder:
        tsv = Path(folder) / "t.tsv"
        h5 = Path(folder) / "t.biom"
        js = Path(folder) / "t.json"
        write_tsv(table, tsv)
        write_biom(table, h5)
        write_biom(table, js, format="json")

        ours = best_of(lambda: read_delimited(tsv))
        peer = best_of(lambda: sp.csr_array(pd.read_csv(tsv, sep="\t", index_col=0)
                                            .to_numpy().T))
        report("read TSV (features x samples)", ours, peer, "pandas.read_csv + csr")
        with open(tsv) as fh:
            lines = fh.readlines()
        peer = best_of(lambda: biom.Table.from_tsv(lines, None, None, lambda x: x), 1)
        report("read TSV", ours, peer, "biom.Table.from_tsv")

        ours = best_of(lambda: read_biom(h5))
        peer = best_of(lambda: biom.load_table(str(h5)))
        report("read BIOM HDF5", ours, peer, "biom.load_table")
        ours = best_of(lambda: read_biom(js))
        peer = best_of(lambda: biom.load_table(str(js)))
        report("read BIOM JSON", ours, peer, "biom.load_table")

        ours = best_of(lambda: write_tsv(table, Path(folder) / "w.tsv"))
        frame = pd.DataFrame(table.dense().T.astype(np.int64), index=table.feature_ids,
                             columns=table.sample_ids)
        peer = best_of(lambda: frame.to_csv(Path(folder) / "p.tsv", sep="\t"))
        report("write TSV", ours, peer, "DataFrame.to_csv (dense)")
        other = biom.Table(sp.csr_matrix(table.values.T), list(table.feature_ids),
                           list(table.sample_ids))

        def biom_hdf5() -> None:
            with h5py.File(Path(folder) / "p.biom", "w") as fh:
                other.to_hdf5(fh, "bench")

        ours = best_of(lambda: write_biom(table, Path(folder) / "w.biom"))
        peer = best_of(biom_hdf5)
        report("write BIOM HDF5", ours, peer, "biom Table.to_hdf5")
        ours = best_of(lambda: write_biom(table, Path(folder) / "w.json", format="json"))
        peer = best_of(lambda: (Path(folder) / "p.json").write_text(other.to_json("bench")))
        report("write BIOM JSON (exact floats)", ours, peer, "biom Table.to_json (%f)")


if __name__ == "__main__":
    main()
