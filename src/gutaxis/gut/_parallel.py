"""The lock every parallel numba kernel of :mod:`gutaxis.gut` runs under."""

from __future__ import annotations

import threading

#: One parallel kernel at a time: numba's fallback "workqueue" threading layer (used
#: when neither OpenMP nor TBB is available) aborts the process when two Python threads
#: (e.g. web-app workers) launch parallel kernels together.
KERNEL_LOCK = threading.Lock()
