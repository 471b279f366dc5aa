"""A route prepared for matching: projected once, with cumulative distance and check-in points.

`locate` and `point_at` are the two questions the tracker asks thousands of times a second,
so the geometry lives in numpy arrays in a local metric plane built once at load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from routes.checkpoints import Checkpoint, is_checkpoint_type, unique_ids
from routes.geodesy import FloatArray, LocalProjection, segment_lengths_m
from routes.gpx_model import GpxDocument
from routes.measure import Gap, measure

# Among places where the route comes about as close to a point, prefer the earliest/latest
# one when they are within this many metres of the best (start and finish share a place).
TIE_TOLERANCE_M = 25.0


@dataclass(frozen=True)
class RouteMatch:
    """Where a position falls on a route: metres along it and metres beside it."""

    distance_along_m: float
    offset_m: float


@dataclass(frozen=True)
class Elevation:
    ascent_m: float
    descent_m: float
    profile: tuple[tuple[float, float], ...]  # (distance_along_m, ele_m)


@dataclass(frozen=True, eq=False)
class PreparedRoute:
    """The line of a route, ready for `locate` and `point_at`; build it with `prepare_route`."""

    id: str
    name: str
    lons: FloatArray
    lats: FloatArray
    xs: FloatArray
    ys: FloatArray
    cum_m: FloatArray
    projection: LocalProjection
    distance_m: float
    gaps: tuple[Gap, ...]
    elevation: Elevation | None
    checkpoints: tuple[Checkpoint, ...] = ()
    _seg: dict[str, FloatArray] = field(default_factory=dict, repr=False)

    @property
    def length_m(self) -> float:
        """Length along the joined line (parts plus gaps): what `distance_along_m` runs over."""
        return float(self.cum_m[-1])

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat)."""
        return (
            float(self.lons.min()),
            float(self.lats.min()),
            float(self.lons.max()),
            float(self.lats.max()),
        )

    @property
    def is_loop(self) -> bool:
        return bool(np.hypot(self.xs[-1] - self.xs[0], self.ys[-1] - self.ys[0]) < 500.0)

    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.projection.forward.transform(lon, lat)
        return float(x), float(y)

    def locate(
        self,
        lon: float,
        lat: float,
        lo_m: float = 0.0,
        hi_m: float | None = None,
        prefer: str | float = "nearest",
    ) -> RouteMatch:
        """Nearest place on the route between `lo_m` and `hi_m` metres along it.

        Where the route passes near the point more than once, `prefer` chooses among the
        near-equal candidates: "first", "last", or a number (metres along) to be closest to.
        """
        x, y = self.to_xy(lon, lat)
        return self.locate_xy(x, y, lo_m, hi_m, prefer)

    def locate_xy(
        self,
        x: float,
        y: float,
        lo_m: float = 0.0,
        hi_m: float | None = None,
        prefer: str | float = "nearest",
    ) -> RouteMatch:
        hi = self.length_m if hi_m is None else min(hi_m, self.length_m)
        lo = max(0.0, min(lo_m, hi))
        i0 = max(0, int(np.searchsorted(self.cum_m, lo, side="right")) - 1)
        i1 = min(len(self.cum_m) - 1, max(i0 + 1, int(np.searchsorted(self.cum_m, hi, "left"))))
        along, dist = self._candidates(x, y, i0, i1)
        clipped = np.clip(along, lo, hi)
        if np.any(clipped != along):
            along = clipped
            px, py = self._xy_at(along)
            dist = np.hypot(px - x, py - y)
        best = int(np.argmin(dist))
        if prefer != "nearest":
            near = np.flatnonzero(dist <= dist[best] + TIE_TOLERANCE_M)
            if isinstance(prefer, float | int):
                best = int(near[np.argmin(np.abs(along[near] - prefer))])
            else:
                best = int(near[0] if prefer == "first" else near[-1])
        return RouteMatch(float(along[best]), float(dist[best]))

    def _candidates(self, x: float, y: float, i0: int, i1: int) -> tuple[FloatArray, FloatArray]:
        s = self._segments()
        ax, ay = self.xs[i0:i1], self.ys[i0:i1]
        dx, dy, len2 = s["dx"][i0:i1], s["dy"][i0:i1], s["len2"][i0:i1]
        t = np.clip(((x - ax) * dx + (y - ay) * dy) / len2, 0.0, 1.0)
        dist = np.hypot(ax + t * dx - x, ay + t * dy - y)
        along = self.cum_m[i0:i1] + t * s["seg_m"][i0:i1]
        return along, dist

    def _segments(self) -> dict[str, FloatArray]:
        if not self._seg:
            dx, dy = np.diff(self.xs), np.diff(self.ys)
            len2 = np.where(dx * dx + dy * dy > 0, dx * dx + dy * dy, 1.0)
            seg_m = np.diff(self.cum_m)
            self._seg.update(
                ax=self.xs[:-1],
                ay=self.ys[:-1],
                dx=dx,
                dy=dy,
                len2=len2,
                inv_len2=1.0 / len2,
                seg_m=seg_m,
                inv_m=1.0 / np.where(seg_m > 0, seg_m, np.inf),
            )
            s = self._seg
            # One row per segment, gathered in one go by the batched matcher.
            columns = ("ax", "ay", "dx", "dy", "inv_len2", "start_m", "seg_m", "inv_m")
            s["start_m"] = self.cum_m[:-1]
            self._seg["packed"] = np.column_stack([s[c] for c in columns])
        return self._seg

    def segment_arrays(self) -> dict[str, FloatArray]:
        """Per segment: start (ax, ay), direction (dx, dy), 1/length², metres and 1/metres.

        Built once per route; the batched matcher gathers from these.
        """
        return self._segments()

    def locate_many(self, lons: FloatArray, lats: FloatArray, chunk: int = 2048) -> FloatArray:
        """Unconstrained nearest match for many points at once: an (n, 2) array of
        (distance_along_m, offset_m). Vectorised; used for validation and batch work."""
        xs, ys = self.projection.to_xy(np.asarray(lons, float), np.asarray(lats, float))
        s = self._segments()
        out = np.empty((len(xs), 2))
        ax, ay = self.xs[:-1], self.ys[:-1]
        for k in range(0, len(xs), chunk):
            x = xs[k : k + chunk, None]
            y = ys[k : k + chunk, None]
            t = np.clip(((x - ax) * s["dx"] + (y - ay) * s["dy"]) / s["len2"], 0.0, 1.0)
            dist = np.hypot(ax + t * s["dx"] - x, ay + t * s["dy"] - y)
            best = np.argmin(dist, axis=1)
            rows = np.arange(len(best))
            out[k : k + chunk, 0] = self.cum_m[best] + t[rows, best] * s["seg_m"][best]
            out[k : k + chunk, 1] = dist[rows, best]
        return out

    def point_at(self, distance_along_m: float) -> tuple[float, float]:
        """(lon, lat) of the place `distance_along_m` metres along the route (clamped)."""
        px, py = self._xy_at(np.array([distance_along_m], dtype=np.float64))
        lon, lat = self.projection.to_lonlat(px, py)
        return float(lon[0]), float(lat[0])

    def _xy_at(self, along: FloatArray) -> tuple[FloatArray, FloatArray]:
        d = np.clip(along, 0.0, self.length_m)
        px = np.interp(d, self.cum_m, self.xs)
        py = np.interp(d, self.cum_m, self.ys)
        return px, py

    def next_checkpoint(
        self, distance_along_m: float, passed: frozenset[str] = frozenset()
    ) -> Checkpoint | None:
        """The first check-in point ahead that the walker has not checked in at yet."""
        return next(
            (
                c
                for c in self.checkpoints
                if c.distance_along_m > distance_along_m + 1.0 and c.id not in passed
            ),
            None,
        )


