"""Revision files: what they declare, finding them, and importing them to run.

Graph commands (``heads``, ``history``, ``current``) only need each file's
header, so headers are read as text (see ``header.py``) and remembered in a
per-folder cache keyed by file size and mtime; a file is imported only when one
of its functions must run.  Nothing here imports SQLAlchemy, and modules only a run or a write needs
(hashlib, importlib, tempfile, traceback) are imported where used: ``distill
heads`` on thousands of revisions is judged on its whole process time.
"""

from __future__ import annotations

import json
import os
import sys
import types
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill.caches import cache_for, make_parent
from distill.errors import ScriptError
from distill.scripts.header import Header, parse_header

__all__ = [
    "Revision",
    "file_sha256",
    "load_module",
    "read_revision",
    "revision_from_header",
    "scan_revisions",
]

CACHE_NAME = "headers.json"  # per version folder, see distill.caches
_CACHE_FORMAT = 2


@dataclass(frozen=True)
class Revision:
    id: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]  # as written: ids, partial ids or branch labels
    # The file as text: building thousands of Path objects would cost more
    # than the rest of a warm ``distill heads``; ``path`` makes one on demand.
    file: str
    message: str
    create_date: str | None

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def is_base(self) -> bool:
        return not self.down_revisions

    @property
    def is_merge(self) -> bool:
        return len(self.down_revisions) > 1


def read_revision(path: Path) -> Revision | None:
    """The revision ``path`` declares, or None when it declares none (a helper module)."""
    try:
        # Bytes then decode: text mode's newline translation costs more than
        # the parse on a cold scan of thousands of files.
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScriptError(f"{path}: is not UTF-8 text ({error.reason}); save it as UTF-8") from None
    except OSError as error:
        raise ScriptError(f"{path}: cannot be read: {error.strerror}") from None
    header = parse_header(text, path)
    return None if header is None else revision_from_header(header, path)


def revision_from_header(header: Header, path: Path) -> Revision:
    return Revision(
        id=header.revision,
        down_revisions=header.down_revisions,
        branch_labels=header.branch_labels,
        depends_on=header.depends_on,
        file=str(path),
        message=header.message,
        create_date=header.create_date,
    )


# -- scanning folders, with the header cache ------------------------------------------


def scan_revisions(directories: Sequence[Path]) -> list[Revision]:
    """Every revision in ``directories``, folder by folder, files in name order."""
    found: list[Revision] = []
    for directory in directories:
        found += _scan_directory(directory)
    return found


def _scan_directory(directory: Path) -> list[Revision]:
    try:
        entries = [
            e
            for e in os.scandir(directory)
            if e.name.endswith(".py") and not e.name.startswith(("_", ".")) and e.is_file()
        ]
    except FileNotFoundError:
        raise ScriptError(
            f"version folder {directory} does not exist (it comes from script_location or "
            "version_locations in the config); run 'distill init' or create the folder"
        ) from None
    except OSError as error:
        raise ScriptError(f"version folder {directory} cannot be read: {error.strerror}") from None
    entries.sort(key=lambda e: e.name)
    cache_path = cache_for(directory, CACHE_NAME)
    old = _read_cache(cache_path)
    new: dict[str, list[Any]] = {}
    revisions: list[Revision] = []
    for entry in entries:
        stat = entry.stat()
        cached = old.get(entry.name)
        if cached is not None and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
            revision = _from_cache(cached[2], entry.path)
        else:
            revision = read_revision(Path(entry.path))
            cached = [stat.st_mtime_ns, stat.st_size, _to_cache(revision)]
        new[entry.name] = cached
        if revision is not None:
            revisions.append(revision)
    if new != old:
        _write_cache(cache_path, new)
    return revisions


# The cache is a first line {"format": F, "crc": C} and then the entries as
# JSON.  The CRC of the entries' bytes proves they are what Distill wrote, so
# entries are used without checking each field; anything else means no cache.


def _read_cache(path: Path) -> dict[str, list[Any]]:
    try:
        first, _, body = path.read_bytes().partition(b"\n")
        header = json.loads(first)
        if header != {"format": _CACHE_FORMAT, "crc": zlib.crc32(body)}:
            return {}
        files = json.loads(body)
    except (OSError, ValueError):
        return {}
    return files if isinstance(files, dict) else {}


