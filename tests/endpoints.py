"""Test endpoints on loopback: a fault-injecting proxy in front of an OpenAI-compatible server
(a real `python -m llama_cpp.server`, or a canned answer when there is none).

Faults, by request number (1-based, in the order requests arrive):
  "429"       429 with Retry-After: 1
  "500"/"503" that status, with a JSON error body
  "reset"     the upstream answer's headers and half its body, then a TCP reset
  "truncated" 200 with the first half of the upstream JSON (Content-Length to match)
  "stall"     no answer for `stall_s` seconds (past the client's timeout), then a close
  "slow"      the upstream answer, `slow_s` late
  "die"       a reset, and the proxy stops listening: every later connection is refused
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from conftest import free_port as closed_port  # a loopback port nothing listens on  # noqa: F401

FAULTS = ("429", "500", "503", "reset", "truncated", "stall", "slow")


def canned(body: dict) -> dict:
    """A completion answering ' positive' (or a chat message saying so)."""
    usage = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    if "messages" in body:
        choice = {"index": 0, "message": {"role": "assistant", "content": "positive"}, "finish_reason": "stop"}
        return {
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": "fake",
            "choices": [choice],
            "usage": usage,
        }
    choice = {"index": 0, "text": " positive", "finish_reason": "stop", "logprobs": None}
    return {"id": "c", "object": "text_completion", "created": 0, "model": "fake", "choices": [choice], "usage": usage}


class FaultProxy:
    """`with FaultProxy(upstream, plan) as proxy:` then `proxy.url` is an OpenAI base URL."""

    def __init__(
        self,
        upstream: str | None = None,
        plan: dict[int, str] | Callable[[int], str | None] | None = None,
        *,
        stall_s: float = 5.0,
        slow_s: float = 0.3,
        reply: Callable[[dict], dict] = canned,
        port: int = 0,
        models: tuple[str, ...] = ("fake",),
    ):
        self.upstream = urlparse(upstream) if upstream else None
        self.plan = plan if callable(plan) else (plan or {}).get
        self.stall_s, self.slow_s, self.reply, self.port = stall_s, slow_s, reply, port
        self.models = models  # what GET /models lists without an upstream
        self.requests: list[tuple[int, str, str | None]] = []  # (number, path, fault)
        self._lock = threading.Lock()

    def __enter__(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                proxy._handle(self, b"")

            def do_POST(self):
                proxy._handle(self, self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def log_message(self, *args):
                pass

            def finish(self):
                try:
                    super().finish()
                except OSError:  # the connection was reset on purpose
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening: from now on a connection is refused (the endpoint is dead)."""
        self._server.shutdown()
        self._server.server_close()

    @property
    def faults(self) -> list[str]:
        return [fault for _, _, fault in self.requests if fault]

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            number = len(self.requests) + 1
            fault = self.plan(number) if handler.command == "POST" else None
            self.requests.append((number, handler.path, fault))
        if fault in ("400", "429", "500", "503"):
            extra = {"Retry-After": "1"} if fault == "429" else {}
            return _send(handler, int(fault), json.dumps({"error": {"message": f"injected {fault}"}}).encode(), extra)
        if fault == "stall":
            time.sleep(self.stall_s)
            handler.close_connection = True
            return None
        if fault == "slow":
            time.sleep(self.slow_s)
        status, data = self._upstream(handler, body)
        if fault == "truncated":
            return _send(handler, 200, data[: len(data) // 2])
        if fault == "die":
            threading.Thread(target=self.close, daemon=True).start()
        if fault in ("reset", "die"):
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
            return None
        return _send(handler, status, data)

    def _upstream(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        if self.upstream is None:
            if handler.command == "GET":
                listed = [{"id": model, "object": "model"} for model in self.models]
                return 200, json.dumps({"object": "list", "data": listed}).encode()
            return 200, json.dumps(self.reply(json.loads(body))).encode()
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=600)
        try:
            path = handler.path
            conn.request(handler.command, path, body=body or None, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def _send(handler: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
