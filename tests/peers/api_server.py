"""A loopback HTTP server for API stand-ins: it reads a request, the stand-in decides the answer.

The server does the HTTP part the way a Rails or Rack application sees it: parameters from the
query string and from a form, multipart or JSON body (repeated names kept, files kept apart), a
trailing slash ignored, a body larger than the stand-in allows refused unread. The stand-in's
`handle()` runs under the stand-in's lock, so each request sees and leaves a whole state; it
reads the headers without regard to case (an email.message.Message, as http.server gives them) and
answers a status and a JSON document, or raises ApiError for an error in `{"error": ...}` form.
Every request is logged in `requests` for the tests to read.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit


class ApiError(Exception):
    """An answer other than success: the status, the `error` text and any extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Params:
    """A request's parameters: text fields by name (every value kept), and uploaded files."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def one(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[-1] if values else None  # Rails keeps the last of repeated scalars

    def many(self, name: str) -> list[str]:
        return self.fields.get(f"{name}[]") or self.fields.get(name) or []


@dataclass
class Request:
    """What one request asked for and how it was answered."""

    method: str
    path: str
    status: int


class StandIn(Protocol):
    base_url: str
    max_body: int
    lock: threading.Lock
    requests: list[Request]

    def handle(self, method: str, path: str, headers: Message, params: Params) -> tuple[int, Any]: ...


S = TypeVar("S", bound=StandIn)


def _multipart(content_type: str, body: bytes, params: Params) -> None:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if not isinstance(name, str):
            continue
        if part.get_filename() is not None:
            params.files[name] = Upload(part.get_filename() or "", part.get_content_type(), data)
        else:
            params.fields.setdefault(name, []).append(data.decode("utf-8"))


def parse_body(content_type: str, body: bytes, query: str) -> Params:
    """The parameters from the query string and a form, multipart or JSON body."""
    params = Params(fields={k: list(v) for k, v in parse_qs(query, keep_blank_values=True).items()})
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params
    if kind == "application/x-www-form-urlencoded":
        for name, values in parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
            params.fields.setdefault(name, []).extend(values)
    elif kind == "multipart/form-data":
        _multipart(content_type, body, params)
    elif kind == "application/json":
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ApiError(400, "Error while parsing the request body as JSON")
        for name, value in document.items():
            values = value if isinstance(value, list) else [value]
            params.fields[name] = [json.dumps(v) if isinstance(v, bool) else str(v) for v in values]
    else:
        raise ApiError(415, f"Unsupported media type {kind!r}")
    return params


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait between them

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the stand-in's `requests` instead."""

    def _dispatch(self, method: str) -> None:
        stand_in = self.server.stand_in
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"  # Rails routes /api/v1/instance/ as /api/v1/instance
        headers: dict[str, str] = {}
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > stand_in.max_body:
                self.close_connection = True
                raise ApiError(413, "Request entity too large")
            body = self.rfile.read(length) if length else b""
            params = parse_body(self.headers.get("Content-Type", ""), body, parts.query)
            with stand_in.lock:
                status, payload = stand_in.handle(method, path, self.headers, params)
        except ApiError as err:
            status, payload, headers = err.status, {"error": err.message}, err.headers
        except (ValueError, UnicodeDecodeError):
            status, payload = 400, {"error": "Bad request"}
        with stand_in.lock:
            stand_in.requests.append(Request(method, path, status))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, stand_in: StandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stand_in = stand_in


@contextmanager
def serving(stand_in: S) -> Iterator[S]:
    """Serve STAND_IN on a free loopback port for the block; its base_url says where."""
    server = _Server(stand_in)
    stand_in.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval lets shutdown() return at once instead of after the default 0.5 s.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="api-stand-in", daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
