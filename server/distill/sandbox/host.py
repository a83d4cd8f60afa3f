"""The model worker's warm host: ``python -m distill.sandbox.host DIALECT``.

It loads what every build needs once (SQLAlchemy, the dialect, Distill's schema
modules), then serves builds read from stdin: each build is a forked child, so
it starts with all of that already imported (copy-on-write) and imports the
project fresh.  The host never imports the project's modules itself; after each
build it imports the third-party modules the child reported, so the next child
starts with them too.  A child that outlives the build's timeout is killed; the
host lives on.  The child answers in two parts, the models' and then the revision
scripts' replay (when asked for); the host passes on both, standing in for a part
the child did not send (it hung or died while replaying).

``--once`` is the fallback for platforms without fork: the process is the child,
runs one build read from stdin and exits.

Processes the user's code starts and detaches (a new session, a double fork)
are ended after each build and when the host leaves (``descendants``): on
SIGTERM, which the server sends to close it, and when the server is gone.

Nothing but protocol frames may reach the server on stdout: the protocol keeps
descriptors of its own, and fd 1 becomes stderr (the server's log) for everything
else, including prints from C code.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import math
import os
import pickle
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import sqlalchemy as sa

from distill.autogen.generate import replay_cache_folder
from distill.commands.project import open_project
from distill.errors import DistillError
from distill.replay.cache import hold_latest
from distill.sandbox.child import from_project, run_job
from distill.sandbox.client import failed, parts_of
from distill.sandbox.descendants import become_subreaper, end_descendants
from distill.sandbox.log_mask import LOG_MASK, mask_logging
from distill.sandbox.migrations import remember_digest, run_migrations
from distill.sandbox.protocol import (
    BuildRequest,
    MigrationsResult,
    ModelError,
    ModelsResult,
    dump,
    encode_frame,
    frame,
    read_frame,
    restricted_loads,
    split_frames,
    wait_ready,
    write_all,
)
from distill.schema.from_metadata import schema_from_metadata

log = logging.getLogger("distill.sandbox.host")

# Past the build's timeout, a child that has not ended is ended; this margin lets the
# host do it first, and the child's own alarm is only for a host that is gone.
_ALARM_MARGIN = 2


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(format="distill model host %(process)d: %(message)s")
    mask_logging()  # the host's log, and the user's models' (the children inherit it)
    # The project root is not on sys.path (see launch): the host must not find project
    # modules by name when it warms third-party ones.
    protocol = _claim_stdio()
    become_subreaper()
    signal.signal(signal.SIGTERM, _leave)
    if args == ["--once"]:
        _serve_once(protocol)
    _warm_start(args[0] if args else "sqlite")
    return _serve(protocol)


def _claim_stdio() -> tuple[int, int]:
    """The protocol's own descriptors; fd 0 becomes /dev/null and fd 1 stderr."""
    protocol = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # input() in user code reads nothing rather than our requests
    os.close(null)
    os.dup2(2, 1)
    return protocol


def _serve(protocol: tuple[int, int]) -> int:
    cold: set[str] = set()  # modules that failed to import here: not tried again
    while True:
        try:
            request = pickle.loads(read_frame(protocol[0], None))
        except EOFError:
            end_descendants()
            return 0  # the server has gone: so does the host, and all it started
        LOG_MASK.add_password_of(request.url)
        try:
            (models, migrations), warm = _build_in_child(request, protocol)
        except Exception as error:  # fork refused (process or memory limits), a bug of ours
            log.exception("cannot run the build")
            models = dump(failed(ModelError("crash", f"cannot run the build: {error}")))
            migrations, warm = dump(MigrationsResult()), []
        end_descendants()  # what the build started and left running (the child is reaped)
        write_all(protocol[1], frame(models) + frame(migrations), None)
        _warm(warm, request.root, cold)
        _hold_replayed(request)


def _serve_once(protocol: tuple[int, int]) -> NoReturn:
    request: BuildRequest = pickle.loads(read_frame(protocol[0], None))
    deadline = time.monotonic() + request.timeout
    result, _ = run_job(request, deadline)
    write_all(protocol[1], _encode_result(_sent(result, request)), None)  # first: see _child
    write_all(protocol[1], _encode_result(run_migrations(request, deadline, result.schema)), None)
    end_descendants()
    _exit(0)  # not sys.exit: no atexit handlers or threads of the user's to wait for


def _leave(signum: int, frame: object) -> NoReturn:
    """SIGTERM from the server closing the worker: end every process below the host first."""
    end_descendants()
    _exit(0)


