"""BIOM tables: 1.0 JSON and 2.x HDF5, read and written with the biom-format package.

BIOM stores observations (features) x samples; gutaxis keeps samples x features, so
the matrix is transposed at the door. An observation-metadata ``taxonomy`` entry (a
list of ranks or one ``;``-separated string) becomes the table's taxonomy.
"""

from __future__ import annotations

import ctypes
import gzip
import io
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any, Literal, cast

import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp
from biom import Table
from biom.exception import BiomException

from gutaxis.data.profile import RANKS, VALUE_KINDS, ProfileTable, ValueKind, first_cell
from gutaxis.errors import InputError
from gutaxis.io._files import (
    HDF5_MAGIC,
    PathLike,
    atomic_path,
    existing_file,
    head_bytes,
    read_bytes,
)
from gutaxis.io._values import first_negative_cell, infer_kind
from gutaxis.io.lineages import parse_lineages
from gutaxis.version import package_version

BiomFormat = Literal["hdf5", "json"]

_RANK_PREFIX = {rank: f"{rank[0]}__" for rank in RANKS}

#: Where gutaxis records the value kind: an HDF5 root attribute and a JSON top-level key.
#: Other BIOM readers ignore both; :func:`read_biom` uses them when no kind is given.
KIND_MARK = "gutaxis-kind"


def read_biom(path: PathLike, *, kind: ValueKind | None = None) -> ProfileTable:
    """Read a BIOM file (1.0 JSON, optionally gzipped, or 2.x HDF5).

    Parameters
    ----------
    path
        The ``.biom`` file; the format is recognised from its first bytes.
    kind
        What the values are; inferred when ``None`` (whole numbers are counts, sample
        sums <= 1 proportions, <= 100 percentages; see
        :func:`gutaxis.io._values.infer_kind`).

    Returns
    -------
    ProfileTable
        Samples x features, with the taxonomy from the observation metadata when
        present (prefixes such as ``k__`` stripped, empty ranks ``NaN``).

    References
    ----------
    McDonald D, et al. The Biological Observation Matrix (BIOM) format or: how I
    learned to stop worrying and love the ome-ome. GigaScience 1:7 (2012).
    """
    p = existing_file(path)
    table, mark = _load(p)
    return profile_from_biom(table, source=str(p), kind=kind or mark)


def read_biom_bytes(data: bytes, *, source: str, kind: ValueKind | None = None) -> ProfileTable:
    """Read a BIOM table held in memory (e.g. a file inside a ``.qza`` zip)."""
    table, mark = _parse(io.BytesIO(data), source=source)
    return profile_from_biom(table, source=source, kind=kind or mark)


def profile_from_biom(
    table: Table, *, source: str | None, kind: ValueKind | None = None
) -> ProfileTable:
    """Turn a :class:`biom.Table` into a :class:`ProfileTable` (checked at the door)."""
    sample_ids = np.asarray(table.ids(axis="sample"), dtype=object).astype(str)
    feature_ids = np.asarray(table.ids(axis="observation"), dtype=object).astype(str)
    if sample_ids.size == 0 or feature_ids.size == 0:
        raise InputError("BIOM table is empty", source=source,
                         found=f"{feature_ids.size} observations x {sample_ids.size} samples",
                         expected="at least one observation and one sample")
    values = sp.csr_array(sp.csr_array(table.matrix_data).T, dtype=np.float64)
    check_values(values, sample_ids, feature_ids, kind=kind, source=source)
    found_kind, scale = infer_kind(values, kind=kind, source=source)
    if scale != 1.0:
        values = values * scale
    taxonomy = _taxonomy(table, feature_ids)
    return ProfileTable(values, sample_ids, feature_ids, kind=found_kind, taxonomy=taxonomy)


def check_values(values: sp.csr_array, sample_ids: np.ndarray, feature_ids: np.ndarray, *,
                 kind: ValueKind | None, source: str | None) -> None:
    """Refuse NaN or infinite values, and negative ones unless ``kind`` allows them."""
    if not np.all(np.isfinite(values.data)):
        row, col = first_cell(values, ~np.isfinite(values.data))
        raise InputError("BIOM table holds NaN or infinite values", source=source,
                         row=str(sample_ids[row]), column=str(feature_ids[col]),
                         expected="finite numbers")
    if kind not in ("clr", "transformed"):
        cell = first_negative_cell(values)
        if cell is not None:
            raise InputError("negative value", source=source,
                             row=f"sample {str(sample_ids[cell[0]])!r}",
                             column=str(feature_ids[cell[1]]),
                             found=float(values[cell[0], cell[1]]), expected="a value >= 0")


