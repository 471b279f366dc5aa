"""Protocol decoders, fed the exact forms that the phone apps send.

The OsmAnd/Traccar query strings are decoded with `parse_qsl`, as the endpoint does, so a
test holds the request line the app writes. Bodies follow Traccar Client (Android, iOS, and
the current Flutter version with its JSON body), OsmAnd's online tracking URL template, and
OwnTracks in HTTP mode.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

import pytest

from tracking.fixes import parse_time, to_float
from tracking.protocols import ProtocolError
from tracking.protocols.osmand import KNOTS_TO_MPS, decode_json, decode_params
from tracking.protocols.owntracks import decode as decode_owntracks
from tracking.protocols.owntracks import decode_location
from tracking.protocols.walker_api import MAX_FIXES_PER_BATCH, batch_items, decode_fix

TOKEN = "tQ3v-walker-token-9f2K"
WHEN = datetime(2023, 10, 8, 9, 15, 30, tzinfo=UTC)
EPOCH_S = 1696756530  # WHEN as epoch seconds


def query(line: str) -> dict[str, str]:
    """The parameters of a request line, decoded as the endpoint decodes them."""
    return dict(parse_qsl(line.partition("?")[2], keep_blank_values=True))


# --- time and numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        EPOCH_S,
        str(EPOCH_S),
        EPOCH_S * 1000,
        str(EPOCH_S * 1000),
        "2023-10-08T09:15:30Z",
        "2023-10-08T09:15:30.000Z",
        "2023-10-08T11:15:30+02:00",
        "2023-10-08T09:15:30z",
    ],
)
def test_parse_time_reads_epoch_seconds_milliseconds_and_iso_with_a_zone(value):
    assert parse_time(value) == WHEN


def test_epoch_milliseconds_keep_their_fraction():
    assert parse_time(EPOCH_S * 1000 + 862) == WHEN.replace(microsecond=862_000)


def test_the_seconds_milliseconds_boundary_is_2147483647():
    assert parse_time(2_147_483_647).year == 2038
    assert parse_time(2_147_483_648).year == 1970  # read as milliseconds


@pytest.mark.parametrize(
    "value, words",
    [
        ("2023-10-08T09:15:30", "no time zone"),
        ("yesterday", "neither epoch seconds nor ISO-8601"),
        ("inf", "not a possible epoch time"),
        ("nan", "not a possible epoch time"),
        ("1e20", "not a possible epoch time"),
        (True, "neither"),
        (None, "neither"),
    ],
)
def test_parse_time_refuses_what_is_not_a_time_with_a_readable_reason(value, words):
    with pytest.raises(ValueError, match=words):
        parse_time(value)


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "-inf", True, [1], {"a": 1}])
def test_to_float_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(ValueError, match=r"lat .* is not a number"):
        to_float(value, "lat")


def test_to_float_treats_empty_as_absent_and_reads_numeric_strings():
    assert to_float("", "x") is None and to_float(None, "x") is None
    assert to_float("51.25", "x") == 51.25 and to_float(3, "x") == 3.0


# --- Traccar Client / OsmAnd: key=value parameters ---------------------------------------------


def test_traccar_client_android_request_line_every_field():
    # Traccar Client for Android POSTs this URL with an empty body; speed is in knots.
    line = (
        f"/ingest/osmand?id={TOKEN}&timestamp={EPOCH_S}&lat=51.2045&lon=4.4395"
        "&speed=2.5&bearing=187.5&altitude=13.2&accuracy=8.5&batt=76.0&charge=true"
    )
    decoded = decode_params(query(line))
    assert decoded.token == TOKEN
    (fix,) = decoded.fixes
    assert fix.recorded_at == WHEN and (fix.lat, fix.lon) == (51.2045, 4.4395)
    assert fix.speed_mps == pytest.approx(2.5 * 1852 / 3600)
    assert fix.heading_deg == 187.5 and fix.altitude_m == 13.2
    assert fix.accuracy_m == 8.5 and fix.battery_pct == 76.0
    assert fix.source == "osmand" and not fix.sos
    assert fix.raw["charge"] == "true"


def test_osmand_template_with_epoch_milliseconds_accuracy_in_metres_and_speed_in_mps():
    # OsmAnd's LiveMonitoringHelper fills {2} epoch ms, {3} accuracy in metres (named hdop in the
    # default template), {5} speed in m/s: the hdop parameter marks the request as OsmAnd's.
    line = f"/ingest/osmand?id={TOKEN}&lat=51.2&lon=4.4&timestamp={EPOCH_S}862&hdop=31.0"
    (fix,) = decode_params(query(line + "&altitude=9.5&speed=1.4")).fixes
    assert fix.recorded_at == WHEN.replace(microsecond=862_000)
    assert fix.accuracy_m == pytest.approx(31.0)  # metres as sent, not 5x
    assert fix.altitude_m == 9.5 and fix.speed_mps == pytest.approx(1.4)


def test_traccar_client_speed_is_knots_and_our_osmand_template_says_si():
    params = query(f"?id={TOKEN}&lat=51.2&lon=4.4&timestamp={EPOCH_S}&speed=1.4")
    (knots,) = decode_params(params).fixes
    (si,) = decode_params({**params, "units": "si"}).fixes
    assert knots.speed_mps == pytest.approx(1.4 * KNOTS_TO_MPS)
    assert si.speed_mps == pytest.approx(1.4)


def test_accuracy_wins_over_hdop_and_zero_means_unknown():
    base = f"?id={TOKEN}&lat=51.2&lon=4.4&timestamp={EPOCH_S}"
    (both,) = decode_params(query(base + "&accuracy=6&hdop=4")).fixes
    (zero,) = decode_params(query(base + "&hdop=0.0")).fixes
    assert both.accuracy_m == 6.0 and zero.accuracy_m is None


def test_iso_timestamp_url_encoded():
    line = f"?id={TOKEN}&lat=51.2&lon=4.4&timestamp=2023-10-08T09%3A15%3A30Z"
    (fix,) = decode_params(query(line)).fixes
    assert fix.recorded_at == WHEN


def test_location_parameter_and_deviceid_and_heading():
    line = f"?deviceid={TOKEN}&timestamp={EPOCH_S}&location=51.2101,4.4202&heading=90"
    decoded = decode_params(query(line))
    (fix,) = decoded.fixes
    assert decoded.token == TOKEN
    assert (fix.lat, fix.lon) == (51.2101, 4.4202) and fix.heading_deg == 90.0


def test_alarm_sos_from_the_sos_button():
    line = f"?id={TOKEN}&timestamp={EPOCH_S}&lat=51.2&lon=4.4&alarm=sos"
    assert decode_params(query(line)).fixes[0].sos
    assert not decode_params(query(line.replace("sos", "lowBattery"))).fixes[0].sos


def test_negative_speed_means_unknown():
    line = f"?id={TOKEN}&timestamp={EPOCH_S}&lat=51.2&lon=4.4&speed=-1"
    assert decode_params(query(line)).fixes[0].speed_mps is None


def test_form_body_is_read_like_a_query():
    # Some OsmAnd builds and scripts POST the same parameters as a form body.
    body = urlencode({"id": TOKEN, "timestamp": EPOCH_S, "lat": 51.2, "lon": 4.4, "batt": 50})
    decoded = decode_params(dict(parse_qsl(body)))
    assert decoded.token == TOKEN and decoded.fixes[0].battery_pct == 50.0


@pytest.mark.parametrize("line", [f"?timestamp={EPOCH_S}&lat=51.2&lon=4.4", "?id=&lat=1"])
def test_a_request_without_a_device_id_is_a_protocol_error(line):
    with pytest.raises(ProtocolError, match="missing id"):
        decode_params(query(line))


@pytest.mark.parametrize(
    "line, words",
    [
        (f"?id={TOKEN}&lat=51.2&lon=4.4", "missing timestamp"),
        (f"?id={TOKEN}&timestamp={EPOCH_S}&lat=51.2", "both lat and lon"),
        (f"?id={TOKEN}&timestamp={EPOCH_S}&location=51.2", "lat,lon"),
        (f"?id={TOKEN}&timestamp={EPOCH_S}&lat=north&lon=4.4", "lat 'north' is not a number"),
        (f"?id={TOKEN}&timestamp={EPOCH_S}&lat=51.2&lon=4.4&speed=fast", "speed"),
        (f"?id={TOKEN}&timestamp=2023-10-08+09%3A15%3A30&lat=51.2&lon=4.4", "time zone"),
        (f"?id={TOKEN}&timestamp=1e30&lat=51.2&lon=4.4", "epoch time"),
    ],
)
def test_malformed_parameters_of_a_known_device_are_refused_with_the_reason(line, words):
    """Refused, not an error: the app is acknowledged and the organisers see the reason."""
    decoded = decode_params(query(line))
    assert decoded.token == TOKEN and decoded.fixes == ()
    (refusal,) = decoded.refusals
    assert refusal.code == "unreadable" and words in refusal.message


def test_a_heartbeat_without_position_says_the_phone_is_alive():
    # Traccar Client 10.x heartbeat: id, timestamp, batt and charge, no lat/lon.
    decoded = decode_params(query(f"?id={TOKEN}&timestamp={EPOCH_S}&batt=42&charge=true"))
    assert decoded.fixes == () and decoded.refusals == ()
    assert decoded.alive is not None and decoded.alive.at == WHEN
    assert (decoded.alive.battery_pct, decoded.alive.charging) == (42.0, True)


def test_a_missing_time_is_the_time_of_arrival_flagged():
    decoded = decode_params(query(f"?id={TOKEN}&lat=51.2&lon=4.4"), received_at=WHEN)
    (fix,) = decoded.fixes
    assert fix.recorded_at == WHEN and fix.flags == ("no_time",)


def test_accuracy_zero_means_unknown():
    (fix,) = decode_params(
        query(f"?id={TOKEN}&timestamp={EPOCH_S}&lat=51.2&lon=4.4&accuracy=0.0")
    ).fixes
    assert fix.accuracy_m is None


# --- Traccar Client: the JSON body of current versions -----------------------------------------


def traccar_json(**location) -> dict:
    """A body in the shape of Traccar Client's location template (flutter_background_geolocation)."""
    body = {
        "location": {
            "timestamp": "2023-10-08T09:15:30.862Z",
            "coords": {
                "latitude": 51.2045,
                "longitude": 4.4395,
                "accuracy": 4.7,
                "speed": 1.38,
                "heading": 211.4,
                "altitude": 12.9,
            },
            "is_moving": True,
            "odometer": 1520.3,
            "event": "",
            "battery": {"level": 0.63, "is_charging": False},
            "activity": {"type": "walking"},
            "extras": {},
            "_": f"&id={TOKEN}&lat=51.2045&lon=4.4395&timestamp=2023-10-08T09:15:30.862Z&",
        },
        "device_id": TOKEN,
    }
    body["location"].update(location)
    return json.loads(json.dumps(body))


