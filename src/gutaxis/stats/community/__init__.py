"""Community-level tests on distance matrices: PERMANOVA (vegan's ``adonis2``), PERMDISP
(``betadisper``) and pairwise PERMANOVA with p-value correction."""

from gutaxis.stats.community.permanova import PermanovaResults, permanova

__all__ = ["PermanovaResults", "permanova"]
