"""Queue names and task routes, in one place."""

from __future__ import annotations

SEND_QUEUE = "wavecast.send"
CONTROL_QUEUE = "wavecast.control"

SEND_CHUNK = "wavecast.send_chunk"

ROUTES = {
    SEND_CHUNK: {"queue": SEND_QUEUE},
    "wavecast.*": {"queue": CONTROL_QUEUE},
}
