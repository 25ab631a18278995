"""One results object for every per-response regression fit (LM, LMM, logistic GLM/GLMM).

The fitting engines return bare arrays for speed (:class:`~gutaxis.stats.models.linear.OLSFit`,
:class:`~gutaxis.stats.models.linear_mixed.MixedModelFit`,
:class:`~gutaxis.stats.models.logistic.LogisticFit`);
their ``results(terms=..., responses=...)`` method wraps them in a :class:`FitResults` that
knows its model and term names, with the same fields whatever the model (``statistic`` is
t or z, ``df`` is infinite for Wald z tests), status as boolean arrays, ``conf_int()``,
``to_frame()`` and one ``summary()`` that renders as text and HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from gutaxis.errors import InputError

FRAME_COLUMNS = ("response", "term", "coef", "stderr", "statistic", "df", "pvalue",
                 "ci_lower", "ci_upper", "converged", "singular", "separated", "message")
"""Columns of :meth:`FitResults.to_frame`, in order."""


@dataclass(frozen=True, eq=False)
class FitResults:
    """Estimates of one model fitted to ``m`` responses with ``p`` terms.

    Attributes
    ----------
    model
        What was fitted, in words (e.g. ``"LMM (REML, Satterthwaite df)"``).
    terms, responses
        The ``p`` term and ``m`` response names.
    coef, stderr, statistic, df, pvalue
        ``(m, p)``. ``statistic`` is ``coef / stderr``, a t statistic with ``df`` degrees
        of freedom, or a Wald z statistic with ``df = inf``; ``pvalue`` is two-sided.
    statistic_name
        ``"t"`` or ``"z"``.
    converged, singular, separated
        ``(m,)`` booleans: the fit converged; a variance component is (numerically) zero;
        the outcomes are separated in some term (no maximum-likelihood estimate; with
        augmentation the estimates are kept).
    messages
        ``m`` strings, ``""`` for a clean fit, else the reason in words (for people).
    separated_terms
        ``(m, p)`` booleans: which terms are separated (their coefficients are unbounded in
        the likelihood), or ``None`` when the model says so per response only (then every
        term of a ``separated`` response counts; see :meth:`separated_by_term`).
    """

    model: str
    terms: tuple[str, ...]
    responses: tuple[str, ...]
    coef: np.ndarray
    stderr: np.ndarray
    statistic: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    statistic_name: Literal["t", "z"]
    converged: np.ndarray
    singular: np.ndarray
    separated: np.ndarray
    messages: tuple[str, ...]
    separated_terms: np.ndarray | None = None

    def __post_init__(self) -> None:
        shape = (len(self.responses), len(self.terms))
        for name in ("coef", "stderr", "statistic", "df", "pvalue"):
            if np.shape(getattr(self, name)) != shape:
                raise InputError("results arrays do not match the names", field=name,
                                 found=np.shape(getattr(self, name)),
                                 expected=f"{shape} (responses x terms)")
        for name in ("converged", "singular", "separated", "messages"):
            if len(getattr(self, name)) != shape[0]:
                raise InputError("results flags do not match the responses", field=name,
                                 found=len(getattr(self, name)),
                                 expected=f"{shape[0]} (one per response)")
        if self.separated_terms is not None and np.shape(self.separated_terms) != shape:
            raise InputError("results arrays do not match the names", field="separated_terms",
                             found=np.shape(self.separated_terms),
                             expected=f"{shape} (responses x terms)")

    @classmethod
    def from_arrays(
        cls, model: str, *, terms: Sequence[str], responses: Sequence[str] | None = None,
        coef: np.ndarray, stderr: np.ndarray, statistic: np.ndarray, df: np.ndarray | float,
        pvalue: np.ndarray, statistic_name: Literal["t", "z"], messages: Sequence[str],
        converged: np.ndarray | None = None, singular: np.ndarray | None = None,
        separated: np.ndarray | None = None, separated_terms: np.ndarray | None = None,
    ) -> FitResults:
        """Build from a fit's arrays; ``df`` broadcasts (per response or a scalar), missing
        flags are False (``converged``: True where every estimate is finite).

        Parameters
        ----------
        model, terms, coef, stderr, statistic, df, pvalue, statistic_name, messages
            As the attributes of the same names.
        responses, converged, singular, separated, separated_terms
            As the attributes of the same names; by default ``"0"``, ``"1"``, ... and the
            flags as said above (``separated``: any of ``separated_terms`` when given).
        """
        coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        m, p = coef.shape
        names = tuple(str(r) for r in responses) if responses is not None \
            else tuple(str(i) for i in range(m))
        dfs = np.asarray(df, dtype=np.float64)
        dfs = np.broadcast_to(dfs[:, None] if dfs.ndim == 1 else dfs, (m, p)).copy()
        no = np.zeros(m, dtype=bool)
        return cls(
            model=model, terms=tuple(str(t) for t in terms), responses=names, coef=coef,
            stderr=np.atleast_2d(stderr), statistic=np.atleast_2d(statistic), df=dfs,
            pvalue=np.atleast_2d(pvalue), statistic_name=statistic_name,
            converged=np.isfinite(coef).all(axis=1) if converged is None
            else np.asarray(converged, dtype=bool),
            singular=no if singular is None else np.asarray(singular, dtype=bool),
            separated=_any_separated(separated, separated_terms, no),
            messages=tuple(messages),
            separated_terms=None if separated_terms is None
            else np.asarray(separated_terms, dtype=bool))

    def separated_by_term(self) -> np.ndarray:
        """``(m, p)`` booleans: :attr:`separated_terms`, or where the model gave none,
        every term of a ``separated`` response."""
        if self.separated_terms is not None:
            return np.asarray(self.separated_terms, dtype=bool)
        shape = (len(self.responses), len(self.terms))
        return np.broadcast_to(np.asarray(self.separated, dtype=bool)[:, None], shape).copy()

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """``(m, p, 2)`` two-sided ``1 - alpha`` intervals ``coef -/+ q stderr``.

        ``q`` is the ``1 - alpha / 2`` quantile of Student's t with ``df`` (the normal
        quantile where ``df`` is infinite): R's ``confint.default`` for Wald z tests, the
        Satterthwaite interval of ``lmerTest`` for mixed models.

        Parameters
        ----------
        alpha
            One minus the coverage: ``0.05`` gives 95% intervals.
        """
        if not 0 < alpha < 1:
            raise InputError("alpha must lie in (0, 1)", field="alpha", found=alpha,
                             expected="e.g. 0.05 for 95% intervals")
        low, high = wald_interval(self.coef, self.stderr, self.df, level=1.0 - alpha)
        return np.stack([low, high], axis=-1)

    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per response and term, columns :data:`FRAME_COLUMNS`.

        ``separated`` is per row (:attr:`separated_terms`); the other flags and the message
        are the response's.

        Parameters
        ----------
        alpha
            One minus the coverage of the ``ci_lower``/``ci_upper`` columns.
        """
        m, p = self.coef.shape
        ci = self.conf_int(alpha)
        per_response = np.repeat(np.arange(m), p)
        return pd.DataFrame({
            "response": np.asarray(self.responses, dtype=object)[per_response],
            "term": np.tile(np.asarray(self.terms, dtype=object), m),
            "coef": self.coef.ravel(), "stderr": self.stderr.ravel(),
            "statistic": self.statistic.ravel(), "df": self.df.ravel(),
            "pvalue": self.pvalue.ravel(), "ci_lower": ci[..., 0].ravel(),
            "ci_upper": ci[..., 1].ravel(),
            "converged": self.converged[per_response], "singular": self.singular[per_response],
            "separated": self.separated_by_term().ravel(),
            "message": np.asarray(self.messages, dtype=object)[per_response],
        }, columns=list(FRAME_COLUMNS))

    def summary(self, alpha: float = 0.05) -> FitSummary:
        """The coefficient table with a header; ``str()`` is text, notebooks show HTML.

        Parameters
        ----------
        alpha
            One minus the coverage of the confidence intervals shown.
        """
        return FitSummary(self, alpha)


