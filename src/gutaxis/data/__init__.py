"""The data that flows through gutaxis: tables, cohorts, trees."""

from gutaxis.data.cohort import Cohort
from gutaxis.data.profile import RANKS, ProfileTable, ValueKind
from gutaxis.data.tree import PhyloTree

__all__ = ["RANKS", "Cohort", "PhyloTree", "ProfileTable", "ValueKind"]
