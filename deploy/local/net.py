"""Loopback networking of the processes started here (the local mesh, the tests' servers, the
benchmarks): a free port, waiting until a process listens, and JSON calls to a live server.
Standard library only: the mesh and the benchmarks run it without Django."""

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any, NamedTuple

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick); free until someone binds it."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class ExitedEarly(RuntimeError):
    """The process that was to listen exited first."""


def wait_listening(
    port: int, deadline_s: float, *, process: subprocess.Popen | None = None, log: Path | None = None
) -> None:
    """Return once 127.0.0.1:`port` accepts connections; polls, never sleeps the whole deadline.
    ExitedEarly when `process` ends first, TimeoutError after `deadline_s`; both name `log`."""
    see = f"; see {log}" if log else ""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ExitedEarly(f"the process for port {port} exited with {process.returncode}{see}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} after {deadline_s}s{see}")


class JsonAnswer(NamedTuple):
    status: int
    body: Any  # the parsed JSON, or the text when the answer is no JSON
    headers: Message  # case-insensitive, as the server sent them


def call_json(
    url: str,
    method: str = "GET",
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 30,
) -> JsonAnswer:
    """One request to a live server (`body` sent as JSON, `token` as a bearer token). A 4xx or 5xx is an
    answer like any other; only a connection that fails raises (URLError, ConnectionError)."""
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310 - loopback servers
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            status, payload, answered = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, payload, answered = error.code, error.read(), error.headers
    text = payload.decode("utf-8", errors="replace")
    try:
        return JsonAnswer(status, json.loads(text), answered)
    except json.JSONDecodeError:
        return JsonAnswer(status, text, answered)