@dataclass(frozen=True, eq=False)
class FitSummary:
    """Text and HTML renderings of one :class:`FitResults` (built from one table)."""

    results: FitResults
    alpha: float = 0.05

    def header(self) -> list[str]:
        r = self.results
        flags = {name: int(getattr(r, name).sum())
                 for name in ("converged", "singular", "separated")}
        return [r.model, f"{len(r.responses)} response(s) x {len(r.terms)} term(s); "
                f"{flags['converged']} converged, {flags['singular']} singular, "
                f"{flags['separated']} separated "
                f"({int(r.separated_by_term().sum())} separated term(s))"]

    def table(self) -> pd.DataFrame:
        level = f"{100 * (1 - self.alpha):g}%"
        frame = self.results.to_frame(self.alpha).rename(columns={
            "statistic": self.results.statistic_name, "ci_lower": f"{level} lower",
            "ci_upper": f"{level} upper"})
        return frame.set_index(["response", "term"])

    def as_text(self) -> str:
        return "\n".join([*self.header(), self.table().to_string(float_format="{:.6g}".format)])

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        head = "".join(f"<p>{html.escape(line)}</p>" for line in self.header())
        return head + self.table().to_html(float_format="{:.6g}".format)


def _any_separated(separated: np.ndarray | None, separated_terms: np.ndarray | None,
                   default: np.ndarray) -> np.ndarray:
    """Per-response ``separated``: as given, else any separated term, else ``default``."""
    if separated is not None:
        return np.asarray(separated, dtype=bool)
    if separated_terms is not None:
        return np.asarray(np.asarray(separated_terms, dtype=bool).any(axis=1))
    return default


def wald_interval(coef: np.ndarray, stderr: np.ndarray, df: np.ndarray, *,
                  level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Wald interval ``coef -/+ q stderr`` at coverage ``level``.

    ``q`` is Student's t quantile with ``df`` where ``df`` is finite and positive
    (residual df of an LM, Satterthwaite df of an LMM), else the standard normal's
    (Wald z: logistic fits, whose ``df`` is infinite or ``NaN``). Arrays broadcast.
    """
    coef = np.asarray(coef, dtype=np.float64)
    se = np.asarray(stderr, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    upper_tail = 0.5 + level / 2.0
    has_df = np.isfinite(df) & (df > 0)
    q = np.where(has_df, stats.t.ppf(upper_tail, np.where(has_df, df, 1.0)),
                 stats.norm.ppf(upper_tail))
    return coef - q * se, coef + q * se
