"""The OpenAPI schema completed: request bodies, status codes and media types as answered.

Several endpoints read their body themselves (phones send query strings, forms, Traccar JSON,
OwnTracks JSON, CSV, multipart GPX), so FastAPI cannot see it; their exports stream files;
every error answer is `{"detail": "<sentence>"}` (a string, where FastAPI's default says an
array). `install(app)` post-processes the generated schema once, without touching handlers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "description": "What was wrong, in a sentence."}},
    "additionalProperties": True,
}
ERROR_CODES = {
    "400": "The request cannot be read (not JSON, a field of the wrong kind).",
    "401": "Credentials missing or not accepted.",
    "403": "Not allowed.",
    "404": "No such thing.",
    "409": "Conflicts with the current state.",
    "413": "The body is larger than the limit.",
    "415": "Wrong Content-Type.",
    "422": "Read, but refused: the sentence says why.",
    "429": "Too many attempts from this address; see Retry-After.",
    "503": "Busy; see Retry-After.",
}
GPX_FORM = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file", "distance_km"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "The GPX file."},
                "distance_km": {"type": "integer", "enum": [20, 40]},
            },
        }
    }
}
FIX_ITEM = {
    "type": "object",
    "required": ["recorded_at", "lat", "lon"],
    "properties": {
        "id": {"type": "string"},
        "recorded_at": {
            "oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
            "description": "ISO-8601 with a zone, or epoch seconds/milliseconds.",
        },
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy_m": {"type": "number"},
        "speed_mps": {"type": "number"},
        "heading_deg": {"type": "number"},
        "altitude_m": {"type": "number"},
        "battery_pct": {"type": "number"},
    },
}
OSMAND_PARAMS = [
    ("id", "The walker token (Traccar Client: device identifier)."),
    ("deviceid", "Same as id."),
    ("lat", "Latitude."),
    ("lon", "Longitude."),
    ("location", "'lat,lon' instead of lat and lon."),
    ("timestamp", "Epoch seconds or milliseconds, or ISO-8601 with a zone."),
    ("speed", "Speed (knots by default)."),
    ("bearing", "Heading in degrees."),
    ("altitude", "Metres."),
    ("accuracy", "Metres."),
    ("hdop", "Horizontal dilution of precision."),
    ("batt", "Battery percent."),
    ("alarm", "'sos' raises an SOS."),
]
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/fixes"): {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["fixes"],
                "properties": {"fixes": {"type": "array", "items": FIX_ITEM, "maxItems": 500}},
            }
        }
    },
    ("post", "/ingest/osmand"): {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {n: {"type": "string"} for n, _ in OSMAND_PARAMS},
            }
        },
        "application/json": {
            "schema": {
                "type": "object",
                "description": "Traccar Client JSON: device_id and location{timestamp, coords}.",
            }
        },
    },
    ("post", "/ingest/owntracks"): {
        "application/json": {
            "schema": {"type": "object", "description": "An OwnTracks message (_type location)."}
        }
    },
    ("post", "/api/walkers/import"): {
        "text/csv": {"schema": {"type": "string", "description": "name,route_id,bib,team,phone"}}
    },
    ("post", "/api/personal-routes/validate"): GPX_FORM,
    ("post", "/api/me/route"): GPX_FORM,
}
FILES = {
    "/api/export/tracks.geojson": "application/geo+json",
    "/api/export/fixes.geojson": "application/geo+json",
    "/api/export/checkins.geojson": "application/geo+json",
    "/api/export/tracks.gpkg": "application/geopackage+sqlite3",
    "/api/export/tracks.gpx": "application/gpx+xml",
    "/api/routes/{route_id}.gpx": "application/gpx+xml",
}
MAX_INT64 = 2**63 - 1
EMPTY_OK = {("get", "/ingest/osmand"), ("post", "/ingest/osmand")}
CREATED = {("post", "/api/me/route")}


def install(app: FastAPI) -> None:
    """Complete the schema the first time it is asked for."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(spec: dict[str, Any]) -> dict[str, Any]:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    spec["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "basic": {"type": "http", "scheme": "basic"},
    }
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            _operation(method, path, op)
    return spec


def _operation(method: str, path: str, op: dict[str, Any]) -> None:
    op["operationId"] = f"{op.get('operationId', path)}_{method}".replace("__", "_")
    if (method, path) in BODIES:
        op["requestBody"] = {"required": True, "content": BODIES[(method, path)]}
    if path == "/ingest/osmand":
        op["parameters"] = [
            {
                "name": n,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": d,
            }
            for n, d in OSMAND_PARAMS
        ]
    responses = op.setdefault("responses", {})
    if path in FILES:
        media = FILES[path]
        schema = {"type": "object"} if media.endswith("json") else {"type": "string"}
        responses["200"] = {"description": "The file.", "content": {media: {"schema": schema}}}
    for param in op.get("parameters", []):
        if param.get("schema", {}).get("type") == "integer":
            param["schema"].update(minimum=-MAX_INT64 - 1, maximum=MAX_INT64)  # SQLite INTEGER
    if (method, path) in EMPTY_OK:
        responses["200"] = {"description": "Stored (an empty answer, as the apps expect)."}
    if (method, path) in CREATED:
        responses["201"] = responses.pop("200", {"description": "Created."})
    for code, text in ERROR_CODES.items():
        responses[code] = {"description": text, "content": {"application/json": {"schema": ERROR}}}
