"""The models fitted for many responses at once, each returning per-response arrays and a
:class:`~gutaxis.stats.results.FitResults` through ``results()``:

- :mod:`~gutaxis.stats.models.linear`: ordinary least squares (:func:`fit_ols`);
- :mod:`~gutaxis.stats.models.linear_mixed`: random-intercept linear mixed models, REML
  with Satterthwaite df (:func:`fit_lmm`);
- :mod:`~gutaxis.stats.models.logistic`: fixed-effect logistic regression
  (:func:`fit_logistic`);
- :mod:`~gutaxis.stats.models.logistic_mixed`: random-intercept logistic mixed models,
  Laplace (:func:`fit_logistic_mixed`);
- :mod:`~gutaxis.stats.models.conditional_logistic`: conditional logistic regression for
  matched strata, Breslow or exact (:func:`fit_conditional_logistic`);
- :mod:`~gutaxis.stats.models.separation`: which logistic coefficients are separated
  (unbounded likelihood), per term, by linear programming (:func:`separated_terms`).

The two mixed models stand on one core, :mod:`gutaxis.stats.mixed`.
"""
