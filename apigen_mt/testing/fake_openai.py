"""A loopback OpenAI-compatible server with scripted replies and injected faults.

For tests of the real ChatOpenAI path and for benchmarks: it speaks just enough of
`/v1/chat/completions` and `/v1/models`, binds 127.0.0.1 only, and records requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = ""
    # [{"name":..., "arguments": {...}}]; arguments given as a string go out verbatim
    tool_calls: list[dict[str, Any]] | None = None
    prompt_tokens: int = 10
    completion_tokens: int = 5
    delay: float = 0.0


@dataclass
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"error": {"message": "injected fault", "type": "server_error"}}'


@dataclass
class Stall:
    """Sleep past the client's timeout, then answer (the client has given up)."""

    seconds: float


@dataclass
class Reset:
    """Close the connection without answering."""


Step = Reply | Fault | Stall | Reset


class FakeOpenAIServer:
    def __init__(
        self,
        script: list[Step] | None = None,
        responder: Callable[[dict[str, Any]], Step] | None = None,
        latency: float = 0.0,
    ):
        self.script = list(script or [])
        self.responder = responder
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self.served = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Step:
        with self._lock:
            self.requests.append(body)
            if self.script:
                return self.script.pop(0)
        if self.responder:
            return self.responder(body)
        return Reply(content="ok")

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(
                        200,
                        {
                            "object": "list",
                            "data": [{"id": "fake-model", "object": "model", "owned_by": "test"}],
                        },
                    )
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if refusal := _strict_refusal(body):  # as OpenAI answers such a request
                    with server._lock:
                        server.requests.append(body)
                    self._send(400, refusal)
                    return
                step = server._next(body)
                if server.latency:
                    time.sleep(server.latency)
                if isinstance(step, Reset):
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(step, Stall):
                    time.sleep(step.seconds)
                    step = Reply(content="too late")
                if isinstance(step, Fault):
                    self._send(step.status, step.body, step.headers)
                    return
                if step.delay:
                    time.sleep(step.delay)
                completion = _completion(body, step)
                sent = (
                    self._stream(completion) if body.get("stream") else self._send(200, completion)
                )
                if sent:
                    with server._lock:
                        server.served += 1

            def _stream(self, completion: dict[str, Any]) -> bool:
                """`stream: true`: the same completion as server-sent events (the content
                and calls in one delta, then the finish reason, the usage and [DONE])."""
                events = [f"data: {json.dumps(e)}\n\n" for e in _chunks(completion)]
                body = "".join(events) + "data: [DONE]\n\n"
                return self._send(200, body, content_type="text/event-stream")

            def _send(
                self,
                status: int,
                payload: Any,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json",
            ) -> bool:
                """Write a response; False when the client has already hung up (a timeout)."""
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                    return True
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    return False

        return Handler


def _strict_refusal(body: dict[str, Any]) -> dict[str, Any] | None:
    """OpenAI's 400 for a strict response schema outside the subset it supports."""
    from apigen_mt.agents.strict_schema import strict_violations

    fmt = body.get("response_format") or {}
    spec = fmt.get("json_schema") or {} if isinstance(fmt, dict) else {}
    if fmt.get("type") != "json_schema" or spec.get("strict") is not True:
        return None
    problems = strict_violations(spec.get("schema") or {})
    if not problems:
        return None
    message = f"Invalid schema for response_format '{spec.get('name')}': {problems[0]}"
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def _arguments(arguments: Any) -> str:
    """Arguments as the wire carries them; a string is sent as is (e.g. JSON cut off)."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _chunks(completion: dict[str, Any]) -> list[dict[str, Any]]:
    """A completion as `chat.completion.chunk` events."""
    choice = completion["choices"][0]
    message = choice["message"]
    delta: dict[str, Any] = {"role": "assistant", "content": message.get("content") or ""}
    if message.get("tool_calls"):
        delta["tool_calls"] = [{**c, "index": i} for i, c in enumerate(message["tool_calls"])]
    head = {k: completion[k] for k in ("id", "created", "model")}
    head["object"] = "chat.completion.chunk"
    return [
        {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]},
        {**head, "choices": [], "usage": completion["usage"]},
    ]


def _completion(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": _arguments(c.get("arguments", {}))},
            }
            for i, c in enumerate(reply.tool_calls)
        ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }
