"""Unweighted UniFrac by the `unifrac` package (Striped UniFrac, Knight lab) on a BIOM
HDF5 table and a Newick tree written by ``bench_scale_all.py``; runs in the package's own
environment (no gutaxis there). Times ``unweighted_fp64`` (double precision, as gutaxis;
its matrix is written as ``unifrac.npy`` and ``unifrac-ids.txt`` beside the inputs for the
comparison) and then ``unweighted`` (the package's default, single precision for the
unweighted metric), and prints one JSON line with both times and the peak memory.

    python peer_striped_unifrac.py FOLDER [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import unifrac

    table, tree = str(args.folder / "table.biom"), str(args.folder / "tree.nwk")
    tic = time.perf_counter()
    dm = unifrac.unweighted_fp64(table, tree, threads=args.threads)
    seconds = time.perf_counter() - tic
    tic = time.perf_counter()
    unifrac.unweighted(table, tree, threads=args.threads)
    default_seconds = time.perf_counter() - tic
    np.save(args.folder / "unifrac.npy", dm.data)
    (args.folder / "unifrac-ids.txt").write_text("\n".join(map(str, dm.ids)))
    with open("/proc/self/status") as fh:
        line = next(row for row in fh if row.startswith("VmHWM:"))
    from importlib.metadata import version as installed

    version = installed("unifrac")
    print(json.dumps({"step": "unifrac peer", "n": len(dm.ids), "tool": f"unifrac {version}",
                      "seconds": round(seconds, 2),
                      "default_fp32_seconds": round(default_seconds, 2),
                      "caller_peak_gib": round(int(line.split()[1]) / 2**20, 2)}))


if __name__ == "__main__":
    main()
