"""The model worker's wire: its messages, and length-prefixed pickles over pipes.

Used on both sides: the server and the host (``client.py``, ``host.py``)
exchange requests and results this way, and so do the host and its child.
Whatever crosses from a process that ran user code is unpickled with an
allow-list of classes (``restricted_loads``), so that nothing the user's code
made can make the reader import the user's modules.

A build is answered in two parts, the models' and the migrations' (each a
frame): the child sends the models' part before it replays the revision
scripts, so a script that hangs or kills the child still leaves the models'
result to show.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import select
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from distill.autogen import compare as compare_module
from distill.autogen.compare import Change
from distill.lint import preflight as preflight_module
from distill.lint.preflight import Check
from distill.schema import model as schema_model
from distill.schema.catalog_facts import CatalogFacts
from distill.schema.model import Schema


@dataclass(frozen=True)
class BuildRequest:
    """What the host's child needs for one build (the host is told only the dialect)."""

    root: str
    metadata: str
    dialect: str
    schemas: tuple[str | None, ...]
    overlays: dict[str, str]
    timeout: float
    # Revision targets to replay ("heads", a revision id); none: the models only.
    targets: tuple[str, ...] = ()
    # The server's url override, when it has one: the child reads the settings itself,
    # but a scratch database for an inexact replay needs the real url, password and all.
    # It travels in this pipe only, never in a log (hence no repr) or a result.
    url: str | None = field(default=None, repr=False)
    # Compare the models with the heads' replay here, in the child (the include
    # hooks are project code too), and keep the models' schema: only the changes
    # cross back.  The language server's analysis asks for this; a new revision
    # asks for both schemas instead.
    compare: bool = False
    # target -> digest of a replayed schema the server already holds: not sent again.
    known: dict[str, str] = field(default_factory=dict)
    # Lint these revisions (ids in run order; the others count as applied): None, no lint.
    lint: tuple[str, ...] | None = None
    # The one revision they start from, whose replayed schema is the applied part (None:
    # the lint replays what is applied itself).
    lint_start: str | None = None
    # With the lint, plan the pre-flight counts of those revisions (the server, which has
    # the database, makes them).
    preflight: bool = False
    # What the server read of the database's catalog: the lint says how large a locked
    # table is, and knows the CHECKs that applied revisions left NOT VALID.
    catalog: CatalogFacts = field(default_factory=CatalogFacts)
    # The connected server's version (the lint targets it unless target_version says).
    server_version: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ModelError:
    kind: str  # "syntax" | "import" | "timeout" | "crash" | "config" | "migration"
    message: str  # one line
    file: str | None = None  # absolute path of the user's file the error points to
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based, in UTF-16 code units (LSP's), when known
    end_column: int | None = None  # 1-based, exclusive, on ``line``: what to underline


@dataclass(frozen=True)
class TableOrigin:
    table: str
    schema: str | None
    class_name: str | None  # ORM class mapped to the table; None for a Core Table
    file: str | None  # the class's source file
    line: int | None  # 1-based line of its ``class`` statement
    attributes: dict[str, str] = field(default_factory=dict)  # column name -> attribute key


@dataclass(frozen=True)
class LintItem:
    """One lint finding, in plain values (what may cross back from the child)."""

    code: str
    severity: str
    path: str
    line: int  # 1-based
    message: str
    fix: str | None = None


@dataclass(frozen=True)
class MigrationsResult:
    """The migrations' part of a build: each target's replayed schema."""

    schemas: dict[str, Schema] = field(default_factory=dict)  # target -> schema (unless known)
    notes: tuple[str, ...] = ()  # "note: replay is not exact: ...", passwords masked
    error: ModelError | None = None  # a script failed or hung; no schema then
    digests: dict[str, str] = field(default_factory=dict)  # target -> digest of its schema
    changes: tuple[Change, ...] | None = None  # heads -> models, when asked to compare
    lint: tuple[LintItem, ...] | None = None  # when asked to lint
    preflight: tuple[Check, ...] | None = None  # when asked for the pre-flight counts


@dataclass(frozen=True)
class ModelsResult:
    """One build's answer: the models' part, and the migrations' part of the same child."""

    schema: Schema | None
    origins: tuple[TableOrigin, ...] = ()
    files: tuple[str, ...] = ()  # the project's own .py files the import loaded
    error: ModelError | None = None
    seconds: float = 0.0  # wall time of the build
    migrations: MigrationsResult = field(default_factory=MigrationsResult)

    @property
    def changes(self) -> tuple[Change, ...] | None:
        """Heads -> models, compared in the child when the request asked to compare."""
        return self.migrations.changes


_HEADER = struct.Struct("!Q")


def frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


def encode_frame(value: object) -> bytes:
    return frame(dump(value))


def dump(value: object) -> bytes:
    buffer = io.BytesIO()
    _PlainPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


class _PlainPickler(pickle.Pickler):
    """Subclasses of str, int and float go as the plain type.

    Names in a Schema are SQLAlchemy ``quoted_name`` strings; a plain str compares
    the same and lets the receiving side allow no SQLAlchemy class at all.
    """

    def reducer_override(self, obj: Any) -> Any:
        for base in (str, int, float):
            if isinstance(obj, base) and type(obj) not in (base, bool):
                return base, (base(obj),)
        return NotImplemented


def split_frames(data: bytes) -> list[bytes]:
    """The complete frames in ``data``; a truncated tail (a writer that died) is dropped."""
    frames, at = [], 0
    while at + _HEADER.size <= len(data):
        (size,) = _HEADER.unpack_from(data, at)
        if at + _HEADER.size + size > len(data):
            break
        frames.append(data[at + _HEADER.size : at + _HEADER.size + size])
        at += _HEADER.size + size
    return frames


def wait_ready(fd: int, deadline: float | None, *, write: bool = False) -> None:
    """Block until ``fd`` can be read (or written); TimeoutError past ``deadline``."""
    if deadline is None:
        return  # a blocking descriptor: the read or write itself waits
    wanted = [fd]
    remaining = max(deadline - time.monotonic(), 0.0)
    readable, writable, _ = select.select(
        [] if write else wanted, wanted if write else [], [], remaining
    )
    if not (readable or writable):
        raise TimeoutError


def read_frame(fd: int, deadline: float | None) -> bytes:
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    return _read_exactly(fd, size, deadline)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    data = bytearray()
    while len(data) < size:
        wait_ready(fd, deadline)
        chunk = os.read(fd, min(size - len(data), 1 << 20))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def write_all(fd: int, data: bytes, deadline: float | None) -> None:
    view = memoryview(data)
    while view:
        wait_ready(fd, deadline, write=True)
        view = view[os.write(fd, view) :]


class _ResultUnpickler(pickle.Unpickler):
    """Only Distill's own data classes: a user class in a result would import user code here.

    Classes only, by plain name: a function would be called with the pickle's
    arguments, and a dotted name could reach anything a module imported.
    """

    _RESULTS = frozenset(
        {"ModelError", "TableOrigin", "MigrationsResult", "ModelsResult", "LintItem"}
    )
    _BUILTINS = frozenset({"str", "int", "float"})  # what _PlainPickler makes of subclasses

    def find_class(self, module: str, name: str) -> Any:
        if (
            (module == __name__ and name in self._RESULTS)
            or (module == compare_module.__name__ and name == "Change")
            or (module == preflight_module.__name__ and name == "Check")
            or (module == "builtins" and name in self._BUILTINS)
            or (module == schema_model.__name__ and _is_schema_class(name))
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} has no place in a model build result")


def _is_schema_class(name: str) -> bool:
    """A class of the neutral schema model (all of its classes are plain data)."""
    value = getattr(schema_model, name, None) if name.isidentifier() else None
    return isinstance(value, type) and value.__module__ == schema_model.__name__


def digest(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def restricted_loads(payload: bytes) -> object:
    """Unpickle data that crossed from a process running user code."""
    return _ResultUnpickler(io.BytesIO(payload)).load()
