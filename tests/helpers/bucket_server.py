"""A loopback HTTP server laid out like the bucket, with switchable faults.

Supports HEAD, GET and single ``Range: bytes=N-`` requests. Faults:
``drop_after`` (close the connection after N bytes, once per path),
``truncate`` (always send fewer bytes than announced), ``corrupt`` (flip a
byte), and a missing path answers 404.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BucketServer:
    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.drop_after: dict[str, int] = {}
        self.truncate: set[str] = set()
        self.corrupt: set[str] = set()
        self.requests: list[tuple[str, str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _lookup(self):
                path = self.path.lstrip("/")
                server.requests.append((self.command, path, self.headers.get("Range")))
                return path, server.objects.get(path)

            def do_HEAD(self):
                path, body = self._lookup()
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()

            def do_GET(self):
                path, body = self._lookup()
                if body is None:
                    self.send_error(404)
                    return
                if path in server.corrupt:
                    body = body[:10] + bytes([body[10] ^ 0xFF]) + body[11:]
                start = 0
                range_header = self.headers.get("Range")
                if range_header:
                    start = int(range_header.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if path in server.truncate:
                    payload = payload[: len(payload) // 2]
                elif path in server.drop_after:
                    payload = payload[: server.drop_after.pop(path)]
                self.wfile.write(payload)
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
