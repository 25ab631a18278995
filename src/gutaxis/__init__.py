"""gutaxis: the gut-microbiome / musculoskeletal-pain research platform.

Measure the gut and pain, connect them with statistics, evaluate interventions.
"""

from importlib.metadata import PackageNotFoundError, version

from gutaxis.data import Cohort, PhyloTree, ProfileTable
from gutaxis.errors import GutaxisError, InputError

try:
    __version__ = version("gutaxis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["Cohort", "GutaxisError", "InputError", "PhyloTree", "ProfileTable", "__version__"]
