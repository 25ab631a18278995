"""Community-level tests on distance matrices: PERMANOVA (vegan's ``adonis2``), PERMDISP
(``betadisper``) and pairwise PERMANOVA with p-value correction."""

from gutaxis.stats.community.pairwise import PairwiseResults, pairwise_permanova
from gutaxis.stats.community.permanova import PermanovaResults, permanova
from gutaxis.stats.community.permdisp import PermdispResults, permdisp

__all__ = ["PairwiseResults", "PermanovaResults", "PermdispResults", "pairwise_permanova",
           "permanova", "permdisp"]
