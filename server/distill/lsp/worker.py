"""Building the models' Schema out of process: the language server's side.

The user's models are code, and the language server must survive whatever that
code does (raise, hang, ``sys.exit``, ``os._exit``, overflow the C stack).  So
the server never imports them: a warm host process (``worker_host``) keeps
SQLAlchemy, Distill's schema modules and the user's third-party imports loaded,
and for each build forks a child that imports the project fresh, with the
editor's unsaved buffers served in place of the files, and sends back a
``ModelsResult``.  Where there is no ``os.fork`` each build runs in a fresh
interpreter instead: slower, same results.

Messages are length-prefixed pickles over the host's stdin/stdout
(``worker_protocol``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from distill.lsp.worker_protocol import (
    BuildRequest,
    encode_frame,
    read_frame,
    restricted_loads,
    split_frames,
    write_all,
)
from distill.schema.model import Schema

log = logging.getLogger("distill.lsp.worker")

HOST_MODULE = "distill.lsp.worker_host"
# A warm host answers within the build's timeout; past it by this much, it is stuck
# (its own start-up and its warming imports happen outside the child's timeout).
HOST_GRACE = 15.0
# The fallback pays an interpreter and SQLAlchemy start per build; not the user's time.
ONE_SHOT_GRACE = 10.0
_NO_OVERLAYS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class ModelError:
    kind: str  # "syntax" | "import" | "timeout" | "crash" | "config"
    message: str  # one line
    file: str | None = None  # absolute path of the user's file the error points to
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based, when known


@dataclass(frozen=True)
class TableOrigin:
    table: str
    schema: str | None
    class_name: str | None  # ORM class mapped to the table; None for a Core Table
    file: str | None  # the class's source file
    line: int | None  # 1-based line of its ``class`` statement
    attributes: dict[str, str] = field(default_factory=dict)  # column name -> attribute key


@dataclass(frozen=True)
class ModelsResult:
    schema: Schema | None
    origins: tuple[TableOrigin, ...] = ()
    files: tuple[str, ...] = ()  # the project's own .py files the import loaded
    error: ModelError | None = None
    seconds: float = 0.0  # wall time of the build


def failed(error: ModelError) -> ModelsResult:
    return ModelsResult(schema=None, error=error)


def timed_out(timeout: float) -> ModelsResult:
    return failed(ModelError("timeout", f"timed out after {timeout:g} s"))


def died(exit_code: int | None) -> ModelsResult:
    """The child ended without a result; ``exit_code`` is negative for a signal."""
    if exit_code is not None and exit_code < 0:
        try:
            how = f"was killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            how = f"was killed by signal {-exit_code}"
    else:
        how = f"exited with code {exit_code}"
    return failed(ModelError("crash", f"the models process {how} before sending a result"))


def decode_result(payload: bytes) -> ModelsResult:
    try:
        value = restricted_loads(payload)
    except Exception as error:
        log.error("unreadable model build result: %s", error)
        value = None
    if isinstance(value, ModelsResult):
        return value
    return failed(ModelError("crash", "the models process sent an unreadable result"))


# -- the server's handle -------------------------------------------------------------------

_CLOSED = ModelError("crash", "the model worker is closed")


class ModelWorker:
    """Builds the models' Schema in another process, one build at a time."""

    def __init__(
        self,
        root: Path,
        metadata: str,
        dialect: str,
        schemas: tuple[str | None, ...] = (None,),
        timeout: float = 10.0,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        *,
        fork: bool | None = None,  # None: fork where the platform can; False: the fallback
    ) -> None:
        self._root = Path(root).resolve()
        self._metadata = metadata
        self._dialect = dialect
        self._schemas = tuple(schemas)
        self._timeout = timeout
        self._python = python
        self._env = dict(env) if env is not None else None
        self._fork = hasattr(os, "fork") if fork is None else fork
        self._build_lock = threading.Lock()
        # Guards _process and _closed: close() must not wait for a build to finish.
        self._state_lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._closed = False

    @property
    def host_pid(self) -> int | None:
        """The warm host's process id, while it runs (for diagnostics and tests)."""
        process = self._process
        return process.pid if process is not None and self._fork else None

    def build(self, overlays: Mapping[str, str] = _NO_OVERLAYS) -> ModelsResult:
        with self._build_lock:
            started = time.monotonic()
            request = BuildRequest(
                root=str(self._root),
                metadata=self._metadata,
                dialect=self._dialect,
                schemas=self._schemas,
                overlays=dict(overlays),
                timeout=self._timeout,
            )
            try:
                result = self._via_host(request) if self._fork else self._via_one_shot(request)
            except Exception as error:  # a bug here must not take the server down either
                log.exception("model build failed")
                result = failed(ModelError("crash", f"the model worker failed: {error}"))
            return replace(result, seconds=time.monotonic() - started)

    def close(self) -> None:
        with self._state_lock:
            self._closed = True
            process, self._process = self._process, None
        if process is not None:
            _kill(process)

    # -- the warm host (fork) -------------------------------------------------------------

    def _via_host(self, request: BuildRequest) -> ModelsResult:
        message = encode_frame(request)
        for attempt in (1, 2):
            host = self._host()
            if host is None:
                return failed(_CLOSED)
            assert host.stdin is not None and host.stdout is not None
            deadline = time.monotonic() + self._timeout + HOST_GRACE
            try:
                write_all(host.stdin.fileno(), message, deadline)
                return decode_result(read_frame(host.stdout.fileno(), deadline))
            except TimeoutError:  # before OSError, its base class
                log.error("model host %d stopped answering; killing it", host.pid)
                self._discard(host)
                return failed(ModelError("crash", "the model host stopped answering; restarted"))
            except (EOFError, OSError, ValueError):  # it died (or close() closed its pipes)
                self._discard(host)
                if not self._closed:
                    log.warning(
                        "model host %d exited with %s during a build; %s",
                        host.pid,
                        host.returncode,
                        "restarting it" if attempt == 1 else "giving up on this build",
                    )
        if self._closed:
            return failed(_CLOSED)
        return failed(ModelError("crash", "the model host died twice in one build; see the log"))

    def _host(self) -> subprocess.Popen[bytes] | None:
        with self._state_lock:
            if self._closed:
                return None
            if self._process is not None and self._process.poll() is not None:
                log.warning(
                    "model host %d exited with %s; restarting it",
                    self._process.pid,
                    self._process.returncode,
                )
                _close_pipes(self._process)
                self._process = None
            if self._process is None:
                self._process = self._spawn(self._dialect)
                assert self._process.stdin is not None and self._process.stdout is not None
                # Non-blocking, so a stuck host cannot hold a build past its deadline.
                os.set_blocking(self._process.stdin.fileno(), False)
                os.set_blocking(self._process.stdout.fileno(), False)
                log.info("model host started: pid %d", self._process.pid)
            return self._process

    def _discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._state_lock:
            if self._process is process:
                self._process = None
        _kill(process)

    # -- the fallback: one fresh interpreter per build ----------------------------------

    def _via_one_shot(self, request: BuildRequest) -> ModelsResult:
        with self._state_lock:
            if self._closed:
                return failed(_CLOSED)
            process = self._process = self._spawn("--once")
        try:
            output, _ = process.communicate(
                encode_frame(request), timeout=self._timeout + ONE_SHOT_GRACE
            )
        except subprocess.TimeoutExpired:
            return timed_out(self._timeout)
        finally:
            _kill(process)
            with self._state_lock:
                if self._process is process:
                    self._process = None
        frames = split_frames(output)
        return decode_result(frames[0]) if frames else died(process.returncode)

    def _spawn(self, argument: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [self._python, "-m", HOST_MODULE, argument],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,  # the protocol; the host's stderr is this process's
            cwd=self._root,
            env=self._env,
            # Its own process group: close() ends the host and its children at once.
            start_new_session=os.name == "posix",
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except ProcessLookupError:
            pass  # it ended on its own in between
    process.wait()
    _close_pipes(process)


def _close_pipes(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            # A non-blocking pipe with unflushed data: there is nothing left to say to it.
            with contextlib.suppress(OSError):
                pipe.close()
