"""A fake provider API on loopback: real HTTP, scripted answers, recorded requests.

Outbound code is tested through its real HTTP stack (SDKs included) against
this server, never by patching our own functions.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str]
    json: Any


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"


Responder = Callable[["Recorded"], Answer]
"""An answer computed from the request (a bulk API echoing its recipients)."""


class FakeProvider:
    """Answers each path with its scripted answers in order, the last one repeating."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._answers: dict[str, deque[Answer | Responder]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()

    def answer(self, path_suffix: str, *answers: Answer | Responder) -> None:
        with self._lock:
            self._answers[path_suffix] = deque(answers)

    def requests_to(self, path_suffix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith(path_suffix)]

    def _pick(self, path: str) -> Answer | Responder:
        with self._lock:
            for suffix, queue in self._answers.items():
                if path.endswith(suffix) and queue:
                    return queue.popleft() if len(queue) > 1 else queue[0]
        return Answer(404, {"error": f"fake provider: nothing scripted for {path}"})

    def _app(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        form = dict(parse_qsl(body.decode("utf-8", "replace"))) if body else {}
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        recorded = Recorded(request.method, request.path, dict(request.headers), body, form, parsed)
        with self._lock:
            self.requests.append(recorded)
        answer = self._pick(request.path)
        if callable(answer):
            answer = answer(recorded)
        if answer.delay:
            time.sleep(answer.delay)
        payload = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
        response = Response(payload, status=answer.status, content_type=answer.content_type)
        return response(environ, start_response)
