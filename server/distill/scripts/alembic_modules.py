"""The ``alembic`` a revision script or an ``env.py`` sees while Distill runs it.

Only code that Distill executes gets these: the file's module is given its own
``__import__`` (see :func:`import_for_project_files`), so ``sys.modules`` is
never patched and a real Alembic, installed or not, is unaffected.  Names the
stand-ins do not offer are looked up in the real package, when there is one.

``context`` serves two masters.  While ``env.py`` is being read, a recorder is
in effect and ``context.configure(...)`` is written down, nothing more; while a
revision script runs, the calls go to the migration in progress.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.metadata
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from distill.errors import ScriptError
from distill.ops.proxy import current_operations, op
from distill.scripts.project_modules import absolute_name, load_project_modules


class EnvRecorder:
    """What ``env.py`` asked of ``context`` while it was read.

    With ``on_run``, ``context.run_migrations()`` calls it with the last
    ``configure()`` options: the migrations run there, inside env.py.
    """

    def __init__(
        self,
        config: Any,
        *,
        offline: bool,
        x_arguments: Sequence[str],
        on_run: Callable[[Mapping[str, Any]], None] | None = None,
        script: Any = None,
    ) -> None:
        self.config = config
        self.script = script  # context.script: the project's ScriptDirectory stand-in
        self.offline = offline
        self.x_arguments = tuple(x_arguments)
        self.on_run = on_run
        self.configure_calls: list[dict[str, Any]] = []
        self.run_calls: list[dict[str, Any]] = []
        self.executed: list[str] = []


_recording: ContextVar[EnvRecorder | None] = ContextVar("distill_env_recorder", default=None)


@contextmanager
def recording(recorder: EnvRecorder) -> Iterator[EnvRecorder]:
    token = _recording.set(recorder)
    try:
        yield recorder
    finally:
        _recording.reset(token)


class _Context(types.ModuleType):
    """``alembic.context``: recorded while env.py is read, live while a script runs."""

    def __init__(self) -> None:
        super().__init__("alembic.context", "Distill's stand-in for alembic.context")

    # -- env.py's side --------------------------------------------------------

    @property
    def config(self) -> Any:
        recorder = _recording.get()
        if recorder is None:
            raise ScriptError(
                "context.config is only available in env.py; a revision script should not "
                "read the project's configuration"
            )
        return recorder.config

    @property
    def script(self) -> Any:
        recorder = _recording.get()
        if recorder is None or recorder.script is None:
            raise ScriptError(
                "context.script is only available in env.py; a revision script should not "
                "read the revision graph"
            )
        return recorder.script

    def configure(self, **options: Any) -> None:
        recorder = _recording.get()
        if recorder is None:
            raise ScriptError("context.configure() belongs in env.py, not in a revision script")
        recorder.configure_calls.append(options)

    def begin_transaction(self) -> Any:
        # Distill owns the transactions of a run; while env.py is read there is none.
        return nullcontext()

    def run_migrations(self, **kw: Any) -> None:
        recorder = _recording.get()
        if recorder is None:
            return
        recorder.run_calls.append(kw)
        if recorder.on_run is not None:
            options = recorder.configure_calls[-1] if recorder.configure_calls else {}
            # The revisions' own context.execute() etc. must reach the run, not the recorder.
            token = _recording.set(None)
            try:
                recorder.on_run(options)
            finally:
                _recording.reset(token)

    # -- both -----------------------------------------------------------------

    def is_offline_mode(self) -> bool:
        recorder = _recording.get()
        if recorder is not None:
            return recorder.offline
        running = current_operations()
        return bool(running is not None and running.context.as_sql)

    def get_x_argument(self, as_dictionary: bool = False) -> Any:
        recorder = _recording.get()
        if recorder is not None:
            arguments = recorder.x_arguments
        else:
            running = current_operations()
            arguments = running.context.x_arguments if running is not None else ()
        if not as_dictionary:
            return list(arguments)
        return dict(
            (key, value) for key, _, value in (argument.partition("=") for argument in arguments)
        )

    def execute(self, sql: Any, execution_options: Mapping[str, Any] | None = None) -> None:
        recorder = _recording.get()
        if recorder is None:
            op.execute(sql)
            return
        recorder.executed.append(str(sql))
        connection = (recorder.configure_calls or [{}])[-1].get("connection")
        if recorder.on_run is not None and connection is not None:
            # env.py runs for real (compat.env_run): its SQL runs, as under Alembic.
            import sqlalchemy as sa

            statement = sa.text(sql) if isinstance(sql, str) else sql
            connection.execute(statement, execution_options=execution_options)

    def get_context(self) -> Any:
        return op.get_context()

    def get_bind(self) -> Any:
        return op.get_bind()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ScriptError(
            f"context.{name} is not offered by Distill's stand-in for alembic.context; "
            "run 'distill doctor' to see what of env.py Distill honours"
        )


# The Alembic release whose behaviour Distill reproduces and its drop-in tests run
# against: what ``alembic.__version__`` says in a script when Alembic is not installed.
COMPATIBLE_ALEMBIC_VERSION = "1.20.1"


def alembic_version() -> str:
    """``alembic.__version__`` in a script: the installed Alembic's, else the one Distill follows.

    Scripts compare it to choose a code path written for a given Alembic; read
    from the installed distribution's metadata, so nothing of Alembic is imported.
    """
    try:
        return importlib.metadata.version("alembic")
    except importlib.metadata.PackageNotFoundError:
        return COMPATIBLE_ALEMBIC_VERSION


class _Package(types.ModuleType):
    """``alembic``: ``op`` and ``context`` are Distill's, anything else the real package's."""

    def __init__(self, context: _Context) -> None:
        super().__init__("alembic", "Distill's stand-in for the alembic package")
        self.op = op
        self.context = context

    @property
    def __version__(self) -> str:
        return alembic_version()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real_alembic(name), name)


def _real_alembic(wanted: str) -> types.ModuleType:
    try:
        return importlib.import_module("alembic")
    except ImportError:
        raise ScriptError(
            f"alembic.{wanted} is not one of the names Distill provides (op, context), "
            "and Alembic is not installed to provide it"
        ) from None


context = _Context()
package = _Package(context)
_STAND_INS: dict[str, Any] = {"alembic.op": op, "alembic.context": context}


def import_for_project_files(
    name: str,
    globals: Mapping[str, object] | None = None,
    locals: Mapping[str, object] | None = None,
    fromlist: Sequence[str] | None = (),
    level: int = 0,
) -> Any:
    """``__import__`` for revision scripts, env.py and the project's modules they import.

    ``alembic`` means Distill; a module of the project not imported yet gets
    this same function, so its own ``from alembic import op`` means Distill too.
    """
    if level == 0 and (name == "alembic" or name in _STAND_INS):
        if not fromlist or name == "alembic":
            return package
        return _STAND_INS[name]
    absolute = absolute_name(name, globals, level)
    if absolute is not None and (fromlist or absolute not in sys.modules):
        load_project_modules(absolute, fromlist or (), BUILTINS_FOR_PROJECT_FILES)
    return builtins.__import__(name, globals, locals, fromlist or (), level)


BUILTINS_FOR_PROJECT_FILES: dict[str, Any] = {
    **vars(builtins),
    "__import__": import_for_project_files,
}
