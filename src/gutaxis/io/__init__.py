"""gutaxis.io: read and write the formats microbiome researchers have.

Formats that need the instrument registry (record TSV, REDCap, FHIR) are read and written by
:mod:`gutaxis.instruments`, above this package. Every reader validates at the door and
raises :class:`gutaxis.errors.InputError` naming the file, the row/column and what was found
and expected. Every writer writes to a temporary file and renames it into place.

The synthetic example cohort shipped in the package, read as a study's files are:

>>> from importlib import resources
>>> from gutaxis.io import read_cohort
>>> folder = resources.files("gutaxis") / "data" / "examples"
>>> cohort = read_cohort(str(folder / "example-table.tsv"), str(folder / "example-metadata.tsv"),
...                      taxonomy=str(folder / "example-taxonomy.tsv"),
...                      tree=str(folder / "example-tree.nwk"))
>>> cohort.table.shape, cohort.table.kind
((40, 49), 'counts')
"""

from gutaxis.io.biom import read_biom, write_biom
from gutaxis.io.biom_blocks import BiomBlocks, iter_biom_blocks, open_biom_blocks
from gutaxis.io.cohort import read_cohort
from gutaxis.io.delimited import read_delimited, write_tsv
from gutaxis.io.humann import read_humann
from gutaxis.io.lineages import parse_lineages
from gutaxis.io.metadata import read_metadata
from gutaxis.io.metaphlan import read_metaphlan
from gutaxis.io.newick import parse_newick, read_newick
from gutaxis.io.picrust2 import read_picrust2
from gutaxis.io.qiime2 import artifact_info, read_qza, read_qza_table, read_qza_tree
from gutaxis.io.table import TABLE_FORMATS, detect_table_format, read_table, read_tree
from gutaxis.io.taxonomy import read_taxonomy, write_taxonomy

__all__ = [
    "TABLE_FORMATS",
    "BiomBlocks",
    "artifact_info",
    "detect_table_format",
    "iter_biom_blocks",
    "open_biom_blocks",
    "parse_lineages",
    "parse_newick",
    "read_biom",
    "read_cohort",
    "read_delimited",
    "read_humann",
    "read_metadata",
    "read_metaphlan",
    "read_newick",
    "read_picrust2",
    "read_qza",
    "read_qza_table",
    "read_qza_tree",
    "read_table",
    "read_taxonomy",
    "read_tree",
    "write_biom",
    "write_taxonomy",
    "write_tsv",
]
