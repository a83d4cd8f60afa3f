"""Files the user edits: written whole or not at all, read again only when changed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FileTexts:
    """Texts of files on disk, read again only when a file's size or time changes.

    The language server looks at every revision file on each keystroke; reading
    thousands of unchanged files each time was work for nothing.  A file that
    cannot be read (gone, not UTF-8) reads as empty.
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[int, int, str]] = {}

    def read(self, path: str | Path) -> str:
        key = str(path)
        try:
            stat = os.stat(key)
            kept = self._kept.get(key)
            if kept is not None and kept[:2] == (stat.st_mtime_ns, stat.st_size):
                return kept[2]
            text = Path(key).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            self._kept.pop(key, None)
            return ""
        self._kept[key] = (stat.st_mtime_ns, stat.st_size, text)
        return text
