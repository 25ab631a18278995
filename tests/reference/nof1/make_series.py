"""Make the three series of the nlme reference fixture (run once; committed output)."""
import numpy as np
import pandas as pd

rng = np.random.default_rng(20261205)


def ar1(n, phi, sd):
    e = np.empty(n)
    e[0] = rng.normal(0, sd / np.sqrt(1 - phi**2))
    for t in range(1, n):
        e[t] = phi * e[t - 1] + rng.normal(0, sd)
    return e


rows = []
# 1: AB interrupted time series, 80 days, level -1.5, slope -0.02 per day, phi 0.4
t = np.arange(80.0)
b = (t >= 40).astype(float)
y = 6 + 0.01 * t - 1.5 * b - 0.02 * (t - 40) * b + ar1(80, 0.4, 1.0)
rows.append(pd.DataFrame({"series": "ab80", "time": t, "level": b, "slope": (t - 40) * b,
                          "y": y}))
# 2: ABAB, 112 days with 9 missing days (gaps), phi 0.5
t = np.arange(112.0)
phase = ((t // 28) % 2).astype(float)
start = (t // 28) * 28
y = 5 - 0.005 * t - 1.0 * phase + ar1(112, 0.5, 0.8)
keep = np.ones(112, bool)
keep[rng.choice(np.arange(1, 111), 9, replace=False)] = False
rows.append(pd.DataFrame({"series": "abab_gaps", "time": t, "level": phase,
                          "slope": (t - start) * phase, "y": y})[keep])
# 3: AB, 60 weeks, negative autocorrelation
t = np.arange(60.0)
b = (t >= 25).astype(float)
y = 4 - 0.8 * b + ar1(60, -0.3, 1.2)
rows.append(pd.DataFrame({"series": "ab60_neg", "time": t, "level": b, "slope": (t - 25) * b,
                          "y": y}))
pd.concat(rows).to_csv("series.csv", index=False, float_format="%.10g")
