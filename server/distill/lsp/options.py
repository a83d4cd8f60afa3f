"""The ``initializationOptions`` an editor sends, read once into typed values.

Every option has its type and default here; a value of the wrong type is not an
error that stops the server (the editor would show nothing useful): the
default is used and one warning says which option and what was used instead.
``trusted`` fails closed: only the boolean ``true``, or no ``trusted`` at all
(the documented default), trusts; a value a client may have meant as "no"
(``"false"``, ``0``, ``null``) never runs the workspace's code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from distill.lsp.session import Settings


@dataclass(frozen=True)
class ServerOptions:
    trusted: bool = True
    debounce_seconds: float = 0.3
    settings: Settings = field(default_factory=Settings)
    # One line per option that was not understood, for the editor to show once.
    problems: tuple[str, ...] = ()


# initializationOptions key -> (Settings field or "debounce", kind, default)
_OPTIONS: dict[str, tuple[str, str, Any]] = {
    "debounceMs": ("debounce", "milliseconds", 300),
    "timeout": ("timeout", "seconds", 10.0),
    "databaseUrl": ("database_url", "text", None),
    "python": ("python", "text", None),
    "inlayHints": ("inlay_hints", "flag", False),
    "clientConfirms": ("client_confirms", "flag", False),
    "opCompletion": ("op_completion", "flag", True),
}


def read_options(given: object) -> ServerOptions:
    if given is None:
        return ServerOptions()
    if not isinstance(given, dict):
        why = f"initializationOptions is {_json(given)}, not an object"
        return ServerOptions(trusted=False, problems=(
            f"{why}: the workspace is treated as not trusted",))  # fmt: skip
    problems: list[str] = []
    trusted = given.get("trusted", True)
    if trusted is not True and trusted is not False:
        why = f"initializationOptions.trusted is {_json(trusted)}, not true or false"
        problems.append(f"{why}: the workspace is treated as not trusted")
        trusted = False
    values: dict[str, Any] = {}
    for key, (name, kind, default) in _OPTIONS.items():
        value = given.get(key, default)
        read = _read(kind, value, default)
        if read is _BAD:
            problems.append(
                f"initializationOptions.{key} is {_json(value)}, not {_KINDS[kind]}: "
                f"{_json(default)} is used"
            )
            read = default
        values[name] = read
    debounce = max(0, values.pop("debounce")) / 1000
    return ServerOptions(trusted, debounce, Settings(**values), tuple(problems))


_BAD = object()
_KINDS = {
    "milliseconds": "a number of milliseconds",
    "seconds": "a number of seconds",
    "text": "a string",
    "flag": "true or false",
}


def _read(kind: str, value: Any, default: Any) -> Any:
    if value is None:
        return default
    if kind in ("milliseconds", "seconds"):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return (int(value) if kind == "milliseconds" else float(value)) if number else _BAD
    if kind == "text":
        return (value or None) if isinstance(value, str) else _BAD
    return value if isinstance(value, bool) else _BAD


def _json(value: object) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
