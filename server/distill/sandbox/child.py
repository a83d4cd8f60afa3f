"""One model build, as it runs in the worker's throw-away process.

This is the only place the user's code runs (with ``sandbox.migrations``, which
replays the revision scripts next, in the same process).  It imports the project
the way the CLI does (``load_metadata``: the project root first on ``sys.path``),
with two differences: the editor's unsaved buffers are compiled in place of the
files (under the files' names, so tracebacks and SyntaxErrors point at the
real file and line), and the process writes no ``.pyc`` at all.  Whatever the
user's code raises becomes a ``ModelError``; only the process's death is left to
the host to report.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import inspect
import linecache
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapper, registry

from distill.autogen.generate import project_metadata
from distill.config import Config, find_config_file
from distill.errors import ConfigError, DistillError, ScriptError
from distill.sandbox.client import ModelError, ModelsResult, TableOrigin
from distill.sandbox.migrations import DEADLINE_MARGIN, project_config
from distill.sandbox.protocol import BuildRequest
from distill.schema.from_metadata import schema_from_metadata
from distill.schema.model import Schema
from distill.scripts.user_metadata import load_metadata
from distill.user_code import OutOfTime, time_limit, timed_out_text
from distill.utf16 import utf16_column

_INSTALLED = {"site-packages", "dist-packages"}


def run_job(request: BuildRequest, deadline: float) -> tuple[ModelsResult, list[str]]:
    """The build's result, and the third-party modules it imported (for the host to warm).

    Past ``deadline`` (monotonic) the import is interrupted where it is, so the
    editor shows the line that runs endlessly; the host's kill stays the backstop
    for code stuck in C.
    """
    started = time.perf_counter()
    root = Path(request.root)
    before = set(sys.modules)
    sys.dont_write_bytecode = True  # never a .pyc of unsaved text
    os.chdir(root)
    finder = OverlayFinder(root, request.overlays)
    sys.meta_path.insert(0, finder)
    config = _config(root, request.metadata)
    schema: Schema | None = None
    origins: tuple[TableOrigin, ...] = ()
    error: ModelError | None = None
    try:
        with time_limit(deadline - min(DEADLINE_MARGIN, request.timeout / 10)):
            dialect = _dialect(request.dialect)
            if request.metadata:
                metadata = load_metadata(config)
            else:  # an Alembic project: env.py names the models
                config = project_config(request)
                metadata = project_metadata(config)
            schema = schema_from_metadata(metadata, dialect, schemas=request.schemas)
            project = [m for m in list(sys.modules.values()) if from_project(m, root)]
            origins = table_origins(metadata, request.schemas, project)
    except OutOfTime as stopped:  # not ImportOutOfTime: load_metadata would report it
        file, line = _innermost_project_frame(stopped, root)
        where = (file, line) if file and line else None
        error = ModelError("timeout", timed_out_text(request.timeout, where), file, line)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from user code too
        error = model_error(exc, root, config.source)
    loaded = {f for f in _module_files(sys.modules.values()) if _is_project(f, root)}
    files = tuple(sorted(finder.files | loaded))
    warm = [
        name
        for name, module in list(sys.modules.items())
        if name not in before and not from_project(module, root)
    ]
    return ModelsResult(schema, origins, files, error, time.perf_counter() - started), warm


def _config(root: Path, metadata: str) -> Config:
    """The settings ``load_metadata`` reads; the settings file is named in its messages."""
    try:
        found = find_config_file(root)
    except DistillError:
        found = None
    source = found[0] if found else None
    return Config(
        root=root, source=source, script_location=root, version_locations=(), metadata=metadata
    )


def _dialect(name: str) -> sa.Dialect:
    try:
        dialect: sa.Dialect = sa.engine.URL.create(name).get_dialect()()
    except Exception as error:
        raise ConfigError(f"cannot make the {name!r} dialect: {error}") from None
    return dialect


# -- unsaved buffers -------------------------------------------------------------------------


class OverlayFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: finds as the rest would, then serves unsaved text.

    It also records every project file the import machinery found, including one
    whose import failed (which ``sys.modules`` no longer holds): the editor must
    watch the file with the syntax error too.
    """

    def __init__(self, root: Path, overlays: dict[str, str]) -> None:
        self.root = root
        self.overlays = {os.path.realpath(path): text for path, text in overlays.items()}
        self.files: set[str] = set()
        self._finding: set[str] = set()  # a finder that asks sys.meta_path again must not loop

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in self._finding:
            return None
        self._finding.add(fullname)
        try:
            spec = _find_elsewhere(self, fullname, path, target)
        finally:
            self._finding.discard(fullname)
        origin = spec.origin if spec is not None else None
        if spec is None or origin is None or not _is_project(origin, self.root):
            return spec
        self.files.add(origin)
        text = self.overlays.get(os.path.realpath(origin))
        if text is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec.loader = OverlayLoader(fullname, origin, text)
            # Tracebacks and class lines (inspect, linecache readers) must see the unsaved text.
            linecache.cache[origin] = (len(text), None, text.splitlines(True), origin)
        return spec


