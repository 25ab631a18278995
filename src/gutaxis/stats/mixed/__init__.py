"""The parts shared by the linear and the logistic mixed models (random intercepts).

- :mod:`~gutaxis.stats.mixed.structure`: the grouping factors, validated and indexed once;
- :mod:`~gutaxis.stats.mixed.newton`: the batched modified-Newton step and backtracking.
"""