def test_traccar_json_every_field():
    decoded = decode_json(traccar_json())
    (fix,) = decoded.fixes
    assert decoded.token == TOKEN
    assert fix.recorded_at == WHEN.replace(microsecond=862_000)
    assert (fix.lat, fix.lon) == (51.2045, 4.4395)
    assert fix.accuracy_m == 4.7 and fix.altitude_m == 12.9
    assert fix.speed_mps == 1.38  # already m/s in the JSON form, not knots
    assert fix.heading_deg == 211.4
    assert fix.battery_pct == pytest.approx(63.0)
    assert fix.source == "traccar-json" and not fix.sos


def test_traccar_json_minus_one_means_unknown():
    coords = {
        "latitude": 51.2,
        "longitude": 4.4,
        "accuracy": 5,
        "speed": -1,
        "heading": -1,
        "altitude": 0,
    }
    body = traccar_json(coords=coords, battery={"level": -1, "is_charging": False})
    (fix,) = decode_json(body).fixes
    assert fix.speed_mps is None and fix.heading_deg is None and fix.battery_pct is None


def test_traccar_json_sos_from_the_panic_button_extras_or_event():
    assert decode_json(traccar_json(extras={"alarm": "sos"})).fixes[0].sos
    assert decode_json(traccar_json(event="sos")).fixes[0].sos
    assert not decode_json(traccar_json(event="motionchange")).fixes[0].sos


