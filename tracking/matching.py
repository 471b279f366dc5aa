"""Matching fixes to a route, many at once: progress in metres, with each walker's past as a guide.

Routes pass the same place twice (start and finish, shared valleys, out-and-back stretches),
so a fix is searched only where its walker can be: from a little behind their last progress to
as far as a fast walker gets in the time since (`windows`). `match_windows` then finds, for
every fix of a batch at once, the nearest point of the route inside its own window: the
segments of all windows are gathered into one padded numpy array (windows of similar size
together), projected onto, and reduced row by row. No Python runs per fix. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np

from routes.geodesy import FloatArray
from routes.prepared import TIE_TOLERANCE_M, PreparedRoute, RouteMatch

BEHIND_SLACK_M = 40.0
AHEAD_SLACK_M = 80.0
TYPICAL_PACE_MPS = 1.3  # to choose between near-equal candidates: where the walker likely is
FIRST = -1e12  # a `prefer` that picks the earliest near-equal candidate
MAX_CELLS = 1 << 21  # segment cells gathered at once (memory bound: ~16 MB per array)
SMALL_CELLS = 1 << 14  # below this, one padded gather beats sorting windows by size


class Anchor(NamedTuple):
    """The last confident match: where progress stood and when (epoch seconds)."""

    distance_along_m: float
    ts: float


@dataclass(frozen=True)
class Matches:
    """Per fix: metres along the route and metres beside it, inside the fix's window."""

    distance_along_m: FloatArray
    offset_m: FloatArray


def windows(
    anchor_m: FloatArray,
    dt_s: FloatArray,
    accuracy_m: FloatArray,
    max_speed_mps: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(lo, hi, prefer) for fixes `dt_s` after their anchors; NaN anchor = no anchor yet."""
    acc = np.clip(np.nan_to_num(accuracy_m, nan=10.0), 0.0, 100.0)
    dt = np.maximum(dt_s, 0.0)
    lo = anchor_m - BEHIND_SLACK_M - acc
    hi = anchor_m + max_speed_mps * dt + AHEAD_SLACK_M + acc
    prefer = anchor_m + TYPICAL_PACE_MPS * dt
    free = np.isnan(anchor_m)
    return (
        np.where(free, 0.0, lo),
        np.where(free, np.inf, hi),
        np.where(free, FIRST, prefer),
    )


def match_windows(
    route: PreparedRoute,
    x: FloatArray,
    y: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    prefer: FloatArray,
) -> Matches:
    """Nearest point of `route` to each (x, y) between lo and hi metres along it.

    Among places within TIE_TOLERANCE_M of the nearest, the one closest to `prefer` wins
    (start and finish share a place; FIRST prefers the earliest).
    """
    seg = route.segment_arrays()
    cum = route.cum_m
    n_seg = len(cum) - 1
    length = float(cum[-1])
    hi = np.minimum(hi, length)
    lo = np.clip(lo, 0.0, hi)
    i0 = np.clip(np.searchsorted(cum, lo, side="right") - 1, 0, n_seg - 1)
    i1 = np.clip(np.searchsorted(cum, hi, side="left"), i0 + 1, n_seg)
    width = i1 - i0
    widest = int(width.max()) if len(width) else 1
    if len(x) * widest <= SMALL_CELLS:  # a small batch: one gather, no sorting
        k = 1 << max(widest - 1, 0).bit_length()
        a, o = _match_rows(seg, cum, x, y, lo, hi, prefer, i0, width, k)
        return Matches(a, o)
    along = np.empty(len(x))
    offset = np.empty(len(x))
    order = np.argsort(width, kind="stable")
    start = 0
    while start < len(order):
        k = 1 << int(np.ceil(np.log2(max(int(width[order[start]]), 1))))
        stop = int(np.searchsorted(width[order], k, side="right"))
        stop = max(stop, start + 1)
        stop = min(stop, start + max(1, MAX_CELLS // k))
        rows = order[start:stop]
        a, o = _match_rows(
            seg, cum, x[rows], y[rows], lo[rows], hi[rows], prefer[rows], i0[rows], width[rows], k
        )
        along[rows], offset[rows] = a, o
        start = stop
    return Matches(along, offset)


def _match_rows(
    seg: dict[str, FloatArray],
    cum: FloatArray,
    x: FloatArray,
    y: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    prefer: FloatArray,
    i0: np.ndarray,
    width: np.ndarray,
    k: int,
) -> tuple[FloatArray, FloatArray]:
    cols = np.arange(k)
    idx = np.minimum(i0[:, None] + cols, len(cum) - 2)
    g = seg["packed"][idx]  # (rows, k, 8): one gather for every segment property
    ax, ay, dx, dy, inv_len2 = g[..., 0], g[..., 1], g[..., 2], g[..., 3], g[..., 4]
    start_m, seg_m, inv = g[..., 5], g[..., 6], g[..., 7]
    x1, y1 = x[:, None], y[:, None]
    t = ((x1 - ax) * dx + (y1 - ay) * dy) * inv_len2
    t_lo = (lo[:, None] - start_m) * inv
    t_hi = (hi[:, None] - start_m) * inv
    np.clip(t, np.maximum(t_lo, 0.0), np.minimum(t_hi, 1.0), out=t)
    dist = np.hypot(ax + t * dx - x1, ay + t * dy - y1)
    dist[cols[None, :] >= width[:, None]] = np.inf
    along = start_m + t * seg_m
    rows = np.arange(len(x))
    nearest = dist[rows, dist.argmin(axis=1)]
    score = np.abs(along - prefer[:, None])
    score[dist > nearest[:, None] + TIE_TOLERANCE_M] = np.inf
    best = score.argmin(axis=1)
    return along[rows, best], dist[rows, best]


def nearest_offset(route: PreparedRoute, x: FloatArray, y: FloatArray) -> FloatArray:
    """Distance from the route wherever it is nearest (not only near the walker's progress)."""
    n = len(x)
    full = np.full(n, np.inf)
    return match_windows(route, x, y, np.zeros(n), full, np.full(n, FIRST)).offset_m


def match_fix(
    route: PreparedRoute,
    x: float,
    y: float,
    at: datetime,
    accuracy_m: float | None,
    anchor: Anchor | None,
    max_speed_mps: float,
) -> RouteMatch:
    """One fix through the batched kernel (for tools and tests that match a single fix)."""
    anchor_m = np.array([np.nan if anchor is None else anchor.distance_along_m])
    dt = np.array([0.0 if anchor is None else at.timestamp() - anchor.ts])
    acc = np.array([np.nan if accuracy_m is None else accuracy_m])
    lo, hi, prefer = windows(anchor_m, dt, acc, max_speed_mps)
    m = match_windows(route, np.array([x]), np.array([y]), lo, hi, prefer)
    return RouteMatch(float(m.distance_along_m[0]), float(m.offset_m[0]))


def off_route_m(route: PreparedRoute, x: float, y: float) -> float:
    """Distance from the route wherever it is nearest."""
    return float(nearest_offset(route, np.array([x]), np.array([y]))[0])
