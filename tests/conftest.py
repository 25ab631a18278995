"""Shared test fixtures.

Real-data tests read the public cohorts in ``../shared/data`` (beside the clone) or in
``$GUTAXIS_SHARED_DATA``. Where the folder is absent they skip, except when
``GUTAXIS_REQUIRE_DATA=1`` (set by ``.ci/run``): then a missing cohort fails the run,
so a real-data test can never skip silently in CI.

Hypothesis: in CI (``CI=true``, as GitHub Actions and most CI services set it) the
``ci`` profile draws the same examples on every run (``derandomize``), so a red build
is a bug in the change, not a new draw; locally the ``dev`` profile explores new random
examples on every run and remembers failures in ``.hypothesis/``. ``HYPOTHESIS_PROFILE``
chooses one explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import settings

from gutaxis.data import Cohort, Measurements, ProfileTable
from gutaxis.instruments.record import record_from_answers, score_record

#: the clinic app's fixtures (clinic, sqlite_clinic, cast, postgres_url), for tests/app and
#: tests/browser; tests/app is on the path (pyproject's pythonpath), so tests import its helpers
pytest_plugins = ["clinic_fixtures"]

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev"))

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"


def shared_data_dir() -> Path:
    env = os.environ.get("GUTAXIS_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def _cohort_dir(name: str) -> Path:
    path = shared_data_dir() / name
    if not path.is_dir():
        message = f"real data {path} not found"
        if os.environ.get("GUTAXIS_REQUIRE_DATA") == "1":
            pytest.fail(message + " (GUTAXIS_REQUIRE_DATA=1: real-data tests must run)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def fibromyalgia_dir() -> Path:
    """``../shared/data/fibromyalgia``: 101 samples x 6,993 ASVs, taxonomy, tree."""
    return _cohort_dir("fibromyalgia")


@pytest.fixture(scope="session")
def hmp2_dir() -> Path:
    """``../shared/data/hmp2``: HMP2 species profiles with MaAsLin 2's expected results."""
    return _cohort_dir("hmp2")


@pytest.fixture(scope="module")
def dask_backend():
    """A real Dask LocalCluster of 2 worker processes (one per test module), for the
    tests that compare the Dask back-end with local runs."""
    from gutaxis.compute import DaskBackend

    backend = DaskBackend(n_workers=2, retries=2)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    """A real Dask LocalCluster of 2 worker processes (one per test module), for the
    commands run with ``--scheduler``."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def scheduler(dask_cluster: Any) -> str:
    """The address of the module's :func:`dask_cluster`."""
    return str(dask_cluster.scheduler_address)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Committed outputs of reference tools (R, scikit-bio), with the scripts that made them."""
    return REFERENCE


# The record tests (tests/data): the HMP2 cohort with an R-simulated pain diary.
class DiaryJoin(NamedTuple):
    """The HMP2 cohort (no record), the R-simulated pain diary as a record with sample
    links, and R data.table's rolling-join results (tests/reference/join)."""

    cohort: Cohort
    record: Measurements
    expected: pd.DataFrame


@pytest.fixture(scope="module")
def hmp2_pain_diary(hmp2_dir: Path, reference_dir: Path) -> DiaryJoin:
    t0 = pd.Timestamp("2024-01-01T00:00:00Z")
    folder = reference_dir / "join"
    diary = pd.read_csv(folder / "diary.tsv", sep="\t")
    expected = pd.read_csv(folder / "expected.tsv", sep="\t", index_col="sample_id")
    meta = pd.read_csv(hmp2_dir / "HMP2_metadata.tsv", sep="\t", index_col="ID")
    ids = [f"d{i}" for i in range(len(diary))]
    record = score_record(record_from_answers(
        administrations=pd.DataFrame({
            "administration_id": ids, "subject": diary["subject"],
            "time": t0 + pd.to_timedelta(diary["seconds"], unit="s"), "instrument": "nrs"}),
        responses=pd.DataFrame({"administration_id": ids, "item": "pain",
                                "answer": diary["pain"]}),
        samples=pd.DataFrame({
            "sample_id": meta.index, "subject": meta["subject"],
            "time": t0 + pd.to_timedelta(14 * (meta["collection"] - 1), unit="D")})))
    table = ProfileTable(sp.csr_array(np.ones((len(meta), 1))), meta.index.to_numpy(), ["f"])
    return DiaryJoin(Cohort(table, meta, subject_column="subject"), record, expected)


# --doctest-modules would also import every conftest.py as a module named "conftest";
# two of them in one run clash (tests/io and tests/fuzz). Their docstrings hold no examples.
collect_ignore_glob = ["*/conftest.py"]


# The functional tests (tests/analyze/test_mechanism.py, tests/cli/test_functional_tables_cli.py):
# 109 real HUMAnN2 KO profiles (tests/reference/omixer, see make_reference.sh there).
class KoStudy(NamedTuple):
    """The real KO table with metadata built from real information and a planted effect.

    ``series`` is the sample-name series of the published table (``C<n>_M`` names vs the
    ``H...`` names), stated as nothing more. ``crp`` and ``pain`` are simulated (seeded):
    ``crp = a x + e1``, ``pain = b crp + c x + e2`` with ``x`` the planted module's log2
    relative abundance (centred; TSS over the modules Omixer-RPM reports, zeros replaced by
    half the module's smallest positive value, as MaAsLin 2's LOG), ``e ~ N(0, 1)``.
    The effect mediated by CRP per doubling of the module is ``a * b``.
    """

    ko_path: Path
    metadata: pd.DataFrame
    modules: pd.DataFrame  # Omixer-RPM's GBM abundances (cut-off 0.66), samples x modules
    coverage: pd.DataFrame  # Omixer-RPM's GBM coverage, samples x modules
    log2_modules: pd.DataFrame  # log2 relative abundance as above, computed with pandas
    planted: str
    a: float
    b: float
    c: float


def _omixer(name: str) -> pd.DataFrame:
    path = REFERENCE / "omixer" / f"gbm-1.0_c0.66_{name}.tsv.gz"
    return pd.read_csv(path, sep="\t", index_col=0).T.sort_index()


@pytest.fixture(scope="session")
def ko_study() -> KoStudy:
    import re

    modules = _omixer("abundance")
    rel = modules.div(modules.sum(axis=1), axis=0)
    log2 = np.log2(rel.where(rel > 0, rel.where(rel > 0).min(axis=0) / 2, axis=1))
    planted, a, b, c = "MGB047", 1.5, 1.0, 0.5  # acetate degradation, present everywhere
    x = log2[planted] - log2[planted].mean()
    rng = np.random.default_rng(20261205)
    crp = a * x + rng.normal(0.0, 1.0, len(x))
    pain = b * crp + c * x + rng.normal(0.0, 1.0, len(x))
    series = ["C_M" if re.fullmatch(r"C\d+_M", s) else "H" for s in x.index]
    meta = pd.DataFrame({"series": series, "crp": crp, "pain": pain},
                        index=pd.Index(x.index, name="sample_id"))
    return KoStudy(REFERENCE / "omixer" / "indian_ko_modules.tsv.gz", meta, modules,
                   _omixer("coverage"), log2, planted, a, b, c)