def write_biom(table: ProfileTable, path: PathLike, *, format: BiomFormat = "hdf5") -> None:
    """Write a table as BIOM 2.1 HDF5 (default) or BIOM 1.0 JSON, atomically.

    The value kind is recorded under :data:`KIND_MARK` so that :func:`read_biom` gives
    back the same kind (other readers ignore it). The taxonomy, when present, is written
    as observation metadata ``taxonomy``: a list
    of seven prefixed ranks (``k__Bacteria``, ..., ``s__``), an empty rank written as its
    bare prefix, which :func:`read_biom` reads back as ``NaN``. A ``.gz`` suffix
    compresses JSON output.

    Parameters
    ----------
    table
        The table to write.
    path
        Where to write it (a new file, replaced atomically).
    format
        ``"hdf5"`` (BIOM 2.1, default) or ``"json"`` (BIOM 1.0).
    """
    if format not in ("hdf5", "json"):
        raise InputError("unknown BIOM format", found=format, expected="'hdf5' or 'json'")
    target = Path(path)
    biom_table = to_biom(table)
    generated_by = f"gutaxis {package_version()}"
    with atomic_path(target) as tmp:
        if format == "hdf5":
            with h5py.File(tmp, "w") as h5:
                biom_table.to_hdf5(h5, generated_by)
                h5.attrs[KIND_MARK] = table.kind
        else:
            opener = gzip.open if target.suffix == ".gz" else open
            with opener(tmp, "wt", encoding="utf-8") as fh:
                json.dump(_json_document(table, biom_table, generated_by), fh,
                          separators=(",", ":"))


def to_biom(table: ProfileTable) -> Table:
    """The table as a :class:`biom.Table` (observations x samples)."""
    metadata = None
    if table.taxonomy is not None:
        ranks = [r for r in RANKS if r in table.taxonomy.columns]
        tax = table.taxonomy[ranks].astype(object)
        prefixed = [
            (_RANK_PREFIX[r] + tax[r].where(tax[r].notna(), "").astype(str)).tolist()
            for r in ranks
        ]
        metadata = [{"taxonomy": list(lineage)} for lineage in zip(*prefixed, strict=True)]
    return Table(
        sp.csr_matrix(table.values.T), list(table.feature_ids), list(table.sample_ids),
        observation_metadata=metadata, type="OTU table",
    )


# ----------------------------------------------------------------------------- helpers
def _json_document(table: ProfileTable, biom_table: Table, generated_by: str) -> dict[str, Any]:
    """BIOM 1.0 sparse JSON with exact numbers.

    biom-format's own ``to_json`` prints floats with six decimals, which loses
    proportions such as ``2.99e-05``; ``json`` writes the shortest text that reads back
    to the same float64.
    """
    coo = sp.coo_array(table.values.T)
    order = np.lexsort((coo.col, coo.row))
    data = coo.data[order]
    integral = bool(np.all(data == np.round(data)))
    values: list[Any] = data.astype(np.int64).tolist() if integral else data.tolist()
    triples = [list(t) for t in zip(coo.row[order].tolist(), coo.col[order].tolist(), values,
                                    strict=True)]
    observation_md = biom_table.metadata(axis="observation")
    rows = [
        {"id": str(fid), "metadata": None if observation_md is None else dict(observation_md[i])}
        for i, fid in enumerate(table.feature_ids)
    ]
    return {
        "id": None,
        "format": "Biological Observation Matrix 1.0.0",
        "format_url": "http://biom-format.org",
        "type": "OTU table",
        "generated_by": generated_by,
        "date": pd.Timestamp.now(tz="UTC").isoformat(),
        "matrix_type": "sparse",
        "matrix_element_type": "int" if integral else "float",
        "shape": [table.n_features, table.n_samples],
        "data": triples,
        "rows": rows,
        "columns": [{"id": str(sid), "metadata": None} for sid in table.sample_ids],
        KIND_MARK: table.kind,
    }


def _load(path: Path) -> tuple[Table, ValueKind | None]:
    with open(path, "rb") as fh:
        if head_bytes(path, 8) == HDF5_MAGIC:
            return _parse(fh, source=str(path))
    return _parse(io.BytesIO(read_bytes(path)), source=str(path))