def test_traccar_json_heartbeat_without_optional_parts():
    body = {
        "location": {
            "timestamp": "2023-10-08T09:15:30Z",
            "coords": {"latitude": 51.2, "longitude": 4.4},
        },
        "device_id": TOKEN,
    }
    (fix,) = decode_json(body).fixes
    assert fix.recorded_at == WHEN and fix.accuracy_m is None and fix.battery_pct is None


@pytest.mark.parametrize(
    "body, words", [([], "must be an object"), ({"location": {}}, "missing device_id")]
)
def test_traccar_json_without_a_device_is_a_protocol_error(body, words):
    with pytest.raises(ProtocolError, match=words):
        decode_json(body)


@pytest.mark.parametrize(
    "body, words",
    [
        ({"device_id": TOKEN}, "missing location"),
        (traccar_json(coords={"latitude": 51.2}), "longitude"),
        (traccar_json(timestamp=""), "timestamp"),
        (traccar_json(timestamp="2023-10-08T09:15:30"), "time zone"),
        (traccar_json(coords={"latitude": "x", "longitude": 4.4}), "latitude 'x' is not"),
    ],
)
def test_traccar_json_malformed_location_is_refused_with_the_reason(body, words):
    decoded = decode_json(body)
    assert decoded.token == TOKEN and decoded.fixes == ()
    assert words in decoded.refusals[0].message


