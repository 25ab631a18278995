"""gutaxis.evidence: curated, sourced trial data on probiotics and pain, and what can be pooled.

:func:`load_evidence` reads the versioned table shipped with gutaxis (every number with its
source); :func:`plan_pooling` decides, per condition and outcome, what can honestly be pooled
and says why not where it cannot; :func:`pool_evidence` (in :mod:`gutaxis.evidence.pooling`)
pools the poolable groups with :mod:`gutaxis.stats.meta`.
"""

from gutaxis.evidence.decisions import (
    ContrastVerdict,
    PoolingDecision,
    PoolingPlan,
    StudyInput,
    plan_pooling,
)
from gutaxis.evidence.listing import EvidenceListing, evidence_listing
from gutaxis.evidence.pooling import PooledEvidence, PooledGroup, pool_evidence
from gutaxis.evidence.table import (
    CONDITIONS,
    EVIDENCE_VERSION,
    OUTCOMES,
    EvidenceTable,
    load_evidence,
)

__all__ = [
    "CONDITIONS",
    "EVIDENCE_VERSION",
    "OUTCOMES",
    "ContrastVerdict",
    "EvidenceListing",
    "EvidenceTable",
    "PooledEvidence",
    "PooledGroup",
    "PoolingDecision",
    "PoolingPlan",
    "StudyInput",
    "evidence_listing",
    "load_evidence",
    "plan_pooling",
    "pool_evidence",
]
