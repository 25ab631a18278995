"""The data that flows through gutaxis: tables, cohorts, trees, the longitudinal record."""

from gutaxis.data.cohort import Cohort
from gutaxis.data.measurements import Measurements
from gutaxis.data.profile import RANKS, ProfileTable, ValueKind
from gutaxis.data.tree import PhyloTree

__all__ = ["RANKS", "Cohort", "Measurements", "PhyloTree", "ProfileTable", "ValueKind"]