def test_traccar_json_sos_as_location_alarm_and_charging():
    # Traccar Client 9.x merges the extras into location: the SOS is location.alarm.
    decoded = decode_json(traccar_json(alarm="sos", battery={"level": 0.1, "is_charging": True}))
    assert decoded.fixes[0].sos and decoded.alive is not None and decoded.alive.charging


def test_traccar_json_a_batch_of_locations():
    one = traccar_json()["location"]
    two = {**one, "timestamp": "2023-10-08T09:16:30Z"}
    decoded = decode_json({"device_id": TOKEN, "location": [one, two]})
    assert [f.recorded_at.minute for f in decoded.fixes] == [15, 16]


# --- OwnTracks (HTTP mode) ------------------------------------------------------------------


def owntracks(**fields) -> dict:
    message = {
        "_type": "location",
        "acc": 12,
        "alt": 14,
        "batt": 81,
        "bs": 1,
        "cog": 95,
        "conn": "m",
        "created_at": EPOCH_S + 2,
        "lat": 51.2045,
        "lon": 4.4395,
        "m": 1,
        "t": "u",
        "tid": "AP",
        "topic": "owntracks/walker/phone",
        "tst": EPOCH_S,
        "vac": 3,
        "vel": 5,
    }
    message.update(fields)
    return message


def test_owntracks_location_every_field():
    fix = decode_location(owntracks())
    assert fix is not None
    assert fix.recorded_at == WHEN and (fix.lat, fix.lon) == (51.2045, 4.4395)
    assert fix.accuracy_m == 12.0 and fix.altitude_m == 14.0 and fix.battery_pct == 81.0
    assert fix.speed_mps == pytest.approx(5 / 3.6)  # vel is km/h
    assert fix.heading_deg == 95.0 and fix.source == "owntracks"


def test_owntracks_unknown_velocity_and_course():
    fix = decode_location(owntracks(vel=-1, cog=-1))
    assert fix is not None and fix.speed_mps is None and fix.heading_deg is None
    bare = decode_location({"_type": "location", "lat": 51.2, "lon": 4.4, "tst": EPOCH_S})
    assert bare is not None and bare.accuracy_m is None and bare.speed_mps is None


@pytest.mark.parametrize(
    "message",
    [
        {"_type": "lwt", "tst": EPOCH_S},
        {"_type": "waypoints", "waypoints": []},
        {"_type": "cmd", "action": "reportLocation"},
        {"lat": 51.2, "lon": 4.4, "tst": EPOCH_S},
        [owntracks()],
        "location",
    ],
)
def test_owntracks_other_messages_carry_no_fix(message):
    assert decode_location(message) is None


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"lat": None}, "lat, lon and tst"),
        ({"tst": ""}, "lat, lon and tst"),
        ({"lon": "east"}, "lon 'east' is not a number"),
        ({"vel": "quick"}, "vel"),
        ({"tst": "soon"}, "neither epoch"),
    ],
)
def test_owntracks_malformed_location_is_refused_with_the_reason(fields, words):
    with pytest.raises(ValueError, match=words):
        decode_location(owntracks(**fields))


