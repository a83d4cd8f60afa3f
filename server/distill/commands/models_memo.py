"""What an Alembic project's env.py gave last time, kept while nothing it read changed.

``check`` and ``revision --autogenerate`` run env.py to learn the models
(``target_metadata``) and its ``configure()`` settings, and running env.py
imports the project: on real projects that import is most of the command's time
(optuna's models, 0.28 s of a 0.4 s ``check``).  The models' schema depends on
the code the import ran, so it is kept, as plain data, with the fingerprint of
everything that code could have read:

- every module file loaded while env.py ran, and the folders of the packages loaded
  and of ``sys.path``, by path, size and modification time (one changed after two
  seconds before env.py began is not trusted: nothing is kept);
- env.py, the settings file and pyproject.toml, by content; the Python,
  ``sys.path``, ``prepend_sys_path``, the working folder, the ``-x`` arguments and
  the URL (hashed, never kept in clear);
- the whole environment (a setting read from ``os.environ`` counts);
- Distill's and SQLAlchemy's own code (``replay.cache.code_fingerprint``).

It is kept only where skipping env.py cannot change the answer (``_plain``): its
online branch configured the run; ``target_metadata`` is one MetaData whose naming
convention holds only strings; configure() passed no functions (``include_object``
and the like run per object); the database env.py's connection reached is the one
the settings name, and that connection is as SQLAlchemy makes it (no execution
options, no ``context.execute()``, no listeners of the project's); and env.py's code
names nothing that acts on a connection.  A model module that reads data files at
import is beyond what this sees: ``DISTILL_NO_MODELS_CACHE=1`` turns the memo off.
Pickled in the user's cache directory, as the replay cache; the key comes first in
the file, so a memo of other inputs is refused before it is loaded.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import pickle
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from distill.caches import cache_for, make_parent
from distill.compat.alembic_env import EnvRun
from distill.config import Config
from distill.files import write_atomically
from distill.schema.model import Schema

FOLDER = "models"
_RACY_SECONDS = 2.0
# Names in env.py's code that act on the connection (called, imported or passed as
# keywords): skipping env.py would skip them too.
_ACTS_ON_CONNECTION = frozenset({
    "execute", "exec_driver_sql", "execution_options", "run_sync", "listen", "listens_for",
    "begin_nested", "connect_args", "schema_translate_map", "event",
})  # fmt: skip
# What the shell sets per command, not for the program: "_" is the command's own path.
_SHELLS = frozenset({"_", "OLDPWD", "PWD", "SHLVL"})
# configure() settings that are plain values and go with the models.
_PLAIN = ("compare_type", "compare_server_default", "render_as_batch")


@dataclass(frozen=True)
class _Memo:
    key: str  # the fingerprint of everything but the module files
    files: tuple[tuple[str, int, int], ...]  # (path, size, mtime_ns) of each module loaded
    schema: Schema  # the models', for the URL's dialect (the URL is in the key)
    naming_convention: dict[Any, Any]
    extra: dict[str, Any]  # the plain configure() settings
    version_table: str
    version_table_schema: str | None


def remembered(config: Config) -> Config | None:
    """``config`` completed as env.py completed it last time, with the models' schema in
    ``extra["models_schema"]``; None when anything it read may have changed."""
    path = _memo_path(config)
    if path is None or not _wanted():
        return None
    try:
        with path.open("rb") as stored:
            if pickle.load(stored) != _key(config):
                return None
            memo = pickle.load(stored)
    except Exception:  # missing, or written by another version: a miss
        return None
    if not isinstance(memo, _Memo):
        return None
    if any(_stat(file) != (size, mtime) for file, size, mtime in memo.files):
        return None
    extra = {**config.extra, **memo.extra, "models_schema": memo.schema,
             "target_metadata": sa.MetaData(naming_convention=memo.naming_convention)}  # fmt: skip
    return replace(
        config,
        extra=extra,
        version_table=memo.version_table,
        version_table_schema=memo.version_table_schema,
    )


@dataclass
class Recording:
    config: Config  # before env.py ran
    key: str  # taken before env.py ran (it may change sys.path)
    loaded: list[str]  # the module files (and package folders) loaded while it ran
    started: float  # time.time() when it began: a file changed after that is not trusted


@contextlib.contextmanager
def recording(config: Config) -> Iterator[Recording]:
    """Around a run of env.py: what it loaded (filled in at the end)."""
    before = set(sys.modules)
    made = Recording(config, _key(config), [], time.time())
    try:
        yield made
    finally:
        for name, module in list(sys.modules.items()):
            if name not in before:
                made.loaded += _files_of(module)
        # A new module in a folder on sys.path changes what an import finds.
        made.loaded += [entry for entry in sys.path if entry and os.path.isdir(entry)]


def remember(recorded: Recording, after: Config, models: Schema) -> None:
    """Keep what env.py gave (``after``) when that is safe."""
    before = recorded.config
    path = _memo_path(before)
    if path is None or not _wanted() or not _plain(before, after):
        return
    trusted_before = recorded.started - _RACY_SECONDS
    files = []
    for file in sorted(set(recorded.loaded)):
        stat = _stat(file)
        if stat is None or stat[1] / 1e9 >= trusted_before:
            return  # changed while env.py ran, or may change again within its time stamp
        files.append((file, *stat))
    target = after.extra.get("target_metadata")
    convention = dict(target.naming_convention) if isinstance(target, sa.MetaData) else {}
    if not all(isinstance(v, str) for v in convention.values()) or not all(
        isinstance(k, str) or str(getattr(k, "__module__", "")).startswith("sqlalchemy.")
        for k in convention
    ):
        return  # a token of the project's own: loading it back would import the project
    memo = _Memo(
        recorded.key, tuple(files), models, convention,
        {k: after.extra[k] for k in _PLAIN if k in after.extra},
        after.version_table, after.version_table_schema,
    )  # fmt: skip
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
        make_parent(path)
        # The key first, on its own: a memo of other inputs is refused before it is loaded.
        data = pickle.dumps(memo.key) + pickle.dumps(memo, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomically(path, data)


def _plain(before: Config, after: Config) -> bool:
    """Whether env.py's part is only its models and plain settings."""
    env_py = before.script_location / "env.py"
    try:
        tree = ast.parse(env_py.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return False
    if _names_in(tree) & _ACTS_ON_CONNECTION:
        return False
    if after.version_locations != before.version_locations:
        return False  # env.py chose the versions folders (context.script): not kept
    if any(callable(v) for k, v in after.extra.items() if k != "target_metadata"):
        return False  # include_object, include_name: they run per object
    if not isinstance(after.extra.get("target_metadata"), sa.MetaData):
        return False  # several MetaData: their naming conventions are not one to keep
    run = after.extra.get("env_run")
    if not isinstance(run, EnvRun) or not run.online or not run.plain_connection:
        return False  # read from its offline branch, or it did more than connect
    return before.url is not None and run.url is not None and _same_url(run.url, before.url)


def _same_url(a: str, b: str) -> bool:
    try:
        return sa.make_url(a) == sa.make_url(b)
    except Exception:  # not a URL SQLAlchemy reads: not the same one
        return False


def _names_in(tree: ast.AST) -> set[str]:
    """Attribute, plain and keyword names, and imported names, in ``tree``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.update(node.name.split("."))
    return names


def _key(config: Config) -> str:
    from distill.replay.cache import code_fingerprint

    digest = hashlib.blake2b(digest_size=20)
    for part in (
        sys.version, os.path.realpath(sys.executable), "\0".join(sys.path), os.getcwd(),
        code_fingerprint(), "\0".join(config.x_arguments), config.url or "",
        str(config.script_location), repr(config.extra.get("prepend_sys_path")),
        "\0".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k not in _SHELLS),
    ):  # fmt: skip
        digest.update(part.encode("utf-8", "surrogateescape") + b"\1")
    for file in (config.source, config.root / "pyproject.toml", config.script_location / "env.py"):
        with contextlib.suppress(OSError, TypeError):
            digest.update(Path(file).read_bytes())  # type: ignore[arg-type]
        digest.update(b"\1")
    return digest.hexdigest()


def _memo_path(config: Config) -> Path | None:
    if config.flavour != "alembic" or not config.version_locations:
        return None
    return cache_for(config.version_locations[0], FOLDER) / "env.pickle"


def _wanted() -> bool:
    return os.environ.get("DISTILL_NO_MODELS_CACHE", "") in ("", "0")


def _files_of(module: types.ModuleType) -> list[str]:
    """The module's file, and a package's folders (a new module in one is a change)."""
    found = [getattr(module, "__file__", None), *(getattr(module, "__path__", None) or ())]
    return [f for f in found if isinstance(f, str) and os.path.isabs(f)]


def _stat(file: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(file)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns
