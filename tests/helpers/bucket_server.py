"""A loopback HTTP server laid out like the bucket, answering as S3 does, with switchable faults.

Supports HEAD, GET and ``Range: bytes=N-`` / ``bytes=N-M`` requests, and
sends ``ETag`` (single-part MD5, or a multipart ETag when ``part_size`` is
set for the path), ``Content-Length`` and ``Last-Modified``. Faults:
``drop_after`` (close the connection after N bytes, once per path),
``truncate`` (always send fewer bytes than announced), ``corrupt`` (flip a
byte), ``oversize`` (send more bytes than announced), ``statuses`` (a queue
of error codes answered to the next GETs of a path), ``head_status`` (HEAD
answers this code), ``bare`` (no ETag and no Content-Length: the body ends
when the connection closes), ``ignore_range`` (Range is answered with the
whole body, 200), ``trickle`` (bytes per second for a path), ``etags``
(send this ETag instead of S3's: nginx-style or weak), and a missing path
answers 404.
"""
from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def s3_etag(body: bytes, part_size: int | None = None) -> str:
    """The ETag S3 gives an object: MD5, or MD5 of the parts' MD5s + ``-N`` for a multipart upload."""
    if not part_size:
        return hashlib.md5(body).hexdigest()
    parts = [hashlib.md5(body[i:i + part_size]).digest() for i in range(0, len(body), part_size)]
    return hashlib.md5(b"".join(parts)).hexdigest() + f"-{len(parts)}"


class BucketServer:
    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.part_size: dict[str, int] = {}
        self.drop_after: dict[str, int] = {}
        self.truncate: set[str] = set()
        self.corrupt: set[str] = set()
        self.oversize: set[str] = set()
        self.statuses: dict[str, list[int]] = {}
        self.head_status: dict[str, int] = {}
        self.bare: set[str] = set()
        self.ignore_range: set[str] = set()
        self.trickle: dict[str, int] = {}
        self.etags: dict[str, str] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _lookup(self):
                path = self.path.lstrip("/")
                server.requests.append((self.command, path, self.headers.get("Range")))
                return path, server.objects.get(path)

            def _headers(self, path, body):
                if path not in server.bare:
                    self.send_header("ETag", server.etags.get(path, f'"{s3_etag(body, server.part_size.get(path))}"'))
                self.send_header("Last-Modified", "Mon, 25 Apr 2022 17:00:00 GMT")

            def _length(self, path, n):
                if path not in server.bare:
                    self.send_header("Content-Length", str(n))

            def do_HEAD(self):
                path, body = self._lookup()
                if body is None:
                    self.send_error(404)
                    return
                if path in server.head_status:
                    self.send_error(server.head_status[path])
                    return
                self.send_response(200)
                self._length(path, len(body))
                self._headers(path, body)
                self.end_headers()

            def do_GET(self):
                path, body = self._lookup()
                if body is None:
                    self.send_error(404)
                    return
                if server.statuses.get(path):
                    self.send_error(server.statuses[path].pop(0))
                    return
                sent = body
                if path in server.corrupt:
                    sent = body[:10] + bytes([body[10] ^ 0xFF]) + body[11:]
                start, end = 0, len(body) - 1
                range_header = self.headers.get("Range") if path not in server.ignore_range else None
                if range_header and int(range_header.split("=")[1].partition("-")[0]) >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self.close_connection = True
                    return
                if range_header:
                    first, _, last = range_header.split("=")[1].partition("-")
                    start, end = int(first), int(last) if last else len(body) - 1
                    self.send_response(206)
                    if path not in server.bare:
                        self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
                else:
                    self.send_response(200)
                payload = sent[start:end + 1]
                if path in server.oversize and not range_header:
                    payload = payload + b"extra bytes"  # more than HEAD announced
                self._length(path, len(payload))
                self._headers(path, body)
                self.end_headers()
                if path in server.truncate:
                    payload = payload[: len(payload) // 2]
                elif path in server.drop_after:
                    payload = payload[: server.drop_after.pop(path)]
                if path in server.trickle:
                    rate = server.trickle[path]
                    try:
                        for i in range(0, len(payload), max(rate // 10, 1)):
                            self.wfile.write(payload[i:i + max(rate // 10, 1)])
                            self.wfile.flush()
                            time.sleep(0.1)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                else:
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
