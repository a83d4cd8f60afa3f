"""Migrating an Alembic project inside its own ``env.py``, as Alembic does.

``upgrade``, ``downgrade`` and ``stamp`` run env.py for real: its
``context.run_migrations()`` runs Distill's plan right there, on the
connection env.py handed to ``context.configure(connection=...)``, inside
whatever env.py wraps around the call — an application context, ``SET
search_path``, an advisory lock of its own, an async engine's
``connection.run_sync(...)`` on the project's own async driver.  Distill's
lock, version rows and history are written inside that call.

Reading env.py for its settings only (``alembic_env``) stays the way for
commands that migrate nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc

from distill.compat.alembic_env import (
    apply_env,
    complete_config,
    env_out_of_time,
    findings_of,
    put_on_sys_path,
)
from distill.compat.env_config import ProjectConfig
from distill.compat.env_text import ENV_PY
from distill.compat.script_directory import ScriptDirectory
from distill.config import Config
from distill.errors import ConfigError, DatabaseError, DistillError, ScriptError
from distill.masking import mask_text, mask_url, password_of
from distill.runtime.database import first_line
from distill.scripts.alembic_modules import EnvRecorder, recording
from distill.scripts.script import line_in, load_module
from distill.user_code import ImportOutOfTime, import_time_limit, time_limit_paused

T = TypeVar("T")
# A migrating command's work: on a database, with the settings env.py configured.
Run = Callable[[sa.Engine | sa.Connection, Config], T]

# Asyncio drivers of Alembic's async templates, by the module a missing one names
# (greenlet: SQLAlchemy's asyncio support itself).
_ASYNC_DRIVERS = frozenset({"asyncpg", "aiosqlite", "aiomysql", "asyncmy", "greenlet"})


def run_in_env(
    config: Config,
    run: Run[T],
    *,
    own_engine: Callable[[], sa.Engine],
    notify: Callable[[str], None],
    unreachable: Callable[[Config], T] | None = None,
) -> T:
    """``run`` on the connection env.py configures, when env.py calls run_migrations(),
    with ``config`` completed by that configure() call (read once: env.py runs once).

    ``own_engine`` is Distill's own connection to the project's database, used
    only when env.py's asyncio driver is not installed (said through ``notify``);
    env.py's settings then come from reading its offline branch.  ``unreachable``:
    called with those settings when env.py cannot connect (else that is an error).
    """
    env_py = config.script_location / ENV_PY
    results: list[T] = []
    started: list[bool] = []  # a database error once the run has begun is the run's own

    def migrate_here(options: Mapping[str, Any]) -> None:
        if started:
            raise ConfigError(
                f"{env_py} called context.run_migrations() a second time (a multi-database "
                "env.py?); Distill migrates one database per command, so only the first ran"
            )
        connection = options.get("connection")
        if not isinstance(connection, sa.Connection):
            given = "no connection" if connection is None else f"a {type(connection).__name__}"
            raise ConfigError(
                f"{env_py}: the online branch called context.configure() with {given}; "
                "pass connection=... (a SQLAlchemy Connection), as Alembic needs too"
            )
        started.append(True)
        configured = apply_env(config, findings_of(recorder, env_py))
        with time_limit_paused():
            results.append(run(connection, configured))

    put_on_sys_path(config)
    recorder = EnvRecorder(
        ProjectConfig(config, url=config.url),
        offline=False,
        x_arguments=config.x_arguments,
        on_run=migrate_here,
        script=ScriptDirectory(config),
    )
    try:
        with recording(recorder), import_time_limit(config.timeout):
            load_module(env_py, passthrough=(DistillError, ImportError, exc.DBAPIError))
    except ImportOutOfTime as stopped:
        raise env_out_of_time(config, env_py, stopped) from None
    except ImportError as missing:
        if started or missing.name not in _ASYNC_DRIVERS:
            raise _failed_in(env_py, missing) from None
        engine = own_engine()
        notify(
            f"warning: {env_py}: the project's asyncio driver is not installed ({missing.name}); "
            f"migrating through {engine.url.drivername} instead, without env.py's own code "
            f"around the run (pip install {missing.name} to use the project's driver)"
        )
        return run(engine, complete_config(config, mode="offline"))
    except exc.DBAPIError as error:
        if started:
            raise
        if error.statement is not None:  # SQL env.py runs itself: it did connect
            raise _refused_in(env_py, error, config) from None
        if unreachable is not None:
            return unreachable(complete_config(config, mode="offline"))
        raise _cannot_connect(env_py, error, config) from None
    if not results:
        raise ConfigError(
            f"{env_py} returned without calling context.run_migrations() in its online "
            "branch, so nothing ran; call it inside 'with context.begin_transaction():'"
        )
    return results[0]


def _failed_in(env_py: Path, error: ImportError) -> ScriptError:
    line = line_in(error, env_py) or 1
    return ScriptError(f"{env_py}:{line}: {type(error).__name__}: {first_line(str(error))}")


def _cannot_connect(env_py: Path, error: exc.DBAPIError, config: Config) -> DatabaseError:
    where = mask_url(config.url) if config.url else "the database"
    return DatabaseError(
        f"{env_py}:{line_in(error, env_py) or 1}: cannot connect to {where}: "
        f"{_reason(error, config)}; check the URL and that the server is running"
    )


def _refused_in(env_py: Path, error: exc.DBAPIError, config: Config) -> DatabaseError:
    statement = mask_text(first_line(str(error.statement)), password_of(config.url))[:80]
    return DatabaseError(
        f"{env_py}:{line_in(error, env_py) or 1}: the database refused the SQL env.py runs "
        f"before migrating ({statement}): {_reason(error, config)}; fix env.py"
    )


def _reason(error: exc.DBAPIError, config: Config) -> str:
    reason = first_line(str(error.orig) if error.orig is not None else str(error))
    return mask_text(reason, password_of(config.url))
