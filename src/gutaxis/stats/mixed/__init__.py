"""The core shared by the linear and the logistic mixed models (random intercepts).

- :mod:`~gutaxis.stats.mixed.structure`: the grouping factors, validated and indexed once;
- :mod:`~gutaxis.stats.mixed.solve`: the Schur-complement solve of the mixed-model
  equations (the factor with most levels eliminated through its diagonal block);
- :mod:`~gutaxis.stats.mixed.newton`: the batched modified-Newton step and backtracking;
- :mod:`~gutaxis.stats.mixed.reml`: the profiled REML/ML criterion of the linear model
  and its analytic derivatives;
- :mod:`~gutaxis.stats.mixed.search`: the linear model's search of the variance ratios;
- :mod:`~gutaxis.stats.mixed.lme4_replay`: lme4's BOBYQA stopping rule, replayed;
- :mod:`~gutaxis.stats.mixed.laplace`: the logistic model's compiled PIRLS and Laplace
  deviance with its exact gradient.
"""
