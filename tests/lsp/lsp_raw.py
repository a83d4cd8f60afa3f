"""Raw JSON-RPC over a ``distill lsp`` process's stdio: for messages no LSP client would send."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tests.lsp.lsp_client import ENV, server_command

T = TypeVar("T")


class RawServer:
    """A ``distill lsp`` process spoken to in bytes; every message it sends is kept."""

    def __init__(
        self, root: Path, command: list[str] | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.process = subprocess.Popen(
            command or server_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=ENV if env is None else env,
            cwd=root,
        )
        self.received: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 100

    def send_bytes(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def request(self, method: str, params: Any, timeout: float = 30.0) -> dict[str, Any]:
        """The response to one request (result or error)."""
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params})
        return self.response_to(self._next_id, timeout)

    def response_to(self, message_id: int | str | None, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.received:
                if "method" not in message and message.get("id") == message_id:
                    return message
            self._read_one(deadline)

    def initialize(
        self, capabilities: dict[str, Any] | None = None, **options: Any
    ) -> dict[str, Any]:
        answer = self.request("initialize", {
            "processId": os.getpid(), "rootUri": self.root.as_uri(),
            "capabilities": capabilities or {},
            "workspaceFolders": [{"uri": self.root.as_uri(), "name": self.root.name}],
            "initializationOptions": {"debounceMs": 20, **options},
        })  # fmt: skip
        self.send({"method": "initialized", "params": {}})
        return answer

    def open_document(self, path: Path, text: str) -> str:
        """Open ``path`` with ``text`` in the (unsaved) buffer; its uri."""
        document = {"uri": path.as_uri(), "languageId": "python", "version": 1, "text": text}
        self.send({"method": "textDocument/didOpen", "params": {"textDocument": document}})
        return path.as_uri()

    def until(self, ask: Callable[[], T], timeout: float = 60.0) -> T:
        """``ask()`` again until it gives something (the first analysis takes a while)."""
        deadline = time.monotonic() + timeout
        answer = ask()
        while not answer and time.monotonic() < deadline:
            time.sleep(0.3)
            answer = ask()
        return answer

    def request_answering(
        self, method: str, params: Any, replies: dict[str, dict[str, Any]], timeout: float = 60.0
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The response to one request, while the server's own requests named in
        ``replies`` (method -> the response's body: ``{"result": ...}`` or
        ``{"error": ...}``) are answered; with the requests it asked."""
        self._next_id += 1
        own = self._next_id
        self.send({"id": own, "method": method, "params": params})
        asked: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while not any(m.get("id") == own and "method" not in m for m in self.received):
            for message in self.received:
                if message.get("method") in replies and message not in asked:
                    asked.append(message)
                    self.send({"id": message["id"], **replies[message["method"]]})
            self._read_one(deadline)
        return next(m for m in self.received if m.get("id") == own and "method" not in m), asked

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.request("shutdown", None, timeout=15)
                self.send({"method": "exit"})
                self.process.wait(timeout=15)
            except (OSError, TimeoutError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def _read_one(self, deadline: float) -> None:
        while True:
            head, found, rest = self._buffer.partition(b"\r\n\r\n")
            if found:
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                if len(rest) >= length:
                    self.received.append(json.loads(rest[:length]))
                    self._buffer = rest[length:]
                    return
            self._buffer += self._read_some(deadline)

    def _read_some(self, deadline: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise TimeoutError(f"no answer from the server; it sent {self.received}")
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            raise EOFError(f"the server closed its stdout; it sent {self.received}")
        return chunk


@contextmanager
def raw_server(root: Path, env: dict[str, str] | None = None) -> Iterator[RawServer]:
    """A RawServer on ``root`` (with ``env``, else the tests' ENV), shut down after."""
    raw = RawServer(root, env=env)
    try:
        yield raw
    finally:
        raw.close()
