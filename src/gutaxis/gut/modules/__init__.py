"""Gut-brain and gut metabolic modules from KEGG-ortholog profiles.

:func:`module_profile` computes each module's abundance and coverage per sample as
Omixer-RPM does (Darzi et al. 2016); :func:`module_set` and :func:`module_sets` give the
shipped definitions: the gut-brain modules (GBMs, Valles-Colomer et al. 2019) and the gut
metabolic modules (GMMs, Vieira-Silva et al. 2016), with their source and licence.
"""

from gutaxis.gut.modules.definitions import (
    KO_PATTERN,
    ModuleDefinition,
    ModuleSet,
    ModuleSetInfo,
    module_set,
    module_sets,
    parse_omixer_definitions,
)
from gutaxis.gut.modules.inference import DEFAULT_COVERAGE, module_profile
from gutaxis.gut.modules.results import OUTPUT_FILES, TIDY_COLUMNS, ModuleProfile

__all__ = [
    "DEFAULT_COVERAGE",
    "KO_PATTERN",
    "OUTPUT_FILES",
    "TIDY_COLUMNS",
    "ModuleDefinition",
    "ModuleProfile",
    "ModuleSet",
    "ModuleSetInfo",
    "module_profile",
    "module_set",
    "module_sets",
    "parse_omixer_definitions",
]
