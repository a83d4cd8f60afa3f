"""The model worker's wire: length-prefixed pickles over pipes.

Used on both sides: the server and the host (``worker.py``, ``worker_host.py``)
exchange requests and results this way, and so do the host and its child.
Whatever crosses from a process that ran user code is unpickled with an
allow-list of classes (``restricted_loads``), so that nothing the user's code
made can make the reader import the user's modules.
"""

from __future__ import annotations

import io
import os
import pickle
import select
import struct
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BuildRequest:
    """What the host's child needs for one build (the host is told only the dialect)."""

    root: str
    metadata: str
    dialect: str
    schemas: tuple[str | None, ...]
    overlays: dict[str, str]
    timeout: float


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
    """Only Distill's own data classes: a user class in a result would import user code here."""

    _MODULES = ("distill.lsp.worker", "distill.schema.model")
    _BUILTINS = ("str", "int", "float")  # what _PlainPickler makes of their subclasses

    def find_class(self, module: str, name: str) -> Any:
        if module in self._MODULES or (module == "builtins" and name in self._BUILTINS):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} has no place in a model build result")


def restricted_loads(payload: bytes) -> object:
    """Unpickle data that crossed from a process running user code."""
    return _ResultUnpickler(io.BytesIO(payload)).load()
