"""JSON for responses and WebSocket messages."""

from __future__ import annotations

import json

import orjson


def dump_json(data: object) -> bytes:
    """orjson; for text that is not valid Unicode (a lone surrogate a client sent, echoed in
    an error message: "Value cannot represent a DateTime: ...") the standard library, which
    escapes it as `\\ud800`, the way the client sent it, instead of failing the response."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":")).encode()
