"""PCoA of a stored distance matrix with matrix products only (randomised eigendecomposition).

For cohorts whose square matrix does not fit in memory: the leading eigenpairs of Gower's
centred matrix :math:`G = -\\tfrac12 J D^{(2)} J` come from a randomised subspace iteration
(Halko, Martinsson & Tropp 2011, algorithms 4.3/4.4 and 5.3; the idea of scikit-bio's and
QIIME 2's ``fsvd`` PCoA), in which :math:`G` is touched only through products
:math:`G X` with thin ``n x l`` matrices. Each product is one pass over the store, band by
band (:meth:`StoredDistances.matvec`, on a compute back-end), and the centring is implicit:
:math:`G X = -\\tfrac12 J (D^{(2)} (J X))`, with :math:`J Y = Y - \\bar Y` (column means).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from gutaxis.compute.backend import Backend
from gutaxis.errors import InputError
from gutaxis.gut.distance_store import StoredDistances
from gutaxis.gut.ordination import Ordination, ordination_from_eigenpairs

__all__ = ["pcoa_stored"]


def _gower_product(stored: StoredDistances, x: np.ndarray, backend: Backend | None
                   ) -> np.ndarray:
    """:math:`G X` without forming :math:`G` (one pass over the store)."""
    centred = x - x.mean(axis=0)
    product = stored.matvec(centred, squared=True, backend=backend)
    product -= product.mean(axis=0)
    product *= -0.5
    return product


def pcoa_stored(stored: StoredDistances, *, n_components: int = 10, oversample: int = 20,
                n_iter: int = 10, seed: int = 0, backend: Backend | None = None) -> Ordination:
    """Principal coordinates of a stored distance matrix, by randomised subspace iteration.

    Parameters
    ----------
    stored
        The distances (:func:`~gutaxis.gut.distance_store.distance_matrix_to_store`).
    n_components
        Axes wanted (the largest eigenvalues).
    oversample
        Extra directions carried along (``l = n_components + oversample``): more make the
        leading axes converge faster.
    n_iter
        Power (subspace) iterations; each is one pass over the store. Error of eigenvalue
        ``j`` shrinks like :math:`(\\lambda_{l+1} / \\lambda_j)^{2 n_{iter}}`.
    seed
        Seed of the random start (results are reproducible).
    backend
        Where the band products run (default: this process).

    Returns
    -------
    Ordination
        As :func:`gutaxis.gut.ordination.pcoa` with ``n_components``: eigenvalues
        descending (negative ones reported as 0 with their axes), coordinates
        :math:`U \\Lambda^{1/2}` signed so each axis's largest-magnitude coordinate is
        positive, proportions over the trace of :math:`G`
        (:math:`\\operatorname{tr} G = \\sum_{ij} d_{ij}^2 / 2n`, from the first pass).
        ``method`` is ``"PCoA (randomised)"``.

    Notes
    -----
    Cost: ``n_iter + 2`` passes over the store, each reading ``n^2`` values in bands of
    one chunk; memory: one band plus a few ``n x l`` matrices. Unlike the dense
    :func:`~gutaxis.gut.ordination.pcoa`, no warning is given for large negative
    eigenvalues (they are not computed).

    References
    ----------
    .. [1] Halko, N., Martinsson, P. G. & Tropp, J. A. (2011). Finding structure with
       randomness: probabilistic algorithms for constructing approximate matrix
       decompositions. SIAM Review 53, 217-288.
    .. [2] Gower, J. C. (1966). Some distance properties of latent root and vector
       methods used in multivariate analysis. Biometrika 53, 325-338.

    Examples
    --------
    >>> import scipy.sparse as sp, tempfile, pathlib
    >>> from gutaxis.data.profile import ProfileTable
    >>> from gutaxis.gut.distance_store import distance_matrix_to_store
    >>> t = ProfileTable(sp.csr_array([[1.0, 3, 0], [2, 0, 1], [1, 1, 1], [0, 2, 5]]),
    ...                  ["a", "b", "c", "d"], ["x", "y", "z"])
    >>> stored = distance_matrix_to_store(t, "aitchison",
    ...                                   pathlib.Path(tempfile.mkdtemp()) / "a.zarr")
    >>> pcoa_stored(stored, n_components=2, oversample=2).eigenvalues.round(4).tolist()
    [1.8692, 1.2615]
    """
    n = stored.n
    if n < 2:
        raise InputError("PCoA needs at least two samples", field="distances",
                         found=f"{n} sample(s)")
    k = int(n_components)
    if not 1 <= k <= n:
        raise InputError("n_components out of range", field="n_components",
                         found=n_components, expected=f"an integer from 1 to {n}")
    width = min(n, k + max(int(oversample), 0))
    rng = np.random.default_rng(seed)
    start = rng.standard_normal((n, width))
    # first pass: G @ start, and the row sums of D**2 (for the trace) in the same read
    first = stored.matvec(np.column_stack([start - start.mean(axis=0), np.ones(n)]),
                          squared=True, backend=backend)
    trace = float(first[:, -1].sum()) / (2.0 * n)
    product = -0.5 * (first[:, :-1] - first[:, :-1].mean(axis=0))
    basis, _ = scipy.linalg.qr(product, mode="economic")
    for _ in range(max(int(n_iter), 0)):
        basis, _ = scipy.linalg.qr(_gower_product(stored, basis, backend), mode="economic")
    images = _gower_product(stored, basis, backend)
    projected = basis.T @ images
    eigvals, small = scipy.linalg.eigh((projected + projected.T) / 2.0)
    order = np.argsort(eigvals)[::-1][:k]
    eigvals, eigvecs = eigvals[order], basis @ small[:, order]
    eigvals = np.where(np.isclose(eigvals, 0.0), 0.0, eigvals)
    return ordination_from_eigenpairs(eigvals, eigvecs, stored.ids, total=trace,
                                      metric=stored.metric, method="PCoA (randomised)")
