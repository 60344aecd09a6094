"""A real webhook receiver on a local port, as an integration would run one.

It verifies every signature with the endpoint's secret, answers with the codes it is told
to (500 for the first N posts, say), and keeps what arrived, de-duplicated by event id (or by
what `key` reads from the body: an owner notification's id, for the notification gateway).
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.domain.events import signing


class Receiver:
    def __init__(self, *, secret: str = "", fail_first: int = 0, delay: float = 0.0,
                 key: Callable[[bytes], str] | None = None) -> None:
        self.secret = secret
        self.key = key
        self.fail_first = fail_first
        self.delay = delay
        self.posts: list[dict] = []  # every POST: event id, signature valid, status answered
        self.events: dict[str, dict] = {}  # de-duplicated by event id
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                valid = signing.verify(receiver.secret, header=self.headers.get(signing.SIGNATURE_HEADER, ""),
                                       body=body, now=int(time.time()))
                time.sleep(receiver.delay)
                with receiver.lock:
                    code = 500 if len(receiver.posts) < receiver.fail_first else (200 if valid else 401)
                    event_id = receiver.key(body) if receiver.key else self.headers.get(signing.EVENT_ID_HEADER, "")
                    receiver.posts.append({"event_id": event_id, "valid": valid, "code": code})
                    if code == 200:
                        receiver.events.setdefault(event_id, json.loads(body))
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"try later")

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def per_event(self) -> Counter[str]:
        return Counter(p["event_id"] for p in self.posts if p["code"] == 200)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
