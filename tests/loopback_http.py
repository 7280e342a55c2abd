"""A plain HTTP server on loopback for the tests' stand-ins of services that cannot run here
(an SMS gateway, a team's posting webhook): each POST goes to `answer(headers, body)`, whose
(status, body) is the reply. Started and stopped by the test that needs it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[dict[str, str], bytes], tuple[int, bytes]]


@contextmanager
def serving(answer: Answer, path: str) -> Iterator[str]:
    """Serve POSTs with `answer`; yields the URL of `path` on the server."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            code, reply = answer(dict(self.headers), self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(code)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
