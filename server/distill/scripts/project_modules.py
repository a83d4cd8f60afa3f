"""A project's own modules, imported by its revision scripts or env.py, see Distill's alembic.

Revision scripts and env.py get an ``__import__`` that answers ``alembic`` with
Distill's stand-ins (see alembic_modules.py).  Helper modules of the project
that those files import (``from migration_helpers import add_flag``) often say
``from alembic import op`` themselves; imported the ordinary way they would get
real Alembic's ``op``, whose proxy is never set up under Distill.  So a module
of the project that is not imported yet is imported here, the ordinary way but
with the same ``__import__`` in its builtins, before Python's import statement
finds it in ``sys.modules``.  It is registered in ``sys.modules`` as any import
would; nothing else in the process changes.

"Of the project" means: a Python source file outside the standard library, the
site-packages folders and Distill itself.  Installed libraries are left alone.
"""

from __future__ import annotations

import importlib
import importlib.util
import site
import sys
import sysconfig
import types
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any


def absolute_name(name: str, globals: Mapping[str, object] | None, level: int) -> str | None:
    """The module an ``import`` statement names, resolved against its package; None if unclear."""
    if level == 0:
        return name
    if not globals:
        return None
    package = globals.get("__package__")
    if not package:
        module_name = str(globals.get("__name__", ""))
        package = module_name if "__path__" in globals else module_name.rpartition(".")[0]
    try:
        return importlib.util.resolve_name("." * level + name, str(package))
    except (ImportError, ValueError):
        return None


def load_project_modules(
    absolute: str, fromlist: Sequence[str], project_builtins: dict[str, Any]
) -> None:
    """Import ``absolute`` (and the submodules ``fromlist`` names) where they are the project's."""
    parts = absolute.split(".")
    for count in range(1, len(parts) + 1):
        prefix = ".".join(parts[:count])
        if prefix not in sys.modules and not _load(prefix, project_builtins):
            return  # not the project's: the ordinary import does the rest
    package = sys.modules.get(absolute)
    if package is None or not hasattr(package, "__path__") or not _is_projects(package):
        return
    for item in fromlist:
        if item != "*" and not hasattr(package, item):
            _load(f"{absolute}.{item}", project_builtins)


def _load(name: str, project_builtins: dict[str, Any]) -> bool:
    """Import ``name`` with the project's builtins; False when it is not the project's."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None or spec.loader is None:
        return False
    if spec.origin is None or spec.origin == "namespace":
        # A namespace package has no code of its own; its modules may be the project's.
        importlib.import_module(name)
        return True
    if not _is_project_file(spec.origin):
        return False
    module = importlib.util.module_from_spec(spec)
    # exec() runs the module with the builtins its globals name, so set them first.
    module.__dict__["__builtins__"] = project_builtins
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return True


def _is_projects(module: types.ModuleType) -> bool:
    origin = getattr(getattr(module, "__spec__", None), "origin", None)
    return isinstance(origin, str) and _is_project_file(origin)


@cache
def _is_project_file(origin: str) -> bool:
    if not origin.endswith(".py"):
        return False
    path = Path(origin).resolve()
    return not any(path.is_relative_to(folder) for folder in _library_folders())


@cache
def _library_folders() -> tuple[Path, ...]:
    """Where the standard library, installed packages and Distill itself live."""
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    folders.update(site.getsitepackages())
    folders.add(site.getusersitepackages())
    folders.add(str(Path(__file__).resolve().parents[1]))  # the distill package
    return tuple(Path(folder).resolve() for folder in folders)
