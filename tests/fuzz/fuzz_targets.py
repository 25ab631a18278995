"""The readers the fuzzers drive: each takes the bytes of one input, writes them to a file
named as that format's files are named, and reads it. Shared by the hypothesis harness
(``test_readers_fuzz.py``) and the coverage-guided atheris script
(``scripts/fuzz_readers.py``); the seed corpus is ``corpus/<reader>/``.

The contract under test: a reader returns, or raises :class:`gutaxis.errors.InputError`;
any other exception is a bug.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gutaxis.instruments import read_fhir, read_record, read_redcap, read_responses_wide
from gutaxis.instruments.responses import read_responses
from gutaxis.io import (
    read_metadata,
    read_qza,
    read_table,
    read_taxonomy,
    read_tree,
)
from gutaxis.io.matrix import read_distance_matrix

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

#: ``(reader, outcome) -> count`` of a hypothesis run; outcome is "read" or "InputError".
FUZZ_COUNTS: Counter[tuple[str, str]] = Counter()


def _make_qza() -> Callable[[Path, str, str, dict[str, bytes]], Path]:
    """The ``.qza`` builder of the io tests (conftest modules are not importable by name)."""
    spec = importlib.util.spec_from_file_location("io_conftest", HERE.parent / "io" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_qza  # type: ignore[no-any-return]


make_qza = _make_qza()

#: Artifact types a fuzzed payload is wrapped in (chosen by the payload's first byte).
QZA_PAYLOADS = (
    ("FeatureData[Taxonomy]", "TSVTaxonomyDirectoryFormat", "taxonomy.tsv"),
    ("Phylogeny[Rooted]", "NewickDirectoryFormat", "tree.nwk"),
    ("FeatureTable[Frequency]", "BIOMV210DirFmt", "feature-table.biom"),
)


def _read_qza_payload(path: Path) -> object:
    """Wrap the fuzzed bytes (after a selector byte) in a well-formed artifact, read it."""
    data = path.read_bytes()
    semantic_type, fmt, name = QZA_PAYLOADS[data[0] % len(QZA_PAYLOADS)] if data else \
        QZA_PAYLOADS[0]
    artifact = path.with_suffix(".qza")
    make_qza(artifact, semantic_type, fmt, {name: data[1:]})
    return read_qza(artifact)


@dataclass(frozen=True)
class Reader:
    """One fuzzed reader: the file name its inputs get, and how it is read."""

    file_name: str
    read: Callable[[Path], object]


READERS: dict[str, Reader] = {
    "table_tsv": Reader("table.tsv", read_table),
    "table_csv": Reader("table.csv", read_table),
    "table_gz": Reader("table.tsv.gz", read_table),
    "metaphlan": Reader("merged_abundance.txt", read_table),
    "biom_json": Reader("table.biom", read_table),
    "biom_hdf5": Reader("table.biom", read_table),
    "qza": Reader("artifact.qza", read_qza),
    "qza_payload": Reader("payload.bin", _read_qza_payload),
    "metadata": Reader("metadata.tsv", read_metadata),
    "taxonomy": Reader("taxonomy.tsv", read_taxonomy),
    "newick": Reader("tree.nwk", read_tree),
    "distance_matrix": Reader("distances.tsv", read_distance_matrix),
    "responses_csv": Reader("odi.csv", lambda p: read_responses(p, "odi")),
    "responses_wide": Reader("answers.csv",
                             lambda p: read_responses_wide(p, instrument="nrs", timezone="UTC")),
    "redcap": Reader("export.csv", lambda p: read_redcap(p, timezone="Europe/Berlin")),
    "record_tsv": Reader("record.tsv", lambda p: read_record(p, timezone="UTC")),
    "fhir_json": Reader("bundle.json", read_fhir),
}


def seeds(reader: str) -> list[bytes]:
    """The committed seed inputs of ``reader``, in name order."""
    return [p.read_bytes() for p in sorted((CORPUS / reader).iterdir()) if p.is_file()]


def run_reader(reader: str, data: bytes, folder: Path) -> object:
    """Write ``data`` where ``reader`` expects its file and read it."""
    target = READERS[reader]
    path = folder / target.file_name
    path.write_bytes(data)
    return target.read(path)
