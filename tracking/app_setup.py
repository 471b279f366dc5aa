"""How each phone app is set up for a walker: the links, QR texts and configurations. Pure.

The values are the apps' own keys, read from their source: Traccar Client applies the query
of its link or QR (`ConfigurationService.applyUri`: id, url, accuracy, interval, distance,
heartbeat, stop_detection, buffer, service); OwnTracks imports a `_type: configuration`
object (`owntracks:///config?inline=<base64>`); OsmAnd takes a URL template.

What matters for a ten-hour walk:
- a resting walker still reports at a low rate (Traccar Client's heartbeat every 5 minutes;
  OwnTracks in Move mode every 30 s), so resting is told apart from a phone gone quiet;
- OwnTracks for Android honours `moveModeLocatorInterval` in Move mode, not
  `locatorInterval`; both are set;
- OwnTracks sends credentials only with a user name and a password (Android) and with its
  Authentication switch on (iOS, `auth`); both are set;
- OwnTracks monitors the check-in points as its own regions (`waypoints`), so an `enter`
  checks the walker in even between sparse fixes;
- OsmAnd's template carries the walker's id and `units=si` (its speed is m/s, its `{3}` the
  accuracy in metres).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from routes.checkpoints import Checkpoint

APP_INTERVAL_S = 30
APP_DISTANCE_M = 25
HEARTBEAT_S = 300  # a resting walker is heard every 5 minutes, well inside the silent alert
OWNTRACKS_MOVE_MODE = 2


def traccar_settings(base_url: str, token: str) -> dict[str, str]:
    """Traccar Client's settings: OsmAnd protocol to /ingest/osmand, the token as device id."""
    return {
        "url": f"{base_url}/ingest/osmand",
        "id": token,
        "accuracy": "highest",  # only at "highest" does the app use the interval
        "interval": str(APP_INTERVAL_S),
        "distance": str(APP_DISTANCE_M),
        "heartbeat": str(HEARTBEAT_S),
        "stop_detection": "true",  # saves battery while resting; the heartbeat still reports
        "buffer": "true",
        "service": "true",  # start tracking when the link is applied
    }


def traccar_qr_text(base_url: str, token: str) -> str:
    """What Traccar Client's QR scanner reads: the server URL, with the settings as parameters."""
    s = traccar_settings(base_url, token)
    return f"{s.pop('url')}?{urlencode(s)}"


def traccar_link(base_url: str, token: str) -> str:
    """The deep link that configures Traccar Client on the phone that opens it."""
    return f"org.traccar.client://config?{urlencode(traccar_settings(base_url, token))}"


def owntracks_config(
    base_url: str,
    token: str,
    walker_id: str,
    bib: str,
    checkpoints: Sequence[Checkpoint] = (),
    radius_m: float = 75.0,
    first_tst: int = 1_700_000_000,
) -> dict[str, Any]:
    """An OwnTracks configuration (.otrc): HTTP mode, the token as the password."""
    return {
        "_type": "configuration",
        "mode": 3,
        "url": f"{base_url}/ingest/owntracks",
        "auth": True,
        "username": f"walker-{bib or walker_id}",
        "password": token,
        "deviceId": "phone",
        "tid": (bib or walker_id)[-2:].upper().rjust(2, "W"),
        "monitoring": OWNTRACKS_MOVE_MODE,
        "moveModeLocatorInterval": APP_INTERVAL_S,
        "locatorInterval": APP_INTERVAL_S,
        "locatorDisplacement": APP_DISTANCE_M,
        "pubExtendedData": True,
        "waypoints": [
            {
                "_type": "waypoint",
                "desc": cp.name,
                "rid": cp.id,
                "lat": round(cp.lat, 6),
                "lon": round(cp.lon, 6),
                "rad": int(radius_m),
                "tst": first_tst + i,
            }
            for i, cp in enumerate(checkpoints)
        ],
    }


def owntracks_link(config: dict[str, Any]) -> str:
    """owntracks:///config?inline=<base64 JSON>: both OwnTracks apps import it when opened."""
    inline = base64.b64encode(json.dumps(config, separators=(",", ":")).encode()).decode()
    return f"owntracks:///config?inline={quote(inline, safe='')}"


def osmand_template(base_url: str, token: str) -> str:
    """OsmAnd's online tracking URL: its placeholders, the walker's id and `units=si`."""
    return (
        f"{base_url}/ingest/osmand?id={quote(token, safe='')}&units=si&lat={{0}}&lon={{1}}"
        "&timestamp={2}&hdop={3}&altitude={4}&speed={5}&bearing={6}"
    )