def prepare_route(doc: GpxDocument, route_id: str = "", name: str = "") -> PreparedRoute:
    """Project the joined parts of `doc` once and place its check-in waypoints along it."""
    points = _without_repeats(doc)
    lons = np.array([p.lon for p in points], dtype=np.float64)
    lats = np.array([p.lat for p in points], dtype=np.float64)
    projection = LocalProjection.around(
        float((lons.min() + lons.max()) / 2), float((lats.min() + lats.max()) / 2)
    )
    xs, ys = projection.to_xy(lons, lats)
    cum = np.concatenate([[0.0], np.cumsum(segment_lengths_m(lons, lats))])
    measured = measure(doc)
    route = PreparedRoute(
        id=route_id,
        name=name or doc.name or route_id,
        lons=lons,
        lats=lats,
        xs=xs,
        ys=ys,
        cum_m=cum,
        projection=projection,
        distance_m=measured.distance_m,
        gaps=measured.gaps,
        elevation=_elevation(points, cum),
    )
    return _with_checkpoints(route, doc)


def _without_repeats(doc: GpxDocument) -> list:
    """Joined points with consecutive exact repeats dropped: they add nothing to the line."""
    points: list = []
    for p in doc.points:
        if not points or (p.lon, p.lat) != (points[-1].lon, points[-1].lat):
            points.append(p)
    if len(points) == 1:  # a route standing still: keep two points so the line exists
        points.append(points[0])
    return points


def _elevation(points: list, cum: FloatArray, hysteresis_m: float = 2.0) -> Elevation | None:
    """Total ascent and descent, counting only changes larger than `hysteresis_m` (GPS/DEM noise)."""
    known = [(float(d), p.ele_m) for d, p in zip(cum, points, strict=True) if p.ele_m is not None]
    if len(known) < 2 or len(known) < 0.5 * len(points):
        return None
    ascent = descent = 0.0
    ref = known[0][1]
    for _, ele in known[1:]:
        if ele - ref >= hysteresis_m:
            ascent += ele - ref
            ref = ele
        elif ref - ele >= hysteresis_m:
            descent += ref - ele
            ref = ele
    return Elevation(ascent, descent, tuple(known))


def _with_checkpoints(route: PreparedRoute, doc: GpxDocument) -> PreparedRoute:
    """Place check-in waypoints along the route in file order, never going backwards."""
    wpts = [w for w in doc.waypoints if is_checkpoint_type(w.type)]
    ids = unique_ids([w.name or w.type for w in wpts])
    placed = []
    lo = 0.0
    for wpt, cp_id in zip(wpts, ids, strict=True):
        kind = wpt.type.strip().lower()
        prefer = "last" if kind == "finish" else "first"
        match = route.locate(wpt.lon, wpt.lat, lo_m=lo, prefer=prefer)
        x, y = route.to_xy(wpt.lon, wpt.lat)
        placed.append(
            Checkpoint(
                cp_id,
                wpt.name or cp_id,
                kind if kind in ("start", "finish", "rest") else "checkpoint",
                wpt.lon,
                wpt.lat,
                match.distance_along_m,
                match.offset_m,
                x,
                y,
            )
        )
        lo = match.distance_along_m
    return _replace_checkpoints(route, tuple(placed))


def _replace_checkpoints(
    route: PreparedRoute, checkpoints: tuple[Checkpoint, ...]
) -> PreparedRoute:
    from dataclasses import replace

    return replace(route, checkpoints=checkpoints, _seg={})
