"""Fuzzing the three protocol decoders: random and mutated inputs give only the documented
errors (`ProtocolError`, which is a `ValueError`, or `ValueError` for one walker-page fix).

Written against the current functions (osmand.decode_params / decode_json,
owntracks.decode_location, walker_api.decode_fix / batch_items) and kept in this one file so
that it follows the decoders' new contract easily.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracking.protocols import ProtocolError, osmand, owntracks, walker_api

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OSMAND_KEYS = (
    "id",
    "deviceid",
    "lat",
    "lon",
    "location",
    "timestamp",
    "speed",
    "bearing",
    "heading",
    "altitude",
    "accuracy",
    "hdop",
    "batt",
    "alarm",
)
TIMES = st.sampled_from(
    [
        "0001-01-01T00:30:00+02:00",
        "9999-12-31T23:30:00-02:00",
        "2023-10-08T10:00:00Z",
        "2023-10-08T10:00:00",
        "1e400",
        "-1e30",
        "nan",
        "inf",
        "1696756530",
        "1696756530862",
        "2023-13-45T99:99:99Z",
        "",
    ]
)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.text(max_size=12),
    TIMES,
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=20))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


def only_documented(call: Any, *args: Any) -> None:
    with contextlib.suppress(ValueError):  # ProtocolError is a ValueError
        call(*args)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(OSMAND_KEYS),
        st.one_of(st.text(max_size=30), TIMES, NUMBERS.map(str)),
        max_size=len(OSMAND_KEYS),
    ),
    st.sampled_from(["", "si"]),
)
def test_osmand_params_give_only_protocol_errors(params: dict[str, str], units: str) -> None:
    """Units are read per request (OsmAnd's template says units=si); the time of arrival
    stands in for a missing timestamp."""
    if units:
        params = {**params, "units": units}
    only_documented(osmand.decode_params, params, datetime(2023, 10, 8, 9, tzinfo=UTC))


TRACCAR = st.fixed_dictionaries(
    {
        "device_id": st.one_of(st.text(max_size=10), JSON),
        "location": st.one_of(
            JSON,
            st.fixed_dictionaries(
                {
                    "timestamp": st.one_of(TIMES, NUMBERS, JSON),
                    "coords": st.one_of(
                        JSON,
                        st.fixed_dictionaries(
                            {
                                "latitude": NUMBERS,
                                "longitude": NUMBERS,
                                "speed": SCALARS,
                                "heading": SCALARS,
                                "accuracy": SCALARS,
                                "altitude": SCALARS,
                            }
                        ),
                    ),
                    "battery": JSON,
                    "event": JSON,
                    "extras": JSON,
                }
            ),
        ),
    }
)


@FUZZ
@given(st.one_of(JSON, TRACCAR))
def test_traccar_json_gives_only_protocol_errors(body: Any) -> None:
    only_documented(osmand.decode_json, body)


@FUZZ
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"_type": st.just("location"), "lat": NUMBERS, "lon": NUMBERS, "tst": NUMBERS},
            optional={"vel": SCALARS, "cog": SCALARS, "acc": SCALARS, "alt": SCALARS, "batt": JSON},
        ),
    )
)
def test_owntracks_gives_only_protocol_errors(body: Any) -> None:
    only_documented(owntracks.decode_location, body)


FIX = st.fixed_dictionaries(
    {"recorded_at": st.one_of(TIMES, NUMBERS), "lat": NUMBERS, "lon": NUMBERS},
    optional={
        "id": JSON,
        "accuracy_m": SCALARS,
        "speed_mps": SCALARS,
        "heading_deg": SCALARS,
        "altitude_m": SCALARS,
        "battery_pct": SCALARS,
        "sos": JSON,
    },
)


@FUZZ
@given(st.one_of(JSON, FIX))
def test_walker_page_fix_gives_only_value_errors(item: Any) -> None:
    only_documented(walker_api.decode_fix, item)


@FUZZ
@given(st.one_of(JSON, st.fixed_dictionaries({"fixes": st.one_of(JSON, st.lists(FIX))})))
def test_walker_page_batch_gives_only_protocol_errors(body: Any) -> None:
    try:
        items = walker_api.batch_items(body)
    except ProtocolError:
        return
    for item in items:
        only_documented(walker_api.decode_fix, item)
