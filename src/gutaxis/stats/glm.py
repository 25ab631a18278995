"""Prevalence models: logistic regression and logistic mixed models for many features.

For every feature, presence (value > 0) is modelled on one shared design, as MaAsLin 3's
prevalence model does with ``glm(family = binomial)`` or ``lme4::glmer`` (Laplace,
random intercepts). All features are fitted together (batched IRLS / PIRLS).

- :func:`fit_logistic`: fixed effects only (:mod:`gutaxis.stats.glm_fixed`).
- :func:`fit_logistic_mixed`: with random intercepts (:mod:`gutaxis.stats.glm_mixed`).

Both return a :class:`LogisticFit` with coefficients, Wald standard errors, z and p
values per feature and term, plus convergence and separation flags and a message per
feature.
"""

from gutaxis.stats.glm_fixed import LogisticFit, fit_logistic
from gutaxis.stats.glm_mixed import fit_logistic_mixed

__all__ = ["LogisticFit", "fit_logistic", "fit_logistic_mixed"]