def _find_elsewhere(
    me: object, fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> importlib.machinery.ModuleSpec | None:
    for finder in list(sys.meta_path):
        find_spec = getattr(finder, "find_spec", None)
        if finder is me or find_spec is None:
            continue
        spec: importlib.machinery.ModuleSpec | None = find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


class OverlayLoader(importlib.machinery.SourceFileLoader):
    """Compiles the editor's text under the file's own name; reads no .pyc, writes none."""

    def __init__(self, fullname: str, path: str, text: str) -> None:
        super().__init__(fullname, path)
        self.text = text

    def get_source(self, fullname: str) -> str:
        return self.text

    def get_code(self, fullname: str) -> CodeType:
        return compile(self.text, self.path, "exec", dont_inherit=True)


# -- what the project's files are ------------------------------------------------------------


def _is_project(path: str, root: Path) -> bool:
    """A file of the project's own: under its root, but not in a virtualenv kept there."""
    top = str(root) + os.sep
    if not path.startswith(top):
        return False
    if any(part in _INSTALLED for part in Path(path[len(top) :]).parts):
        return False
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return not any(p.startswith(top) and path.startswith(p + os.sep) for p in prefixes)


def _module_files(modules: Iterable[object]) -> Iterable[str]:
    for module in modules:
        file = _attribute(module, "__file__")
        if isinstance(file, str) and file.endswith(".py"):
            yield file


def from_project(module: object, root: Path) -> bool:
    """Whether a module is the project's: imported fresh by each child, never by the host."""
    file = _attribute(module, "__file__")
    places = [file] if isinstance(file, str) else []
    locations = _attribute(module, "__path__")
    if not places and isinstance(locations, Iterable):
        places = [p for p in locations if isinstance(p, str)]
    return any(_is_project(os.path.abspath(place), root) for place in places)


def _attribute(module: object, name: str) -> object:
    """A module attribute; sys.modules may hold odd objects whose __getattr__ raises."""
    try:
        return getattr(module, name, None)
    except Exception:
        return None


# -- where each table comes from -------------------------------------------------------------


def table_origins(
    metadata: sa.MetaData, schemas: Sequence[str | None], modules: Iterable[object]
) -> tuple[TableOrigin, ...]:
    """The ORM class mapping each table, from the registries the project's modules hold.

    A registry is found as a module-level ``registry()`` or as the ``registry``
    attribute of a module-level class (a ``DeclarativeBase`` or ``declarative_base()``
    class, or any class mapped by one); its public ``mappers`` then list every
    class it maps, bound in a module or not.  SQLAlchemy lists all registries
    only privately, and a ``Mapper`` event listened to before the import made
    the import of a 200-class module a third slower.
    """
    owners: dict[int, Mapper[Any]] = {}
    for mapper in _mappers(modules):
        table = mapper.local_table
        # Single-table inheritance subclasses share their base's table; the base owns it.
        if isinstance(table, sa.Table) and not mapper.single:
            owners.setdefault(id(table), mapper)
    lines = _ClassLines()
    origins = []
    for table in metadata.tables.values():
        if table.schema not in schemas:
            continue
        owner = owners.get(id(table))
        if owner is None:
            origins.append(TableOrigin(table.name, table.schema, None, None, None, {}))
            continue
        cls = owner.class_
        file = _source_file(cls)
        attributes = {
            column.name: key
            for key, column in owner.columns.items()
            if getattr(column, "table", None) is table
        }
        line = lines.line(file, cls.__qualname__) if file else None
        origins.append(TableOrigin(table.name, table.schema, cls.__name__, file, line, attributes))
    return tuple(origins)


def _mappers(modules: Iterable[object]) -> list[Mapper[Any]]:
    registries: dict[int, registry] = {}
    for module in modules:
        namespace = _attribute(module, "__dict__")
        for value in list(namespace.values()) if isinstance(namespace, dict) else ():
            if isinstance(value, type):
                value = inspect.getattr_static(value, "registry", None)  # no user descriptor runs
            if isinstance(value, registry):
                registries[id(value)] = value
    mappers = [mapper for found in registries.values() for mapper in found.mappers]
    # registry.mappers is a set: the first class to claim a table must not vary by run.
    return sorted(mappers, key=lambda m: (m.class_.__module__, m.class_.__qualname__))


def _source_file(cls: type) -> str | None:
    try:
        file = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        return None
    return os.path.abspath(file) if file else None


class _ClassLines:
    """``class`` statement lines by qualified name, one parse per file.

    ``inspect.getsourcelines`` parses the whole module again for every class it
    is asked about (Python < 3.13), which is quadratic for a 200-class module;
    its source comes from linecache, which holds the unsaved text (see
    OverlayFinder), and so does this.
    """

    def __init__(self) -> None:
        self._files: dict[str, dict[str, int]] = {}
        self._texts: dict[str, str] = {}

    def line(self, file: str, qualname: str) -> int | None:
        if "." not in qualname:
            # A module-level class: a line-anchored search finds it without parsing
            # the file (0.15 s for 1,000 classes); the last definition wins, as at run time.
            text = self._texts.setdefault(file, "".join(linecache.getlines(file)))
            pattern = rf"^class[ \t]+{re.escape(qualname)}\b"
            starts = [m.start() for m in re.finditer(pattern, text, re.MULTILINE)]
            if starts:
                return text.count("\n", 0, starts[-1]) + 1
        if file not in self._files:
            try:
                tree = ast.parse("".join(linecache.getlines(file)))
            except (SyntaxError, ValueError):
                tree = ast.Module(body=[], type_ignores=[])
            self._files[file] = {}
            self._collect(tree, "", self._files[file])
        return self._files[file].get(qualname)

    def _collect(self, node: ast.AST, prefix: str, found: dict[str, int]) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                continue  # expressions hold no class statement: skipping them is most of the speed
            if isinstance(child, ast.ClassDef):
                found[prefix + child.name] = child.lineno  # a later definition wins, as at run time
                self._collect(child, f"{prefix}{child.name}.", found)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._collect(child, f"{prefix}{child.name}.<locals>.", found)
            else:
                self._collect(child, prefix, found)


# -- what went wrong -------------------------------------------------------------------------


def model_error(error: BaseException, root: Path, config_file: Path | None) -> ModelError:
    if isinstance(error, ConfigError):
        return ModelError("config", str(error), str(config_file) if config_file else None)
    if isinstance(error, ScriptError):
        # load_metadata re-raises the user's exception as a one-line ScriptError
        # "from None"; the original, with its traceback, is still its context.
        if error.__context__ is None:
            return ModelError("import", str(error))
        error = error.__context__
    if isinstance(error, SyntaxError) and error.filename and os.path.isabs(error.filename):
        start, end = _syntax_columns(error)
        return ModelError(
            "syntax", f"{type(error).__name__}: {error.msg}", error.filename, error.lineno,
            start, end,
        )  # fmt: skip
    file, line = _innermost_project_frame(error, root)
    if isinstance(error, SystemExit):
        code = "" if error.code is None else _one_line(repr, error.code)
        return ModelError("import", f"called sys.exit({code})", file, line)
    text = _one_line(str, error)
    return ModelError("import", type(error).__name__ + (f": {text}" if text else ""), file, line)


def _syntax_columns(error: SyntaxError) -> tuple[int | None, int | None]:
    """The error's columns (1-based, UTF-16, end exclusive) in the text compiled.

    That text is the editor's buffer (the overlay), so the columns are the
    buffer's, not the saved file's.  The range covers what Python marks, or the
    token at the offset, or, at the end of the line, the line's last character:
    never an empty range, which editors do not draw.
    """
    line = (error.text or "").rstrip("\r\n")
    if error.offset is None or not line:
        return None, None
    start = min(max(error.offset - 1, 0), len(line))
    same_line = error.end_lineno in (None, error.lineno)
    end = (error.end_offset or 0) - 1 if same_line else len(line)
    if end <= start:
        token = _TOKEN.match(line, start)
        end = token.end() if token else len(line)
    if start >= len(line):
        start = max(len(line) - 1, 0)
        end = len(line)
    return utf16_column(line, start) + 1, utf16_column(line, end) + 1


_TOKEN = re.compile(r"\w+|\S")


def _one_line(show: Callable[[object], str], value: object) -> str:
    try:
        text = show(value).strip()
    except Exception:  # the user's __str__ or __repr__ may raise too
        return "(unprintable)"
    return text.splitlines()[0] if text else ""


def _innermost_project_frame(error: BaseException, root: Path) -> tuple[str | None, int | None]:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _is_project(f.filename, root)]
    return (frames[-1].filename, frames[-1].lineno) if frames else (None, None)
