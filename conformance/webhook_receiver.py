"""A real webhook receiver for the bucket-notification tests.

An `http.server` in a thread on a loopback port. It records every POST (headers and
parsed JSON), answers 200 or -- when told to -- 500, and can be stopped and started
again on the same port (connection refused while stopped).
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import s3support as sup


@dataclass
class Delivery:
    """One POST the receiver got."""

    status: int           # what the receiver answered
    path: str
    headers: dict         # lower-cased header names
    raw: bytes
    body: object          # parsed JSON, or None when the body is not JSON
    at: float = field(default_factory=time.monotonic)
    arrival: int = 0      # order in which the POSTs were read

    @property
    def records(self) -> list:
        if isinstance(self.body, dict) and isinstance(self.body.get("Records"), list):
            return self.body["Records"]
        return []


class WebhookReceiver:
    def __init__(self, port: int | None = None, path: str = "/events"):
        self.port = port or sup.free_port()
        self.path = path
        self.status = 200                 # answer for POSTs; set to 500 to fail them
        self.cond = threading.Condition()
        self.attempts: list[Delivery] = []  # every POST, failed or not, in arrival order
        self._arrivals = 0
        self.heads = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "WebhookReceiver":
        assert self._server is None, "receiver already running"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: stop() really stops

            def log_message(self, *args):  # keep pytest output clean
                pass

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self):
                raw = self._read_body()
                with receiver.cond:
                    receiver._arrivals += 1
                    arrival = receiver._arrivals
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                status = receiver.status
                delivery = Delivery(status=status, path=self.path,
                                    headers={k.lower(): v for k, v in self.headers.items()},
                                    raw=raw, body=body, arrival=arrival)
                payload = b"ok" if status < 300 else b"failing on purpose"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                # Recorded once answered, so "delivered" means the sender got the 2xx, but
                # in arrival order: one connection per POST, so the sender's next POST can be
                # handled by another thread that records before this one does.
                with receiver.cond:
                    bisect.insort(receiver.attempts, delivery, key=lambda d: d.arrival)
                    receiver.cond.notify_all()

            def do_HEAD(self):
                with receiver.cond:
                    receiver.heads += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=f"webhook-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    # ------------------------------------------------------------------ results

    def deliveries(self) -> list[Delivery]:
        """POSTs answered with 2xx, in arrival order."""
        with self.cond:
            return [d for d in self.attempts if 200 <= d.status < 300]

    def records(self, bucket: str | None = None) -> list[tuple[Delivery, dict]]:
        """(delivery, record) of every accepted record, in arrival order (optionally one bucket's)."""
        out = []
        for d in self.deliveries():
            for r in d.records:
                if bucket is None or r.get("s3", {}).get("bucket", {}).get("name") == bucket:
                    out.append((d, r))
        return out

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "events", bucket: str | None = None):
        """Polls until predicate(records(bucket)) is truthy; returns the records."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                recs = self.records(bucket)
                if predicate(recs):
                    return recs
                left = deadline - time.monotonic()
                if left <= 0:
                    summary = [(r["eventName"], r["s3"]["object"]["key"]) for _, r in recs][-20:]
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                                         f"{len(recs)} records received (last: {summary}); "
                                         f"{len(self.attempts)} POST attempts in all")
                self.cond.wait(min(left, 0.2))
