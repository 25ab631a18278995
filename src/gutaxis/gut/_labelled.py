"""The labelled shape of per-sample results: a Series indexed by ``sample_id``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gutaxis.data.profile import ProfileTable


def per_sample(table: ProfileTable, values: np.ndarray, metric: str) -> pd.Series:
    """One value per sample as a float64 Series indexed by ``sample_id``, named ``metric``.

    The shape every alpha metric returns (:mod:`gutaxis.gut.alpha`, and Faith's PD in
    :mod:`gutaxis.gut.phylogenetic`).
    """
    return pd.Series(np.asarray(values, dtype=np.float64),
                     index=pd.Index(table.sample_ids, name="sample_id"), name=metric)
