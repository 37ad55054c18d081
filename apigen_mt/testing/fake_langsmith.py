"""A loopback stand-in for the LangSmith API that records the runs a tracer sends.

For tests and the tracing notebook: point a `langsmith.Client(api_url=recorder.url,
api_key="...", auto_batch_tracing=False)` at it and read back the run tree.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LangSmithRecorder:
    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LangSmithRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, run: dict[str, Any]) -> None:
        with self._lock:
            self.runs.setdefault(str(run["id"]), {}).update(run)

    def children(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.runs.values() if str(r.get("parent_run_id")) == run_id]

    def roots(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.runs.values() if not r.get("parent_run_id")]

    def descendants(self, run_id: str) -> list[dict[str, Any]]:
        out, frontier = [], [run_id]
        while frontier:
            kids = self.children(frontier.pop())
            out.extend(kids)
            frontier.extend(str(k["id"]) for k in kids)
        return out

    def _handler(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length", 0))
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self) -> None:
                self._reply({"version": "recorder", "batch_ingest_config": {}})

            def do_POST(self) -> None:
                body = self._body()
                if self.path.rstrip("/").endswith("/runs"):
                    recorder._record(body)
                elif self.path.rstrip("/").endswith("/runs/batch"):
                    for run in body.get("post", []) + body.get("patch", []):
                        recorder._record(run)
                self._reply({})

            def do_PATCH(self) -> None:
                body = self._body()
                recorder._record({"id": self.path.rstrip("/").rsplit("/", 1)[-1], **body})
                self._reply({})

        return Handler
