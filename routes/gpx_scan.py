"""A streaming pre-scan of GPX text: depth, element and point counts, before any tree is built.

gpxpy builds an ElementTree and deep-copies extension elements; a file of 150,000 nested
elements inside one `<extensions>` overflows the C stack in that copy (the process dies).
expat reads the text as a stream, keeps no tree and stops at the first element past a limit,
so a hostile file costs a bounded, small amount of work before it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.parsers import expat

from routes.errors import GpxReadError

POINT_TAGS = frozenset(("trkpt", "rtept"))


@dataclass(frozen=True)
class ScanLimits:
    """How much structure a GPX file may have; each limit is refused with its own sentence."""

    max_depth: int = 32
    max_elements: int = 1_000_000
    max_points: int = 200_000
    max_waypoints: int = 10_000


@dataclass(frozen=True)
class ScanCounts:
    elements: int
    points: int
    waypoints: int
    max_depth: int


class _Refused(Exception):
    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason


def scan(text: str, source: str, limits: ScanLimits) -> ScanCounts:
    """Count the file's structure; raise `GpxReadError` at the first limit passed or bad XML."""
    counter = _Counter(limits)
    parser = expat.ParserCreate()
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    try:
        parser.Parse(text, True)
    except _Refused as exc:
        raise GpxReadError(source, exc.code, exc.reason) from None
    except expat.ExpatError as exc:
        raise GpxReadError(source, "broken_xml", f"the XML is broken or cut off ({exc})") from None
    return ScanCounts(counter.elements, counter.points, counter.waypoints, counter.deepest)


class _Counter:
    def __init__(self, limits: ScanLimits) -> None:
        self.limits = limits
        self.depth = self.deepest = self.elements = self.points = self.waypoints = 0

    def start(self, name: str, _attrs: object) -> None:
        self.depth += 1
        self.elements += 1
        self.deepest = max(self.deepest, self.depth)
        local = name.rpartition(":")[2]
        if local in POINT_TAGS:
            self.points += 1
        elif local == "wpt":
            self.waypoints += 1
        self._check()

    def end(self, _name: str) -> None:
        self.depth -= 1

    def _check(self) -> None:
        lim = self.limits
        if self.depth > lim.max_depth:
            raise _Refused(
                "too_deep",
                f"elements are nested more than {lim.max_depth} deep; "
                "GPX needs fewer than 10 levels",
            )
        if self.elements > lim.max_elements:
            raise _Refused(
                "too_many_elements", f"more than {lim.max_elements} elements; that is the limit"
            )
        if self.points > lim.max_points:
            raise _Refused(
                "too_many_points",
                f"more than {lim.max_points} track or route points; the limit is {lim.max_points}",
            )
        if self.waypoints > lim.max_waypoints:
            raise _Refused(
                "too_many_waypoints",
                f"more than {lim.max_waypoints} waypoints (<wpt>); the limit is "
                f"{lim.max_waypoints}",
            )
