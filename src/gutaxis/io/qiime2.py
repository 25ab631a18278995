"""QIIME 2 artifacts (``.qza``) read straight from the zip, without QIIME 2 installed.

An artifact is a zip holding one folder named by its UUID, with ``metadata.yaml``
(``uuid``, ``type``, ``format``), ``VERSION`` and the payload under ``data/``. The
semantic ``type`` decides how the payload is read; types gutaxis does not read are
refused with the list of those it does.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import cast

import pandas as pd

from gutaxis.data.profile import ProfileTable, ValueKind
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError, preview
from gutaxis.io._csv import read_string_table
from gutaxis.io._files import PathLike, existing_file
from gutaxis.io.biom import read_biom_bytes
from gutaxis.io.lineages import taxonomy_from_frame
from gutaxis.io.newick import parse_newick

#: Semantic type -> (payload file under data/, what it becomes).
READABLE_TYPES: dict[str, str] = {
    "FeatureTable[Frequency]": "feature-table.biom",
    "FeatureTable[RelativeFrequency]": "feature-table.biom",
    "FeatureData[Taxonomy]": "taxonomy.tsv",
    "Phylogeny[Rooted]": "tree.nwk",
}
_TABLE_KINDS: dict[str, ValueKind] = {
    "FeatureTable[Frequency]": "counts",
    "FeatureTable[RelativeFrequency]": "relative",
}
_ADVICE: dict[str, str] = {
    "Phylogeny[Unrooted]": "root it first (qiime phylogeny midpoint-root)",
    "FeatureTable[PresenceAbsence]": "export the frequency table instead",
    "FeatureTable[Composition]": "export the frequency table instead (gutaxis adds its own "
    "pseudocount)",
}

#: What reading a damaged zip raises: a bad header or CRC, a truncated or corrupt deflate
#: stream, an unsupported compression method or an encrypted entry.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
              RuntimeError, ValueError)


@dataclass(frozen=True)
class ArtifactInfo:
    """What ``metadata.yaml`` says about an artifact."""

    uuid: str
    type: str
    format: str | None
    root: str


def artifact_info(path: PathLike) -> ArtifactInfo:
    """Read the UUID, semantic type and format of a ``.qza`` without unpacking it.

    Parameters
    ----------
    path
        A QIIME 2 artifact (``.qza``).
    """
    p = existing_file(path)
    with _open_zip(p) as archive:
        return _info(archive, str(p))


def read_qza(path: PathLike) -> ProfileTable | pd.DataFrame | PhyloTree:
    """Read a QIIME 2 artifact.

    Parameters
    ----------
    path
        A ``.qza`` of one of the types in :data:`READABLE_TYPES`.

    Returns
    -------
    ProfileTable
        For ``FeatureTable[Frequency]`` (kind ``counts``) and
        ``FeatureTable[RelativeFrequency]`` (kind ``relative``).
    pandas.DataFrame
        For ``FeatureData[Taxonomy]``: ranks ``kingdom`` .. ``species`` (SILVA's
        ``d__`` domain read as kingdom) and ``confidence``, see
        :func:`gutaxis.io.taxonomy.read_taxonomy`.
    PhyloTree
        For ``Phylogeny[Rooted]``.

    Raises
    ------
    InputError
        Not a zip, not an artifact (no ``<uuid>/metadata.yaml``), a type gutaxis does
        not read (with what to do instead), or a payload missing from ``data/``.

    References
    ----------
    Bolyen E, et al. Reproducible, interactive, scalable and extensible microbiome data
    science using QIIME 2. Nature Biotechnology 37:852-857 (2019).
    """
    return _read_qza(path)


def read_qza_table(path: PathLike) -> ProfileTable:
    """Read a ``FeatureTable[Frequency]`` or ``FeatureTable[RelativeFrequency]`` artifact.

    Parameters
    ----------
    path
        A QIIME 2 artifact (``.qza``) holding a feature table.
    """
    return cast(ProfileTable, _read_qza(path, wanted=tuple(_TABLE_KINDS), what="a feature table"))


def read_qza_taxonomy(path: PathLike) -> pd.DataFrame:
    """Read a ``FeatureData[Taxonomy]`` artifact (see :func:`read_qza`)."""
    taxonomy = _read_qza(path, wanted=("FeatureData[Taxonomy]",), what="a taxonomy")
    return cast(pd.DataFrame, taxonomy)


def read_qza_tree(path: PathLike) -> PhyloTree:
    """Read a ``Phylogeny[Rooted]`` artifact.

    Parameters
    ----------
    path
        A QIIME 2 artifact (``.qza``) holding a rooted phylogeny.
    """
    tree = _read_qza(path, wanted=("Phylogeny[Rooted]",), what="a rooted phylogeny")
    return cast(PhyloTree, tree)


# ----------------------------------------------------------------------------- helpers
def _read_qza(path: PathLike, *, wanted: tuple[str, ...] | None = None,
              what: str = "") -> ProfileTable | pd.DataFrame | PhyloTree:
    """:func:`read_qza`, refusing (before reading the payload) a type not in ``wanted``."""
    p = existing_file(path)
    source = str(p)
    with _open_zip(p) as archive:
        info = _info(archive, source)
        if info.type not in READABLE_TYPES:
            advice = _ADVICE.get(info.type)
            raise InputError(
                f"QIIME 2 artifact of type {info.type} is not read by gutaxis"
                + (f"; {advice}" if advice else ""),
                source=source, field="type", found=info.type,
                expected="one of " + ", ".join(READABLE_TYPES),
            )
        if wanted is not None and info.type not in wanted:
            raise InputError(f"artifact is not {what}", source=source, field="type",
                             found=info.type, expected=" or ".join(wanted))
        member = f"{info.root}/data/{READABLE_TYPES[info.type]}"
        if member not in archive.namelist():
            raise InputError("artifact payload missing", source=source, found=_listing(archive),
                             expected=member)
        payload = _read_member(archive, member, source)
    inner = f"{source}:{member}"
    if info.type in _TABLE_KINDS:
        return read_biom_bytes(payload, source=inner, kind=_TABLE_KINDS[info.type])
    text = _decode(payload, inner)
    if info.type == "FeatureData[Taxonomy]":
        return _taxonomy(text, inner)
    return parse_newick(text, source=inner)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise InputError("not a QIIME 2 artifact", source=str(path),
                         found=f"not a zip archive ({exc})",
                         expected="a .qza file (a zip made by QIIME 2)") from None


def _read_member(archive: zipfile.ZipFile, name: str, source: str) -> bytes:
    """The bytes of one file of the artifact; a damaged zip entry is an InputError."""
    try:
        return archive.read(name)
    except ZIP_ERRORS as exc:
        raise InputError("damaged QIIME 2 artifact", source=f"{source}:{name}",
                         found=f"{type(exc).__name__}: {exc}",
                         expected="a complete .qza file (was the copy cut short?)") from None


def _info(archive: zipfile.ZipFile, source: str) -> ArtifactInfo:
    names = archive.namelist()
    roots = sorted({n.split("/", 1)[0] for n in names if "/" in n})
    candidates = [r for r in roots if f"{r}/metadata.yaml" in names]
    if len(candidates) != 1:
        raise InputError("not a QIIME 2 artifact", source=source, found=_listing(archive),
                         expected="one folder <uuid>/ holding metadata.yaml, VERSION and data/")
    root = candidates[0]
    text = _decode(_read_member(archive, f"{root}/metadata.yaml", source),
                   f"{source}:{root}/metadata.yaml")
    fields = dict(re.findall(r"^(uuid|type|format):[ \t]*(.*?)[ \t]*$", text, flags=re.M))
    semantic = fields.get("type", "").strip("'\"")
    if not semantic:
        raise InputError("artifact metadata has no type", source=f"{source}:{root}/metadata.yaml",
                         field="type", expected="a semantic type such as FeatureTable[Frequency]")
    fmt = fields.get("format", "").strip("'\"") or None
    return ArtifactInfo(uuid=fields.get("uuid", root), type=semantic, format=fmt, root=root)


def _decode(payload: bytes, source: str) -> str:
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", source=source, expected="UTF-8 text") from None


def _taxonomy(text: str, source: str) -> pd.DataFrame:
    frame = read_string_table(StringIO(text), source=source, sep="\t")
    return taxonomy_from_frame(frame, source=source)


def _listing(archive: zipfile.ZipFile, limit: int = 5) -> str:
    return preview(archive.namelist(), limit) or "an empty zip"
