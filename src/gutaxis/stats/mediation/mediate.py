"""Causal mediation analysis: exposure -> mediator(s) -> outcome, with covariates."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from gutaxis.compute import Backend
from gutaxis.compute.batches import map_row_batches
from gutaxis.errors import InputError
from gutaxis.stats.mediation._fit import (
    logistic_covariance,
    ols_covariance,
    weighted_logistic,
    weighted_ols,
)
from gutaxis.stats.mediation.data import MediationData, VariableType, mediation_data
from gutaxis.stats.mediation.effects import (
    Coefficients,
    all_effects,
    mediator_design,
    outcome_design,
)
from gutaxis.stats.mediation.intervals import (
    CiMethod,
    bca_interval,
    percentile_interval,
    replicate_pvalue,
)
from gutaxis.stats.mediation.results import EFFECT_COLUMNS, MediationResults

Method = Literal["boot", "quasi-bayes"]
Progress = Callable[[int, int], None]

#: Bootstrap replicates refitted together (one progress step each).
BATCH = 250


def bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_boot, n)`` row counts of ``n_boot`` bootstrap samples (from an index matrix)."""
    index = rng.integers(0, n, size=(n_boot, n))
    offset = (index + n * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(offset, minlength=n_boot * n).reshape(n_boot, n).astype(float)


def jackknife_weights(n: int) -> np.ndarray:
    """``(n, n)`` weights leaving out one row each."""
    return 1.0 - np.eye(n)


def _fit_one(weights: np.ndarray, X: np.ndarray, y: np.ndarray, binary: bool
             ) -> tuple[np.ndarray, np.ndarray]:
    if binary:
        return weighted_logistic(weights, X, y), np.full(weights.shape[0], np.nan)
    coef, sigma = weighted_ols(weights, X, y[:, None])
    return coef[:, :, 0], sigma[:, 0]


def fit_coefficients(weights: np.ndarray, data: MediationData, *, serial: bool
                     ) -> Coefficients:
    """Every model refitted under each row of ``weights`` (``(R, n)``)."""
    mediators, sigmas = [], []
    for j, binary in enumerate(data.binary_mediators):
        coef, sigma = _fit_one(weights, mediator_design(data, j, serial=serial),
                               data.mediators[:, j], binary)
        mediators.append(coef)
        sigmas.append(sigma)
    outcome, _ = _fit_one(weights, outcome_design(data), data.outcome, data.binary_outcome)
    return Coefficients(tuple(mediators), outcome, np.column_stack(sigmas))


def point_coefficients(data: MediationData, *, serial: bool) -> Coefficients:
    """The fits on the data as given (least squares by QR for the linear models)."""

    def fit(X: np.ndarray, y: np.ndarray, binary: bool) -> tuple[np.ndarray, float]:
        if binary:
            coef = weighted_logistic(np.ones((1, data.n)), X, y)[0]
            if not np.isfinite(coef).all():
                raise InputError("a logistic model did not converge (complete "
                                 "separation?)", field="outcome",
                                 expected="classes that overlap given the predictors")
            return coef, np.nan
        coef = np.linalg.lstsq(X, y, rcond=None)[0]
        resid = y - X @ coef
        return coef, float(np.sqrt(resid @ resid / (data.n - X.shape[1])))

    fits = [fit(mediator_design(data, j, serial=serial), data.mediators[:, j], binary)
            for j, binary in enumerate(data.binary_mediators)]
    outcome, _ = fit(outcome_design(data), data.outcome, data.binary_outcome)
    return Coefficients(tuple(c[None, :] for c, _ in fits), outcome[None, :],
                        np.array([[s for _, s in fits]]))


def _check_rank(data: MediationData, *, serial: bool) -> None:
    designs = {"outcome": outcome_design(data)}
    designs.update({name: mediator_design(data, j, serial=serial)
                    for j, name in enumerate(data.mediator_names)})
    for name, X in designs.items():
        if np.linalg.matrix_rank(X) < X.shape[1]:
            raise InputError("the model's predictors are collinear", field=name,
                             found="a column that is a combination of others (a mediator "
                             "equal to the exposure or a covariate?)",
                             expected="predictors that are not linear combinations")


def quasi_bayes_coefficients(point: Coefficients, data: MediationData, *, serial: bool,
                             n_draws: int, rng: np.random.Generator) -> Coefficients:
    """Coefficients drawn from their asymptotic normal (R ``mediation``'s default).

    Each model's coefficients are drawn from :math:`N(\\hat\\beta, \\hat V)` with
    ``vcov`` of ``lm`` or of the binomial ``glm``; residual standard deviations are kept
    at their estimates, as R ``mediation`` does.
    """
    def draws(coef: np.ndarray, X: np.ndarray, sigma: float, binary: bool) -> np.ndarray:
        cov = logistic_covariance(X, coef) if binary else ols_covariance(X, sigma)
        return rng.multivariate_normal(coef, cov, size=n_draws, method="cholesky")

    mediators = tuple(
        draws(point.mediators[j][0], mediator_design(data, j, serial=serial),
              float(point.sigma[0, j]), binary)
        for j, binary in enumerate(data.binary_mediators))
    y_coef = point.outcome[0]
    y_X = outcome_design(data)
    if data.binary_outcome:
        outcome = draws(y_coef, y_X, np.nan, True)
    else:
        resid = data.outcome - y_X @ y_coef
        sigma = float(np.sqrt(resid @ resid / (data.n - y_X.shape[1])))
        outcome = draws(y_coef, y_X, sigma, False)
    return Coefficients(mediators, outcome, np.repeat(point.sigma, n_draws, axis=0))


def _path_table(point: Coefficients, data: MediationData, exposure: str, outcome: str,
                *, serial: bool) -> pd.DataFrame:
    rows = []
    names = data.mediator_names
    for j, name in enumerate(names):
        kind = "logistic" if data.binary_mediators[j] else "linear"
        rows.append((exposure, name, float(point.mediators[j][0, 1]), kind))
        if serial:
            rows += [(names[i], name, float(point.mediators[j][0, 2 + i]), kind)
                     for i in range(j)]
    kind = "logistic" if data.binary_outcome else "linear"
    rows += [(name, outcome, float(point.outcome[0, 2 + j]), kind)
             for j, name in enumerate(names)]
    rows.append((exposure, outcome, float(point.outcome[0, 1]), kind))
    return pd.DataFrame(rows, columns=["source", "target", "coefficient", "model"])


def _replicates(data: MediationData, point: Coefficients, *, serial: bool, method: Method,
                n_draws: int, rng: np.random.Generator, progress: Progress | None,
                backend: Backend | None = None) -> dict[str, np.ndarray]:
    if method == "quasi-bayes":
        coef = quasi_bayes_coefficients(point, data, serial=serial, n_draws=n_draws, rng=rng)
        out = all_effects(coef, data, serial=serial)
        if progress is not None:
            progress(n_draws, n_draws)
        return out
    weights = bootstrap_weights(data.n, n_draws, rng)
    parts: list[dict[str, np.ndarray]] = []
    if backend is None:
        for start in range(0, n_draws, BATCH):
            parts.append(bootstrap_effects(weights[start:start + BATCH], data, serial=serial))
            if progress is not None:
                progress(min(start + BATCH, n_draws), n_draws)
    else:
        parts = map_row_batches(backend, bootstrap_effects, weights, backend.share(data),
                                serial=serial, batch=BATCH, step="mediation bootstrap")
        if progress is not None:
            progress(n_draws, n_draws)
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def bootstrap_effects(weights: np.ndarray, data: MediationData, *, serial: bool
                      ) -> dict[str, np.ndarray]:
    """The effects of the bootstrap replicates ``weights`` (``(R, n)`` row counts)."""
    return all_effects(fit_coefficients(weights, data, serial=serial), data, serial=serial)


def mediate(metadata: pd.DataFrame, *, exposure: str, mediators: Sequence[str], outcome: str,
            covariates: Sequence[str] = (), serial: bool = False, treated: str | None = None,
            control_value: float = 0.0, treated_value: float = 1.0,
            outcome_codes: Mapping[str, float] | None = None,
            outcome_type: VariableType = "auto", mediator_type: VariableType = "auto",
            method: Method = "boot", ci: CiMethod = "percentile", n_draws: int = 2000,
            level: float = 0.95, seed: int | None = None, source: str | None = None,
            progress: Progress | None = None, backend: Backend | None = None
            ) -> MediationResults:
    """Average causal mediation effects of an exposure on an outcome through mediators.

    Parameters
    ----------
    metadata
        One row per sample with the exposure, mediator, outcome and covariate columns.
    exposure
        Column of the exposure: numeric (``control_value`` vs ``treated_value``) or with
        two levels (``treated`` vs the other).
    mediators
        One column, several in parallel, or (``serial=True``) a chain in causal order.
    outcome
        Column of the outcome; 0/1 (or ``outcome_type="binary"``) is modelled by
        logistic regression and effects are on the probability scale.
    covariates
        Columns adjusted for in every model (categorical ones dummy-coded).
    serial
        The mediators form a chain ``M_1 -> M_2 -> ...`` (each model has the earlier
        mediators); default parallel.
    treated
        Treated level of a two-level exposure (default: the later level in sorted order,
        said in ``notes``).
    control_value, treated_value
        Exposure values compared for a numeric exposure (R ``mediation``'s
        ``control.value``, ``treat.value``).
    outcome_codes
        Numbers for an outcome given as labels, e.g. ``{"ctl": 0, "fbm": 1}``.
    outcome_type, mediator_type
        ``"auto"``, ``"continuous"`` or ``"binary"``.
    method
        ``"boot"`` (nonparametric bootstrap, every model refitted) or ``"quasi-bayes"``
        (coefficients drawn from their asymptotic normal, R ``mediation``'s default).
    ci
        ``"percentile"`` or ``"bca"`` (bootstrap only).
    n_draws
        Bootstrap replicates or simulation draws.
    level
        Confidence level.
    seed
        Seed of the random generator (results are reproducible given it).
    source
        The metadata file, named in errors.
    progress
        Called with ``(done, total)`` after each batch of replicates (with a ``backend``:
        once, at the end).
    backend
        Where the bootstrap refits run (:mod:`gutaxis.compute`): ``None`` (default) here;
        a back-end runs whole batches of replicates as tasks (the data sent once). The
        replicates are drawn here first, and the tasks cut them at the same batches:
        the estimates and intervals are those of a local run with the same ``seed``.
        The quasi-Bayesian draws are cheap and always run here.

    Returns
    -------
    MediationResults
        Effects ``acme_control``, ``acme_treated``, ``acme`` (their average), the same
        for ``ade``, ``total``, ``prop_mediated_control/treated`` and ``prop_mediated``;
        with several mediators also ``acme[m]`` per mediator (parallel) or per path
        ``acme[m1>m2]`` (serial).

    Notes
    -----
    Linear models: ACME is the sum over indirect paths of the products of path
    coefficients, :math:`a b` for one mediator, :math:`a_1 b_1 + a_1 d_{21} b_2 + a_2 b_2`
    for a chain of two; ADE is the exposure's coefficient in the outcome model and total
    = ACME + ADE (equal to lavaan's ``:=`` products; ``tests/reference/mediation``).
    A binary mediator or outcome (one mediator): the counterfactual definitions of Imai,
    Keele & Tingley (2010), see
    :func:`gutaxis.stats.mediation.effects.counterfactual_effects`. Intervals are
    percentile (or BCa) over the replicates; p-values ``2 min(#>0, #<0) / R`` as R
    ``mediation``. Assumes sequential ignorability; see
    :func:`mediation_sensitivity`.

    References
    ----------
    Imai K, Keele L, Tingley D (2010). A general approach to causal mediation analysis.
    Psychological Methods 15:309-334. Tingley D et al. (2014). mediation: R package for
    causal mediation analysis. J Stat Softw 59(5).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.repeat([0.0, 1.0], 50)
    >>> m = 0.5 * t + rng.normal(size=100)
    >>> frame = pd.DataFrame({"t": t, "m": m, "y": 0.8 * m + rng.normal(size=100)})
    >>> res = mediate(frame, exposure="t", mediators=["m"], outcome="y", n_draws=200, seed=1)
    >>> round(res.estimate("acme"), 3)
    0.344
    >>> list(res.to_frame().columns)
    ['effect', 'estimate', 'ci_low', 'ci_high', 'pval']
    """
    if method not in ("boot", "quasi-bayes"):
        raise InputError("unknown mediation method", field="method", found=method,
                         expected="boot or quasi-bayes")
    if ci not in ("percentile", "bca"):
        raise InputError("unknown interval", field="ci", found=ci, expected="percentile or bca")
    if ci == "bca" and method != "boot":
        raise InputError("BCa intervals need the bootstrap", field="ci", found=ci,
                         expected="percentile with quasi-bayes")
    if n_draws < 10:
        raise InputError("too few replicates", field="n_draws", found=n_draws,
                         expected="at least 10 (1000 or more for a 95% interval)")
    data = mediation_data(metadata, exposure=exposure, mediators=mediators, outcome=outcome,
                          covariates=covariates, treated=treated, control_value=control_value,
                          treated_value=treated_value, outcome_codes=outcome_codes,
                          outcome_type=outcome_type, mediator_type=mediator_type,
                          source=source)
    binary = data.binary_outcome or any(data.binary_mediators)
    if binary and len(data.mediator_names) > 1:
        raise InputError("a binary mediator or outcome needs a single mediator",
                         field="mediators", found=", ".join(data.mediator_names),
                         expected="one mediator (several need linear models)")
    _check_rank(data, serial=serial)
    point = point_coefficients(data, serial=serial)
    estimates = all_effects(point, data, serial=serial)
    rng = np.random.default_rng(seed)
    reps = _replicates(data, point, serial=serial, method=method, n_draws=n_draws, rng=rng,
                       progress=progress, backend=backend)
    names = list(estimates)
    est = np.array([estimates[k][0] for k in names])
    matrix = np.column_stack([reps[k] for k in names])
    if ci == "bca":
        jack = all_effects(fit_coefficients(jackknife_weights(data.n), data, serial=serial),
                           data, serial=serial)
        low, high = bca_interval(matrix, est, np.column_stack([jack[k] for k in names]),
                                 level=level)
    else:
        low, high = percentile_interval(matrix, level=level)
    failed = int(np.sum(~np.isfinite(matrix).all(axis=1)))
    notes = list(data.notes)
    if failed:
        notes.append(f"{failed} of {n_draws} replicates failed to fit (separation) and "
                     "were left out")
    effects = pd.DataFrame(dict(zip(EFFECT_COLUMNS, (names, est, low, high,
                                                     replicate_pvalue(matrix, est)),
                                    strict=True)))
    return MediationResults(
        effects=effects,
        paths=_path_table(point, data, exposure, outcome, serial=serial),
        exposure=exposure, mediators=data.mediator_names, outcome=outcome,
        covariates=data.covariate_names, serial=serial and len(data.mediator_names) > 1,
        treated=data.treated_label, control=data.control_label, method=method, ci=ci,
        n_draws=n_draws, level=level, seed=seed, n=data.n, notes=tuple(notes))
