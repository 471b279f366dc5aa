"""Gaussian smoothing of a recorded track in time, so that GPS noise does not count as walking.

A phone logging every second moves about 1.4 m between fixes while its position error wanders
by a metre or more from one fix to the next; summing the raw steps adds 5 to 20 % (and much
more while standing still). Each fix is replaced by the average of its neighbours weighted by
exp(-dt² / 2σ²) on the real timestamps, so irregular logging, watch auto-pauses and sparse
"smart recording" tracks (few neighbours within 3σ, hence little change) are handled alike.
At walking pace σ = 5 s spans about 7 m: corners move by a few metres, jitter mostly vanishes.
"""

from __future__ import annotations

import numpy as np

from routes.geodesy import FloatArray

# Neighbours considered on each side: a 1 Hz logger has 15 within 3σ = 15 s. The cap bounds
# the work on files whose clock stands still (thousands of fixes sharing one timestamp).
MAX_NEIGHBOURS = 64


def smooth_in_time(
    times_s: FloatArray, xs: FloatArray, ys: FloatArray, sigma_s: float
) -> tuple[FloatArray, FloatArray]:
    """Gaussian-weighted average of each point with its neighbours within 3σ in time.

    `times_s` must be non-decreasing; `xs`, `ys` are metric coordinates (a local projection).
    The first and last point are kept as they are.
    """
    n = len(times_s)
    if sigma_s <= 0 or n < 3:
        return xs.copy(), ys.copy()
    weight = np.ones(n)
    sum_x, sum_y = xs.copy(), ys.copy()
    for k in range(1, min(_neighbours(times_s, 3 * sigma_s), MAX_NEIGHBOURS) + 1):
        dt = times_s[k:] - times_s[:-k]
        w = np.where(dt <= 3 * sigma_s, np.exp(-0.5 * (dt / sigma_s) ** 2), 0.0)
        weight[:-k] += w
        weight[k:] += w
        sum_x[:-k] += w * xs[k:]
        sum_x[k:] += w * xs[:-k]
        sum_y[:-k] += w * ys[k:]
        sum_y[k:] += w * ys[:-k]
    xs_out, ys_out = sum_x / weight, sum_y / weight
    # A one-sided average would pull the first and last fix inward and shorten every track
    # by about 1.6·v·σ (10 m at walking pace, 80 m on a bike); they stay where they are.
    xs_out[[0, -1]], ys_out[[0, -1]] = xs[[0, -1]], ys[[0, -1]]
    return xs_out, ys_out


def _neighbours(times_s: FloatArray, reach_s: float) -> int:
    """The largest number of later points within `reach_s` of any point."""
    upto = np.searchsorted(times_s, times_s + reach_s, side="right")
    return int((upto - np.arange(len(times_s))).max()) - 1