def _parse(handle: IO[bytes], *, source: str) -> tuple[Table, ValueKind | None]:
    """Parse HDF5 or JSON BIOM, with the kind gutaxis recorded (if it wrote the file).

    Every failure becomes an :class:`InputError`.
    """
    try:
        head = handle.read(8)
        handle.seek(0)
        if head == HDF5_MAGIC:
            _probe_hdf5_attributes(handle, source=source)
            with h5py.File(handle, "r") as h5:
                return Table.from_hdf5(h5), _kind_mark(h5.attrs.get(KIND_MARK))
        document: Any = json.loads(handle.read().decode("utf-8-sig"))
        if not isinstance(document, dict) or "data" not in document:
            raise InputError("not a BIOM table", source=source,
                             found="JSON without a 'data' field",
                             expected="BIOM 1.0 JSON or BIOM 2.x HDF5")
        return Table.from_json(document, data_pump=_empty_sparse(document)), \
            _kind_mark(document.get(KIND_MARK))
    except InputError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError("not a BIOM file", source=source, found="neither HDF5 nor JSON",
                         expected="BIOM 1.0 JSON or BIOM 2.x HDF5") from None
    except RecursionError:
        raise InputError("not a BIOM file", source=source, found="JSON nested too deeply",
                         expected="BIOM 1.0 JSON or BIOM 2.x HDF5") from None
    except BiomException as exc:
        raise InputError("invalid BIOM table", source=source, found=str(exc),
                         expected="unique sample and observation ids and a consistent shape"
                         ) from None
    except (KeyError, ValueError, TypeError, IndexError, OSError, RuntimeError) as exc:
        # h5py raises RuntimeError on a damaged structure (e.g. a wrong B-tree signature)
        raise InputError("malformed BIOM file", source=source,
                         found=f"{type(exc).__name__}: {exc}",
                         expected="a table the BIOM 1.0/2.1 specification describes") from None


#: Seconds the attribute probe of an HDF5 file may take (reading attributes takes
#: milliseconds; a damaged file can make libhdf5 loop for ever).
HDF5_PROBE_SECONDS = 30.0


def _probe_hdf5_attributes(handle: IO[bytes], *, source: str) -> None:
    """Read every attribute of the HDF5 file in a forked child with a deadline.

    A damaged global heap makes libhdf5 loop for ever on a variable-length string
    attribute (found by atheris: ``tests/fuzz/known_hangs``), inside C where no Python
    timeout reaches. The child reads the attributes of every object; if it has not
    finished within :data:`HDF5_PROBE_SECONDS` it is killed and the file refused. A child
    that fails (an exception) leaves the error to the real read, which reports it. Where
    ``os.fork`` does not exist the probe is skipped.
    """
    if not hasattr(os, "fork"):
        return
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # child: touch every attribute, report nothing but the exit code
        code = 1
        try:
            _end_with_parent_or_deadline(parent)
            with h5py.File(handle, "r") as h5:
                def read_attributes(_name: str, obj: Any) -> None:
                    for key in obj.attrs:
                        obj.attrs[key]

                read_attributes("/", h5)
                h5.visititems(read_attributes)
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + HDF5_PROBE_SECONDS
    pause = 0.001
    while True:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            handle.seek(0)
            return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise InputError("damaged HDF5 file", source=source,
                             found=f"reading its attributes did not finish in "
                             f"{HDF5_PROBE_SECONDS:g} s",
                             expected="a BIOM 2.x HDF5 file libhdf5 can read")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _end_with_parent_or_deadline(parent: int) -> None:
    """Make the probe child end on its own if its parent cannot end it.

    The parent kills the child at the deadline; a parent that is itself killed first
    (SIGKILL, a CI timeout) would leave the child spinning inside libhdf5 for ever. So the
    child asks Linux to kill it when its parent dies (``PR_SET_PDEATHSIG``), and sets its
    own alarm a little after the deadline with the default action (terminate): a Python
    handler inherited from the parent would never run while libhdf5 holds the thread.
    """
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(math.ceil(HDF5_PROBE_SECONDS) + 5)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the alarm still ends the child
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


#: Linux prctl option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def _empty_sparse(document: dict[str, Any]) -> sp.csr_matrix | None:
    """An all-zero matrix of the document's shape when its sparse ``data`` is empty
    (biom-format builds a 0 x 0 matrix from ``[]`` and then reports duplicate ids)."""
    if document.get("matrix_type") == "sparse" and not document["data"]:
        return sp.csr_matrix(tuple(document["shape"]))
    return None


def _kind_mark(value: object) -> ValueKind | None:
    if isinstance(value, bytes):
        value = value.decode()
    return cast(ValueKind, value) if value in VALUE_KINDS else None


def _taxonomy(table: Table, feature_ids: np.ndarray) -> pd.DataFrame | None:
    metadata = table.metadata(axis="observation")
    if metadata is None:
        return None
    lineages: list[str | None] = []
    found = False
    for entry in metadata:
        value = None
        if entry:
            value = entry.get("taxonomy", entry.get("Taxonomy"))
        if isinstance(value, list | tuple | np.ndarray):
            value = ";".join(map(str, value))
        found |= value is not None
        lineages.append(None if value is None else str(value))
    if not found:
        return None
    return parse_lineages(pd.Series(lineages, index=feature_ids, dtype=object))