def _to_cache(revision: Revision | None) -> list[Any] | None:
    if revision is None:
        return None
    return [
        revision.id,
        list(revision.down_revisions),
        list(revision.branch_labels),
        list(revision.depends_on),
        revision.message,
        revision.create_date,
    ]


def _from_cache(data: list[Any] | None, file: str) -> Revision | None:
    if data is None:
        return None
    rev_id, down, labels, depends, message, date = data
    return Revision(rev_id, tuple(down), tuple(labels), tuple(depends), file, message, date)


def _write_cache(path: Path, files: Mapping[str, list[Any]]) -> None:
    # Written aside then renamed so a concurrent reader never sees half a file;
    # a read-only checkout simply goes without a cache.
    import tempfile

    body = json.dumps(files, separators=(",", ":")).encode()
    header = json.dumps({"format": _CACHE_FORMAT, "crc": zlib.crc32(body)}).encode()
    try:
        make_parent(path)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".distill-headers-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(header + b"\n" + body)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError:
        pass


# -- running a revision file --------------------------------------------------------------

_loaded = [0]  # how many revision modules were made, for unique module names
_files_loaded: set[Path] = set()  # which files, for a file's import side effects (models)


def was_loaded(path: Path) -> bool:
    """Whether ``path`` was imported in this process (its import's side effects, such as
    models it imports joining a MetaData, have happened)."""
    return path in _files_loaded


def load_module(
    path: Path, passthrough: tuple[type[BaseException], ...] = (), source: str | None = None
) -> types.ModuleType:
    """Import ``path`` as a fresh module, turning any failure into a one-line ScriptError
    (a ``sys.exit()`` too; KeyboardInterrupt and the time limit's OutOfTime pass).

    Exceptions of the ``passthrough`` types reach the caller unchanged.  ``source`` is
    the file's text as the editor has it, unsaved; its code still reads as ``path``'s.
    """
    import importlib.util

    _loaded[0] += 1
    _files_loaded.add(path)
    name = f"distill_revision_{_loaded[0]}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScriptError(f"{path}: cannot be imported as a Python file; give it a .py name")
    module = importlib.util.module_from_spec(spec)
    # Alembic scripts say ``from alembic import op``: give that module (and only
    # it) an import function that answers with Distill, so nothing global changes.
    from distill.scripts.alembic_modules import BUILTINS_FOR_PROJECT_FILES

    module.__dict__["__builtins__"] = BUILTINS_FOR_PROJECT_FILES
    # Registered while it runs because some code (dataclasses, typing) looks the
    # module up by name during import; removed after so modules don't pile up.
    sys.modules[name] = module
    try:
        if source is None:
            spec.loader.exec_module(module)
        else:
            exec(compile(source, str(path), "exec"), module.__dict__)
    except SyntaxError as error:
        raise ScriptError(
            f"{path}:{error.lineno or 1}: SyntaxError: {error.msg}; fix the file"
        ) from None
    except passthrough:
        raise
    except SystemExit as exiting:
        from distill.user_code import at, exit_call, user_frame

        raise ScriptError(
            f"{path}: {exit_call(exiting)}{at(user_frame(exiting))} while the file was loaded, "
            "so nothing of it ran; remove that call (raise an exception to stop with an error)"
        ) from None
    except Exception as error:
        line = line_in(error, path) or 1
        message = str(error).strip().split("\n", 1)[0]
        raise ScriptError(f"{path}:{line}: {type(error).__name__}: {message}") from None
    finally:
        sys.modules.pop(name, None)
        from distill.user_code import keep_own_loggers

        keep_own_loggers()
    return module


def line_in(error: BaseException, path: Path) -> int | None:
    """The line of ``path`` the exception passed through last (where the file went wrong)."""
    import traceback

    line = None
    wanted = os.path.normcase(os.path.abspath(path))
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.normcase(os.path.abspath(frame.filename)) == wanted and frame.lineno:
            line = frame.lineno
    return line


def file_sha256(path: Path) -> str:
    """Hex sha256 of the file's bytes, recorded in the history table."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
    except OSError as error:
        raise ScriptError(f"{path}: cannot be read: {error.strerror}") from None
    return digest.hexdigest()
