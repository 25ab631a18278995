"""gutaxis.simulate: synthetic cohorts with planted, known links, from a fitted real template.

:func:`simulate_cohort` draws a microbiome (zero-inflated log-normal taxa with a Gaussian
copula, SparseDOSSA 2-style, depth from the template, multinomial reads) and the clinical
variables around it (pain, fibre, CRP, age, sex, BMI, visits, daily diaries) with planted
effects whose values are returned as the truth.
"""

from gutaxis.simulate.cohort import SimulatedCohort, simulate_cohort
from gutaxis.simulate.template import SimulationTemplate, fit_template, load_template

__all__ = ["SimulatedCohort", "SimulationTemplate", "fit_template", "load_template",
           "simulate_cohort"]