def test_owntracks_transition_carries_a_fix_and_encrypted_is_refused_with_the_fix_to_make():
    enter = {"_type": "transition", "event": "enter", "lat": 51.2, "lon": 4.4, "tst": EPOCH_S}
    assert decode_owntracks(enter, TOKEN).fixes[0].recorded_at == WHEN
    refused = decode_owntracks({"_type": "encrypted", "data": "abc"}, TOKEN).refusals
    assert refused[0].code == "encrypted" and "Encryption key" in refused[0].message


def test_owntracks_charging_from_the_battery_status():
    assert decode_owntracks(owntracks(bs=2), TOKEN).alive.charging is True
    assert decode_owntracks(owntracks(bs=1), TOKEN).alive.charging is False


# --- the walker page ----------------------------------------------------------------------


def test_walker_page_fix_every_field():
    item = {
        "id": "k3f9-000017",
        "recorded_at": "2023-10-08T09:15:30.000Z",
        "lat": 51.2045,
        "lon": 4.4395,
        "accuracy_m": 9.1,
        "speed_mps": 1.31,
        "heading_deg": 270.0,
        "altitude_m": 11.0,
        "battery_pct": 54,
    }
    fix = decode_fix(item)
    assert fix.client_id == "k3f9-000017" and fix.recorded_at == WHEN
    assert (fix.lat, fix.lon, fix.accuracy_m, fix.speed_mps) == (51.2045, 4.4395, 9.1, 1.31)
    assert (fix.heading_deg, fix.altitude_m, fix.battery_pct) == (270.0, 11.0, 54.0)
    assert fix.source == "web"


def test_walker_page_optional_fields_may_be_missing_and_times_may_be_epoch_ms():
    fix = decode_fix({"id": "a", "recorded_at": EPOCH_S * 1000, "lat": 51.2, "lon": 4.4})
    assert fix.recorded_at == WHEN and fix.accuracy_m is None and fix.battery_pct is None


def test_walker_page_ids_are_capped():
    fix = decode_fix({"id": "x" * 500, "recorded_at": EPOCH_S, "lat": 51.2, "lon": 4.4})
    assert fix.client_id == "x" * 64


@pytest.mark.parametrize(
    "item, words",
    [
        ("51.2,4.4", "must be an object"),
        ({"id": "a", "lat": 51.2, "lon": 4.4}, "no recorded_at"),
        ({"id": "a", "recorded_at": EPOCH_S, "lon": 4.4}, "no lat"),
        ({"id": "a", "recorded_at": EPOCH_S, "lat": "51,2", "lon": 4.4}, "lat '51,2'"),
        ({"id": "a", "recorded_at": EPOCH_S, "lat": True, "lon": 4.4}, "lat True"),
        ({"id": "a", "recorded_at": EPOCH_S, "lat": 51.2, "lon": [4.4]}, "lon"),
        (
            {"id": "a", "recorded_at": EPOCH_S, "lat": 51.2, "lon": 4.4, "accuracy_m": "good"},
            "accuracy_m",
        ),
        ({"id": "a", "recorded_at": "08/10/2023 09:15", "lat": 51.2, "lon": 4.4}, "ISO-8601"),
    ],
)
def test_walker_page_bad_fix_names_the_field(item, words):
    with pytest.raises(ValueError, match=words):
        decode_fix(item)


def test_walker_page_batch_shape():
    assert batch_items({"fixes": []}) == []
    for body in (None, [], {"fix": []}, {"fixes": {}}):
        with pytest.raises(ProtocolError, match="fixes"):
            batch_items(body)
    with pytest.raises(ProtocolError, match=f"at most {MAX_FIXES_PER_BATCH}"):
        batch_items({"fixes": [{}] * (MAX_FIXES_PER_BATCH + 1)})