def _warm_start(dialect_name: str) -> None:
    """Load the dialect and SQLAlchemy's lazily imported parts with a tiny schema build."""
    started = time.perf_counter()
    try:
        dialect = sa.engine.URL.create(dialect_name).get_dialect()()
        metadata = sa.MetaData()
        sa.Table(
            "warm",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(10), server_default="x", index=True, unique=True),
            sa.Column("parent", sa.ForeignKey("warm.id")),
            sa.CheckConstraint("id > 0"),
        )
        schema_from_metadata(metadata, dialect)
    except Exception as error:  # the child reports a bad dialect as a ModelError
        log.warning("could not warm up the %r dialect: %s", dialect_name, error)
    log.info("warm in %.3f s", time.perf_counter() - started)


# -- one build in a forked child -------------------------------------------------------------


def _build_in_child(
    request: BuildRequest, protocol: tuple[int, int]
) -> tuple[tuple[bytes, bytes], list[str]]:
    """The child's pickled results (models, migrations) and the third-party modules it imported.

    The child sends the models' result, the module names, then the migrations' result.
    """
    read_end, write_end = os.pipe()
    # The host's objects leave the collector's view: the child's collections then
    # neither walk them nor touch (and so copy) their pages.
    gc.freeze()
    deadline = time.monotonic() + request.timeout
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(request, deadline, write_end, protocol)
    os.close(write_end)
    try:
        output, complete = _read_to_end(read_end, deadline)
    finally:
        os.close(read_end)
    exit_code = _reap(pid, deadline)
    frames = split_frames(output)
    warm = _names(frames[1]) if len(frames) > 1 else []
    ended = exit_code if complete else None  # None: stopped at the deadline
    return parts_of(frames[:1] + frames[2:3], request.timeout, ended), warm


def _names(payload: bytes) -> list[str]:
    try:
        names = restricted_loads(payload)
    except Exception:  # the child ran user code: its bytes are not trusted to parse
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _child(request: BuildRequest, deadline: float, out: int, protocol: tuple[int, int]) -> NoReturn:
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the host's _leave is not the child's
        for fd in protocol:
            os.close(fd)  # the server must see EOF when the host dies, whatever the child does
        signal.alarm(math.ceil(request.timeout) + _ALARM_MARGIN)
        # A child lives for one build: its garbage goes with it, so collecting
        # cycles (a fifth of a large build's time) gains nothing.
        gc.disable()
        result, warm = run_job(request, deadline)
        # Sent before the replay: a script that hangs or crashes leaves the models' result.
        write_all(out, _encode_result(_sent(result, request)) + encode_frame(warm), None)
        write_all(out, _encode_result(run_migrations(request, deadline, result.schema)), None)
    except BaseException:
        log.exception("the build failed")  # through logging: its text is masked
        code = 70
    _exit(code)


def _sent(result: ModelsResult, request: BuildRequest) -> ModelsResult:
    """What crosses back of the models' part: not their schema when the child compares."""
    return replace(result, schema=None) if request.compare else result


def _encode_result(result: ModelsResult | MigrationsResult) -> bytes:
    try:
        return encode_frame(result)
    except Exception as error:  # a value in the Schema that does not pickle: a bug of ours
        log.exception("cannot send the build result")
        problem = ModelError("crash", f"cannot send the result back: {error}")
        if isinstance(result, MigrationsResult):
            return encode_frame(MigrationsResult(error=problem))
        return encode_frame(failed(problem))


def _exit(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()  # the user's prints, on their way to the log
    os._exit(code)


def _read_to_end(fd: int, deadline: float) -> tuple[bytes, bool]:
    """What the child wrote, and whether it closed the pipe (False: the deadline came)."""
    chunks: list[bytes] = []
    while True:
        try:
            wait_ready(fd, deadline)
        except TimeoutError:
            return b"".join(chunks), False
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)


def _reap(pid: int, deadline: float) -> int:
    """The child's exit code (negative: the signal), killing it once past ``deadline``."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.001)


def _hold_replayed(request: BuildRequest) -> None:
    """Load the migrations' latest replayed schema here, so the next child has it in memory."""
    if not request.targets:
        return
    try:
        config = open_project(Path(request.root), url=request.url).config
    except DistillError:
        return  # the child reported it
    LOG_MASK.add_password_of(config.url)
    folder = replay_cache_folder(config)
    held = hold_latest(folder) if folder is not None else None
    if held is not None:
        remember_digest(held)


def _warm(names: list[str], root: str, cold: set[str]) -> None:
    """Import what the last build imported from outside the project, for the next child."""
    started = time.perf_counter()
    before = set(sys.modules)
    for name in names:
        if name in sys.modules or name in cold:
            continue
        try:
            importlib.import_module(name)
        except BaseException as error:  # SystemExit too: a module that fails stays cold
            cold.add(name)
            log.debug("not warming %s: %r", name, error)
    # A third-party module may import the project (plugins, app discovery); the host
    # must not keep it, or children would reuse it instead of importing it fresh.
    for name, module in list(sys.modules.items()):
        if name not in before and from_project(module, Path(root)):
            del sys.modules[name]
    if names:
        log.info("warmed %d modules in %.3f s", len(names), time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
