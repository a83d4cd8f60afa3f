"""Building the models' Schema out of process: the language server's side.

The user's models are code, and the language server must survive whatever that
code does (raise, hang, ``sys.exit``, ``os._exit``, overflow the C stack).  So
the server never imports them: a warm host process (``sandbox.host``) keeps
SQLAlchemy, Distill's schema modules and the user's third-party imports loaded,
and for each build forks a child that imports the project fresh, with the
editor's unsaved buffers served in place of the files, and sends back a
``ModelsResult``.  Where there is no ``os.fork`` each build runs in a fresh
interpreter instead: slower, same results.

The revision scripts are code too: a build asked for ``targets`` also replays
them in the same child (``sandbox.migrations``), after the models, within the
same timeout.

Messages are length-prefixed pickles over the host's stdin/stdout
(``sandbox.protocol``).
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
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from distill.sandbox.launch import python_module
from distill.sandbox.protocol import (
    BuildRequest,
    MigrationsResult,
    ModelError,
    ModelsResult,
    TableOrigin,
    dump,
    encode_frame,
    read_frame,
    restricted_loads,
    split_frames,
    write_all,
)
from distill.schema.catalog_facts import CatalogFacts
from distill.user_code import timed_out_text

__all__ = [
    "MigrationsResult",
    "ModelError",
    "ModelWorker",
    "ModelsResult",
    "TableOrigin",
    "answer",
    "died",
    "failed",
    "parts_of",
    "timed_out",
]

log = logging.getLogger("distill.sandbox.client")

HOST_MODULE = "distill.sandbox.host"
# A warm host answers within the build's timeout; past it by this much, it is stuck
# (its own start-up and its warming imports happen outside the child's timeout).
HOST_GRACE = 15.0
# The fallback pays an interpreter and SQLAlchemy start per build; not the user's time.
ONE_SHOT_GRACE = 10.0
# Closing the host: SIGTERM lets it end what the models started (see sandbox.host);
# past this, its process group is killed.
LEAVE_GRACE = 3.0
_NO_OVERLAYS: Mapping[str, str] = MappingProxyType({})
_NO_FACTS = CatalogFacts()
_T = TypeVar("_T")


def failed(error: ModelError) -> ModelsResult:
    return ModelsResult(schema=None, error=error)


def timed_out(timeout: float) -> ModelsResult:
    return failed(ModelError("timeout", timed_out_text(timeout)))


def died(exit_code: int | None) -> ModelsResult:
    """The child ended without a result; ``exit_code`` is negative for a signal."""
    return failed(
        ModelError("crash", f"the models process {_how(exit_code)} before sending a result")
    )


def _how(exit_code: int | None) -> str:
    if exit_code is not None and exit_code < 0:
        try:
            return f"was killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"was killed by signal {-exit_code}"
    return f"exited with code {exit_code}"


def parts_of(sent: list[bytes], timeout: float, ended: int | None) -> tuple[bytes, bytes]:
    """The models' and the migrations' payloads, from the frames a child sent before it ended.

    ``ended``: None when the child was stopped at the timeout, else its exit code.
    A child that sent the models' part and no more ended while replaying.
    """
    if not sent:
        return dump(timed_out(timeout) if ended is None else died(ended)), dump(MigrationsResult())
    if len(sent) == 1:
        if ended is None:
            why = f"replaying the migrations timed out after {timeout:g} s"
            error = ModelError("timeout", why)
        else:
            error = ModelError("crash", f"the build {_how(ended)} while replaying the migrations")
        return sent[0], dump(MigrationsResult(error=error))
    return sent[0], sent[1]


def answer(models: bytes, migrations: bytes) -> ModelsResult:
    """One result from the two parts of an answer."""
    result = _decoded(models, ModelsResult)
    if result is None:
        return failed(ModelError("crash", "the models process sent an unreadable result"))
    replayed = _decoded(migrations, MigrationsResult)
    if replayed is None:
        why = "the build sent an unreadable migrations result"
        replayed = MigrationsResult(error=ModelError("crash", why))
    return replace(result, migrations=replayed)


def _decoded(payload: bytes, kind: type[_T]) -> _T | None:
    try:
        value = restricted_loads(payload)
    except Exception as error:
        log.error("unreadable model build result: %s", error)
        return None
    return value if isinstance(value, kind) else None


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
        url: str | None = None,  # the server's url override, for replays that need a database
    ) -> None:
        self._root = Path(root).resolve()
        self._metadata = metadata
        self._dialect = dialect
        self._schemas = tuple(schemas)
        self._timeout = timeout
        self._python = python
        self._env = dict(env) if env is not None else None
        self._fork = hasattr(os, "fork") if fork is None else fork
        self._url = url
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

    def build(
        self,
        overlays: Mapping[str, str] = _NO_OVERLAYS,
        *,
        targets: Sequence[str] = (),
        compare: bool = False,
        known: Mapping[str, str] = _NO_OVERLAYS,
        lint: Sequence[str] | None = None,
        lint_start: str | None = None,
        preflight: bool = False,
        catalog: CatalogFacts = _NO_FACTS,
        server_version: tuple[int, ...] | None = None,
    ) -> ModelsResult:
        """The models' schema; with ``targets`` ("heads", revision ids), the migrations' too.

        One timeout covers both.  The replayed schemas come back in ``migrations``
        by target, with ``migrations.notes``; a script that fails or hangs gives
        ``migrations.error`` and leaves the models' result as it was.

        With ``compare``, the child compares the models with the heads' replay
        and sends ``changes`` instead of the models' schema (``schema`` is then
        None, with no error); a replayed schema whose digest is in ``known``
        (target -> digest) is not sent again: ``migrations.digests`` says which.
        ``lint`` (revision ids, the others counting as applied): their findings come
        back in ``migrations.lint``; ``lint_start`` is the one revision they start from,
        whose replay (cached) stands for the applied revisions.  With ``preflight`` the
        pre-flight counts those revisions need come back in ``migrations.preflight``;
        ``catalog`` (row estimates, unvalidated CHECKs) lets the lint say how large a
        table is and whether a CHECK proves a column, and
        ``server_version`` is the version it lints for (unless ``target_version`` says).
        """
        with self._build_lock:
            started = time.monotonic()
            request = BuildRequest(
                root=str(self._root),
                metadata=self._metadata,
                dialect=self._dialect,
                schemas=self._schemas,
                overlays=dict(overlays),
                timeout=self._timeout,
                targets=tuple(dict.fromkeys([targets] if isinstance(targets, str) else targets)),
                url=self._url,
                compare=compare,
                known=dict(known),
                lint=None if lint is None else tuple(lint),
                lint_start=lint_start,
                preflight=preflight,
                catalog=catalog,
                server_version=server_version,
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
                models = read_frame(host.stdout.fileno(), deadline)
                return answer(models, read_frame(host.stdout.fileno(), deadline))
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
        ended: int | None
        try:
            output, _ = process.communicate(
                encode_frame(request), timeout=self._timeout + ONE_SHOT_GRACE
            )
            ended = process.returncode
        except subprocess.TimeoutExpired:
            _end(process)
            try:  # what it sent before: the models' part, maybe
                output, _ = process.communicate(timeout=1.0)
            except subprocess.TimeoutExpired:  # a process it started holds the pipe open
                output = b""
            ended = None
        finally:
            _kill(process)
            with self._state_lock:
                if self._process is process:
                    self._process = None
        return answer(*parts_of(split_frames(output), self._timeout, ended))

    def _spawn(self, argument: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            python_module(self._python, HOST_MODULE, argument),  # not the project's distill/
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,  # the protocol; the host's stderr is this process's
            cwd=self._root,
            env=self._env,
            # Its own process group: close() ends the host and its children at once.
            start_new_session=os.name == "posix",
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    _end(process)
    process.wait()
    _close_pipes(process)


def _end(process: subprocess.Popen[bytes]) -> None:
    """Ask the process to end what it started and leave (SIGTERM), then kill its group.

    Its process group holds the build and its children, but not the processes the
    models detached into sessions of their own: only the process itself, their
    subreaper, can end those.
    """
    if os.name == "posix" and process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=LEAVE_GRACE)
    _signal_kill(process)


def _signal_kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except ProcessLookupError:
            pass  # it ended on its own in between


def _close_pipes(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            # A non-blocking pipe with unflushed data: there is nothing left to say to it.
            with contextlib.suppress(OSError):
                pipe.close()
