"""Importing the project's SQLAlchemy ``MetaData`` named by the ``metadata`` setting.

``metadata = "app.models:Base.metadata"``: the module is imported with the
config file's folder first on ``sys.path`` (so a project's own packages import
as they do for its tests), then the dotted attribute path is followed.  A
model module that fails to import is the user's error to fix, so it becomes a
one-line message pointing at the file and line that raised; so does one that
calls ``sys.exit()`` or runs past the ``timeout`` setting (see ``user_code``).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from distill.config import Config
from distill.ddl.context import ConventionSource
from distill.errors import ConfigError, ScriptError
from distill.ops.naming import convention_of
from distill.user_code import (
    ImportOutOfTime,
    at,
    exit_call,
    import_time_limit,
    timed_out_text,
    user_frame,
)


def load_metadata(config: Config) -> sa.MetaData:
    spec = config.metadata
    if not spec:
        where = config.source or "the settings"
        raise ConfigError(
            f'no metadata setting in {where}: add metadata = "module:attribute", '
            'e.g. metadata = "app.models:Base.metadata"'
        )
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(
            f'metadata = {spec!r} in {config.source}: expected "module:attribute", '
            'e.g. "app.models:Base.metadata"'
        )
    module = import_project_module(module_name, config.root, "metadata", config.timeout)
    value: object = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError as error:
            if error.obj is value and error.name == part:
                raise ConfigError(
                    f"metadata = {spec!r}: {module_name} has no {attribute} "
                    f"(stopped at {part!r}); check the setting in {config.source}"
                ) from None
            raise _raised_reading(spec, part, error) from None
        except Exception as error:  # a lazy attribute or property of the user's models
            raise _raised_reading(spec, part, error) from None
    if not isinstance(value, sa.MetaData):
        raise ConfigError(
            f"metadata = {spec!r} is a {type(value).__name__}, not a SQLAlchemy MetaData; "
            "point it at Base.metadata or your MetaData() object"
        )
    return value


def _raised_reading(spec: str, part: str, error: Exception) -> ScriptError:
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return ScriptError(
        f"metadata = {spec!r}: reading {part!r} raised {_where(error)}"
        f"{type(error).__name__}: {message}; fix the models"
    )


def import_project_module(
    module_name: str, root: Path, setting: str, timeout: float = 0.0
) -> object:
    """Import one of the project's modules named by ``setting``, as the models are.

    ``timeout``: seconds the import may take (0: no limit).
    """
    folder = str(root)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    what = "the models" if setting == "metadata" else f"the {setting} setting's module"
    try:
        with import_time_limit(timeout):
            return importlib.import_module(module_name)
    except ImportOutOfTime as stopped:
        raise ScriptError(
            f"{what} could not be loaded: {timed_out_text(timeout, user_frame(stopped, root))} "
            f"(while importing {module_name}); find what runs endlessly there, or raise "
            "--timeout (or the timeout setting) if the import needs longer"
        ) from None
    except SystemExit as exiting:
        raise ScriptError(
            f"{what} could not be loaded: importing {module_name} {exit_call(exiting)}"
            f"{at(user_frame(exiting, root))}; a module must not exit while it is imported"
        ) from None
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise ConfigError(
                f"cannot import {module_name} for the {setting} setting: no module named "
                f"{error.name!r} (looked in {folder} and the installed packages)"
            ) from None
        raise ScriptError(_where(error) + f"ModuleNotFoundError: {error}") from None
    except SyntaxError as error:
        raise ScriptError(
            f"{error.filename}:{error.lineno}: SyntaxError: {error.msg}; fix the models"
        ) from None
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ScriptError(
            f"{_where(error)}{type(error).__name__}: {message} (while importing {module_name})"
        ) from None


def _where(error: BaseException) -> str:
    """'file:line: ' of the deepest frame in the user's own code."""
    # SQLAlchemy's own frames are left out too: its checks of a model raise
    # inside it, and the line to fix is the model's.
    library = str(Path(sa.__file__).parent)
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if "importlib" not in f.filename
        and "/distill/" not in f.filename
        and not f.filename.startswith((library, "<"))
    ]
    return f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""


def naming_convention_of(config: Config) -> ConventionSource:
    """Where the ops find the models' naming convention (Alembic takes env.py's
    ``target_metadata``'s).  An Alembic project's env.py has been read already;
    a Distill project's models are imported only when an op first needs it."""
    target = config.extra.get("target_metadata")
    if target is not None:
        return convention_of(target)
    if not config.metadata:
        return None

    def from_models() -> Mapping[str, Any] | None:
        return convention_of(load_metadata(config))

    return from_models
