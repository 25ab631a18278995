"""Write the fuzzers' seed corpus, ``corpus/<reader>/``: small valid files of each format
(from the packaged example and the REDCap reference export) plus a few nasty ones.

Run once from the repository root when a format changes; the files are committed::

    python tests/fuzz/make_corpus.py
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_targets import CORPUS, QZA_PAYLOADS, make_qza  # noqa: E402

from gutaxis.cli.metrics import example_paths  # noqa: E402
from gutaxis.data.profile import ProfileTable  # noqa: E402
from gutaxis.instruments import (  # noqa: E402
    RedcapMapping,
    read_record,
    read_redcap,
    write_fhir,
    write_record,
)
from gutaxis.instruments.responses import response_template  # noqa: E402
from gutaxis.io import write_biom  # noqa: E402

REDCAP = HERE.parent / "reference" / "redcap" / "pain_clinic_export.csv"


def _small_table() -> pd.DataFrame:
    table = pd.read_csv(example_paths()["table"], sep="\t", index_col=0)
    return table.iloc[:6, :4]


def _write(reader: str, name: str, data: bytes | str) -> None:
    folder = CORPUS / reader
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)


def _tsv(frame: pd.DataFrame, sep: str = "\t") -> str:
    return frame.to_csv(sep=sep, lineterminator="\n")


def tables() -> None:
    table = _small_table()
    _write("table_tsv", "features_rows.tsv", _tsv(table))
    rows = table.T.copy()
    rows.index.name = "sample_id"
    _write("table_tsv", "samples_rows.tsv", _tsv(rows))
    biom_style = "# Constructed from biom file\n#OTU ID" + _tsv(table)[len("feature_id"):]
    _write("table_tsv", "otu_id_comment.tsv", biom_style)
    _write("table_tsv", "nasty_bom_crlf_quoted.tsv",
           '\ufefffeature_id\t"s 1"\ts2\r\n"a\tb"\t1\t2\r\nf2\t0\t1e3\r\n\r\n')
    _write("table_csv", "features_rows.csv", _tsv(table, ","))
    _write("table_csv", "relative.csv", _tsv(table / table.sum(axis=0), ","))
    _write("table_gz", "features_rows.tsv.gz", gzip.compress(_tsv(table).encode(), mtime=0))
    _write("table_gz", "samples_rows.tsv.gz", gzip.compress(_tsv(rows).encode(), mtime=0))
    _write("metaphlan", "mpa3.txt",
           "#mpa_v30_CHOCOPhlAn_201901\nclade_name\tNCBI_tax_id\tS1\tS2\n"
           "k__Bacteria\t2\t100.0\t100.0\n"
           "k__Bacteria|p__Firmicutes|c__Clostridia|o__Clostridiales|f__Lachnospiraceae|"
           "g__Roseburia|s__Roseburia_intestinalis\t2|1239\t40.0\t57.5\n"
           "k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Bacteroidaceae|"
           "g__Bacteroides|s__Bacteroides_ovatus\t2|976\t60.0\t42.5\nUNKNOWN\t-1\t0.0\t0.0\n")
    _write("metaphlan", "mpa4.txt",
           "#mpa_vJan21_CHOCOPhlAnSGB_202103\nclade_name\tA_profile\tB_profile\n"
           "k__Bacteria\t100.0\t100.0\n"
           "k__Bacteria|p__Actinobacteria|c__Actinomycetia|o__Bifidobacteriales|"
           "f__Bifidobacteriaceae|g__Bifidobacterium|s__Bifidobacterium_longum\t30.0\t90.0\n"
           "k__Bacteria|p__Actinobacteria|c__Actinomycetia|o__Bifidobacteriales|"
           "f__Bifidobacteriaceae|g__Bifidobacterium|s__Bifidobacterium_longum|t__SGB17248"
           "\t30.0\t90.0\n")


def bioms(tmp: Path) -> bytes:
    table = _small_table()
    profile = ProfileTable(table.T.to_numpy(dtype=float), list(table.columns), list(table.index),
                           kind="counts")
    write_biom(profile, tmp / "t.biom", format="json")
    _write("biom_json", "small.biom", (tmp / "t.biom").read_bytes())
    _write("biom_json", "empty_data.biom",
           '{"id": null, "format": "Biological Observation Matrix 1.0.0", "type": "OTU table",'
           ' "date": "2024-03-01T08:00:00", "format_url": "http://biom-format.org",'
           ' "generated_by": "gutaxis", "matrix_type": "sparse",'
           ' "matrix_element_type": "int", "shape": [2, 1],'
           ' "data": [], "rows": [{"id": "a", "metadata": {"taxonomy": ["k__B", "p__F"]}},'
           ' {"id": "b", "metadata": null}], "columns": [{"id": "s", "metadata": null}]}')
    write_biom(profile, tmp / "t.h5.biom", format="hdf5")
    hdf5 = (tmp / "t.h5.biom").read_bytes()
    _write("biom_hdf5", "small.biom", hdf5)
    return hdf5


def artifacts(tmp: Path, hdf5: bytes) -> None:
    taxonomy = b"Feature ID\tTaxon\tConfidence\nASV001\tk__Bacteria; p__Firmicutes\t0.9\n"
    tree = b"((ASV001:0.1,ASV002:0.2)0.95:0.1,ASV003:0.3);\n"
    payloads = {"FeatureData[Taxonomy]": taxonomy, "Phylogeny[Rooted]": tree,
                "FeatureTable[Frequency]": hdf5}
    for selector, (semantic_type, fmt, name) in enumerate(QZA_PAYLOADS):
        payload = payloads[semantic_type]
        path = make_qza(tmp / f"{selector}.qza", semantic_type, fmt, {name: payload})
        _write("qza", f"{name.split('.')[0]}.qza", path.read_bytes())
        if semantic_type != "FeatureTable[Frequency]":  # an HDF5 payload is biom_hdf5's job
            _write("qza_payload", f"{name}", bytes([selector]) + payload)


def sample_files() -> None:
    paths = example_paths()
    metadata = paths["metadata"].read_text().splitlines(keepends=True)
    _write("metadata", "example.tsv", "".join(metadata[:6]))
    _write("metadata", "q2_types.tsv",
           "#SampleID\tgroup\tage\n#q2:types\tcategorical\tnumeric\ns1\tpain\t40\n"
           "s2\tcontrol\t\n")
    _write("metadata", "comma.csv", "sample-id,group\ns1,a\ns2,b\n")
    taxonomy = paths["taxonomy"].read_text().splitlines(keepends=True)
    _write("taxonomy", "ranks.tsv", "".join(taxonomy[:6]))
    _write("taxonomy", "qiime.tsv", "Feature ID\tTaxon\tConfidence\n"
           "ASV1\td__Bacteria; p__Firmicutes; g__Blautia\t0.99\nASV2\tUnassigned\t0.5\n")
    _write("newick", "example.nwk", paths["tree"].read_text())
    _write("newick", "quoted.nwk", "(('a b':1,c:2e-3)0.9:5,'it''s':1)root;\n")
    _write("newick", "tree.nwk.gz", gzip.compress(b"((a:1,b:2):0.5,c:1);\n", mtime=0))
    ids = ["s1", "s2", "s3"]
    dm = pd.DataFrame(np.array([[0, 0.5, 0.25], [0.5, 0, 0.75], [0.25, 0.75, 0]]),
                      index=ids, columns=ids)
    _write("distance_matrix", "square.tsv", _tsv(dm))


def record_files(tmp: Path) -> None:
    odi = response_template("odi")
    _write("responses_csv", "odi.csv", ",".join(odi) + "\n"
           + "p1,2024-03-01T08:00:00+01:00," + ",".join(["1"] * (len(odi) - 2)) + "\n"
           + "p2,2024-03-02T09:30:00Z," + ",".join(["5", "0", "2", "3", "", "1", "2", "3", "4",
                                                    "0"]) + "\n")
    _write("responses_wide", "nrs.csv", "subject_id,administered_at,pain\n"
           "p1,2024-03-01 08:00,3\np2,2024-03-02T08:00:00Z,7\n")
    _write("redcap", "events_repeats.csv",
           "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,"
           "nrs_date,nrs_pain,nrs_complete\n1,screening_arm_1,,,2024-03-01T08:00:00Z,7,2\n"
           "1,diary_arm_1,nrs,1,2024-03-02 08:00,6,2\n1,diary_arm_1,nrs,2,2024-03-03 08:00,5,2\n")
    _write("redcap", "classic.csv", "record_id,nrs_date,nrs_pain,nrs_complete\n"
           "a,2024-03-01T08:00:00+01:00,4,2\nb,2024-03-02T08:00:00Z,,0\n")
    mapping = RedcapMapping.from_json(REDCAP.with_name("pain_clinic_mapping.json"))
    record = read_redcap(REDCAP, timezone="Europe/Berlin", mapping=mapping)
    write_record(record, tmp / "record.tsv")
    lines = (tmp / "record.tsv").read_text().splitlines(keepends=True)
    (tmp / "record.tsv").write_text("".join(lines[:25]))
    _write("record_tsv", "pain_clinic.tsv", "".join(lines[:25]))
    write_fhir(read_record(tmp / "record.tsv"), tmp / "bundle.json")
    bundle = (tmp / "bundle.json").read_text()
    _write("fhir_json", "pain_clinic.json", bundle)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        tables()
        artifacts(tmp, bioms(tmp))
        sample_files()
        record_files(tmp)
    for reader in sorted(p.name for p in CORPUS.iterdir()):
        files = sorted((CORPUS / reader).iterdir())
        print(reader, len(files), sum(f.stat().st_size for f in files), file=sys.stderr)


if __name__ == "__main__":
    main()
